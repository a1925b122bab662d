/**
 * uac_req_send against Kamailio 5.6: the request route describes a MESSAGE in $uac_req and
 * sends it to the UAS peer; the event callback (uac's event_callback, "uac:reply") reports
 * $uac_req(evcode) / evtype and $rs in an INFO of its own. Compared: every request the UAS
 * received (method, R-URI, From / To with generated tags masked, Call-ID, CSeq, Max-Forwards,
 * the script's headers, the body), and the script's return code in the reply to the UAC. The
 * 401 case answers the challenge without qop, so the digest is the same from both servers; its
 * parameter order differs (docs/uac.md), so Authorization is compared by presence only.
 */
import type { SipMessage } from '../../host/sip/message.js';
import { isReply, type Peer } from './harness/peer.js';
import { compatSuite } from './harness/suite.js';
import { STANDARD_MASKS, type View } from './harness/view.js';

const lua = (p: Readonly<Record<string, number>>): string => `
function ksr_request_route()
  local u = KSR.pv.get("$rU")
  KSR.pv.unset("$uac_req(all)")
  KSR.pv.sets("$uac_req(method)", "MESSAGE")
  KSR.pv.sets("$uac_req(ruri)", "sip:" .. u .. "@127.0.0.1:${String(p.uas)}")
  KSR.pv.sets("$uac_req(furi)", "sip:alice@example.com")
  KSR.pv.sets("$uac_req(turi)", "sip:bob@example.net")
  KSR.pv.sets("$uac_req(callid)", "peer-cid-" .. u)
  KSR.pv.sets("$uac_req(hdrs)", "X-A: 1\\r\\nContent-Type: text/plain\\r\\n")
  KSR.pv.sets("$uac_req(body)", "hello")
  KSR.pv.seti("$uac_req(evroute)", 1)
  if u == "auth" then
    KSR.pv.sets("$uac_req(auser)", "alice")
    KSR.pv.sets("$uac_req(apasswd)", "s3cret")
  end
  local rc = KSR.uac.uac_req_send()
  KSR.hdr.append_to_reply("X-Rc: " .. rc .. "\\r\\n")
  KSR.sl.sl_send_reply(200, "OK")
end
function ksr_uac_event(evname)
  local ev = evname .. "," .. KSR.pv.get("$uac_req(evcode)") .. "," .. KSR.pv.get("$uac_req(evtype)") .. "," .. KSR.pv.get("$rs")
  KSR.pv.sets("$uac_req(method)", "INFO")
  KSR.pv.sets("$uac_req(hdrs)", "X-Ev: " .. ev .. "\\r\\n")
  KSR.pv.sets("$uac_req(callid)", "peer-cid-info-" .. KSR.pv.get("$uac_req(evcode)"))
  KSR.pv.unset("$uac_req(body)")
  KSR.pv.unset("$uac_req(apasswd)")
  KSR.pv.seti("$uac_req(evroute)", 0)
  KSR.uac.uac_req_send()
end
`;

const js = (p: Readonly<Record<string, number>>): string => `
function ksr_request_route() {
  var u = KSR.pv.get("$rU");
  KSR.pv.unset("$uac_req(all)");
  KSR.pv.sets("$uac_req(method)", "MESSAGE");
  KSR.pv.sets("$uac_req(ruri)", "sip:" + u + "@127.0.0.1:${String(p.uas)}");
  KSR.pv.sets("$uac_req(furi)", "sip:alice@example.com");
  KSR.pv.sets("$uac_req(turi)", "sip:bob@example.net");
  KSR.pv.sets("$uac_req(callid)", "peer-cid-" + u);
  KSR.pv.sets("$uac_req(hdrs)", "X-A: 1\\r\\nContent-Type: text/plain\\r\\n");
  KSR.pv.sets("$uac_req(body)", "hello");
  KSR.pv.seti("$uac_req(evroute)", 1);
  if (u == "auth") {
    KSR.pv.sets("$uac_req(auser)", "alice");
    KSR.pv.sets("$uac_req(apasswd)", "s3cret");
  }
  var rc = KSR.uac.uac_req_send();
  KSR.hdr.append_to_reply("X-Rc: " + rc + "\\r\\n");
  KSR.sl.sl_send_reply(200, "OK");
}
function ksr_uac_event(evname) {
  var ev = evname + "," + KSR.pv.get("$uac_req(evcode)") + "," + KSR.pv.get("$uac_req(evtype)") + "," + KSR.pv.get("$rs");
  KSR.pv.sets("$uac_req(method)", "INFO");
  KSR.pv.sets("$uac_req(hdrs)", "X-Ev: " + ev + "\\r\\n");
  KSR.pv.sets("$uac_req(callid)", "peer-cid-info-" + KSR.pv.get("$uac_req(evcode)"));
  KSR.pv.unset("$uac_req(body)");
  KSR.pv.unset("$uac_req(apasswd)");
  KSR.pv.seti("$uac_req(evroute)", 0);
  KSR.uac.uac_req_send();
}
`;

/** Authorization's value by presence: its parameter order is the client's choice. */
const AUTH_PRESENT = (l: string): string => l.replace(/^(authorization: ).*$/i, '$1<present>');

const AT_UAS: View = {
  headers: ['from', 'to', 'call-id', 'cseq', 'max-forwards', 'x-a', 'content-type', 'x-ev', 'authorization'],
  body: true,
  masks: [...STANDARD_MASKS, AUTH_PRESENT],
};
const AT_UAC: View = { headers: ['x-rc'], masks: STANDARD_MASKS };

/** Answer every request the UAS gets (a MESSAGE without credentials 401 when `challenge`) until `count` came. */
async function answer(uas: Peer, count: number, challenge: boolean): Promise<void> {
  for (let i = 0; i < count; i++) {
    const m: SipMessage = await uas.waitFor((x) => x.isRequest, `request ${String(i + 1)}`);
    if (challenge && m.method === 'MESSAGE' && m.getHeader('authorization') === undefined) {
      uas.reply(m, 401, 'Unauthorized', { headers: ['WWW-Authenticate: Digest realm="far.example", nonce="n0nce-42"'] });
    } else {
      uas.reply(m, 200, 'OK');
    }
  }
}

compatSuite({
  title: 'uac: uac_req_send with $uac_req and the event callback',
  peers: ['uac', 'uas'],
  modules: { tm: {}, sl: {}, uac: { restore_mode: 'none', event_callback: 'ksr_uac_event' } },
  script: (p) => ({ lua: lua(p), js: js(p) }),
  cases: [
    {
      name: 'a MESSAGE as described, answered 200: the callback sees 200',
      async flow({ peers: { uac, uas } }) {
        uac.request({ method: 'OPTIONS', ruri: 'sip:plain@127.0.0.1' });
        await uac.waitFor(isReply(200), '200');
        await answer(uas, 2, false);
      },
      compare: { uas: AT_UAS, uac: AT_UAC },
    },
    {
      name: 'answered 401 once: the callback for the 401, the retry with credentials and CSeq + 1, the callback for the 200',
      async flow({ peers: { uac, uas } }) {
        uac.request({ method: 'OPTIONS', ruri: 'sip:auth@127.0.0.1' });
        await uac.waitFor(isReply(200), '200');
        await answer(uas, 4, true);
      },
      compare: { uas: AT_UAS, uac: AT_UAC },
    },
  ],
});
