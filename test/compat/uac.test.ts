/**
 * uac against Kamailio 5.6 (restore_mode "manual", rr with append_fromtag as Kamailio requires):
 * uac_replace_from / uac_replace_to on a MESSAGE relayed with t_relay. Compared: the From / To
 * the callee receives, and the From / To the caller gets back in the relayed reply (restored
 * when the URI was replaced, with the callee's To-tag). The script routes by R-URI user.
 */
import { isReply, isRequest } from './harness/peer.js';
import { compatSuite } from './harness/suite.js';
import { STANDARD_MASKS, VIA_PARAM_ORDER, type View } from './harness/view.js';

const lua = (p: Readonly<Record<string, number>>): string => `
function ksr_request_route()
  local u = KSR.pv.get("$rU")
  if u == "from" then
    KSR.uac.uac_replace_from("", "sip:hidden@example.net")
  elseif u == "to" then
    KSR.uac.uac_replace_to("\\"Robin\\"", "sip:robin@gotham.org")
  elseif u == "display" then
    KSR.uac.uac_replace_from("\\"Batman\\"", "")
  elseif u == "fromuri" then
    KSR.uac.uac_replace_from_uri("sip:other@example.net")
  end
  KSR.pv.sets("$du", "sip:127.0.0.1:${String(p.uas)}")
  if KSR.tm.t_relay() < 0 then KSR.sl.sl_reply_error() end
end
`;

const js = (p: Readonly<Record<string, number>>): string => `
function ksr_request_route() {
  var u = KSR.pv.get("$rU");
  if (u == "from") {
    KSR.uac.uac_replace_from("", "sip:hidden@example.net");
  } else if (u == "to") {
    KSR.uac.uac_replace_to("\\"Robin\\"", "sip:robin@gotham.org");
  } else if (u == "display") {
    KSR.uac.uac_replace_from("\\"Batman\\"", "");
  } else if (u == "fromuri") {
    KSR.uac.uac_replace_from_uri("sip:other@example.net");
  }
  KSR.pv.sets("$du", "sip:127.0.0.1:${String(p.uas)}");
  if (KSR.tm.t_relay() < 0) KSR.sl.sl_reply_error();
}
`;

/** What the callee received: From and To (the replaced ones), and the Via chain. */
const AT_UAS: View = { headers: ['via', 'from', 'to', 'call-id', 'cseq'], masks: [...STANDARD_MASKS, VIA_PARAM_ORDER] };
/** What the caller got back: the status and From / To as relayed. */
const AT_UAC: View = { headers: ['via', 'from', 'to', 'call-id', 'cseq'], masks: [...STANDARD_MASKS, VIA_PARAM_ORDER] };

const message = (user: string, code: number, reason: string) => ({
  name: `${user}: MESSAGE answered ${String(code)}`,
  async flow({ peers: { uac, uas } }: { peers: Readonly<Record<string, import('./harness/peer.js').Peer>> }) {
    if (uac === undefined || uas === undefined) throw new Error('peers');
    uac.request({ method: 'MESSAGE', ruri: `sip:${user}@127.0.0.1`, body: 'hi', headers: ['Content-Type: text/plain'] });
    uas.reply(await uas.waitFor(isRequest('MESSAGE'), 'MESSAGE'), code, reason);
    await uac.waitFor(isReply(code), String(code));
  },
  compare: { uas: AT_UAS, uac: AT_UAC },
});

compatSuite({
  title: 'uac: From / To replaced for the callee, restored for the caller',
  peers: ['uac', 'uas'],
  modules: { tm: {}, sl: {}, rr: { append_fromtag: 1 }, uac: { restore_mode: 'manual' } },
  script: (p) => ({ lua: lua(p), js: js(p) }),
  cases: [
    message('from', 200, 'OK'),
    message('to', 404, 'Not Found'),
    message('display', 200, 'OK'),
    message('fromuri', 486, 'Busy Here'),
    message('none', 200, 'OK'),
  ],
});
