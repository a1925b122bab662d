/**
 * Where things are in a received message, by byte offset, for the edits textops records
 * (host/sip/lumps.ts): the header lines (a folded header is one line here, as Kamailio's
 * parser makes it one header) and the body. Offsets index msg.raw; strings are byte strings.
 */
import type { SipMessage } from './message.js';
import { canonicalHeaderName } from './header-names.js';

export interface HeaderSpan {
  /** lowercase full name (compact forms expanded) */
  readonly name: string;
  /** the name as written */
  readonly rawName: string;
  /** byte offset where the line starts, where its value starts, where it ends (before CRLF), after its CRLF */
  readonly start: number;
  readonly valueStart: number;
  readonly end: number;
  readonly next: number;
  /** index in msg.headers (the `#i` a removal names) */
  readonly index: number;
}

const spans = new WeakMap<SipMessage, HeaderSpan[]>();

/** The message head (start line and headers) as a byte string. */
export function headText(msg: SipMessage): string {
  return msg.raw.toString('latin1', 0, msg.headerBytes);
}

/** The body as a byte string. */
export function bodyText(msg: SipMessage): string {
  return msg.body.toString('latin1');
}

/** Byte offset where the header section starts (after the start line's CRLF). */
export function headersStart(msg: SipMessage): number {
  const head = headText(msg);
  const nl = head.indexOf('\n');
  return nl < 0 ? head.length : nl + 1;
}

export function headerSpans(msg: SipMessage): HeaderSpan[] {
  const hit = spans.get(msg);
  if (hit !== undefined) return hit;
  const head = headText(msg);
  const out: HeaderSpan[] = [];
  let at = headersStart(msg);
  while (at < head.length) {
    // a line and its continuation lines (starting with SP or HTAB) are one header
    let end = head.indexOf('\n', at);
    if (end < 0) break;
    while (end + 1 < head.length && (head[end + 1] === ' ' || head[end + 1] === '\t')) {
      const more = head.indexOf('\n', end + 1);
      if (more < 0) break;
      end = more;
    }
    const lineEnd = end > at && head[end - 1] === '\r' ? end - 1 : end;
    if (lineEnd === at) break; // the blank line that ends the header section
    const colon = head.indexOf(':', at);
    if (colon > at && colon < lineEnd) {
      const rawName = head.slice(at, colon).trim();
      let v = colon + 1;
      while (v < lineEnd && (head[v] === ' ' || head[v] === '\t')) v++;
      out.push({ name: canonicalHeaderName(rawName), rawName, start: at, valueStart: v, end: lineEnd, next: end + 1, index: out.length });
    }
    at = end + 1;
  }
  spans.set(msg, out);
  return out;
}
