/**
 * The pieces under textops: sed-like subst expressions (Kamailio core re.c's syntax), text
 * edits by offset (host/sip/lumps.ts: overlaps left out, Content-Length rewritten, a broken
 * result refused), and a reply route's edits kept apart from the request's (route-scope).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Context } from '../../host/kemi/context.js';
import { headerSpans } from '../../host/sip/header-spans.js';
import { addLumps, messageWithLumps } from '../../host/sip/lumps.js';
import { parseSipMessage } from '../../host/sip/message.js';
import { rebuildMessage } from '../../host/sip/rebuild.js';
import { RouteScope } from '../../host/sip/transaction/route-scope.js';
import type { Lump } from '../../host/sip/types.js';
import { applyReplacements, parseSubst, runSubst } from '../../host/textops/subst.js';

const SRC = { proto: 'udp', ip: '192.0.2.1', port: 5060, localIp: '127.0.0.1', localPort: 5060 } as const;
const ENV = { uri: () => 'sip:bob@example.com', pv: (n: string) => (n === '$var(x)' ? 'X' : '') };

function msg(extra = '', body = ''): ReturnType<typeof parseSipMessage> {
  return parseSipMessage(Buffer.from(
    `MESSAGE sip:bob@example.com SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bK1\r\nFrom: <sip:a@b>;tag=1\r\nTo: <sip:b@c>\r\nCall-ID: c1\r\nCSeq: 1 MESSAGE\r\n${extra}Content-Length: ${String(body.length)}\r\n\r\n${body}`,
  ));
}

function subst(expr: string, s: string): string | null {
  const p = parseSubst(expr);
  if (!p.ok) return null;
  return applyReplacements(s, runSubst(p.se, s, ENV));
}

test('subst: groups, escapes, \\u, pseudo-variables, flags, another separator', () => {
  assert.equal(subst('/(a+)(b)/<\\2\\1>/', 'xaab aab'), 'x<baa> aab');
  assert.equal(subst('/(a+)(b)/<\\2\\1>/g', 'xaab aab'), 'x<baa> <baa>');
  assert.equal(subst('/A/z/', 'a'), 'a', 'case-sensitive without i');
  assert.equal(subst('/A/z/i', 'a'), 'z');
  assert.equal(subst('#/#\\##g', 'a/b/c'), 'a#b#c');
  assert.equal(subst('/x\\/y/\\u \\$ $var(x)\\t/', 'x/y'), 'sip:bob@example.com $ X\t');
  assert.equal(subst('/a.b/-/', 'a\nb'), 'a\nb', '. stops at a newline');
  assert.equal(subst('/a.b/-/s', 'a\nb'), '-', 'unless s');
  assert.equal(subst('/^b/-/g', 'a\nb'), 'a\n-', '^ at a line start');
});

test('subst: bad expressions are refused with the reason', () => {
  for (const bad of ['ab', '/a/b', '/a/b/q', '\\a\\b\\', '/(/x/', '/(a)\\1/x/', '/a/$(/']) {
    const p = parseSubst(bad);
    assert.equal(p.ok, false, bad);
  }
});

test('lumps: an overlapping edit is left out, the same one twice counts once, an insert inside a replaced span clashes', () => {
  const list: Lump[] = [];
  assert.equal(addLumps(list, [{ start: 10, end: 20, text: 'x' }]), true);
  assert.equal(addLumps(list, [{ start: 10, end: 20, text: 'x' }]), true);
  assert.equal(addLumps(list, [{ start: 15, end: 25, text: 'y' }]), false);
  assert.equal(addLumps(list, [{ start: 12, end: 12, text: 'z' }]), false);
  assert.equal(addLumps(list, [{ start: 20, end: 20, text: 'w' }]), true, 'an insert right after is fine');
  assert.equal(list.length, 2);
});

test('lumps: edits in headers and body, Content-Length rewritten; a result that does not parse is null', () => {
  const m = msg('X-A: one\r\n', 'hello');
  const raw = m.raw.toString('latin1');
  const a = raw.indexOf('one');
  const b = raw.indexOf('hello');
  const out = messageWithLumps(m, [{ start: a, end: a + 3, text: 'uno' }, { start: b, end: b + 5, text: 'goodbye' }]);
  assert.ok(out !== null);
  assert.equal(out.getHeader('x-a'), 'uno');
  assert.equal(out.bodyText, 'goodbye');
  assert.equal(out.getHeader('content-length'), '7');
  const cid = raw.indexOf('Call-ID');
  assert.equal(messageWithLumps(m, [{ start: cid, end: raw.indexOf('CSeq'), text: '' }]), null, 'without Call-ID');
  assert.equal(messageWithLumps(m, [{ start: a + 3, end: a + 3, text: '\r\n\r\n' }]), null, 'a blank line among the headers');
  // an insertion at the body's first byte is the body's (it was once taken into the header section, which then failed to parse)
  const first = messageWithLumps(m, [{ start: m.headerBytes, end: m.headerBytes, text: 'well, ' }, { start: b + 5, end: b + 5, text: '!' }]);
  assert.ok(first !== null, 'an insertion at the start of the body');
  assert.equal(first.bodyText, 'well, hello!');
  assert.equal(first.getHeader('content-length'), '12');
});

test('a reply route edits the reply with its own lumps; the request keeps its own', () => {
  const req = msg('X-A: one\r\n');
  const ctx = new Context('sip', req, SRC);
  ctx.headerEdits.lumps = [{ start: 5, end: 6, text: 'q' }];
  ctx.headerEdits.body = Buffer.from('req body');
  const reply = parseSipMessage(Buffer.from('SIP/2.0 486 Busy\r\nVia: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bK1\r\nFrom: <sip:a@b>;tag=1\r\nTo: <sip:b@c>;tag=2\r\nCall-ID: c1\r\nCSeq: 1 MESSAGE\r\nContent-Length: 0\r\n\r\n'));
  const scope = new RouteScope(ctx, reply);
  assert.equal(ctx.headerEdits.lumps, undefined, 'the request\'s edits are not the reply\'s');
  assert.equal(ctx.headerEdits.body, null);
  ctx.headerEdits.lumps = [{ start: 8, end: 11, text: '404' }];
  const added = scope.added();
  scope.leave();
  assert.deepEqual(added?.lumps, [{ start: 8, end: 11, text: '404' }]);
  assert.deepEqual(ctx.headerEdits.lumps, [{ start: 5, end: 6, text: 'q' }]);
  assert.deepEqual(ctx.headerEdits.body, Buffer.from('req body'));
});

test('a removal of one received line (auth\'s consume_credentials) still names that line after text edits that remove others', () => {
  const m = msg('X-A: one\r\nAuthorization: Digest a\r\nX-B: two\r\n');
  const spans = headerSpans(m);
  const xa = spans.find((h) => h.name === 'x-a');
  const auth = m.headers.findIndex((h) => h.name === 'authorization');
  assert.ok(xa !== undefined && auth >= 0);
  assert.equal(spans[auth]?.name, 'authorization', 'the spans index the headers as msg.headers does');
  const out = rebuildMessage(m, {
    startLine: 'MESSAGE sip:bob@example.com SIP/2.0',
    prepend: '',
    topVia: null,
    edits: { insert: [], append: [], remove: new Set([`#${String(auth)}`]), maxForwards: null, recordRoute: null, dropRoutes: null, body: null, lumps: [{ start: xa.start, end: xa.next, text: '' }] },
  }).toString();
  assert.doesNotMatch(out, /X-A|Authorization/);
  assert.match(out, /\r\nX-B: two\r\n/);
});
