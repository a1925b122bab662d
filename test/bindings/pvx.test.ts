/**
 * KSR.pvx and $xavp/$xavu/$xavi on both engines: the cases of test/helpers/pvx-steps.ts, each
 * a route that runs its KSR calls and sends every result back in the reply's X-Pv header,
 * checked against the results Kamailio 5.6.3's source gives.
 */
import { runBindingCases, type BindingCase } from '../helpers/binding-cases.js';
import { expected, jsCase, JS_SER, luaCase, LUA_SER, PVX_CASES, stepsFor } from '../helpers/pvx-steps.js';

const cases: BindingCase[] = PVX_CASES.map((c) => {
  const steps = stepsFor(c, false);
  return {
    name: c.name,
    full: true,
    lua: `${LUA_SER}\n${luaCase('steps', steps)}\nfunction ksr_request_route()\n  KSR.hdr.append_to_reply("X-Pv: " .. steps() .. "\\r\\n")\n  KSR.sl.sl_send_reply(200, "OK")\nend\n`,
    js: `${JS_SER}\n${jsCase('steps', steps)}\nfunction ksr_request_route() {\n  KSR.hdr.append_to_reply("X-Pv: " + steps() + "\\r\\n");\n  KSR.sl.sl_send_reply(200, "OK");\n}\n`,
    ...(c.repeat === undefined ? {} : { repeat: c.repeat }),
    expect: { status: 200, headers: { 'X-Pv': expected(steps) } },
  };
});

cases.push({
  name: 'a string where an int is wanted is a script error: the route ends, the request gets 500',
  lua: 'KSR.pvx.xavp_seti("a", "x")\nKSR.sl.sl_send_reply(200, "OK")',
  js: 'KSR.pvx.xavp_seti("a", "x");\nKSR.sl.sl_send_reply(200, "OK");',
  expect: { status: 500, stats: { 'script:errors': 1 } },
});

const SET = ['KSR.pvx.xavp_child_sets("d", "u", "one")', 'KSR.pvx.xavu_sets("u", "two")', 'KSR.pvx.xavi_sets("I", "three")', 'KSR.tm.t_on_failure("FAIL")', 'KSR.tm.t_relay()'];
const READ = 'KSR.pvx.xavp_child_get("d", "u"), KSR.pvx.xavu_get("u"), KSR.pv.get("$xavi(i)")';
cases.push({
  name: 'the failure route of the transaction sees the XAVPs, XAVUs and XAVIs the request route left',
  full: true,
  lua: `function ksr_request_route()\n${SET.join('\n')}\nend\nfunction FAIL()\nKSR.tm.t_reply(500, table.concat({ ${READ} }, "-"))\nend\n`,
  js: `function ksr_request_route() {\n${SET.join(';\n')};\n}\nfunction FAIL() {\nKSR.tm.t_reply(500, [${READ}].join("-"));\n}\n`,
  request: { method: 'MESSAGE', ruri: 'sip:bob@127.0.0.1:{next}' },
  next: { transport: 'udp', answer: 486 },
  expect: { status: 500, reason: 'one-two-three' },
});

runBindingCases('KSR.pvx and $xavp/$xavu/$xavi', cases);
