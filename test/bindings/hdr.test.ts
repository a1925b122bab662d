/**
 * KSR.hdr getters and replacers on both engines: a real UAC's request, values sent back in the
 * reply's X-Rc header, and what a real next hop receives after rmappend / rminsert.
 */
import { runBindingCases, type BindingCase } from '../helpers/binding-cases.js';

const GETS = [
  'get_idx("X-Two", 0)', 'get_idx("X-Two", 1)', 'get_idx("X-Two", -1)', 'get_idx("X-Two", -3)', 'get_idx("X-Two", 2)',
  'gete("X-None")', 'getw("X-None")', 'gete_idx("X-Two", 5)', 'getw_idx("X-Two", -5)', 'gete("X-Two")', 'getw("x-two")',
];
const show = (lua: boolean) => GETS.map((g) => (lua ? `tostring(KSR.hdr.${g})` : `String(KSR.hdr.${g})`)).join(lua ? ' .. "|" .. ' : ' + "|" + ');

const cases: BindingCase[] = [
  {
    name: 'get_idx (negative from the last), gete ("" when missing), getw ("<null>" when missing) and their _idx forms',
    lua: `KSR.hdr.append_to_reply("X-Rc: " .. ${show(true)} .. "\\r\\n")\nKSR.sl.sl_send_reply(200, "OK")`,
    js: `KSR.hdr.append_to_reply("X-Rc: " + ${show(false)} + "\\r\\n");\nKSR.sl.sl_send_reply(200, "OK");`,
    request: { method: 'OPTIONS', headers: ['X-Two: first', 'X-Two: second'] },
    expect: { status: 200, headers: { 'X-Rc': /^first\|second\|second\|(nil|null)\|(nil|null)\|\|<null>\|\|<null>\|first\|first$/ } },
  },
  {
    name: 'rmappend and rminsert replace a header in the request sent on (1 even when none was there); bad text → -1',
    lua: `local a = KSR.hdr.rmappend("X-Old", "X-New: b\\r\\n")
      local b = KSR.hdr.rminsert("X-Gone", "X-First: 1")
      local c = KSR.hdr.rmappend("X-Keep", "no colon")
      KSR.hdr.append("X-Rc: " .. a .. "," .. b .. "," .. c .. "\\r\\n")
      KSR.forward()`,
    js: `const a = KSR.hdr.rmappend("X-Old", "X-New: b\\r\\n");
      const b = KSR.hdr.rminsert("X-Gone", "X-First: 1");
      const c = KSR.hdr.rmappend("X-Keep", "no colon");
      KSR.hdr.append("X-Rc: " + a + "," + b + "," + c + "\\r\\n");
      KSR.forward();`,
    request: { method: 'OPTIONS', ruri: 'sip:bob@127.0.0.1:{next}', headers: ['X-Old: a', 'X-Old: a2', 'X-Keep: k'] },
    next: { answer: 200 },
    expect: {
      status: 200,
      forwarded: {
        headers: { 'X-Old': null, 'X-New': 'b', 'X-First': '1', 'X-Keep': 'k', 'X-Rc': '1,1,-1' },
        check: (req) => {
          if (req.headers[0]?.name !== 'x-first') throw new Error(`X-First is not the first header: ${String(req.headers[0]?.name)}`);
        },
      },
    },
  },
];

runBindingCases('KSR.hdr getters and replacers', cases);
