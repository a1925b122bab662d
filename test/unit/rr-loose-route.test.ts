/**
 * loose_route through KSR.rr on parsed requests: the return code, $du, $ru, the Route lines of
 * the request as it would be relayed, next_hop_route, check_route_param and is_direction. Every
 * row's expectation is what Kamailio 5.6 did with the same request (its Route set, R-URI and
 * To-tag), with our addresses 192.0.2.10:5060 and 192.0.2.11:5070.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { pino } from 'pino';
import rr from '../../bindings/rr.js';
import { Context } from '../../host/kemi/context.js';
import { NO_SCRIPT } from '../../host/kemi/offline-script.js';
import { KemiRegistry } from '../../host/kemi/registry.js';
import { Myself } from '../../host/sip/myself.js';
import { rebuildMessage } from '../../host/sip/rebuild.js';
import { call, sip, UDP_SRC } from '../helpers/binding-harness.js';

const myself = new Myself();
myself.add('192.0.2.10', 5060);
myself.add('192.0.2.11', 5070);

function registry(params: Record<string, unknown> = {}): KemiRegistry {
  return new KemiRegistry([rr], { log: pino({ level: 'silent' }), myself, script: NO_SCRIPT, params: { rr: params } });
}

const reg = registry();
const NEXT = 'sip:198.51.100.20:5080';

interface Row {
  name: string;
  ruri: string;
  routes: readonly string[];
  /** '' for an initial request */
  toTag?: string;
  rc: number;
  du?: string | null;
  ru?: string;
  /** the Route lines of the relayed request, as `Route: …` */
  out?: readonly string[];
  nh?: number;
  /** check_route_param("nat=yes") */
  nat?: number;
  upstream?: boolean;
}

const ROWS: Row[] = [
  { name: 'only our Route, in a dialog: removed, the R-URI is the target', ruri: `${NEXT};x=1`, routes: ['<sip:192.0.2.10;lr;ftag=ft1;nat=yes>'], rc: 1, du: null, out: [], nh: -1, nat: 1 },
  { name: 'our Route with a foreign ftag: upstream', ruri: NEXT, routes: ['<sip:192.0.2.10;lr;ftag=other;nat=no>'], rc: 1, out: [], nat: -1, upstream: true },
  {
    name: 'our Route then the next hop in one line: $du, the rest of the line kept as written',
    ruri: 'sip:bob@198.51.100.9:5999', routes: [`<sip:192.0.2.10;lr;ftag=ft1>, <${NEXT};lr;foo=1>,<sip:far.example;lr>`],
    rc: 1, du: `${NEXT};lr;foo=1`, ru: 'sip:bob@198.51.100.9:5999', out: [`Route: <${NEXT};lr;foo=1>,<sip:far.example;lr>`], nh: 1,
  },
  {
    name: 'our Route then the next hop in separate lines', ruri: 'sip:bob@198.51.100.9', routes: ['<sip:192.0.2.10;lr>', `<${NEXT};lr>`, '<sip:far.example;lr>'],
    rc: 1, du: `${NEXT};lr`, out: [`Route: <${NEXT};lr>`, 'Route: <sip:far.example;lr>'], nh: 1,
  },
  {
    name: 'double Route (r2=on): both of ours consumed', ruri: NEXT,
    routes: ['<sip:192.0.2.10;transport=tcp;r2=on;lr;ftag=ft1>, <sip:192.0.2.11:5070;r2=on;lr;ftag=ft1>'], rc: 1, du: null, out: [], nh: -1,
  },
  {
    name: 'double Route across lines, then the next hop', ruri: 'sip:bob@198.51.100.9',
    routes: ['<sip:192.0.2.10;transport=tcp;r2=on;lr>', `<sip:192.0.2.11:5070;r2=on;lr>, <${NEXT};lr>`], rc: 1, du: `${NEXT};lr`, out: [`Route: <${NEXT};lr>`], nh: 1,
  },
  { name: 'pre-loaded, only ours: -3, removed', ruri: NEXT, routes: ['<sip:192.0.2.10;lr>'], toTag: '', rc: -3, du: null, out: [], nh: -1 },
  { name: 'pre-loaded, ours then another: 1', ruri: 'sip:bob@198.51.100.9', routes: [`<sip:192.0.2.10;lr>,<${NEXT};lr>`], toTag: '', rc: 1, du: `${NEXT};lr`, out: [`Route: <${NEXT};lr>`], nh: 1 },
  { name: 'pre-loaded foreign Route: $du, kept', ruri: 'sip:bob@198.51.100.9', routes: [`<${NEXT};lr>`], toTag: '', rc: 1, du: `${NEXT};lr`, out: [`Route: <${NEXT};lr>`], nh: -1 },
  { name: 'no Route: -1', ruri: NEXT, routes: [], rc: -1, du: null, nh: -1 },
  {
    name: 'after a strict router (our R-URI): $du = first Route, R-URI = last Route',
    ruri: 'sip:192.0.2.10;lr;ftag=ft1;nat=yes', routes: [`<${NEXT};lr>, <sip:bob@198.51.100.9:5999>`],
    rc: 1, du: `${NEXT};lr`, ru: 'sip:bob@198.51.100.9:5999', out: [`Route: <${NEXT};lr>`], nh: -1, nat: 1,
  },
  {
    name: 'after a strict router, three Routes over two lines', ruri: 'sip:192.0.2.10;lr;nat=yes', routes: [`<${NEXT};lr>`, '<sip:mid.example;lr>, <sip:bob@198.51.100.9:5999>'],
    rc: 1, du: `${NEXT};lr`, ru: 'sip:bob@198.51.100.9:5999', out: [`Route: <${NEXT};lr>`, 'Route: <sip:mid.example;lr>'], nat: 1,
  },
  {
    name: 'strict before and after: the next hop into the R-URI', ruri: 'sip:192.0.2.10;ftag=ft1', routes: ['<sip:bob@198.51.100.20:5080>, <sip:x@198.51.100.9:5999>'],
    rc: 1, du: null, ru: 'sip:bob@198.51.100.20:5080', out: ['Route: <sip:x@198.51.100.9:5999>'],
  },
  {
    name: 'after a strict router with our double Route', ruri: 'sip:192.0.2.10;r2=on;lr', routes: [`<sip:192.0.2.11:5070;r2=on;lr>, <${NEXT};lr>, <sip:bob@198.51.100.9:5999>`],
    rc: 1, du: `${NEXT};lr`, ru: 'sip:bob@198.51.100.9:5999', out: [`Route: <${NEXT};lr>`],
  },
  {
    name: 'a strict next hop: it goes into the R-URI, the R-URI to the end', ruri: 'sip:bob@198.51.100.9:5999', routes: [`<sip:192.0.2.10;lr>, <${NEXT}>, <sip:far.example;lr>`],
    rc: 1, du: null, ru: NEXT, out: ['Route: <sip:far.example;lr>', 'Route: <sip:bob@198.51.100.9:5999>'], nh: 1,
  },
  { name: 'a Route that is not a name-addr: -1', ruri: NEXT, routes: ['garbage<<'], rc: -1, du: null, out: ['Route: garbage<<'] },
  { name: 'a Route with a broken URI: -1', ruri: NEXT, routes: ['<sip:@@:x;lr>'], rc: -1, du: null, out: ['Route: <sip:@@:x;lr>'] },
  { name: 'a foreign Route in a dialog: $du, kept', ruri: 'sip:bob@198.51.100.9', routes: [`<${NEXT};lr>`], rc: 1, du: `${NEXT};lr`, out: [`Route: <${NEXT};lr>`], nh: -1 },
  { name: 'our R-URI with no Route: -1', ruri: 'sip:192.0.2.10', routes: [], rc: -1, du: null },
  { name: 'maddr: the next hop is its address', ruri: 'sip:bob@198.51.100.9', routes: ['<sip:192.0.2.10;lr>, <sip:proxy.example;maddr=198.51.100.20;lr>'], rc: 1, du: 'sip:198.51.100.20', nh: 1 },
  { name: 'our Route without lr: still ours, removed', ruri: NEXT, routes: ['<sip:192.0.2.10>'], rc: 1, du: null, out: [] },
  { name: 'a display name and header parameters', ruri: NEXT, routes: ['"Proxy" <sip:192.0.2.10;lr;nat=yes>;hp=1'], rc: 1, out: [], nat: 1 },
  { name: 'a GRUU of ours is not our Route', ruri: 'sip:bob@198.51.100.9', routes: ['<sip:192.0.2.10;gr=abc;lr>'], rc: 1, du: 'sip:192.0.2.10;gr=abc;lr', out: ['Route: <sip:192.0.2.10;gr=abc;lr>'] },
];

function request(row: Row): ReturnType<typeof sip> {
  const toTag = row.toTag ?? 'tt1';
  return sip([
    `BYE ${row.ruri} SIP/2.0`,
    'Via: SIP/2.0/UDP 198.51.100.7:5062;branch=z9hG4bK-1',
    'From: <sip:alice@example.com>;tag=ft1',
    `To: <sip:bob@example.com>${toTag === '' ? '' : `;tag=${toTag}`}`,
    'Call-ID: lr-1',
    'CSeq: 2 BYE',
    ...row.routes.map((r) => `Route: ${r}`),
    'Content-Length: 0',
  ]);
}

function relayedRoutes(ctx: Context): string[] {
  const msg = ctx.msg;
  assert.ok(msg !== null);
  const out = rebuildMessage(msg, { startLine: `BYE ${ctx.ruri} SIP/2.0`, prepend: '', topVia: null, edits: ctx.hasHeaderEdits ? ctx.headerEdits : null });
  return out.toString('utf8').split('\r\n').filter((l) => l.startsWith('Route:'));
}

describe('KSR.rr.loose_route (Kamailio 5.6 as the oracle)', () => {
  for (const row of ROWS) {
    it(row.name, () => {
      const ctx = new Context('sip', request(row), UDP_SRC);
      assert.equal(call(reg, 'KSR.rr.loose_route', ctx), row.rc, 'return code');
      if (row.du !== undefined) assert.equal(ctx.dstUri, row.du, '$du');
      assert.equal(ctx.ruri, row.ru ?? row.ruri, '$ru');
      if (row.out !== undefined) assert.deepEqual(relayedRoutes(ctx), row.out, 'Route lines relayed');
      if (row.nh !== undefined) assert.equal(call(reg, 'KSR.rr.next_hop_route', ctx), row.nh, 'next_hop_route');
      if (row.nat !== undefined) assert.equal(call(reg, 'KSR.rr.check_route_param', ctx, 'nat=yes'), row.nat, 'check_route_param');
      const up = row.upstream === true;
      assert.equal(call(reg, 'KSR.rr.is_direction', ctx, 'upstream'), up ? 1 : -1, 'is_direction upstream');
      assert.equal(call(reg, 'KSR.rr.is_direction', ctx, 'downstream'), up ? -1 : 1, 'is_direction downstream');
    });
  }

  it('loose_route_preloaded: 1 only for a pre-loaded Route set that was ours alone; the Route is consumed either way', () => {
    const only = ROWS.find((r) => r.rc === -3) as Row;
    const ctx = new Context('sip', request(only), UDP_SRC);
    assert.equal(call(reg, 'KSR.rr.loose_route_preloaded', ctx), 1);
    const inDialog = new Context('sip', request({ ...only, toTag: 'tt1' }), UDP_SRC);
    assert.equal(call(reg, 'KSR.rr.loose_route_preloaded', inDialog), -1);
    assert.deepEqual(relayedRoutes(inDialog), []);
  });

  it('loose_route_mode(1) never repairs a strict router: our R-URI stays, the top Route is the next hop', () => {
    const ctx = new Context('sip', request({ name: '', ruri: 'sip:192.0.2.10;lr', routes: [`<${NEXT};lr>, <sip:bob@198.51.100.9:5999>`], rc: 1 }), UDP_SRC);
    assert.equal(call(reg, 'KSR.rr.loose_route_mode', ctx, 1), 1);
    assert.equal(ctx.dstUri, `${NEXT};lr`);
    assert.equal(ctx.ruri, 'sip:192.0.2.10;lr');
    assert.equal(call(reg, 'KSR.rr.loose_route_mode', ctx, 0), 1, 'mode 0 is loose_route');
    assert.equal(ctx.ruri, 'sip:bob@198.51.100.9:5999');
  });

  it('double routing: the second Route of ours names the socket to send from', () => {
    const ctx = new Context('sip', request(ROWS[4] as Row), UDP_SRC);
    call(reg, 'KSR.rr.loose_route', ctx);
    assert.deepEqual(ctx.sendSocket, { proto: 'udp', ip: '192.0.2.11', port: 5070 });
    const plain = new Context('sip', request(ROWS[0] as Row), UDP_SRC);
    call(reg, 'KSR.rr.loose_route', plain);
    assert.equal(plain.sendSocket, null, 'one Route: any socket');
    const forced = new Context('sip', request(ROWS[0] as Row), UDP_SRC);
    call(registry({ force_send_socket: 1 }), 'KSR.rr.loose_route', forced);
    assert.deepEqual(forced.sendSocket, { proto: 'udp', ip: '192.0.2.10', port: 5060 }, 'force_send_socket: the socket our Route names');
  });

  it('enable_double_rr 0: an r2 Route of ours is consumed alone', () => {
    const ctx = new Context('sip', request(ROWS[4] as Row), UDP_SRC);
    assert.equal(call(registry({ enable_double_rr: 0 }), 'KSR.rr.loose_route', ctx), 1);
    assert.equal(ctx.dstUri, 'sip:192.0.2.11:5070;r2=on;lr;ftag=ft1');
  });

  it('check_route_param matches the parameters with their leading ";", case-insensitively; a bad pattern is -1', () => {
    const ctx = new Context('sip', request({ name: '', ruri: NEXT, routes: ['<sip:192.0.2.10;lr;ftag=ft1>'], rc: 1 }), UDP_SRC);
    assert.equal(call(reg, 'KSR.rr.check_route_param', ctx, '^;lr;FTAG=ft1'), 1, 'before loose_route: our top Route');
    call(reg, 'KSR.rr.loose_route', ctx);
    assert.equal(call(reg, 'KSR.rr.check_route_param', ctx, 'lr;ftag'), 1);
    assert.equal(call(reg, 'KSR.rr.check_route_param', ctx, '^lr'), -1);
    assert.equal(call(reg, 'KSR.rr.check_route_param', ctx, '('), -1);
  });

  it('is_direction: -6 for another word or without append_fromtag; $rdir, $fti, $tti follow it', () => {
    const ctx = new Context('sip', request(ROWS[1] as Row), UDP_SRC);
    assert.equal(call(reg, 'KSR.rr.is_direction', ctx, 'sideways'), -6);
    assert.equal(call(registry({ append_fromtag: 0 }), 'KSR.rr.is_direction', ctx, 'upstream'), -6);
    const pv = (name: string): unknown => reg.pvs.resolve(name)?.get(ctx);
    assert.equal(pv('$rdir(id)'), 2);
    assert.equal(pv('$rdir(name)'), 'upstream');
    assert.equal(pv('$fti'), 'tt1', 'upstream: the dialog\'s From-tag is this request\'s To-tag');
    assert.equal(pv('$tti'), 'ft1');
    assert.equal(pv('$route_uri'), 'sip:192.0.2.10;lr;ftag=other;nat=no');
  });
});
