/**
 * The SDP of a SIP message, where a media relay finds it (Kamailio's extract_body in the
 * rtpengine and rtpproxy modules): the whole body when Content-Type is application/sdp or
 * absent, the application/sdp part of a multipart/mixed body; any other type has none. With it
 * comes how to put a rewritten SDP back — the whole body replaced, or only that part's content
 * inside the multipart (the other parts and the boundaries stay as they were).
 */
import type { SipMessage } from './message.js';

export interface SdpBody {
  readonly sdp: Buffer;
  /** the message body with `sdp` in place of the one found */
  replace(sdp: Buffer): Buffer;
}

/** the media type of a Content-Type value, lowercase, without parameters */
function mediaType(ct: string): string {
  const semi = ct.indexOf(';');
  return (semi < 0 ? ct : ct.slice(0, semi)).trim().toLowerCase();
}

/** the boundary parameter of a multipart Content-Type, or null */
function boundaryOf(ct: string): string | null {
  const m = /;\s*boundary\s*=\s*(?:"([^"]+)"|([^;\s]+))/i.exec(ct);
  return m === null ? null : (m[1] ?? m[2] ?? null);
}

/**
 * The SDP of `msg`, or why there is none: 'no body', 'not SDP' (another type), 'no SDP part'
 * (a multipart without one), 'bad multipart'.
 */
export function sdpBody(msg: SipMessage): SdpBody | string {
  const body = msg.body;
  if (body.length === 0) return 'no body';
  const ct = msg.getHeader('content-type');
  if (ct === undefined || mediaType(ct) === 'application/sdp') return { sdp: body, replace: (sdp: Buffer) => sdp };
  if (mediaType(ct) !== 'multipart/mixed') return 'not SDP';
  const boundary = boundaryOf(ct);
  if (boundary === null) return 'bad multipart';
  return sdpPart(body, boundary);
}

function sdpPart(body: Buffer, boundary: string): SdpBody | string {
  const delim = Buffer.from(`--${boundary}`, 'latin1');
  let at = body.indexOf(delim);
  if (at < 0) return 'bad multipart';
  for (;;) {
    const lineEnd = body.indexOf('\r\n', at + delim.length);
    if (lineEnd < 0) return 'no SDP part';
    // "--boundary--" closes the body
    if (body[at + delim.length] === 0x2d && body[at + delim.length + 1] === 0x2d) return 'no SDP part';
    const partStart = lineEnd + 2;
    const next = body.indexOf(Buffer.concat([Buffer.from('\r\n'), delim]), partStart);
    if (next < 0) return 'bad multipart';
    const headEnd = body.indexOf('\r\n\r\n', partStart);
    const headersEnd = partStart === body.indexOf('\r\n', partStart) ? partStart : headEnd;
    if (headersEnd < 0 || headersEnd > next) return 'bad multipart';
    const head = body.toString('latin1', partStart, headersEnd);
    const contentStart = headersEnd === partStart ? partStart + 2 : headersEnd + 4;
    const ct = /^content-type\s*:\s*(.*)$/im.exec(head)?.[1];
    if (ct !== undefined && mediaType(ct) === 'application/sdp') {
      const before = body.subarray(0, contentStart);
      const after = body.subarray(next);
      return {
        sdp: body.subarray(contentStart, next),
        replace: (sdp: Buffer) => Buffer.concat([before, sdp, after]),
      };
    }
    at = next + 2;
  }
}
