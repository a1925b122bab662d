/**
 * KSR.pvx and $xavp/$xavu/$xavi asked of Kamailio: the cases of test/helpers/pvx-steps.ts (the
 * steps Kamailio can answer), one OPTIONS per case routed by R-URI user, each case's results
 * sent back in the reply's X-Pv header and compared between Kamailio and kemihost.
 */
import { isReply } from './harness/peer.js';
import { compatSuite, type CompatCase } from './harness/suite.js';
import { STANDARD_MASKS, type View } from './harness/view.js';
import { jsCase, JS_SER, luaCase, LUA_SER, PVX_CASES, stepsFor } from '../helpers/pvx-steps.js';

const CASES = PVX_CASES.filter((c) => c.compat !== false);

const lua = `${LUA_SER}
${CASES.map((c, i) => luaCase(`case${String(i)}`, stepsFor(c, true))).join('\n')}
local CASES = { ${CASES.map((_c, i) => `c${String(i)} = case${String(i)}`).join(', ')} }

function ksr_request_route()
  local f = CASES[KSR.pv.get("$rU")]
  if f == nil then
    KSR.sl.sl_send_reply(404, "No Case")
    return
  end
  KSR.hdr.append_to_reply("X-Pv: " .. f() .. "\\r\\n")
  KSR.sl.sl_send_reply(200, "OK")
end
`;

const js = `${JS_SER}
${CASES.map((c, i) => jsCase(`case${String(i)}`, stepsFor(c, true))).join('\n')}
var CASES = { ${CASES.map((_c, i) => `c${String(i)}: case${String(i)}`).join(', ')} };

function ksr_request_route() {
  var f = CASES[KSR.pv.get("$rU")];
  if (f === undefined) {
    KSR.sl.sl_send_reply(404, "No Case");
    return;
  }
  KSR.hdr.append_to_reply("X-Pv: " + f() + "\\r\\n");
  KSR.sl.sl_send_reply(200, "OK");
}
`;

const ANSWER: View = { headers: ['x-pv'], masks: STANDARD_MASKS };

const cases: CompatCase<'uac'>[] = CASES.map((c, i) => ({
  name: c.name,
  async flow({ peers: { uac } }) {
    uac.request({ method: 'OPTIONS', ruri: `sip:c${String(i)}@127.0.0.1` });
    await uac.waitFor(isReply(200), '200');
  },
  compare: { uac: ANSWER },
}));

compatSuite({
  title: 'pvx: XAVPs, AVPs, $var, evalx, the static branch',
  peers: ['uac'],
  modules: { sl: {}, pvx: {} },
  script: () => ({ lua, js }),
  cases,
});
