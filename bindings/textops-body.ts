/**
 * textops' body functions (Kamailio src/modules/textops/textops.c): tests read the message as
 * received; set_body and filter_body replace the body sent on (with its Content-Type), and
 * set_reply_body the body of the reply this server generates.
 */
import type { Context } from '../host/kemi/context.js';
import { pendingBody, replaceBody, setContentType } from '../host/textops/edit.js';
import { bytes } from '../host/textops/patterns.js';
import type { TextopsState } from './textops-edit.js';

/** "type/subtype", lowercase, parameters left out; a missing Content-Type means application/sdp (RFC 3261). */
export function mediaType(value: string | undefined): string {
  if (value === undefined) return 'application/sdp';
  return (value.split(';')[0] ?? '').trim().toLowerCase();
}

/** has_body(): Content-Length present and not zero; has_body_type(t): and Content-Type is t. */
export function hasBody(ctx: Context, ctype: string): number {
  const msg = ctx.msg;
  if (msg === null || msg.getHeader('content-length') === undefined || msg.contentLength === 0) return -1;
  if (ctype === '') return 1;
  return mediaType(msg.getHeader('content-type')) === ctype.trim().toLowerCase() ? 1 : -1;
}

function validType(ctype: string): boolean {
  return /^[!#$%&'*+.^_`|~0-9A-Za-z-]+\/[!#$%&'*+.^_`|~0-9A-Za-z-]+(\s*;.*)?$/.test(ctype.trim()) && !/[\r\n]/.test(ctype);
}

/** set_body(txt, ctype): the body and Content-Type sent on. */
export function setBody(s: TextopsState, ctx: Context, body: string, ctype: string): number {
  if (ctx.msg === null) return -1;
  if (body === '' || !validType(ctype)) {
    s.host.complain('set_body needs a body and a Content-Type', { ctype });
    return -1;
  }
  replaceBody(ctx, Buffer.from(bytes(body), 'latin1'));
  setContentType(ctx, ctype.trim());
  return 1;
}

/** set_reply_body(txt, ctype): the body of the reply this server sends (sl, tm) for the request. */
export function setReplyBody(s: TextopsState, ctx: Context, body: string, ctype: string): number {
  if (ctx.msg?.isRequest !== true) return -1;
  if (body === '' || !validType(ctype)) {
    s.host.complain('set_reply_body needs a body and a Content-Type', { ctype });
    return -1;
  }
  ctx.replyBody = { body, contentType: ctype.trim() };
  return 1;
}

/** The parts of a multipart body: each with its headers (lowercase names) and content. */
export function multipartParts(ctx: Context): { parts: { ctype: string; content: string }[]; boundary: string } | null {
  const msg = ctx.msg;
  if (msg === null) return null;
  const ct = msg.getHeader('content-type') ?? '';
  if (!mediaType(ct).startsWith('multipart/')) return null;
  const b = /;\s*boundary\s*=\s*("([^"]+)"|[^;\s]+)/i.exec(ct);
  const boundary = b === null ? '' : (b[2] ?? b[1] ?? '');
  if (boundary === '') return null;
  const body = pendingBody(ctx).toString('latin1');
  const chunks = body.split(`--${boundary}`).slice(1);
  const parts: { ctype: string; content: string }[] = [];
  for (const c of chunks) {
    if (c.startsWith('--')) break; // the closing delimiter
    const chunk = c.replace(/^\r?\n/, '');
    const sep = chunk.search(/\r?\n\r?\n/);
    const headers = sep < 0 ? chunk : chunk.slice(0, sep);
    const content = sep < 0 ? '' : chunk.slice(sep).replace(/^\r?\n\r?\n/, '').replace(/\r?\n$/, '');
    const ctLine = /^content-type\s*:\s*(.*)$/im.exec(headers);
    parts.push({ ctype: mediaType(ctLine?.[1] ?? 'text/plain'), content });
  }
  return { parts, boundary };
}

/** filter_body(ctype): a multipart body reduced to its first part of that type (the Content-Type stays: the script changes it). */
export function filterBody(ctx: Context, ctype: string): number {
  const mp = multipartParts(ctx);
  if (mp === null) return -1;
  const want = ctype.trim().toLowerCase();
  const part = mp.parts.find((p) => p.ctype === want);
  if (part === undefined) return -1;
  replaceBody(ctx, Buffer.from(`${part.content}\r\n`, 'latin1'));
  return 1;
}
