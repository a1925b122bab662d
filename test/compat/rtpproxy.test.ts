/**
 * KSR.rtpproxy against Kamailio's rtpproxy module, both talking to the same real relay —
 * rtpengine's rtpproxy-compatible listener (--listen-udp): a call through rtpproxy_manage("co")
 * in the request and reply routes, as Kamailio's example script calls it (U for the INVITE, L
 * for the 200, D for the BYE), and a late offer. Compared: what the callee and the caller
 * receive — return codes, Content-Type/-Length and the whole SDP with the relay's ports masked.
 */
import { after, test } from 'node:test';
import type { SipMessage } from '../../host/sip/message.js';
import { CALLEE_SDP, CALLER_SDP, SDP_TYPE } from '../helpers/media-flow.js';
import { startRtpengine } from '../helpers/rtpengine.js';
import { isReply, isRequest, type Peer } from './harness/peer.js';
import { compatSuite, type FlowRun } from './harness/suite.js';
import { mask, STANDARD_MASKS, type View } from './harness/view.js';

const rtpe = await startRtpengine(null, { legacy: true });
after(() => rtpe?.stop());

const FLAGS = 'co';

const lua = (p: Readonly<Record<string, number>>): string => `
function manage()
  KSR.hdr.append("X-Rtpp: " .. KSR.rtpproxy.rtpproxy_manage("${FLAGS}") .. "\\r\\n")
end
function ksr_request_route()
  if KSR.is_INVITE() or KSR.is_ACK() or KSR.is_BYE() then manage() end
  if not KSR.is_ACK() then KSR.tm.t_on_reply("ONREPLY") end
  KSR.pv.sets("$du", "sip:127.0.0.1:${String(p.uas)}")
  KSR.tm.t_relay()
end
function ONREPLY()
  manage()
end
`;
const js = (p: Readonly<Record<string, number>>): string => `
function manage() {
  KSR.hdr.append("X-Rtpp: " + KSR.rtpproxy.rtpproxy_manage("${FLAGS}") + "\\r\\n");
}
function ksr_request_route() {
  if (KSR.is_INVITE() || KSR.is_ACK() || KSR.is_BYE()) manage();
  if (!KSR.is_ACK()) KSR.tm.t_on_reply("ONREPLY");
  KSR.pv.sets("$du", "sip:127.0.0.1:${String(p.uas)}");
  KSR.tm.t_relay();
}
function ONREPLY() {
  manage();
}
`;

/** the relay's media ports differ per run: m= and a=rtcp: ports become <port> */
const MEDIA_PORTS = [mask(/m=audio \d+ /g, 'm=audio <port> '), mask(/a=rtcp:\d+/g, 'a=rtcp:<port>')];
const WITH_SDP: View = {
  headers: ['x-rtpp', 'content-type', 'content-length'],
  body: true,
  masks: [...STANDARD_MASKS, ...MEDIA_PORTS],
  only: (m) => m.isRequest || m.status >= 200,
};

type P = 'uac' | 'uas';

/** The caller's ACK for a 2xx (a new transaction in the dialog, RFC 3261 §13.2.2.4), with an SDP when given. */
function ack2xx(uac: Peer, ok: SipMessage, sdp: string | null): void {
  uac.request({ method: 'ACK', cseqMethod: 'ACK', toTag: ok.to.tag, ...(sdp === null ? {} : { body: sdp, headers: [SDP_TYPE] }) });
}

async function hangUp({ peers: { uac, uas } }: FlowRun<P>, ok: SipMessage): Promise<void> {
  uac.request({ method: 'BYE', cseq: 2, toTag: ok.to.tag });
  uas.reply(await uas.waitFor(isRequest('BYE'), 'BYE'), 200, 'OK');
  await uac.waitFor(isReply(200, 'BYE'), '200 to the BYE');
}

if (rtpe === null) {
  test('compat: rtpproxy', { skip: 'rtpengine not installed' }, () => undefined);
} else {
  compatSuite<P>({
    title: 'rtpproxy: rtpproxy_manage against rtpengine\'s rtpproxy listener',
    peers: ['uac', 'uas'],
    modules: { tm: {}, sl: {}, rtpproxy: { rtpproxy_sock: `udp:127.0.0.1:${String(rtpe.udpPort)}`, rtpproxy_retr: 2 } },
    script: (p) => ({ lua: lua(p), js: js(p) }),
    cases: [
      {
        name: 'U for the INVITE\'s offer, L for the 200\'s answer, D for the BYE',
        async flow(run) {
          const { uac, uas } = run.peers;
          uac.request({ method: 'INVITE', ruri: 'sip:bob@127.0.0.1', body: CALLER_SDP, headers: [SDP_TYPE] });
          const inv = await uas.waitFor(isRequest('INVITE'), 'INVITE');
          uas.reply(inv, 200, 'OK', { body: CALLEE_SDP, headers: [SDP_TYPE] });
          const ok = await uac.waitFor(isReply(200, 'INVITE'), '200');
          ack2xx(uac, ok, null);
          await uas.waitFor(isRequest('ACK'), 'ACK');
          await hangUp(run, ok);
        },
        compare: { uas: WITH_SDP, uac: WITH_SDP },
      },
      {
        name: 'a late offer: U for the 200, L for the ACK',
        async flow(run) {
          const { uac, uas } = run.peers;
          uac.request({ method: 'INVITE', ruri: 'sip:bob@127.0.0.1' });
          const inv = await uas.waitFor(isRequest('INVITE'), 'INVITE');
          uas.reply(inv, 200, 'OK', { body: CALLEE_SDP, headers: [SDP_TYPE] });
          const ok = await uac.waitFor(isReply(200, 'INVITE'), '200');
          ack2xx(uac, ok, CALLER_SDP);
          await uas.waitFor(isRequest('ACK'), 'ACK');
          await hangUp(run, ok);
        },
        compare: { uas: WITH_SDP, uac: WITH_SDP },
      },
    ],
  });
}
