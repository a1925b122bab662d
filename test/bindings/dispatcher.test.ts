/**
 * KSR.dispatcher on both engines over real SIP: gateways are UDP peers on 127.0.0.1 that answer
 * what they receive (200, or 503 for the failing one); the list file names them. Relay cases
 * check which gateway got the INVITE (round robin, Call-ID hash, parallel forking, the R-URI
 * form, failover 503 → failure route → ds_next_dst); the others read what the calls return
 * and the $du / $xavp they leave in the reply (every algorithm, ds_next_dst's order, limits,
 * is_from_list in each mode, states and ds_mark_dst, reload).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after } from 'node:test';
import { dsHash, uriHash } from '../../host/dispatcher/hash.js';
import type { SipMessage } from '../../host/sip/message.js';
import { runFlowCases, type FlowCase, type FlowEnv } from '../helpers/flow-cases.js';
import { NextHop } from '../helpers/next-hop.js';
import type { RequestSpec } from '../helpers/sip-client.js';
import { until } from '../helpers/until.js';
import { JS, LUA } from './dispatcher-script.js';

const dir = mkdtempSync(join(tmpdir(), 'kemihost-ds-'));
const gw = [await NextHop.start('udp', 200), await NextHop.start('udp', 200), await NextHop.start('udp', 200)] as const;
const bad = await NextHop.start('udp', 503);
after(() => {
  for (const g of [...gw, bad]) g.close();
  rmSync(dir, { recursive: true, force: true });
});
const U = gw.map((g) => `sip:127.0.0.1:${String(g.port)}`) as [string, string, string];
const U503 = `sip:127.0.0.1:${String(bad.port)}`;
const A0 = 'duid=a;weight=50;rweight=50';

const listFile = join(dir, 'dispatcher.list');
writeFileSync(listFile, [
  '# set 1: three gateways, by priority',
  `1 ${U[0]} 0 30 ${A0}`,
  `1 ${U[1]} 0 20 duid=b;weight=30;rweight=30`,
  `1 ${U[2]} 0 10 duid=c;weight=20;rweight=20`,
  '# set 2: failover, the failing gateway first',
  `2 ${U503} 0 20`,
  `2 ${U[1]} 0 10`,
  '# set 4: equal priorities (Kamailio puts the last line first)',
  `4 ${U[0]}`,
  `4 ${U[1]}`,
  `4 ${U[2]}  # trailing comment`,
  '# set 7: 127.0.0.1 on any port',
  '7 sip:127.0.0.1 0 0 tag=local',
  '# set 8: inactive and disabled only',
  `8 ${U[0]} 1 10`,
  `8 ${U[1]} 4 5`,
  '',
].join('\n'));

const DS = { list_file: listFile, flags: 2, setid_pvname: '$var(setid)', attrs_pvname: '$var(attrs)', hash_pvar: '$fU@$ci' };
const config = (ds: Record<string, unknown> = {}): Record<string, unknown> => ({ modules: { dispatcher: { ...DS, ...ds }, tm: { fr_timer: 2000 } } });

let seq = 0;
const invite = (headers: string[], callId = `ds-${String(++seq)}`): RequestSpec =>
  ({ method: 'INVITE', ruri: 'sip:bob@example.com', toUri: 'sip:bob@example.com', callId, headers });
const ask = (headers: string[], extra: Partial<RequestSpec> = {}): RequestSpec => ({ method: 'OPTIONS', ruri: 'sip:bob@example.com', callId: `ds-${String(++seq)}`, ...extra, headers });

/** which gateways got a request with this Call-ID */
function whoGot(callId: string, method = 'INVITE'): number[] {
  return gw.map((g, i) => (g.received.some((m) => m.isRequest && m.method === method && m.callId === callId) ? i : -1)).filter((i) => i >= 0);
}

async function relay(env: FlowEnv, headers: string[], callId?: string): Promise<{ reply: SipMessage; callId: string }> {
  const spec = invite(headers, callId);
  const reply = await env.send(spec);
  return { reply, callId: spec.callId ?? '' };
}

const hdr = (m: SipMessage, name: string): string | undefined => m.getHeader(name);
const byHash = (h: number): string => U[h % 3] ?? '';
const counts = (list: string): number[] => U.map((u) => list.split(',').filter((x) => x === u).length);

const cases: FlowCase[] = [
  {
    name: 'round robin (4): the INVITEs go to the gateways in priority order, then around again',
    lua: LUA, js: JS, full: true, config: config(),
    async flow(env) {
      const got: number[][] = [];
      for (let i = 0; i < 4; i++) {
        const { reply, callId } = await relay(env, ['X-Alg: 4']);
        assert.equal(reply.status, 200);
        got.push(whoGot(callId));
      }
      assert.deepEqual(got, [[0], [1], [2], [0]]);
    },
  },
  {
    name: 'hash over the Call-ID (0): Kamailio\'s hash picks the gateway, the same one for the same Call-ID',
    lua: LUA, js: JS, full: true, config: config(),
    async flow(env) {
      for (const cid of ['a84b4c76e66710', 'call-2@host', '843817637684230@998sdasdh09', 'xyz']) {
        const want = U.indexOf(byHash(dsHash(cid)));
        const first = await relay(env, ['X-Alg: 0'], cid);
        assert.equal(first.reply.status, 200);
        assert.deepEqual(whoGot(cid), [want], cid);
      }
    },
  },
  {
    name: 'parallel forking (12): every gateway of the set gets the INVITE',
    lua: LUA, js: JS, full: true, config: config(),
    async flow(env) {
      const { reply, callId } = await relay(env, ['X-Alg: 12']);
      assert.equal(reply.status, 200);
      await until(() => whoGot(callId).length === 3, 2000, 'the INVITE at every gateway');
      assert.deepEqual(whoGot(callId), [0, 1, 2]);
    },
  },
  {
    name: 'ds_select_domain: the R-URI\'s host part becomes the gateway\'s, the user stays',
    lua: LUA, js: JS, full: true, config: config(),
    async flow(env) {
      const { reply, callId } = await relay(env, ['X-Test: domain', 'X-Alg: 8']);
      assert.equal(reply.status, 200);
      const req = gw[0].received.find((m) => m.callId === callId);
      assert.equal(req?.ruri, `sip:bob@127.0.0.1:${String(gw[0].port)}`);
    },
  },
  {
    name: 'failover: the first gateway answers 503 → failure route → ds_mark_dst, ds_next_dst → the second gets it; the next call skips the first',
    lua: LUA, js: JS, full: true, config: config(),
    async flow(env) {
      const { reply, callId } = await relay(env, ['X-Set: 2', 'X-Alg: 8', 'X-Mark-Failed: 1']);
      assert.equal(reply.status, 200);
      assert.ok(bad.received.some((m) => m.isRequest && m.method === 'INVITE' && m.callId === callId), 'the 503 gateway got the INVITE first');
      assert.ok(bad.received.some((m) => m.isRequest && m.method === 'ACK' && m.callId === callId), 'and the ACK of its 503');
      assert.deepEqual(whoGot(callId), [1]);
      const again = await relay(env, ['X-Set: 2', 'X-Alg: 8']);
      assert.equal(again.reply.status, 200);
      assert.equal(bad.received.some((m) => m.callId === again.callId), false, 'marked inactive: not tried again');
      assert.deepEqual(whoGot(again.callId), [1]);
    },
  },
  {
    name: 'priority (8): the first by priority as $du, ds_next_dst walks the rest in order; the XAVPs',
    lua: LUA, js: JS, full: true, config: config(),
    async flow(env) {
      const r = await env.send(ask(['X-Test: select', 'X-Alg: 8']));
      assert.equal(hdr(r, 'X-Rc'), '1');
      assert.equal(hdr(r, 'X-Dus'), U[0]);
      assert.equal(hdr(r, 'X-Cnt'), '3');
      assert.equal(hdr(r, 'X-Attrs'), A0);
      assert.equal(hdr(r, 'X-Grp'), '1');
      assert.equal(hdr(r, 'X-Order'), U.join(','));
      assert.equal(hdr(r, 'X-Next-Rc'), '-1');
      const lim = await env.send(ask(['X-Test: select', 'X-Alg: 8', 'X-Limit: 2']));
      assert.equal(hdr(lim, 'X-Cnt'), '2');
      assert.equal(hdr(lim, 'X-Order'), `${U[0]},${U[1]}`);
      const eq = await env.send(ask(['X-Test: select', 'X-Alg: 8', 'X-Set: 4']));
      assert.equal(hdr(eq, 'X-Order'), `${U[2]},${U[1]},${U[0]}`, 'equal priorities: the last line first');
      const routes = await env.send(ask(['X-Test: select', 'X-Rules: 2=8;4=8', 'X-Mode: d']));
      assert.equal(hdr(routes, 'X-Cnt'), '5');
      assert.equal(hdr(routes, 'X-Order'), [U503, U[1], U[2], U[1], U[0]].join(','), 'ds_select_routes: group 2, then group 4');
      const capped = await env.send(ask(['X-Test: select', 'X-Rules: 99=4;4=8', 'X-Mode: d', 'X-Limit: 2']));
      assert.equal(hdr(capped, 'X-Order'), `${U[2]},${U[1]}`, 'an unknown group is passed over; the limit counts over all groups');
      const badMode = await env.send(ask(['X-Test: select', 'X-Rules: 1=8', 'X-Mode: q']));
      assert.equal(hdr(badMode, 'X-Rc'), '-1');
    },
  },
  {
    name: 'hashes over From (1), To (2), R-URI (3), auth username (5) and hash_pvar (7)',
    lua: LUA, js: JS, full: true, config: config(),
    async flow(env) {
      const from = 'sip:carol@example.org:5070';
      const to = 'sip:dave@example.net';
      const ruri = 'sip:erin@192.0.2.9';
      const cid = 'pv-hash-call';
      const one = async (alg: number, extra: Partial<RequestSpec>, headers: string[] = []): Promise<string | undefined> =>
        hdr(await env.send(ask(['X-Test: select', `X-Alg: ${String(alg)}`, ...headers], extra)), 'X-Dus');
      assert.equal(await one(1, { fromUri: from }), byHash(uriHash(from, false) ?? 0));
      assert.equal(await one(2, { toUri: to }), byHash(uriHash(to, false) ?? 0));
      assert.equal(await one(3, { ruri }), byHash(uriHash(ruri, false) ?? 0));
      assert.equal(await one(5, {}, ['Authorization: Digest username="frank", realm="x", nonce="n", uri="sip:x", response="0"']), byHash(dsHash('frank')));
      assert.equal(await one(7, { fromUri: 'sip:gina@example.com', callId: cid }), byHash(dsHash(`gina@${cid}`)));
    },
  },
  {
    name: 'auth username (5) without credentials is round robin; random (6) stays in the set',
    lua: LUA, js: JS, full: true, config: config(),
    async flow(env) {
      const rr = await env.send(ask(['X-Test: select', 'X-Alg: 5', 'X-N: 4']));
      assert.equal(hdr(rr, 'X-Dus'), [U[0], U[1], U[2], U[0]].join(','));
      const rnd = hdr(await env.send(ask(['X-Test: select', 'X-Alg: 6', 'X-N: 30'])), 'X-Dus') ?? '';
      const c = counts(rnd);
      assert.equal(c.reduce((a, b) => a + b, 0), 30);
    },
  },
  {
    name: 'weight (9) and relative weight (11): 100 selections split 50/30/20; call load (10) without ds_hash_size takes the first active',
    lua: LUA, js: JS, full: true, config: config(),
    async flow(env) {
      assert.deepEqual(counts(hdr(await env.send(ask(['X-Test: select', 'X-Alg: 9', 'X-N: 100'])), 'X-Dus') ?? ''), [50, 30, 20]);
      assert.deepEqual(counts(hdr(await env.send(ask(['X-Test: select', 'X-Alg: 11', 'X-N: 100'])), 'X-Dus') ?? ''), [50, 30, 20]);
      const cl = await env.send(invite(['X-Test: select', 'X-Alg: 10']));
      assert.equal(hdr(cl, 'X-Dus'), U[0]);
      assert.equal(hdr(cl, 'X-Cnt'), '3');
    },
  },
  {
    name: 'call load (10) with ds_hash_size: each INVITE to the least loaded; a BYE through ds_load_update and ds_load_unset free a gateway',
    lua: LUA, js: JS, full: true, config: config({ ds_hash_size: 4 }),
    async flow(env) {
      const calls: string[] = [];
      for (let i = 0; i < 4; i++) {
        const { reply, callId } = await relay(env, ['X-Alg: 10']);
        assert.equal(reply.status, 200);
        assert.deepEqual(whoGot(callId), [i % 3], `call ${String(i)}`);
        calls.push(callId);
      }
      const bye = await env.send({ method: 'BYE', ruri: 'sip:bob@example.com', callId: calls[1] ?? '', toTag: 'x', headers: ['X-Test: load'] });
      assert.equal(hdr(bye, 'X-Update'), '1');
      const next = await relay(env, ['X-Alg: 10']);
      assert.deepEqual(whoGot(next.callId), [1], 'the gateway whose call ended');
      const unset = await env.send(ask(['X-Test: load', 'X-Unset: 1'], { callId: calls[2] ?? '' }));
      assert.equal(hdr(unset, 'X-Unset'), '1');
      const again = await env.send(ask(['X-Test: load', 'X-Unset: 1'], { callId: calls[2] ?? '' }));
      assert.equal(hdr(again, 'X-Unset'), '-1', 'not counted any more');
      const last = await relay(env, ['X-Alg: 10']);
      assert.deepEqual(whoGot(last.callId), [2]);
    },
  },
  {
    name: 'nothing to select: a set of inactive and disabled ones, an unknown set, $du already set with force_dst 0',
    lua: LUA, js: JS, full: true, config: config({ force_dst: 0 }),
    async flow(env) {
      assert.equal(hdr(await env.send(ask(['X-Test: select', 'X-Alg: 8', 'X-Set: 8'])), 'X-Rc'), '-1');
      assert.equal(hdr(await env.send(ask(['X-Test: select', 'X-Alg: 8', 'X-Set: 99'])), 'X-Rc'), '-1');
      assert.equal(hdr(await env.send(ask(['X-Test: select', 'X-Alg: 8', 'X-Du: sip:192.0.2.1'])), 'X-Rc'), '-1');
      assert.equal((await env.send(invite(['X-Alg: 4', 'X-Set: 8']))).status, 404);
    },
  },
  {
    name: 'without failover (flags 0) no XAVP list: ds_next_dst answers -1',
    lua: LUA, js: JS, full: true, config: config({ flags: 0 }),
    async flow(env) {
      const r = await env.send(ask(['X-Test: select', 'X-Alg: 8']));
      assert.equal(hdr(r, 'X-Rc'), '1');
      assert.equal(hdr(r, 'X-Cnt'), '0');
      assert.equal(hdr(r, 'X-Order'), U[0]);
      assert.match(hdr(r, 'X-Attrs') ?? '', /^(nil|null)$/);
    },
  },
  {
    name: 'use_default: the last destination is selected only as the default, last in the failover list',
    lua: LUA, js: JS, full: true, config: config({ use_default: 1 }),
    async flow(env) {
      const r = await env.send(ask(['X-Test: select', 'X-Alg: 4', 'X-N: 3']));
      assert.equal(hdr(r, 'X-Dus'), [U[0], U[1], U[0]].join(','));
      const one = await env.send(ask(['X-Test: select', 'X-Alg: 8']));
      assert.equal(hdr(one, 'X-Order'), `${U[0]},${U[1]},${U[2]}`);
    },
  },
  {
    name: 'ds_is_from_list in each mode, ds_is_from_lists with setid_pvname and attrs_pvname',
    lua: LUA, js: JS, full: true, config: config(),
    async flow(env) {
      const any = await env.send(ask(['X-Test: from', 'X-Set: 7', 'X-Mode: 2']));
      assert.equal(hdr(any, 'X-L'), '1', 'any port of 127.0.0.1');
      assert.equal(hdr(any, 'X-Lists'), '1');
      assert.equal(hdr(any, 'X-Setid'), '7');
      assert.equal(hdr(any, 'X-Attrs'), 'tag=local');
      assert.equal(hdr(any, 'X-Mode'), '1');
      const strict = await env.send(ask(['X-Test: from', 'X-Set: 7', 'X-Mode: 0']));
      assert.equal(hdr(strict, 'X-Mode'), '-1', 'mode 0 compares the transport: the list entry has none');
      const gws = await env.send(ask(['X-Test: from', 'X-Set: 1', 'X-Mode: 0', `X-Uri: ${U[1]}`]));
      assert.equal(hdr(gws, 'X-L'), '-1', 'not from a gateway\'s port');
      assert.equal(hdr(gws, 'X-Uri-Rc'), '1');
      const t = await env.send(ask(['X-Test: from', 'X-Set: 1', 'X-Mode: 0', `X-Uri: ${U[1]};transport=udp`]));
      assert.equal(hdr(t, 'X-Uri-Rc'), '-1');
      const t2 = await env.send(ask(['X-Test: from', 'X-Set: 1', 'X-Mode: 3', `X-Uri: sip:127.0.0.1:1;transport=udp`]));
      assert.equal(hdr(t2, 'X-Uri-Rc'), '1', 'mode 3: neither port nor transport');
      const inactive = await env.send(ask(['X-Test: from', 'X-Set: 8', 'X-Mode: 6', `X-Uri: ${U[0]}`]));
      assert.equal(hdr(inactive, 'X-Uri-Rc'), '-1', 'mode 4: active only');
    },
  },
  {
    name: 'ds_list_exists, ds_is_active(_uri); ds_mark_dst and ds_mark_dst_state change what is selected',
    lua: LUA, js: JS, full: true, config: config(),
    async flow(env) {
      const s = await env.send(ask(['X-Test: state', `X-Uri: ${U[0]}`]));
      assert.deepEqual([hdr(s, 'X-Exists'), hdr(s, 'X-Active'), hdr(s, 'X-Active-Uri')], ['1', '1', '1']);
      const none = await env.send(ask(['X-Test: state', 'X-Set: 99']));
      assert.deepEqual([hdr(none, 'X-Exists'), hdr(none, 'X-Active')], ['-1', '-1']);
      assert.equal(hdr(await env.send(ask(['X-Test: state', 'X-Set: 8'])), 'X-Active'), '-1');
      const m = await env.send(ask(['X-Test: state', 'X-Alg: 8', 'X-Mark: -', `X-Uri: ${U[0]}`]));
      assert.deepEqual([hdr(m, 'X-Sel'), hdr(m, 'X-Mark-Rc'), hdr(m, 'X-After'), hdr(m, 'X-Du'), hdr(m, 'X-Active-After')], ['1', '1', '1', U[1], '-1']);
      const back = await env.send(ask(['X-Test: state', 'X-Alg: 8', 'X-Mark: a', `X-Uri: ${U[1]}`]));
      assert.equal(hdr(back, 'X-Mark-Rc'), '1');
      const bad2 = await env.send(ask(['X-Test: state', 'X-Alg: 8', 'X-Mark: zz', `X-Uri: ${U[1]}`]));
      assert.equal(hdr(bad2, 'X-Mark-Rc'), '-1');
    },
  },
  {
    name: 'ds_reload starts a reload (1); a second within reload_delta is refused (-1)',
    lua: LUA, js: JS, full: true, config: config(),
    async flow(env) {
      const r = await env.send(ask(['X-Test: reload']));
      assert.deepEqual([hdr(r, 'X-Reload'), hdr(r, 'X-Reload-Again')], ['1', '-1']);
    },
  },
  {
    name: 'without a modules.dispatcher section nothing is loaded: every selection answers -1',
    lua: LUA, js: JS, full: true,
    async flow(env) {
      const r = await env.send(ask(['X-Test: select', 'X-Alg: 4']));
      assert.equal(hdr(r, 'X-Rc'), '-1');
      assert.equal(hdr(await env.send(ask(['X-Test: state'])), 'X-Exists'), '-1');
    },
  },
];

runFlowCases('dispatcher', cases);
