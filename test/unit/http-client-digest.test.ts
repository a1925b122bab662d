/**
 * host/http-client/digest.ts: WWW-Authenticate parsing and the RFC 7616 answers, checked
 * against the RFC's own example (§3.9.1, MD5 and SHA-256) so a wrong formula cannot pass.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { answerChallenges, basicAuthorization, digestAuthorization, parseChallenges } from '../../host/http-client/digest.js';

const RFC_CHALLENGE = (alg: string): string =>
  `Digest realm="http-auth@example.org", qop="auth, auth-int", algorithm=${alg}, nonce="7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v", opaque="FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS"`;

function responseOf(authorization: string): string | undefined {
  return /response="([0-9a-f]+)"/.exec(authorization)?.[1];
}

test('RFC 7616 §3.9.1 example, MD5 and SHA-256', () => {
  for (const [alg, want] of [
    ['MD5', '8ca523f5e9506fed4657c9700eebdbec'],
    ['SHA-256', '753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1'],
  ] as const) {
    const [ch] = parseChallenges(RFC_CHALLENGE(alg));
    assert.ok(ch !== undefined);
    const a = digestAuthorization(ch, 'Mufasa', 'Circle of Life', 'GET', '/dir/index.html', 'f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ');
    assert.equal(responseOf(a ?? ''), want, alg);
    assert.match(a ?? '', /qop=auth, nc=00000001, cnonce="f2\/wE4q74E6zIJEtWaHKaf5wv\/H5QzzpXusqGemxURZJ"/);
    assert.match(a ?? '', /opaque="FQhe\/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS"/);
  }
});

test('several challenges in one value; unknown algorithms and auth-int only are not answered', () => {
  const chs = parseChallenges('Digest realm="a", nonce="n1", algorithm=SHA-512-256, Basic realm="b"');
  assert.deepEqual(chs.map((c) => c.scheme), ['digest', 'basic']);
  assert.equal(chs[1]?.params.get('realm'), 'b');
  assert.equal(digestAuthorization(chs[0] ?? { scheme: '', params: new Map() }, 'u', 'p', 'GET', '/'), null);
  const [authInt] = parseChallenges('Digest realm="a", nonce="n", qop="auth-int"');
  assert.equal(digestAuthorization(authInt ?? { scheme: '', params: new Map() }, 'u', 'p', 'GET', '/'), null);
  // the unsupported Digest falls back to the Basic challenge when authmethod allows it
  assert.equal(answerChallenges(['Digest realm="a", nonce="n1", algorithm=SHA-512-256, Basic realm="b"'], 3, 'u', 'p', 'GET', '/'), basicAuthorization('u', 'p'));
  assert.equal(answerChallenges(['Basic realm="b"'], 2, 'u', 'p', 'GET', '/'), null);
});
