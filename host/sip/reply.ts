/**
 * Replies built by this server (RFC 3261 §8.2.6): Via, From, Call-ID and CSeq copied, a To-tag
 * added, `received`/`rport` stamped on the top Via (§18.2.1, RFC 3581), and where to send them
 * (§18.2.2).
 */
import type { Source } from './types.js';
import type { RawRequestHead, SipMessage } from './message.js';
import type { Via } from './via.js';

/** The top Via element as this hop must record it: received=<source IP>, rport=<source port>. */
export function stampVia(element: string, via: Via, src: Source, forceRport: boolean): string {
  let out = element;
  const fillRport = via.rport === '' || (via.rport === null && forceRport);
  if (via.rport === '') out = out.replace(/;\s*rport(?=\s*(;|$))/i, `;rport=${String(src.port)}`);
  else if (via.rport === null && forceRport) out += `;rport=${String(src.port)}`;
  if (via.received === '' && (fillRport || via.host.replace(/^\[|\]$/g, '') !== src.ip)) out += `;received=${src.ip}`;
  return out;
}

export interface ReplySpec {
  readonly code: number;
  readonly reason: string;
  readonly toTag: string;
  readonly extraHeaders: readonly string[];
  readonly server: string | null;
  readonly forceRport: boolean;
  readonly body?: string;
  readonly contentType?: string;
}

export function buildReply(msg: SipMessage, src: Source, spec: ReplySpec): Buffer {
  const vias = msg.getHeaderElements('via');
  let head = `SIP/2.0 ${String(spec.code)} ${spec.reason}\r\n`;
  for (let i = 0; i < vias.length; i++) {
    const v = vias[i] as string;
    head += `Via: ${i === 0 ? stampVia(v, msg.topVia, src, spec.forceRport) : v}\r\n`;
  }
  head += `From: ${msg.getHeader('from') ?? ''}\r\n`;
  const to = msg.getHeader('to') ?? '';
  head += spec.code > 100 && msg.to.tag === '' ? `To: ${to};tag=${spec.toTag}\r\n` : `To: ${to}\r\n`;
  head += `Call-ID: ${msg.callId}\r\nCSeq: ${msg.getHeader('cseq') ?? ''}\r\n`;
  for (const line of spec.extraHeaders) head += line;
  if (spec.server !== null) head += `Server: ${spec.server}\r\n`;
  const body = spec.body ?? '';
  if (body !== '' && spec.contentType !== undefined) head += `Content-Type: ${spec.contentType}\r\n`;
  head += `Content-Length: ${String(Buffer.byteLength(body))}\r\n\r\n`;
  return Buffer.from(head + body, 'utf8');
}

/**
 * A 400 (or 513) to a request whose start line was readable but whose Via, From, To, Call-ID or
 * CSeq was not (over a stream, where the reply goes back on the connection): the values are
 * copied as received, since nothing better is known; a To-tag is added when To has none.
 */
export function buildRawReply(head: RawRequestHead, code: number, reason: string, toTag: string, server: string | null): Buffer {
  let out = `SIP/2.0 ${String(code)} ${reason}\r\n`;
  for (const v of head.vias) out += `Via: ${v}\r\n`;
  if (head.from !== '') out += `From: ${head.from}\r\n`;
  if (head.to !== '') out += /;\s*tag\s*=/i.test(head.to) ? `To: ${head.to}\r\n` : `To: ${head.to};tag=${toTag}\r\n`;
  if (head.callId !== '') out += `Call-ID: ${head.callId}\r\n`;
  if (head.cseq !== '') out += `CSeq: ${head.cseq}\r\n`;
  if (server !== null) out += `Server: ${server}\r\n`;
  out += 'Content-Length: 0\r\n\r\n';
  return Buffer.from(out, 'utf8');
}

export interface Target {
  readonly ip: string;
  readonly port: number;
}

/**
 * Where a reply to a request received over UDP goes (§18.2.2 + RFC 3581): the source port when
 * rport asked for it, else the port in the Via's sent-by; always the source IP (= received).
 */
export function udpReplyTarget(via: Via, src: Source, forceRport: boolean): Target {
  if (via.rport !== null || forceRport) return { ip: src.ip, port: src.port };
  return { ip: src.ip, port: via.port > 0 ? via.port : 5060 };
}
