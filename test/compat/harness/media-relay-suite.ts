/**
 * One compat suite for both media relay modules (test/compat/rtpengine.test.ts,
 * rtpproxy.test.ts): Kamailio and kemihost talk to the same real rtpengine (its NG port, or its
 * rtpproxy-compatible listener), the script calls the module's manage function in the request
 * and reply routes and puts its return code in a header, and two calls run: an offer in the
 * INVITE (answer in the 200, delete for the BYE), and a late offer (SDP in the 200 and the ACK).
 * Compared: what the callee and the caller receive — the return codes, Content-Type/-Length and
 * the whole SDP with the relay's media ports masked (each run gets ports of its own).
 */
import { after, test } from 'node:test';
import type { SipMessage } from '../../../host/sip/message.js';
import { CALLEE_SDP, CALLER_SDP, SDP_TYPE } from '../../helpers/media-flow.js';
import { startRtpengine, type RtpengineProcess } from '../../helpers/rtpengine.js';
import type { ModuleSpec } from './kamailio-cfg.js';
import { isReply, isRequest, type Peer } from './peer.js';
import { compatSuite, type FlowRun } from './suite.js';
import { mask, STANDARD_MASKS, type View } from './view.js';

export interface MediaRelaySuite {
  /** the suite's title, and the test's name when rtpengine is missing */
  readonly title: string;
  readonly skipTitle: string;
  /** rtpengine with its rtpproxy-compatible listener too (rtpproxy) */
  readonly legacy: boolean;
  /** the header the manage call's return code goes into */
  readonly header: string;
  /** the manage call, in both languages' syntax (the same text) */
  readonly call: string;
  readonly modules: (rtpe: RtpengineProcess) => ModuleSpec;
  /** the two cases' names: the offer in the INVITE, the late offer */
  readonly names: readonly [string, string];
}

type P = 'uac' | 'uas';

const lua = (s: MediaRelaySuite, p: Readonly<Record<string, number>>): string => `
function manage()
  KSR.hdr.append("${s.header}: " .. ${s.call} .. "\\r\\n")
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
const js = (s: MediaRelaySuite, p: Readonly<Record<string, number>>): string => `
function manage() {
  KSR.hdr.append("${s.header}: " + ${s.call} + "\\r\\n");
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

/** The caller's ACK for a 2xx (a new transaction in the dialog, RFC 3261 §13.2.2.4), with an SDP when given. */
function ack2xx(uac: Peer, ok: SipMessage, sdp: string | null): void {
  uac.request({ method: 'ACK', cseqMethod: 'ACK', toTag: ok.to.tag, ...(sdp === null ? {} : { body: sdp, headers: [SDP_TYPE] }) });
}

async function hangUp({ peers: { uac, uas } }: FlowRun<P>, ok: SipMessage): Promise<void> {
  uac.request({ method: 'BYE', cseq: 2, toTag: ok.to.tag });
  uas.reply(await uas.waitFor(isRequest('BYE'), 'BYE'), 200, 'OK');
  await uac.waitFor(isReply(200, 'BYE'), '200 to the BYE');
}

/** A call: the INVITE with the caller's SDP or none (a late offer), the 200 with the callee's, the ACK, the BYE. */
async function call(run: FlowRun<P>, lateOffer: boolean): Promise<void> {
  const { uac, uas } = run.peers;
  uac.request({ method: 'INVITE', ruri: 'sip:bob@127.0.0.1', ...(lateOffer ? {} : { body: CALLER_SDP, headers: [SDP_TYPE] }) });
  const inv = await uas.waitFor(isRequest('INVITE'), 'INVITE');
  uas.reply(inv, 200, 'OK', { body: CALLEE_SDP, headers: [SDP_TYPE] });
  const ok = await uac.waitFor(isReply(200, 'INVITE'), '200');
  ack2xx(uac, ok, lateOffer ? CALLER_SDP : null);
  await uas.waitFor(isRequest('ACK'), 'ACK');
  await hangUp(run, ok);
}

export async function mediaRelaySuite(s: MediaRelaySuite): Promise<void> {
  const rtpe = await startRtpengine(null, s.legacy ? { legacy: true } : {});
  after(() => rtpe?.stop());
  if (rtpe === null) {
    test(s.skipTitle, { skip: 'rtpengine not installed' }, () => undefined);
    return;
  }
  const view: View = {
    headers: [s.header.toLowerCase(), 'content-type', 'content-length'],
    body: true,
    masks: [...STANDARD_MASKS, ...MEDIA_PORTS],
    only: (m) => m.isRequest || m.status >= 200,
  };
  compatSuite<P>({
    title: s.title,
    peers: ['uac', 'uas'],
    modules: s.modules(rtpe),
    script: (p) => ({ lua: lua(s, p), js: js(s, p) }),
    cases: [
      { name: s.names[0], flow: (run) => call(run, false), compare: { uas: view, uac: view } },
      { name: s.names[1], flow: (run) => call(run, true), compare: { uas: view, uac: view } },
    ],
  });
}
