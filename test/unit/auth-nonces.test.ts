/**
 * host/auth without a server: the nonce verdicts with a clock the test moves (expiry, drift,
 * the before-start rule), the replay arrays' bounds, and the credentials parser's edge cases.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { missingParameter, parseDigestCredentials } from '../../host/auth/credentials.js';
import { checkBytes, CHECK_CALLID, CHECK_SRC_IP } from '../../host/auth/nonce-codec.js';
import { floorPow2, NonceTracker } from '../../host/auth/nonce-tracker.js';
import { Nonces, type NonceOptions } from '../../host/auth/nonces.js';

function clock(startS: number): { now: () => number; set: (s: number) => void } {
  let t = startS * 1000;
  return { now: () => t, set: (s) => { t = s * 1000; } };
}

function nonces(o: Partial<NonceOptions> & { now: () => number }): Nonces {
  return new Nonces({ secret: null, expireS: 300, maxDriftS: 3, ncSlots: 0, otnSlots: 0, ...o });
}

describe('auth nonces', () => {
  test('valid until nonce_expire seconds have passed, stale after', () => {
    const c = clock(1_000_000);
    const n = nonces({ now: c.now, expireS: 10 });
    const nonce = n.issue(null);
    c.set(1_000_010);
    assert.equal(n.verify(nonce, null, null), 'ok');
    c.set(1_000_011);
    assert.equal(n.verify(nonce, null, null), 'stale');
  });

  test('a nonce from the future beyond nonce_auth_max_drift is stale; a changed or foreign one invalid', () => {
    const c = clock(2_000_000);
    const a = nonces({ now: c.now, secret: 's' });
    const b = nonces({ now: c.now, secret: 's', maxDriftS: 3 });
    c.set(2_000_010);
    const future = a.issue(null);
    c.set(2_000_006);
    assert.equal(b.verify(future, null, null), 'stale', '4 s ahead');
    c.set(2_000_007);
    assert.equal(b.verify(future, null, null), 'ok', '3 s ahead');
    const raw = Buffer.from(future, 'base64url');
    raw[12] = (raw[12] ?? 0) ^ 1;
    assert.equal(b.verify(raw.toString('base64url'), null, null), 'invalid', 'a changed id fails the tag');
    assert.equal(b.verify(nonces({ now: c.now, secret: 'other' }).issue(null), null, null), 'invalid', 'another secret');
    assert.equal(b.verify('not-a-nonce', null, null), 'invalid');
    assert.equal(b.verify('', null, null), 'invalid');
  });

  test('before-start rule: stale with a random secret or replay state, accepted with a fixed secret alone', () => {
    const c = clock(3_000_000);
    const before = nonces({ now: c.now, secret: 'fixed' }).issue(null);
    const beforeRandom = nonces({ now: c.now }).issue(null);
    c.set(3_000_005);
    assert.equal(nonces({ now: c.now, secret: 'fixed' }).verify(before, null, null), 'ok');
    assert.equal(nonces({ now: c.now }).verify(beforeRandom, null, null), 'stale', 'not invalid: the UA recomputes without asking its user');
    assert.equal(nonces({ now: c.now, secret: 'fixed', ncSlots: 16 }).verify(before, null, null), 'stale');
  });

  test('check values: a nonce bound to one Call-ID is stale with another, invalid when checked but not bound', () => {
    const c = clock(4_000_000);
    const n = nonces({ now: c.now });
    const v = { ruri: 'sip:a@b', callId: 'c1', fromTag: 'f', srcIp: '192.0.2.1' };
    const bound = n.issue(checkBytes(CHECK_CALLID, v));
    assert.equal(n.verify(bound, null, checkBytes(CHECK_CALLID, v)), 'ok');
    assert.equal(n.verify(bound, null, checkBytes(CHECK_CALLID, { ...v, callId: 'c2' })), 'stale');
    assert.equal(n.verify(bound, null, checkBytes(CHECK_CALLID | CHECK_SRC_IP, v)), 'stale', 'other checks selected');
    assert.equal(n.verify(n.issue(null), null, checkBytes(CHECK_CALLID, v)), 'invalid');
  });

  test('nonce_count with nc: checks skipped (nc is the replay protection), replays stale, malformed nc invalid', () => {
    const c = clock(5_000_000);
    const n = nonces({ now: c.now, ncSlots: 1024 });
    const v = { ruri: 'sip:a@b', callId: 'c1', fromTag: 'f', srcIp: '192.0.2.1' };
    const nonce = n.issue(checkBytes(CHECK_CALLID, v));
    assert.equal(n.verify(nonce, '00000001', checkBytes(CHECK_CALLID, { ...v, callId: 'c2' })), 'ok', 'as Kamailio: with nc the binding is not checked');
    assert.equal(n.verify(nonce, '00000001', null), 'stale');
    assert.equal(n.verify(nonce, '0000000g', null), 'invalid');
    assert.equal(n.verify(nonce, '1', null), 'invalid');
    assert.equal(n.verify(nonce, '', checkBytes(CHECK_CALLID, v)), 'ok', 'without nc the binding is checked');
    assert.equal(n.stateBytes, 1024);
  });

  test('the trackers: slots fixed at start, rounded down to powers of two, wrap-around of ids', () => {
    assert.equal(floorPow2(1_000_000), 524_288);
    const t = new NonceTracker({ ncSlots: 4, otnSlots: 8 }, 2 ** 32 - 2);
    assert.equal(t.bytes, 4 + 1);
    const ids = [t.issue(), t.issue(), t.issue()];
    assert.deepEqual(ids, [2 ** 32 - 2, 2 ** 32 - 1, 0], 'ids wrap at 2^32');
    assert.equal(t.checkNc(ids[0] ?? 0, 1), 'ok');
    assert.equal(t.checkOnce(ids[2] ?? 0), 'ok');
    assert.equal(t.checkOnce(ids[2] ?? 0), 'replay');
    for (let i = 0; i < 4; i++) t.issue();
    assert.equal(t.checkNc(ids[0] ?? 0, 2), 'too-old', 'four newer nonces took the slot');
    assert.equal(t.checkNc(12345, 1), 'too-old', 'an id never issued');
  });
});

describe('digest credentials', () => {
  test('Kamailio\'s reading: quoted strings end at the next quote, tokens at space or comma, first occurrence wins', () => {
    const p = parseDigestCredentials('digest username="sip:bob@example.org", realm=example.org,nonce="a,b" , uri="sip:x", response=abc, qop=AUTH, nc=00000001, cnonce="c", realm="second"');
    assert.ok(p.kind === 'digest');
    assert.equal(p.cred.user, 'bob');
    assert.equal(p.cred.domain, 'example.org');
    assert.equal(p.cred.realm, 'example.org');
    assert.equal(p.cred.nonce, 'a,b');
    assert.equal(p.cred.qopKind, 'auth');
    assert.equal(missingParameter(p.cred), null);
  });

  test('another scheme is skipped, garbage is malformed, missing parameters are named', () => {
    assert.equal(parseDigestCredentials('Basic YWxpY2U6eA==').kind, 'other-scheme');
    assert.equal(parseDigestCredentials('Digestive username="a"').kind, 'other-scheme');
    assert.equal(parseDigestCredentials('Digest username="a').kind, 'malformed');
    assert.equal(parseDigestCredentials('Digest username').kind, 'malformed');
    assert.equal(parseDigestCredentials('Digest username=, realm="r"').kind, 'malformed');
    const p = parseDigestCredentials('Digest username="a", realm="r", nonce="n", uri="u", response="x", qop=auth');
    assert.ok(p.kind === 'digest');
    assert.equal(missingParameter(p.cred), 'cnonce');
  });
});
