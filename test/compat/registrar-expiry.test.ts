/**
 * Expiry against Kamailio 5.6: a binding registered for 1 s is gone for lookup once it passed
 * (404), and a REGISTER after that lists the new binding only. min_expires 0 lets 1 s through.
 */
import { isReply } from './harness/peer.js';
import { compatSuite } from './harness/suite.js';
import { STANDARD_MASKS, type View } from './harness/view.js';

const lua = `
function ksr_request_route()
  if KSR.is_REGISTER() then
    KSR.registrar.save("location", 0)
    return
  end
  local rc = KSR.registrar.lookup("location")
  KSR.hdr.append_to_reply("X-Rc: " .. rc .. "\\r\\n")
  if rc > 0 then KSR.hdr.append_to_reply("X-Ru: " .. KSR.pv.get("$ru") .. "\\r\\n") end
  KSR.sl.send_reply(rc > 0 and 200 or 404, rc > 0 and "Found" or "Not Found")
end
`;

const js = `
function ksr_request_route() {
  if (KSR.is_REGISTER()) {
    KSR.registrar.save("location", 0);
    return;
  }
  var rc = KSR.registrar.lookup("location");
  KSR.hdr.append_to_reply("X-Rc: " + rc + "\\r\\n");
  if (rc > 0) KSR.hdr.append_to_reply("X-Ru: " + KSR.pv.get("$ru") + "\\r\\n");
  KSR.sl.send_reply(rc > 0 ? 200 : 404, rc > 0 ? "Found" : "Not Found");
}
`;

const VIEW: View = { headers: ['contact', 'x-rc', 'x-ru'], masks: STANDARD_MASKS };

compatSuite({
  title: 'registrar and usrloc: a binding expires',
  peers: ['uac'],
  modules: { sl: {}, usrloc: { preload: 'location', timer_interval: 1 }, registrar: { min_expires: 0 } },
  script: () => ({ lua, js }),
  cases: [
    {
      name: 'Expires: 1, then lookup once it passed is 404; a new REGISTER lists only the new binding',
      async flow({ peers: { uac } }) {
        const reg = (contact: string, cseq: number, expires: number) => ({
          method: 'REGISTER', ruri: 'sip:example.com', to: '<sip:e1@example.com>', cseq,
          headers: [`Contact: <${contact}>`, `Expires: ${String(expires)}`],
        });
        // the 200 lists the binding with expires=1: it was saved (a lookup now would race the clock)
        uac.request(reg('sip:old@127.0.0.1:5999', 1, 1));
        await uac.waitFor(isReply(200, 'REGISTER'), '200');
        // expiry is the passing of time: nothing to wait for but the clock
        await new Promise((r) => setTimeout(r, 2100));
        uac.request({ method: 'OPTIONS', ruri: 'sip:e1@example.com' });
        await uac.waitFor(isReply(404, 'OPTIONS'), 'gone once expired');
        uac.request(reg('sip:new@127.0.0.1:5998', 2, 60));
        await uac.waitFor(isReply(200, 'REGISTER'), '200 with the new binding');
      },
      compare: { uac: VIEW },
    },
  ],
});
