import { runBindingCases, type BindingCase } from '../helpers/binding-cases.js';

/** Reply 200 with one header per value the route computed, so the UAC can see them. */
const luaShow = (pairs: string): string =>
  `${pairs.split(';').map((p) => { const [h, e] = p.split('='); return `KSR.hdr.append_to_reply("${h ?? ''}: " .. tostring(${e ?? ''}) .. "\\r\\n")`; }).join('\n')}\nKSR.sl.sl_send_reply(200, "OK")`;
const jsShow = (pairs: string): string =>
  `${pairs.split(';').map((p) => { const [h, e] = p.split('='); return `KSR.hdr.append_to_reply("${h ?? ''}: " + String(${e ?? ''}) + "\\r\\n");`; }).join('\n')}\nKSR.sl.sl_send_reply(200, "OK");`;

const cases: BindingCase[] = [
  {
    name: 'method tests: is_OPTIONS, is_INVITE, is_method_in, is_method',
    lua: luaShow('X-O=KSR.is_OPTIONS();X-I=KSR.is_INVITE();X-In=KSR.is_method_in("IO");X-Not=KSR.is_method_in("IABC");X-M=KSR.is_method("options")'),
    js: jsShow('X-O=KSR.is_OPTIONS();X-I=KSR.is_INVITE();X-In=KSR.is_method_in("IO");X-Not=KSR.is_method_in("IABC");X-M=KSR.is_method("options")'),
    expect: { status: 200, headers: { 'X-O': 'true', 'X-I': 'false', 'X-In': 'true', 'X-Not': 'false', 'X-M': 'true' } },
  },
  {
    name: 'is_method_in knows every Kamailio letter (SUBSCRIBE is S)',
    lua: luaShow('X-S=KSR.is_method_in("S");X-N=KSR.is_method_in("N")'),
    js: jsShow('X-S=KSR.is_method_in("S");X-N=KSR.is_method_in("N")'),
    request: { method: 'SUBSCRIBE', headers: ['Event: presence'] },
    expect: { status: 200, headers: { 'X-S': 'true', 'X-N': 'false' } },
  },
  {
    name: 'message flags and branch flags: set, test, reset, range checked',
    lua: `KSR.setflag(3); KSR.setbflag(31)
      local a = KSR.isflagset(3); KSR.resetflag(3)
      ${luaShow('X-A=a;X-B=KSR.isflagset(3);X-C=KSR.isbflagset(31);X-Bad=KSR.setflag(32)')}`,
    js: `KSR.setflag(3); KSR.setbflag(31);
      const a = KSR.isflagset(3); KSR.resetflag(3);
      ${jsShow('X-A=a;X-B=KSR.isflagset(3);X-C=KSR.isbflagset(31);X-Bad=KSR.setflag(32)')}`,
    expect: { status: 200, headers: { 'X-A': 'true', 'X-B': 'false', 'X-C': 'true', 'X-Bad': 'false' } },
  },
  {
    name: 'is_myself: our socket address is myself, another host is not',
    lua: luaShow('X-R=KSR.is_myself_ruri();X-F=KSR.is_myself_furi();X-Src=KSR.is_myself_srcip();X-U=KSR.is_myself("sip:x@example.org")'),
    js: jsShow('X-R=KSR.is_myself_ruri();X-F=KSR.is_myself_furi();X-Src=KSR.is_myself_srcip();X-U=KSR.is_myself("sip:x@example.org")'),
    request: { ruri: 'sip:service@127.0.0.1:{udp}' },
    expect: { status: 200, headers: { 'X-R': 'true', 'X-F': 'false', 'X-Src': 'true', 'X-U': 'false' } },
  },
  {
    name: 'is_myself matches a configured alias',
    lua: luaShow('X-R=KSR.is_myself_ruri()'),
    js: jsShow('X-R=KSR.is_myself_ruri()'),
    config: { aliases: ['sip.example.net'] },
    request: { ruri: 'sip:bob@sip.example.net' },
    expect: { status: 200, headers: { 'X-R': 'true' } },
  },
  {
    name: 'setdsturi / isdsturiset / resetdsturi and $du',
    lua: `KSR.setdsturi("sip:127.0.0.1:5099")
      local d = KSR.pv.get("$du"); local s = KSR.isdsturiset(); KSR.resetdsturi()
      ${luaShow('X-D=d;X-S=s;X-After=KSR.isdsturiset();X-Bad=KSR.setdsturi("not a uri")')}`,
    js: `KSR.setdsturi("sip:127.0.0.1:5099");
      const d = KSR.pv.get("$du"); const s = KSR.isdsturiset(); KSR.resetdsturi();
      ${jsShow('X-D=d;X-S=s;X-After=KSR.isdsturiset();X-Bad=KSR.setdsturi("not a uri")')}`,
    expect: { status: 200, headers: { 'X-D': 'sip:127.0.0.1:5099', 'X-S': 'true', 'X-After': 'false', 'X-Bad': 'false' } },
  },
  {
    name: 'logging functions return nothing and do not disturb the route',
    lua: `KSR.info("info\\n"); KSR.dbg("dbg"); KSR.warn("w"); KSR.err("e"); KSR.notice("n"); KSR.crit("c"); KSR.log("bogus", "x")
      local r = KSR.info("x")
      ${luaShow('X-Ret=r')}`,
    js: `KSR.info("info\\n"); KSR.dbg("dbg"); KSR.warn("w"); KSR.err("e"); KSR.notice("n"); KSR.crit("c"); KSR.log("bogus", "x");
      const r = KSR.info("x") === undefined ? "nil" : "a value";
      ${jsShow('X-Ret=r')}`,
    expect: { status: 200, headers: { 'X-Ret': 'nil' } },
  },
  {
    name: 'KSR.drop() marks the request dropped but the script goes on',
    lua: 'KSR.drop()\nKSR.sl.sl_send_reply(200, "still running")',
    js: 'KSR.drop();\nKSR.sl.sl_send_reply(200, "still running");',
    expect: { status: 200, reason: 'still running' },
  },
];

runBindingCases('KSR core', cases);
