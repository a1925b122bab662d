/**
 * A body replaced by a script (an SDP from a media relay): written instead of the received one
 * with Content-Length rewritten and Content-Type kept, for a stateless forward, a branch of a
 * relayed request and a relayed reply; a replacement made in a branch or reply route applies to
 * that branch or reply only.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Context } from '../../host/kemi/context.js';
import { parseSipMessage, type SipMessage } from '../../host/sip/message.js';
import { rebuildMessage } from '../../host/sip/rebuild.js';
import { buildRelayedReply } from '../../host/sip/transaction/messages.js';
import { copyEdits, mergeEdits, RouteScope } from '../../host/sip/transaction/route-scope.js';

const SRC = { proto: 'udp', ip: '192.0.2.1', port: 5060, localIp: '127.0.0.1', localPort: 5060 } as const;
const OLD_SDP = 'v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n';
const NEW_SDP = 'v=0\r\no=- 1 1 IN IP4 203.0.113.9\r\ns=-\r\nc=IN IP4 203.0.113.9\r\nt=0 0\r\nm=audio 30000 RTP/AVP 0\r\na=rtcp:30001\r\n';

function invite(): SipMessage {
  return parseSipMessage(Buffer.from([
    'INVITE sip:bob@example.com SIP/2.0',
    'Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKa1',
    'From: <sip:alice@example.com>;tag=f1',
    'To: <sip:bob@example.com>',
    'Call-ID: c1@test',
    'CSeq: 1 INVITE',
    'Content-Type: application/sdp',
    `Content-Length: ${String(OLD_SDP.length)}`,
    '',
    OLD_SDP,
  ].join('\r\n')));
}

function reply200(): SipMessage {
  return parseSipMessage(Buffer.from([
    'SIP/2.0 200 OK',
    'Via: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bKours',
    'Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKa1',
    'From: <sip:alice@example.com>;tag=f1',
    'To: <sip:bob@example.com>;tag=t1',
    'Call-ID: c1@test',
    'CSeq: 1 INVITE',
    'Content-Type: application/sdp',
    `Content-Length: ${String(OLD_SDP.length)}`,
    '',
    OLD_SDP,
  ].join('\r\n')));
}

/** the message as sent, parsed back: what a peer would see */
function sent(buf: Buffer): SipMessage {
  return parseSipMessage(buf);
}

test('a replaced body goes out with its own Content-Length; Content-Type is kept', () => {
  const ctx = new Context('sip', invite(), SRC);
  ctx.headerEdits.body = Buffer.from(NEW_SDP);
  const out = sent(rebuildMessage(ctx.msg as SipMessage, { startLine: 'INVITE sip:bob@example.com SIP/2.0', prepend: '', topVia: null, edits: ctx.headerEdits }));
  assert.equal(out.body.toString(), NEW_SDP);
  assert.equal(out.getHeader('content-length'), String(NEW_SDP.length));
  assert.equal(out.getHeader('content-type'), 'application/sdp');
  assert.equal(out.getHeaders('content-length').length, 1);
});

test('without a replacement the received body is relayed as it came', () => {
  const msg = invite();
  const out = sent(rebuildMessage(msg, { startLine: 'INVITE sip:bob@example.com SIP/2.0', prepend: '', topVia: null, edits: null }));
  assert.equal(out.body.toString(), OLD_SDP);
});

test('a relayed reply carries the body set in its reply route', () => {
  const ctx = new Context('sip', invite(), SRC);
  const scope = new RouteScope(ctx, reply200());
  ctx.headerEdits.body = Buffer.from(NEW_SDP);
  const added = scope.added();
  scope.leave();
  assert.ok(added !== null);
  const out = sent(buildRelayedReply(reply200(), mergeEdits(null, added)));
  assert.equal(out.body.toString(), NEW_SDP);
  assert.equal(out.getHeader('content-length'), String(NEW_SDP.length));
  // the transaction's Context is back as it was: the next reply starts from the received body
  assert.equal(ctx.headerEdits.body, null);
});

test('a body set in a branch route is that branch\'s only; one set before stays for every branch', () => {
  const ctx = new Context('sip', invite(), SRC);
  const before = Buffer.from('request route body');
  ctx.headerEdits.body = before;
  const scope = new RouteScope(ctx);
  const branchBody = Buffer.from(NEW_SDP);
  ctx.headerEdits.body = branchBody;
  const plan = copyEdits(ctx);
  scope.leave();
  assert.equal(plan?.body, branchBody);
  assert.equal(ctx.headerEdits.body, before);
  assert.equal(copyEdits(ctx)?.body, before);
});

test('edits merged: the later body wins, a later null keeps the earlier one', () => {
  const a = { insert: [], append: [], remove: new Set<string>(), maxForwards: null, recordRoute: null, dropRoutes: null, body: Buffer.from('a') };
  const b = { insert: [], append: [], remove: new Set<string>(), maxForwards: null, recordRoute: null, dropRoutes: null, body: Buffer.from('b') };
  const none = { insert: [], append: [], remove: new Set<string>(), maxForwards: null, recordRoute: null, dropRoutes: null, body: null };
  assert.equal(mergeEdits(a, b)?.body?.toString(), 'b');
  assert.equal(mergeEdits(a, none)?.body?.toString(), 'a');
});
