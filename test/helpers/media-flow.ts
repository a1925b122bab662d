/**
 * A call with SDP through a kemihost relay between two raw UDP peers, for the media relay
 * tests: the caller's INVITE with an offer, the callee's replies with an answer, the ACK and
 * the BYE, and what the SDPs the peers received say (connection address, media ports).
 */
import assert from 'node:assert/strict';
import type { SipMessage } from '../../host/sip/message.js';
import type { RequestSpec, UdpPeer } from './sip-client.js';

export const CALLER_SDP = 'v=0\r\no=alice 2890844526 2890844526 IN IP4 192.0.2.10\r\ns=-\r\nc=IN IP4 192.0.2.10\r\nt=0 0\r\nm=audio 49170 RTP/AVP 0 8\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:8 PCMA/8000\r\n';
export const CALLEE_SDP = 'v=0\r\no=bob 2808844564 2808844564 IN IP4 192.0.2.20\r\ns=-\r\nc=IN IP4 192.0.2.20\r\nt=0 0\r\nm=audio 3456 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n';

export const SDP_TYPE = 'Content-Type: application/sdp';

/** The media description of an SDP: c= address (session or media level) and the m= lines. */
export interface MediaView {
  readonly address: string;
  readonly ports: number[];
  /** the m= lines with their ports replaced by <port>, what a compat view compares */
  readonly mLines: string[];
  readonly origin: string;
}

export function mediaOf(body: string | Buffer): MediaView {
  const text = body.toString();
  const c = /^c=IN IP[46] (\S+)\r?$/m.exec(text);
  const o = /^o=\S+ \S+ \S+ IN IP[46] (\S+)\r?$/m.exec(text);
  const ms = [...text.matchAll(/^m=(\S+) (\d+) (.*?)\r?$/gm)];
  return {
    address: c?.[1] ?? '',
    origin: o?.[1] ?? '',
    ports: ms.map((m) => Number(m[2])),
    mLines: ms.map((m) => `m=${m[1] ?? ''} <port> ${m[3] ?? ''}`),
  };
}

export interface Dialog {
  readonly callId: string;
  readonly fromTag: string;
  toTag: string;
}

export function invite(d: Dialog, sdp: string | null, extra: string[] = []): RequestSpec {
  return {
    method: 'INVITE', ruri: 'sip:bob@example.com', callId: d.callId, fromTag: d.fromTag, cseq: 1, rport: true,
    headers: sdp === null ? extra : [SDP_TYPE, ...extra], ...(sdp === null ? {} : { body: sdp }),
  };
}

export function inDialog(d: Dialog, method: string, cseq: number, sdp: string | null = null, extra: string[] = []): RequestSpec {
  return {
    method, ruri: 'sip:bob@example.com', callId: d.callId, fromTag: d.fromTag, cseq, ...(d.toTag === '' ? {} : { toTag: d.toTag }),
    cseqMethod: method === 'ACK' ? 'ACK' : method, rport: true,
    headers: sdp === null ? extra : [SDP_TYPE, ...extra], ...(sdp === null ? {} : { body: sdp }),
  };
}

/** A reply to `req` from `peer` to the server at `port`, with an SDP body when given. */
export function reply(peer: UdpPeer, port: number, req: SipMessage, code: number, reason: string, sdp: string | null = null, toTag = 'callee-tag'): void {
  const lines = [`SIP/2.0 ${String(code)} ${reason}`];
  for (const v of req.getHeaders('via')) lines.push(`Via: ${v}`);
  lines.push(`From: ${req.getHeader('from') ?? ''}`);
  const to = req.getHeader('to') ?? '';
  lines.push(code > 100 && req.to.tag === '' ? `To: ${to};tag=${toTag}` : `To: ${to}`);
  lines.push(`Call-ID: ${req.callId}`, `CSeq: ${req.getHeader('cseq') ?? ''}`, 'Contact: <sip:bob@127.0.0.1>');
  if (sdp !== null) lines.push(SDP_TYPE);
  lines.push(`Content-Length: ${String(Buffer.byteLength(sdp ?? ''))}`, '', sdp ?? '');
  peer.send(lines.join('\r\n'), port);
}

/** The next message at `peer` that passes `pred` (provisional replies and retransmissions are skipped). */
export async function nextOf(peer: UdpPeer, pred: (m: SipMessage) => boolean, what: string, timeoutMs = 3000): Promise<SipMessage> {
  const end = performance.now() + timeoutMs;
  for (;;) {
    const left = end - performance.now();
    const m = left > 0 ? await peer.next(left) : null;
    assert.ok(m !== null, `${what}: not received`);
    if (pred(m)) return m;
  }
}

export const isRequest = (method: string) => (m: SipMessage): boolean => m.isRequest && m.method === method;
export const isReply = (status: number, method = 'INVITE') => (m: SipMessage): boolean => !m.isRequest && m.status === status && m.cseq.method === method;
