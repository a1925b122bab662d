/**
 * The SDP that sdpops (and textops' is_audio_on_hold) work on: the body as it will be sent, so
 * successive calls build on each other, as Kamailio's do (two removals from one m= line give
 * the line without both: test/compat/textops.test.ts). A body without
 * Content-Type is SDP (RFC 3261 §20.15); a multipart body is read through its application/sdp
 * part, and edited only when it is SDP as a whole.
 */
import type { Context } from '../host/kemi/context.js';
import { parseSdp, printSdp, type SdpBody } from '../host/sdp/sdp-lines.js';
import { pendingBody, replaceBody } from '../host/textops/edit.js';
import { mediaType, multipartParts } from './textops-body.js';

export interface SdpView {
  readonly sdp: SdpBody;
  /** false for the SDP part of a multipart body */
  readonly editable: boolean;
}

/** The SDP of the current message, or null when it has none. */
export function sdpOf(ctx: Context): SdpView | null {
  const msg = ctx.msg;
  if (msg === null) return null;
  const type = mediaType(msg.getHeader('content-type'));
  if (type === 'application/sdp') {
    const sdp = parseSdp(pendingBody(ctx).toString('latin1'));
    return sdp === null ? null : { sdp, editable: true };
  }
  if (type.startsWith('multipart/')) {
    const part = multipartParts(ctx)?.parts.find((p) => p.ctype === 'application/sdp');
    const sdp = part === undefined ? null : parseSdp(part.content);
    return sdp === null ? null : { sdp, editable: false };
  }
  return null;
}

/** Send this SDP instead of the body. */
export function writeSdp(ctx: Context, sdp: SdpBody): void {
  replaceBody(ctx, Buffer.from(printSdp(sdp), 'latin1'));
}
