import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import sanity, { SANITY, SANITY_URI } from '../../bindings/sanity.js';
import type { Context } from '../../host/kemi/context.js';
import type { KemiRegistry } from '../../host/kemi/registry.js';
import type { SipMessage } from '../../host/sip/message.js';
import { call, ctxOf, invite, RecordingOwner, registryWith, sip } from '../helpers/binding-harness.js';

function withSip(msg: SipMessage | null, ok = true): { ctx: Context; sent: RecordingOwner } {
  const ctx = ctxOf(msg);
  const sent = new RecordingOwner(ok);
  ctx.owner = sent;
  return { ctx, sent };
}

function check(reg: KemiRegistry, msg: SipMessage, checks?: number, uris = 0): { rc: unknown; sent: RecordingOwner; ctx: Context } {
  const { ctx, sent } = withSip(msg);
  const rc = checks === undefined
    ? call(reg, 'KSR.sanity.sanity_check_defaults', ctx)
    : call(reg, 'KSR.sanity.sanity_check', ctx, checks, uris);
  return { rc, sent, ctx };
}

const DIGEST = 'Digest username="alice", realm="example.org", nonce="abc", uri="sip:bob@example.com", response="0123"';

describe('KSR.sanity', () => {
  const reg = registryWith(sanity);

  it('passes a well-formed request with the default checks', () => {
    const { rc, sent } = check(reg, invite(['Expires: 120', `Authorization: ${DIGEST}`], { body: 'v=0\r\n' }));
    assert.equal(rc, 1);
    assert.equal(sent.replies.length, 0);
  });

  it('replies 400 when the CSeq method is not the request method', () => {
    const { rc, sent } = check(reg, invite([], { cseq: '1 BYE' }));
    assert.equal(rc, -1);
    assert.deepEqual(sent.replies.map((r) => [r.code, r.reason]), [[400, 'CSeq method does not match request method']]);
  });

  it('replies 416 to an R-URI scheme it does not support, 400 to a broken R-URI', () => {
    const xmpp = check(reg, invite([], { ruri: 'xmpp:alice@example.com' }));
    assert.equal(xmpp.rc, -1);
    assert.deepEqual(xmpp.sent.replies.map((r) => [r.code, r.reason]), [[416, 'Unsupported URI Scheme in Request URI']]);
    // The check reads the current R-URI, as Kamailio's parse_sip_msg_uri does.
    const { ctx, sent } = withSip(invite());
    ctx.newRuri = 'sip:bob@exa mple.com';
    assert.equal(call(reg, 'KSR.sanity.sanity_check', ctx, SANITY.RURI_SCHEME, 0), -1);
    assert.deepEqual(sent.replies.map((r) => r.code), [400]);
  });

  it('passes urn: and tels: R-URIs, as Kamailio\'s URI parser does (a service URN is routed)', () => {
    for (const ruri of ['urn:service:sos', 'tels:+15551234567']) {
      const { rc, sent } = check(reg, invite([], { ruri }), SANITY.RURI_SCHEME | SANITY.PARSE_URIS, SANITY_URI.RURI);
      assert.equal(rc, 1, ruri);
      assert.equal(sent.replies.length, 0);
    }
  });

  it('replies 400 when Content-Length does not count the bytes received', () => {
    const msg = sip([
      'MESSAGE sip:bob@example.com SIP/2.0',
      'Via: SIP/2.0/UDP 198.51.100.7;branch=z9hG4bK-m',
      'From: <sip:alice@example.org>;tag=a1',
      'To: <sip:bob@example.com>',
      'Call-ID: cl1',
      'CSeq: 1 MESSAGE',
      'Content-Length: 2',
    ], 'hello');
    const { rc, sent } = check(reg, msg);
    assert.equal(rc, -1);
    assert.deepEqual(sent.replies.map((r) => [r.code, r.reason]), [[400, 'Content-Length mis-match']]);
    assert.equal(check(reg, msg, SANITY.CSEQ_METHOD | SANITY.CSEQ_VALUE).rc, 1);
  });

  it('checks the Expires value', () => {
    for (const bad of ['soon', '-5', '99999999999', '4294967296']) {
      const { rc, sent } = check(reg, invite([`Expires: ${bad}`]));
      assert.equal(rc, -1, bad);
      assert.deepEqual(sent.replies.map((r) => [r.code, r.reason]), [[400, 'Expires value is illegal']], bad);
    }
    assert.equal(check(reg, invite(['Expires: 4294967295'])).rc, 1);
    assert.equal(check(reg, invite(['Expires: 0'])).rc, 1);
  });

  it('answers an unsupported Proxy-Require with 420 and an Unsupported header', () => {
    const { rc, sent } = check(reg, invite(['Proxy-Require: foo, bar']));
    assert.equal(rc, -1);
    assert.deepEqual(sent.replies, [{ code: 420, reason: 'Bad Proxy Require Extension', headers: ['Unsupported: foo, bar\r\n'] }]);

    const withFoo = registryWith(sanity, { proxy_require: 'FOO, baz' });
    const one = check(withFoo, invite(['Proxy-Require: foo', 'Proxy-Require: bar']));
    assert.equal(one.rc, -1);
    assert.deepEqual(one.sent.replies[0]?.headers, ['Unsupported: bar\r\n']);
    assert.equal(check(withFoo, invite(['Proxy-Require: Foo, baz'])).rc, 1);
  });

  it('checks Digest credentials', () => {
    const cases: [string, string][] = [
      ['Digest username="alice", realm="example.org", uri="sip:bob@example.com", response="0123"', 'Bad Auth Credentials'],
      [`${DIGEST}, qop=auth, cnonce="c"`, 'Bad Auth Credentials'],
      ['Digest username="", realm="r", nonce="n", uri="sip:x", response="0"', 'Auth Empty User'],
      ['Digest username="a", realm="r", nonce="", uri="sip:x", response="0"', 'Auth Empty Nonce'],
      ['Digest username="a", realm="r", nonce="n", uri="sip:x", response=""', 'Auth Empty Response'],
      ['Digest username="a", realm=', 'Bad Auth Header'],
    ];
    for (const [cred, reason] of cases) {
      const { rc, sent } = check(reg, invite([`Proxy-Authorization: ${cred}`]));
      assert.equal(rc, -1, cred);
      assert.deepEqual(sent.replies.map((r) => [r.code, r.reason]), [[400, reason]], cred);
    }
    assert.equal(check(reg, invite([`Proxy-Authorization: ${DIGEST}, qop=auth, cnonce="c", nc=00000001`])).rc, 1);
  });

  it('fails a non-Digest scheme silently in check 2048, passes it in check 8192', () => {
    const basic = invite(['Authorization: Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==']);
    const digest = check(reg, basic, SANITY.CHECK_DIGEST);
    assert.equal(digest.rc, -1);
    assert.equal(digest.sent.replies.length, 0);
    assert.equal(check(reg, basic, SANITY.CHECK_AUTHORIZATION).rc, 1);
  });

  it('parses the URIs selected by the second mask', () => {
    const httpFrom = sip([
      'OPTIONS sip:bob@example.com SIP/2.0',
      'Via: SIP/2.0/UDP 198.51.100.7;branch=z9hG4bK-o',
      'From: <http://example.org/alice>;tag=h',
      'To: <sip:bob@example.com>',
      'Call-ID: pu1',
      'CSeq: 1 OPTIONS',
      'Contact: <mailto:alice@example.org>',
      'Content-Length: 0',
    ]);
    assert.equal(check(reg, httpFrom, SANITY.PARSE_URIS, SANITY_URI.RURI | SANITY_URI.TO).rc, 1);
    const from = check(reg, httpFrom, SANITY.PARSE_URIS, SANITY_URI.FROM);
    assert.deepEqual(from.sent.replies.map((r) => [r.code, r.reason]), [[400, 'Invalid From Header']]);
    const contact = check(reg, httpFrom, SANITY.PARSE_URIS, SANITY_URI.CONTACT);
    assert.equal(contact.rc, -1);
    assert.deepEqual(contact.sent.replies.map((r) => [r.code, r.reason]), [[400, 'Bad Contact URI']]);
    const star = sip([
      'REGISTER sip:example.org SIP/2.0',
      'Via: SIP/2.0/UDP 198.51.100.7;branch=z9hG4bK-s',
      'From: <sip:alice@example.org>;tag=s',
      'To: <sip:alice@example.org>',
      'Call-ID: star1',
      'CSeq: 3 REGISTER',
      'Contact: *',
      'Expires: 0',
      'Content-Length: 0',
    ]);
    assert.equal(check(reg, star, SANITY.PARSE_URIS, SANITY_URI.RURI | SANITY_URI.CONTACT).rc, 1);
  });

  it('finds duplicate tag parameters', () => {
    const dup = sip([
      'BYE sip:alice@198.51.100.7 SIP/2.0',
      'Via: SIP/2.0/UDP 198.51.100.8;branch=z9hG4bK-d',
      'From: <sip:bob@example.com>;tag=b2',
      'To: <sip:alice@example.org>;tag=a1;tag=a2',
      'Call-ID: d1',
      'CSeq: 2 BYE',
      'Content-Length: 0',
    ]);
    const { rc, sent } = check(reg, dup, SANITY.CHECK_DUPTAGS);
    assert.equal(rc, -1);
    assert.deepEqual(sent.replies.map((r) => [r.code, r.reason]), [[400, 'Many To Tag Params']]);
    assert.equal(check(reg, invite(), SANITY.CHECK_DUPTAGS).rc, 1);
  });

  it('checks the top Via SIP version and host when asked', () => {
    const v3 = sip([
      'OPTIONS sip:bob@example.com SIP/2.0',
      'Via: SIP/3.0/UDP 198.51.100.7;branch=z9hG4bK-v',
      'From: <sip:alice@example.org>;tag=a1',
      'To: <sip:bob@example.com>',
      'Call-ID: v1',
      'CSeq: 1 OPTIONS',
      'Content-Length: 0',
    ]);
    assert.equal(check(reg, v3).rc, 1);
    const r = check(reg, v3, SANITY.VIA_SIP_VERSION | SANITY.VIA1_HEADER);
    assert.equal(r.rc, -1);
    assert.deepEqual(r.sent.replies.map((x) => [x.code, x.reason]), [[505, 'Version Not Supported (Via)']]);
    assert.equal(check(reg, invite(), SANITY.VIA_SIP_VERSION | SANITY.VIA1_HEADER | SANITY.VIA_PROTOCOL).rc, 1);
  });

  it('never replies to an ACK or a reply, but still fails them', () => {
    const ack = sip([
      'ACK sip:bob@example.com SIP/2.0',
      'Via: SIP/2.0/UDP 198.51.100.7;branch=z9hG4bK-a',
      'From: <sip:alice@example.org>;tag=a1',
      'To: <sip:bob@example.com>;tag=b1',
      'Call-ID: a1',
      'CSeq: 1 INVITE',
      'Content-Length: 0',
    ]);
    // CSeq says INVITE: a bad ACK, yet an ACK is never answered.
    const a = check(reg, ack);
    assert.equal(a.rc, -1);
    assert.equal(a.sent.replies.length, 0);
    const reply = sip([
      'SIP/2.0 200 OK',
      'Via: SIP/2.0/UDP 192.0.2.10;branch=z9hG4bK-r',
      'From: <sip:alice@example.org>;tag=a1',
      'To: <sip:bob@example.com>;tag=b2',
      'Call-ID: r1',
      'CSeq: 1 INVITE',
      'Expires: never',
      'Content-Length: 0',
    ]);
    const r = check(reg, reply);
    assert.equal(r.rc, -1);
    assert.equal(r.sent.replies.length, 0);
  });

  it('returns -1 whatever autodrop says (KEMI never stops the script itself)', () => {
    for (const autodrop of [0, 1]) {
      const r = registryWith(sanity, { autodrop });
      assert.equal(check(r, invite([], { cseq: '1 BYE' })).rc, -1);
    }
  });

  it('with noreply, keeps the reply for sanity_reply()', () => {
    const quiet = registryWith(sanity, { noreply: 1 });
    const { ctx, sent } = withSip(invite([], { cseq: '1 BYE' }));
    assert.equal(call(quiet, 'KSR.sanity.sanity_check_defaults', ctx), -1);
    assert.equal(sent.replies.length, 0);
    assert.equal(call(quiet, 'KSR.sanity.sanity_reply', ctx), 1);
    assert.deepEqual(sent.replies.map((r) => [r.code, r.reason]), [[400, 'CSeq method does not match request method']]);

    // Nothing failed on this message: sanity_reply() sends Kamailio's generic 500.
    const other = withSip(invite());
    assert.equal(call(quiet, 'KSR.sanity.sanity_reply', other.ctx), 1);
    assert.deepEqual(other.sent.replies.map((r) => [r.code, r.reason]), [[500, 'Server Sanity Failure']]);

    // A passing check clears what an earlier one kept.
    const again = withSip(invite([], { cseq: '1 BYE' }));
    assert.equal(call(quiet, 'KSR.sanity.sanity_check_defaults', again.ctx), -1);
    assert.equal(call(quiet, 'KSR.sanity.sanity_check', again.ctx, SANITY.CL, 0), 1);
    assert.equal(call(quiet, 'KSR.sanity.sanity_reply', again.ctx), 1);
    assert.deepEqual(again.sent.replies.map((r) => r.code), [500]);
  });

  it('sanity_reply does nothing without noreply, and reports a reply it could not send', () => {
    const { ctx, sent } = withSip(invite([], { cseq: '1 BYE' }));
    assert.equal(call(reg, 'KSR.sanity.sanity_reply', ctx), 1);
    assert.equal(sent.replies.length, 0);
    const quiet = registryWith(sanity, { noreply: 1 });
    const broken = withSip(invite([], { cseq: '1 BYE' }), false);
    assert.equal(call(quiet, 'KSR.sanity.sanity_check_defaults', broken.ctx), -1);
    assert.equal(call(quiet, 'KSR.sanity.sanity_reply', broken.ctx), -1);
  });

  it('fails without throwing when the reply cannot be sent or there is no message', () => {
    const noSip = ctxOf(invite([], { cseq: '1 BYE' }));
    assert.equal(call(reg, 'KSR.sanity.sanity_check_defaults', noSip), -1);
    const broken = withSip(invite([], { cseq: '1 BYE' }), false);
    assert.equal(call(reg, 'KSR.sanity.sanity_check_defaults', broken.ctx), -1);
    assert.equal(broken.sent.replies.length, 1);
    assert.equal(call(reg, 'KSR.sanity.sanity_check_defaults', ctxOf(null)), -1);
  });

  it('uses the configured default masks and validates them', () => {
    const onlyCl = registryWith(sanity, { default_checks: SANITY.CL, uri_checks: 0 });
    assert.equal(check(onlyCl, invite([], { cseq: '1 BYE' })).rc, 1);
    assert.throws(() => registryWith(sanity, { default_checks: 1 << 15 }));
    assert.throws(() => registryWith(sanity, { uri_checks: 16 }));
    assert.throws(() => registryWith(sanity, { no_reply: 1 }));
  });
});
