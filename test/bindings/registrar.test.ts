/**
 * KSR.registrar on a real server, both engines: save's return codes and the 200's Contact list,
 * expires clamping and 423, `*`, CSeq ordering (RFC 3261 §10.3), max_contacts, the save flags,
 * unregister, registered, $ulc, and lookup's codes, $ru, $du and branch flags. Forking to the
 * contacts is in registrar-fork.test.ts.
 */
import assert from 'node:assert/strict';
import { runFlowCases, type FlowCase } from '../helpers/flow-cases.js';
import { bindings, JS, lastRc, LUA, probe, register } from './registrar-script.js';

const A = '<sip:alice@192.0.2.1:5060>';
const B = '<sip:alice@192.0.2.2:5060>';
const C = '<sip:alice@192.0.2.3:5060>';

const base = (config: Record<string, unknown> = {}): Pick<FlowCase, 'lua' | 'js' | 'full' | 'config'> => ({ lua: LUA, js: JS, full: true, config });

const cases: FlowCase[] = [
  {
    name: 'a new AoR: 200 lists every binding with its expires, by q; save returns 1; a REGISTER without Contact lists them (4)',
    ...base(),
    async flow(env) {
      const r = await register(env, 'alice', [`${A};expires=120`, `${B};q=0.5`], { headers: ['Expires: 300'] });
      assert.equal(r.status, 200);
      assert.deepEqual(bindings(r).map((b) => [b.uri, b.q, b.expires]), [['sip:alice@192.0.2.2:5060', '0.5', 300], ['sip:alice@192.0.2.1:5060', null, 120]]);
      assert.equal(r.getHeader('date'), undefined, 'Kamailio sends no Date');
      assert.equal(await lastRc(env), 1);
      const list = await register(env, 'alice', [], { cseq: 2 });
      assert.equal(list.status, 200);
      assert.equal(bindings(list).length, 2);
      assert.equal(await lastRc(env), 4);
    },
  },
  {
    name: 're-REGISTER updates (2) with the new expires; expires=0 removes (3) and the last one leaves no Contact',
    ...base(),
    async flow(env) {
      await register(env, 'alice', [A]);
      const again = await register(env, 'alice', [`${A};expires=600`], { cseq: 2 });
      assert.deepEqual(bindings(again).map((b) => b.expires), [600]);
      assert.equal(await lastRc(env), 2);
      const gone = await register(env, 'alice', [`${A};expires=0`], { cseq: 3 });
      assert.equal(gone.status, 200);
      assert.equal(gone.getHeader('contact'), undefined);
      assert.equal(await lastRc(env), 3);
      assert.equal((await probe(env, 'alice', ['X-Op: registered'])).getHeader('x-rc'), '-1');
    },
  },
  {
    name: '* with Expires: 0 removes every binding (3); * with another Expires is 400',
    ...base(),
    async flow(env) {
      await register(env, 'alice', [A, B]);
      const bad = await register(env, 'alice', ['*'], { cseq: 2, headers: ['Expires: 10'] });
      assert.equal(bad.status, 400);
      assert.equal(bad.getHeader('p-registrar-error'), '* used in contact and expires is not zero');
      assert.equal(await lastRc(env), -1);
      const all = await register(env, 'alice', ['*'], { cseq: 3, headers: ['Expires: 0'] });
      assert.equal(all.status, 200);
      assert.equal(all.getHeader('contact'), undefined);
      assert.equal(await lastRc(env), 3);
    },
  },
  {
    name: 'expires: the default, raised to min_expires, capped at max_expires',
    ...base({ modules: { registrar: { default_expires: 900, min_expires: 60, max_expires: 1200 } } }),
    async flow(env) {
      const r = await register(env, 'alice', [A, `${B};expires=10`, `${C};expires=5000`]);
      const byUri = new Map(bindings(r).map((b) => [b.uri, b.expires]));
      assert.equal(byUri.get('sip:alice@192.0.2.1:5060'), 900);
      assert.equal(byUri.get('sip:alice@192.0.2.2:5060'), 60);
      assert.equal(byUri.get('sip:alice@192.0.2.3:5060'), 1200);
    },
  },
  {
    name: 'min_expires_mode 1: 423 Interval Too Brief with Min-Expires, nothing saved',
    ...base({ modules: { registrar: { min_expires: 60, min_expires_mode: 1 } } }),
    async flow(env) {
      const r = await register(env, 'alice', [`${A};expires=30`]);
      assert.equal(r.status, 423);
      assert.equal(r.reason, 'Interval Too Brief');
      assert.equal(r.getHeader('min-expires'), '60');
      assert.equal(r.getHeader('p-registrar-error'), 'Interval too brief');
      assert.equal(await lastRc(env), -1);
      assert.equal((await probe(env, 'alice', ['X-Op: registered'])).getHeader('x-rc'), '-1');
    },
  },
  {
    name: 'CSeq: lower with the same Call-ID is 400 listing the bindings; the same within cseq_delay is a retransmission (200, 1); another Call-ID may go lower',
    ...base(),
    async flow(env) {
      await register(env, 'alice', [A], { cseq: 5, callId: 'c1' });
      const old = await register(env, 'alice', [`${A};expires=100`], { cseq: 4, callId: 'c1' });
      assert.equal(old.status, 400);
      assert.equal(old.getHeader('p-registrar-error'), 'Invalid CSeq number');
      assert.deepEqual(bindings(old).map((b) => b.expires), [3600], 'the stored binding, unchanged');
      assert.equal(await lastRc(env), -1);
      const same = await register(env, 'alice', [`${A};expires=100`], { cseq: 5, callId: 'c1' });
      assert.equal(same.status, 200);
      assert.deepEqual(bindings(same).map((b) => b.expires), [3600], 'a retransmission changes nothing');
      assert.equal(await lastRc(env), 1);
      const other = await register(env, 'alice', [`${A};expires=100`], { cseq: 1, callId: 'c2' });
      assert.deepEqual(bindings(other).map((b) => b.expires), [100]);
      assert.equal(await lastRc(env), 2);
    },
  },
  {
    name: 'max_contacts: one too many is 503 with P-Registrar-Error and Retry-After, save returns -2; refreshing is still fine',
    ...base({ modules: { registrar: { max_contacts: 2, retry_after: 30 } } }),
    async flow(env) {
      await register(env, 'alice', [A, B]);
      const r = await register(env, 'alice', [C], { cseq: 2 });
      assert.equal(r.status, 503);
      assert.equal(r.getHeader('p-registrar-error'), 'Too many registered contacts');
      assert.equal(r.getHeader('retry-after'), '30');
      assert.equal(bindings(r).length, 2);
      assert.equal(await lastRc(env), -2);
      const fresh = await register(env, 'bob', [A, B, C]);
      assert.equal(fresh.status, 503, 'a new AoR with too many contacts');
      assert.equal(fresh.getHeader('contact'), undefined, 'nothing of it stays');
      const refresh = await register(env, 'alice', [A, B], { cseq: 3 });
      assert.equal(refresh.status, 200);
    },
  },
  {
    name: 'flags: 0x02 sends nothing until reg_send_reply; 0x04 keeps one contact; 0x01 marks it memory-only (flags 1)',
    ...base(),
    async flow(env) {
      await env.sendNoReply({ method: 'REGISTER', ruri: 'sip:example.com', to: '<sip:alice@example.com>', callId: 'f', cseq: 1, headers: [`Contact: ${A}`, 'X-Flags: 2'] });
      assert.equal(await lastRc(env), 1);
      const sent = await register(env, 'alice', [B], { callId: 'f', cseq: 2, headers: ['X-Flags: 2', 'X-Send: 1'] });
      assert.equal(sent.status, 200, 'reg_send_reply sent the prepared 200');
      assert.equal(bindings(sent).length, 2);
      const one = await register(env, 'alice', [C], { callId: 'f', cseq: 3, headers: ['X-Flags: 4'] });
      assert.deepEqual(bindings(one).map((b) => b.uri), ['sip:alice@192.0.2.3:5060']);
      await register(env, 'carol', [A], { headers: ['X-Flags: 1'] });
      const f = await probe(env, 'carol', ['X-Op: fetch', 'X-Uri: sip:carol@example.com']);
      assert.match(f.getHeader('x-ulc') ?? '', / 1$/, 'usrloc flags FL_MEM');
    },
  },
  {
    name: 'bad input: a Contact URI over contact_max_size, a bad q, save_uri with no AoR are 400; an unknown table returns -1 and sends nothing',
    ...base({ modules: { registrar: { contact_max_size: 64 } } }),
    async flow(env) {
      const long = await register(env, 'alice', [`<sip:${'a'.repeat(60)}@192.0.2.1>`], {});
      assert.equal(long.status, 400);
      assert.equal(long.getHeader('p-registrar-error'), 'Contact/received too long');
      const q = await register(env, 'alice', [`${A};q=1.5`], { cseq: 2 });
      assert.equal(q.getHeader('p-registrar-error'), 'Invalid q param in contact');
      const aor = await register(env, 'alice', [A], { cseq: 3, headers: ['X-Uri: not-a-uri'] });
      assert.equal(aor.getHeader('p-registrar-error'), 'Error while parsing AOR');
      await env.sendNoReply({ method: 'REGISTER', ruri: 'sip:example.com', to: '<sip:alice@example.com>', headers: [`Contact: ${A}`, 'X-Table: nosuch'] });
      assert.equal(await lastRc(env), -1);
    },
  },
  {
    name: 'lookup: -1 without contacts; the best contact in $ru; lookup_uri -3 for a URI without AoR',
    ...base(),
    async flow(env) {
      const none = await probe(env, 'alice');
      assert.equal(none.getHeader('x-rc'), '-1');
      await register(env, 'alice', [`${A};q=0.2`, `${B};q=0.9`]);
      const found = await probe(env, 'alice');
      assert.equal(found.getHeader('x-rc'), '1');
      assert.equal(found.getHeader('x-ru'), 'sip:alice@192.0.2.2:5060');
      assert.equal(found.getHeader('x-du'), '-');
      assert.equal((await probe(env, 'x', ['X-Op: lookup_uri', 'X-Uri: garbage'])).getHeader('x-rc'), '-3');
    },
  },
  {
    name: 'method_filtering: a contact whose Allow lacks the method is skipped; only such contacts → -2',
    ...base({ modules: { registrar: { method_filtering: 1 } } }),
    async flow(env) {
      await register(env, 'alice', [A], { headers: ['Allow: INVITE, ACK, BYE, CANCEL'] });
      assert.equal((await probe(env, 'alice')).getHeader('x-rc'), '-2', 'OPTIONS is not allowed');
      await register(env, 'alice', [`${B};methods="OPTIONS"`], { cseq: 2 });
      const r = await probe(env, 'alice');
      assert.equal(r.getHeader('x-rc'), '1');
      assert.equal(r.getHeader('x-ru'), 'sip:alice@192.0.2.2:5060');
    },
  },
  {
    name: 'received_avp and nat_bflag: the 200 shows received=, lookup sets $du to it and restores the NAT branch flag',
    ...base({ modules: { usrloc: { nat_bflag: 6 }, registrar: { received_avp: '$avp(RECEIVED)' } } }),
    async flow(env) {
      const r = await register(env, 'alice', ['<sip:alice@10.0.0.5:5060>'], { headers: ['X-Nat: 1'] });
      const rcv = `sip:127.0.0.1:${String(env.uac.port)}`;
      assert.equal(bindings(r)[0]?.received, `"${rcv}"`);
      const l = await probe(env, 'alice');
      assert.equal(l.getHeader('x-ru'), 'sip:alice@10.0.0.5:5060');
      assert.equal(l.getHeader('x-du'), rcv);
      assert.equal(l.getHeader('x-nat'), 'true');
      const f = await probe(env, 'alice', ['X-Op: fetch', 'X-Uri: sip:alice@example.com']);
      assert.match(f.getHeader('x-ulc') ?? '', / 64 0$/, 'cflags carry bflag 6');
    },
  },
  {
    name: 'unregister removes every contact (1); unregister_ruid one (1, then -3); registered follows',
    ...base(),
    async flow(env) {
      await register(env, 'alice', [A, B]);
      await register(env, 'bob', [A]);
      assert.equal((await probe(env, 'alice', ['X-Op: registered'])).getHeader('x-rc'), '1');
      assert.equal((await probe(env, 'x', ['X-Op: unregister', 'X-Uri: sip:alice@example.com'])).getHeader('x-rc'), '1');
      assert.equal((await probe(env, 'alice', ['X-Op: registered'])).getHeader('x-rc'), '-1');
      assert.equal((await probe(env, 'x', ['X-Op: unregister_ruid', 'X-Uri: sip:bob@example.com', 'X-Ruid: no-such'])).getHeader('x-rc'), '-3');
      assert.equal((await probe(env, 'x', ['X-Op: unregister_ruid', 'X-Uri: sip:bob@example.com'])).getHeader('x-rc'), '1');
      assert.equal((await probe(env, 'bob', ['X-Op: registered'])).getHeader('x-rc'), '-1');
    },
  },
  {
    name: 'reg_fetch_contacts and $ulc: count, aor, an indexed contact, q × 1000',
    ...base(),
    async flow(env) {
      await register(env, 'alice', [`${A};q=0.7`, `${B};q=0.3`]);
      const f = await probe(env, 'x', ['X-Op: fetch', 'X-Uri: sip:Alice@example.com']);
      assert.equal(f.getHeader('x-rc'), '1');
      assert.equal(f.getHeader('x-ulc'), '2 alice sip:alice@192.0.2.2:5060 700 0 0');
      assert.equal((await probe(env, 'x', ['X-Op: fetch', 'X-Uri: sip:nobody@example.com'])).getHeader('x-rc'), '-1');
    },
  },
  {
    name: 'use_path: the Path is stored and returned (Supported: path); lookup sends to its first hop; path_mode 2 without Supported is 420',
    ...base({ modules: { registrar: { use_path: 1, path_mode: 2 } } }),
    async flow(env) {
      const path = '<sip:edge.example.net:5070;lr>, <sip:core.example.net;lr>';
      const ok = await register(env, 'alice', [A], { headers: [`Path: ${path}`, 'Supported: path'] });
      assert.equal(ok.status, 200);
      assert.equal(ok.getHeader('path'), path);
      const l = await probe(env, 'alice');
      assert.equal(l.getHeader('x-ru'), 'sip:alice@192.0.2.1:5060');
      assert.equal(l.getHeader('x-du'), 'sip:edge.example.net:5070;lr', 'the first Path hop, not the received address');
      const strict = await register(env, 'bob', [B], { headers: [`Path: ${path}`] });
      assert.equal(strict.status, 420);
      assert.equal(strict.getHeader('unsupported'), 'path');
      assert.equal(strict.getHeader('p-registrar-error'), 'No support for found Path indicated');
      assert.equal(await lastRc(env), 1, 'the contacts are saved all the same, as in Kamailio');
    },
  },
];

runFlowCases('KSR.registrar', cases);
