/**
 * KSR.rr on a real server, both engines: a UAC sends one request over UDP or TCP, the next hop
 * (a UDP or TCP peer) answers it; the cases assert what the next hop received (Record-Route
 * naming the socket the request left on, the Route set after loose_route, the R-URI) and what
 * came back to the UAC (the Record-Route unchanged in the relayed reply, return codes in X-Rc).
 */
import assert from 'node:assert/strict';
import { runBindingCases, type BindingCase } from '../helpers/binding-cases.js';
import type { RequestSpec } from '../helpers/sip-client.js';

const INVITE = { method: 'INVITE', ruri: 'sip:bob@127.0.0.1:{next}', fromTag: 'ft1' };
/** a SUBSCRIBE (record-routed too) gets no 100 Trying: with a silent next hop nothing comes back */
const SUBSCRIBE = { ...INVITE, method: 'SUBSCRIBE' };
/** an in-dialog BYE from the caller (From-tag ft1) */
const BYE = (route: string, ruri = 'sip:bob@127.0.0.1:{next}'): RequestSpec => ({ method: 'BYE', ruri, fromTag: 'ft1', toTag: 'tt1', headers: [`Route: ${route}`] });
const OURS = '<sip:127.0.0.1:{udp};lr;ftag=ft1>';
/** a host that answers nothing: a request sent there never reaches the next hop */
const NOWHERE = 'sip:bob@192.0.2.99:5999';

/** Lua and JS: X-Rc with the values of these expressions (Lua syntax → JS by `..` → `+`). */
function rc(...exprs: string[]): { lua: string; js: string } {
  const lua = `KSR.hdr.append("X-Rc: " .. ${exprs.map((e) => `tostring(${e})`).join(' .. "," .. ')} .. "\\r\\n")`;
  const js = `KSR.hdr.append("X-Rc: " + [${exprs.join(', ')}].join(",") + "\\r\\n");`;
  return { lua, js };
}

/** The same values in a stateless reply (when nothing is relayed). */
function rcReply(...exprs: string[]): { lua: string; js: string } {
  const { lua, js } = rc(...exprs);
  return {
    lua: `${lua.replace('KSR.hdr.append(', 'KSR.hdr.append_to_reply(')}\nKSR.sl.sl_send_reply(200, "OK")`,
    js: `${js.replace('KSR.hdr.append(', 'KSR.hdr.append_to_reply(')}\nKSR.sl.sl_send_reply(200, "OK");`,
  };
}

/** Lua and JS statements, run in this order. */
function seq(...parts: ({ lua: string; js: string } | [string, string])[]): { lua: string; js: string } {
  const all = parts.map((p) => (Array.isArray(p) ? { lua: p[0], js: p[1] } : p));
  return { lua: all.map((p) => p.lua).join('\n'), js: all.map((p) => p.js).join('\n') };
}

const LOOSE: [string, string] = ['local r = KSR.rr.loose_route()', 'const r = KSR.rr.loose_route();'];
const FORWARD: [string, string] = ['KSR.forward()', 'KSR.forward();'];
const RELAY: [string, string] = ['KSR.tm.t_relay()', 'KSR.tm.t_relay();'];
const RECORD: [string, string] = ['KSR.rr.record_route()', 'KSR.rr.record_route();'];

const cases: BindingCase[] = [
  {
    name: 'record_route on a stateless forward: one header naming our UDP socket, above our Via; the reply brings it back unchanged',
    ...seq(RECORD, FORWARD),
    request: INVITE,
    next: { transport: 'udp' },
    expect: {
      status: 200,
      headers: { 'Record-Route': '<sip:127.0.0.1:{udp};lr;ftag=ft1>' },
      forwarded: {
        headers: { 'Record-Route': '<sip:127.0.0.1:{udp};lr;ftag=ft1>' },
        check: (req) => { assert.equal(req.headers[0]?.name, 'record-route', 'Record-Route first, then our Via (as Kamailio)'); },
      },
    },
  },
  {
    name: 'the Record-Route goes among hdr.insert lines in the order they were asked for, before our Via',
    ...seq(['KSR.hdr.insert("X-Before: 1\\r\\n")', 'KSR.hdr.insert("X-Before: 1\\r\\n");'], RECORD, ['KSR.hdr.insert("X-After: 1\\r\\n")', 'KSR.hdr.insert("X-After: 1\\r\\n");'], RELAY),
    request: INVITE,
    next: { transport: 'udp' },
    expect: {
      status: 200,
      forwarded: { check: (req) => { assert.deepEqual(req.headers.slice(0, 4).map((h) => h.name), ['x-before', 'record-route', 'x-after', 'via']); } },
    },
  },
  {
    name: 'record_route on t_relay over UDP',
    ...seq(RECORD, RELAY),
    request: INVITE,
    next: { transport: 'udp' },
    expect: { status: 200, headers: { 'Record-Route': '<sip:127.0.0.1:{udp};lr;ftag=ft1>' }, forwarded: { headers: { 'Record-Route': '<sip:127.0.0.1:{udp};lr;ftag=ft1>' } } },
  },
  {
    name: 'TCP in, t_relay out over UDP: two Record-Routes, the UDP socket on top, both r2=on; the reply over TCP carries both',
    ...seq(RECORD, RELAY),
    request: INVITE,
    transport: 'tcp',
    next: { transport: 'udp' },
    expect: {
      status: 200,
      check: (r) => { assert.equal(r.getHeaders('record-route').length, 2); },
      forwarded: { headers: { 'Record-Route': '<sip:127.0.0.1:{udp};r2=on;lr;ftag=ft1>\n<sip:127.0.0.1:{tcp};transport=tcp;r2=on;lr;ftag=ft1>' } },
    },
  },
  {
    name: 'UDP in, stateless forward over TCP: the TCP socket on top with transport=tcp',
    ...seq(RECORD, ['KSR.forward_uri("sip:127.0.0.1:" .. KSR.pv.get("$rp") .. ";transport=tcp")', 'KSR.forward_uri("sip:127.0.0.1:" + KSR.pv.get("$rp") + ";transport=tcp");']),
    request: INVITE,
    next: { transport: 'tcp' },
    expect: {
      status: 200,
      forwarded: { headers: { 'Record-Route': '<sip:127.0.0.1:{tcp};transport=tcp;r2=on;lr;ftag=ft1>\n<sip:127.0.0.1:{udp};r2=on;lr;ftag=ft1>' } },
    },
  },
  {
    name: 'add_rr_param before and after record_route_params; a second record_route is -1',
    ...seq(['local a = KSR.rr.add_rr_param(";a=1")\nlocal b = KSR.rr.record_route_params(";p=2")\nlocal c = KSR.rr.add_rr_param(";c=3")\nlocal d = KSR.rr.record_route()',
      'const a = KSR.rr.add_rr_param(";a=1");\nconst b = KSR.rr.record_route_params(";p=2");\nconst c = KSR.rr.add_rr_param(";c=3");\nconst d = KSR.rr.record_route();'],
    rc('a', 'b', 'c', 'd'), RELAY),
    request: SUBSCRIBE,
    next: { transport: 'udp', answer: 0 },
    expect: { noReply: true, forwarded: { headers: { 'Record-Route': '<sip:127.0.0.1:{udp};lr;ftag=ft1;p=2;a=1;c=3>', 'X-Rc': '1,1,1,-1' } } },
  },
  {
    name: 'record_route in the request route, add_rr_param in the branch route (t_is_branch_route there only)',
    lua: `KSR.rr.record_route()
      KSR.hdr.append("X-Req: " .. KSR.tmx.t_is_branch_route() .. "\\r\\n")
      KSR.tm.t_on_branch("BRANCH")
      KSR.tm.t_relay()
    end
    function BRANCH()
      if KSR.tmx.t_is_branch_route() > 0 then KSR.rr.add_rr_param(";nat=yes") end`,
    js: `KSR.rr.record_route();
      KSR.hdr.append("X-Req: " + KSR.tmx.t_is_branch_route() + "\\r\\n");
      KSR.tm.t_on_branch("BRANCH");
      KSR.tm.t_relay();
    }
    function BRANCH() {
      if (KSR.tmx.t_is_branch_route() > 0) KSR.rr.add_rr_param(";nat=yes");`,
    request: INVITE,
    next: { transport: 'udp' },
    expect: { status: 200, forwarded: { headers: { 'Record-Route': '<sip:127.0.0.1:{udp};lr;ftag=ft1;nat=yes>', 'X-Req': '-1' } } },
  },
  {
    name: 'record_route_preset and record_route_advertised_address are written as given',
    ...seq(['local a = KSR.rr.record_route_preset("proxy.example:5070", "")\nlocal b = KSR.rr.record_route_advertised_address("x.example")',
      'const a = KSR.rr.record_route_preset("proxy.example:5070", "");\nconst b = KSR.rr.record_route_advertised_address("x.example");'],
    rc('a', 'b'), RELAY),
    request: SUBSCRIBE,
    next: { transport: 'udp', answer: 0 },
    expect: { noReply: true, forwarded: { headers: { 'Record-Route': '<sip:proxy.example:5070;ftag=ft1;lr>', 'X-Rc': '1,-1' } } },
  },
  {
    name: 'remove_record_route takes the Record-Route back: none is sent',
    ...seq(RECORD, ['KSR.rr.remove_record_route()', 'KSR.rr.remove_record_route();'], FORWARD),
    request: INVITE,
    next: { transport: 'udp' },
    expect: { status: 200, forwarded: { headers: { 'Record-Route': null } } },
  },
  {
    name: 'loose_route on an in-dialog BYE: our Route removed, relayed to the R-URI; check_route_param, is_direction downstream',
    ...seq(LOOSE, rc('r', 'KSR.rr.check_route_param("nat=yes")', 'KSR.rr.is_direction("downstream")', 'KSR.rr.is_direction("upstream")', 'KSR.rr.next_hop_route()'), RELAY),
    request: BYE('<sip:127.0.0.1:{udp};lr;ftag=ft1;nat=yes>'),
    next: { transport: 'udp' },
    expect: { status: 200, forwarded: { ruri: 'sip:bob@127.0.0.1:{next}', headers: { Route: null, 'X-Rc': '1,1,1,-1,-1' } } },
  },
  {
    name: 'loose_route: the next Route is the next hop ($du), kept in the request; is_direction upstream',
    ...seq(LOOSE, rc('r', 'KSR.pv.get("$du")', 'KSR.rr.is_direction("upstream")', 'KSR.rr.next_hop_route()', 'KSR.pv.get("$route_uri")'), FORWARD),
    request: BYE('<sip:127.0.0.1:{udp};lr;ftag=other>, <sip:127.0.0.1:{next};lr>', NOWHERE),
    next: { transport: 'udp' },
    expect: {
      status: 200,
      forwarded: { ruri: NOWHERE, headers: { Route: '<sip:127.0.0.1:{next};lr>', 'X-Rc': '1,sip:127.0.0.1:{next};lr,1,1,sip:127.0.0.1:{udp};lr;ftag=other' } },
    },
  },
  {
    name: 'after a strict router (our URI in the R-URI): the last Route goes back into the R-URI, the first is the next hop',
    ...seq(LOOSE, rc('r', 'KSR.rr.check_route_param("ftag=ft1")'), FORWARD),
    request: BYE(`<sip:127.0.0.1:{next};lr>, <${NOWHERE}>`, 'sip:127.0.0.1:{udp};lr;ftag=ft1'),
    next: { transport: 'udp' },
    expect: { status: 200, forwarded: { ruri: NOWHERE, headers: { Route: '<sip:127.0.0.1:{next};lr>', 'X-Rc': '1,1' } } },
  },
  {
    name: 'a strict router next: it goes into the R-URI and the R-URI to the end of the Route set',
    ...seq(LOOSE, rc('r'), FORWARD),
    request: BYE(`${OURS}, <sip:127.0.0.1:{next}>, <sip:far.example;lr>`, NOWHERE),
    next: { transport: 'udp' },
    expect: { status: 200, forwarded: { ruri: 'sip:127.0.0.1:{next}', headers: { Route: `<sip:far.example;lr>\n<${NOWHERE}>`, 'X-Rc': '1' } } },
  },
  {
    name: 'our double Route (r2=on) in a dialog: both consumed',
    ...seq(LOOSE, rc('r'), RELAY),
    request: BYE('<sip:127.0.0.1:{tcp};transport=tcp;r2=on;lr;ftag=ft1>, <sip:127.0.0.1:{udp};r2=on;lr;ftag=ft1>'),
    next: { transport: 'udp' },
    expect: { status: 200, forwarded: { headers: { Route: null, 'X-Rc': '1' } } },
  },
  {
    name: 'pre-loaded Route of ours alone in an INVITE: -3, removed; loose_route_preloaded would say 1',
    ...seq(LOOSE, rc('r'), FORWARD),
    request: { ...INVITE, headers: ['Route: <sip:127.0.0.1:{udp};lr>'] },
    next: { transport: 'udp' },
    expect: { status: 200, forwarded: { ruri: 'sip:bob@127.0.0.1:{next}', headers: { Route: null, 'X-Rc': '-3' } } },
  },
  {
    name: 'loose_route_preloaded: 1 for that INVITE',
    ...rcReply('KSR.rr.loose_route_preloaded()'),
    request: { ...INVITE, headers: ['Route: <sip:127.0.0.1:{udp};lr>'] },
    expect: { status: 200, headers: { 'X-Rc': '1' } },
  },
  {
    name: 'a pre-loaded foreign Route: 1, it is the next hop',
    ...seq(LOOSE, rc('r'), FORWARD),
    request: { ...INVITE, ruri: NOWHERE, headers: ['Route: <sip:127.0.0.1:{next};lr>'] },
    next: { transport: 'udp' },
    expect: { status: 200, forwarded: { ruri: NOWHERE, headers: { Route: '<sip:127.0.0.1:{next};lr>', 'X-Rc': '1' } } },
  },
  {
    name: 'no Route: loose_route -1, next_hop_route -1, $route_uri null, check_route_param -1',
    ...rcReply('KSR.rr.loose_route()', 'KSR.rr.next_hop_route()', 'KSR.pv.get("$route_uri")', 'KSR.rr.check_route_param(".")'),
    request: { method: 'BYE', toTag: 'tt1' },
    // Lua writes nil; JS's join writes null as ''
    expect: { status: 200, check: (r) => { assert.match(r.getHeader('X-Rc') ?? '', /^-1,-1,(nil|),-1$/); } },
  },
  {
    name: 'is_direction with another word: -6; loose_route_preloaded in a dialog: -1',
    ...rcReply('KSR.rr.is_direction("sideways")', 'KSR.rr.loose_route_preloaded()'),
    request: BYE(OURS),
    expect: { status: 200, headers: { 'X-Rc': '-6,-1' } },
  },
  {
    name: 'is_direction without append_fromtag: -6',
    ...rcReply('KSR.rr.is_direction("downstream")'),
    request: BYE(OURS),
    config: { modules: { rr: { append_fromtag: 0 } } },
    expect: { status: 200, headers: { 'X-Rc': '-6' } },
  },
  {
    name: 'enable_full_lr and append_fromtag 0',
    ...seq(RECORD, FORWARD),
    request: INVITE,
    config: { modules: { rr: { enable_full_lr: 1, append_fromtag: 0 } } },
    next: { transport: 'udp' },
    expect: { status: 200, forwarded: { headers: { 'Record-Route': '<sip:127.0.0.1:{udp};lr=on>' } } },
  },
];

runBindingCases('KSR.rr', cases);
