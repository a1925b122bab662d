/**
 * async under Kamailio 5.6 and kemihost: a request held by KSR.async.ms_route and answered by
 * the named route with what the request route kept in $avp (the same on both; $var is not:
 * Kamailio's belongs to the worker process, kemihost's to the message), and
 * KSR.async.ms_sleep, which Kamailio does not export to KEMI (the script fails there and nothing
 * is answered) while kemihost waits in place — or, in a plain JS function, returns -1 at once —
 * and the script goes on to its reply (docs/waiting.md).
 */
import assert from 'node:assert/strict';
import { compatSuite } from './harness/suite.js';
import { STANDARD_MASKS, type View } from './harness/view.js';

const LUA = `
function ksr_request_route()
  if KSR.is_ACK() then return end
  if KSR.pv.get("$rU") == "sleep" then
    KSR.async.ms_sleep(30)
    KSR.sl.send_reply(200, "After Sleep")
    return
  end
  KSR.pv.sets("$var(kept)", KSR.pv.get("$rU"))
  KSR.pv.sets("$avp(kept)", KSR.pv.get("$rU"))
  KSR.tm.t_newtran()
  KSR.async.ms_route("RESUME", 30)
  KSR.x.exit()
end
function RESUME()
  KSR.hdr.append_to_reply("X-Kept: " .. KSR.pv.get("$var(kept)") .. "\\r\\n")
  KSR.hdr.append_to_reply("X-Avp: " .. KSR.pv.get("$avp(kept)") .. "\\r\\n")
  KSR.tm.t_reply(200, "Resumed")
end
`;

const JS = `
function ksr_request_route() {
  if (KSR.is_ACK()) return;
  if (KSR.pv.get("$rU") === "sleep") {
    KSR.async.ms_sleep(30);
    KSR.sl.send_reply(200, "After Sleep");
    return;
  }
  KSR.pv.sets("$var(kept)", KSR.pv.get("$rU"));
  KSR.pv.sets("$avp(kept)", KSR.pv.get("$rU"));
  KSR.tm.t_newtran();
  KSR.async.ms_route("RESUME", 30);
  KSR.x.exit();
}
function RESUME() {
  KSR.hdr.append_to_reply("X-Kept: " + KSR.pv.get("$var(kept)") + "\\r\\n");
  KSR.hdr.append_to_reply("X-Avp: " + KSR.pv.get("$avp(kept)") + "\\r\\n");
  KSR.tm.t_reply(200, "Resumed");
}
`;

const REPLY: View = { headers: ['x-kept', 'x-avp'], masks: STANDARD_MASKS };

compatSuite({
  title: 'async: named routes, and waiting in place',
  peers: ['uac'],
  modules: { tm: {}, tmx: {}, sl: {}, pv: {}, async: { ms_timer: 10 } },
  script: () => ({ lua: LUA, js: JS }),
  cases: [
    {
      name: 'ms_route: the named route answers with the $avp the request route kept; $var differs',
      async flow({ peers: { uac } }) {
        uac.request({ method: 'MESSAGE', ruri: 'sip:alice@127.0.0.1' });
        await uac.waitFor((m) => !m.isRequest && m.status >= 200, 'the resumed reply');
      },
      compare: { uac: REPLY },
      differs: { doc: 'async: `$var` in the resumed route', replace: [['x-kept: 0', 'x-kept: alice']] },
    },
    {
      name: 'ms_sleep in a KEMI script',
      flow({ peers: { uac } }) {
        uac.request({ method: 'OPTIONS', ruri: 'sip:sleep@127.0.0.1' });
      },
      compare: { uac: REPLY },
      differs: {
        doc: 'async: `KSR.async.sleep` / `ms_sleep`',
        expect: (kamailio) => {
          assert.deepEqual(kamailio, { uac: [] }, 'Kamailio has no KSR.async.ms_sleep: the script fails, nothing is answered');
          return { uac: [['200 After Sleep']] };
        },
      },
    },
  ],
});
