/**
 * The messages a stateful proxy writes itself: a branch of a relayed request (RFC 3261 §16.6),
 * the ACK for a negative final reply (§17.1.1.3), the CANCEL of a branch (§9.1) and a reply
 * relayed upstream (§16.7 step 9: our Via removed).
 */
import type { HeaderEdits, SocketAddress, Source } from '../types.js';
import { hostPort } from '../listen.js';
import type { SipMessage } from '../message.js';
import { rebuildMessage } from '../rebuild.js';
import { recordRouteFor } from '../record-route.js';
import { stampVia } from '../reply.js';
import type { SipSocket } from '../socket.js';

/** What a branch sends: decided when t_relay runs (after the branch route). */
export interface BranchPlan {
  readonly ruri: string;
  readonly edits: HeaderEdits | null;
  readonly forceRport: boolean;
  /** the socket of ours to prefer (rr's double routing), null: any */
  readonly sendSocket: SocketAddress | null;
  /** SEND_NO_CONNECT / SEND_CLOSE for this branch (set_forward_no_connect & co.) */
  readonly sendFlags: number;
}

/**
 * Our Record-Route (naming the socket this branch leaves on) and Via with this branch on top,
 * the received Via stamped (received/rport), edits applied.
 */
export function buildBranchRequest(req: SipMessage, src: Source, plan: BranchPlan, sock: SipSocket, branch: string): Buffer {
  // only the top Via is read: the ones below go on as received
  const top = req.topVia;
  const stamped = stampVia(req.getHeaderElements('via')[0] ?? top.raw, top, src, plan.forceRport);
  const via = `Via: SIP/2.0/${sock.proto.toUpperCase()} ${hostPort(sock.localIp, sock.localPort)};branch=${branch}\r\n`;
  const recordRoute = recordRouteFor(plan.edits, src, sock);
  return rebuildMessage(req, { startLine: `${req.method} ${plan.ruri} SIP/2.0`, recordRoute, prepend: via, topVia: stamped, edits: plan.edits });
}

/** The lines a request generated from a sent one carries unchanged: Via (ours only), Route, From, Call-ID. */
function copiedLines(sent: SipMessage): string {
  let head = `Via: ${sent.getHeaderElements('via')[0] ?? ''}\r\n`;
  for (const r of sent.getHeaders('route')) head += `Route: ${r}\r\n`;
  head += `From: ${sent.getHeader('from') ?? ''}\r\n`;
  head += `Call-ID: ${sent.callId}\r\n`;
  return head;
}

/** §17.1.1.3: the ACK a client INVITE transaction sends for a 300-699 reply, hop by hop. */
export function buildAck(sent: SipMessage, reply: SipMessage): Buffer {
  let head = `ACK ${sent.ruri} SIP/2.0\r\n${copiedLines(sent)}`;
  head += `To: ${reply.getHeader('to') ?? ''}\r\n`;
  head += `CSeq: ${String(sent.cseq.seq)} ACK\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n`;
  return Buffer.from(head, 'utf8');
}

/** §9.1: the CANCEL of a sent INVITE: same R-URI, Via, Route, From, To, Call-ID, CSeq number. */
export function buildCancel(sent: SipMessage): Buffer {
  let head = `CANCEL ${sent.ruri} SIP/2.0\r\n${copiedLines(sent)}`;
  head += `To: ${sent.getHeader('to') ?? ''}\r\n`;
  head += `CSeq: ${String(sent.cseq.seq)} CANCEL\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n`;
  return Buffer.from(head, 'utf8');
}

/** A reply from downstream as it goes upstream: our Via removed, the scripts' edits applied. */
export function buildRelayedReply(reply: SipMessage, edits: HeaderEdits | null): Buffer {
  return rebuildMessage(reply, { startLine: `SIP/2.0 ${String(reply.status)} ${reply.reason}`, prepend: '', topVia: '', edits });
}
