/**
 * One pass over a header section: the start line, where each header line's name and value are,
 * and the values of the headers a router reads on every message. Header objects are not built
 * here; SipMessage builds them when first asked (most messages never need them all).
 */
import { isToken, isWs, skipWs, trimWsEnd } from './split.js';
import { isAbsoluteUri, parseUri, type SipUri } from './uri.js';

/** Headers recorded while scanning (RFC 3261 §7.3.3 compact forms included). */
export const K_OTHER = 0;
export const K_VIA = 1;
export const K_FROM = 2;
export const K_TO = 3;
export const K_CALLID = 4;
export const K_CSEQ = 5;
export const K_CLEN = 6;
export const K_CONTACT = 7;
export const K_MAXFWD = 8;
export const K_ROUTE = 9;
export const K_RROUTE = 10;
const NAMES = ['', 'Via', 'From', 'To', 'Call-ID', 'CSeq', 'Content-Length', 'Contact', 'Max-Forwards', 'Route', 'Record-Route'];
/** The ids that may appear once only (RFC 4475 §3.3.8, §3.3.9). */
const SINGLE = (1 << K_FROM) | (1 << K_TO) | (1 << K_CALLID) | (1 << K_CSEQ) | (1 << K_CLEN);

/** What a scan found; SipMessage keeps it. */
export class Scan {
  error: string | null = null;
  status: 400 | 513 = 400;
  startOk = false;
  isRequest = false;
  method = '';
  ruri = '';
  ruriParsed: SipUri | null = null;
  statusCode = 0;
  reason = '';
  text = '';
  encoding: 'utf8' | 'latin1' = 'utf8';
  /** Per header line: name start, name end, value start, value end (in `text`). */
  readonly idx: number[] = [];
  /** Per header line: the value when already built (recorded or folded), else undefined. */
  readonly vals: (string | undefined)[] = [];
  /** Recorded headers in order: id and value. */
  readonly kid: number[] = [];
  readonly kval: string[] = [];
  /** First value of each single-instance header, '' when absent. */
  via = '';
  from = '';
  to = '';
  callId = '';
  cseq = '';
  contentLength = '';
  maxForwards = '';
  seen = 0;
  duplicate = '';

  fail(message: string): void {
    this.error ??= message;
  }

  /** Every value recorded for `id`, in order. */
  all(id: number): string[] {
    const out: string[] = [];
    for (let i = 0; i < this.kid.length; i++) if (this.kid[i] === id) out.push(this.kval[i] ?? '');
    return out;
  }
}

/** Case-insensitive match of text[s, s + lower.length) against a lowercase name. */
function nameIs(text: string, s: number, lower: string): boolean {
  // `| 0x20` folds letters; it also maps CR onto '-', but a CR here has already failed the line.
  for (let i = 0; i < lower.length; i++) if ((text.charCodeAt(s + i) | 0x20) !== lower.charCodeAt(i)) return false;
  return true;
}

/** Which recorded header text[s, e) names, without building a string. */
function knownId(text: string, s: number, e: number): number {
  switch (e - s) {
    case 1:
      switch (text.charCodeAt(s) | 0x20) {
        case 0x76: return K_VIA;
        case 0x66: return K_FROM;
        case 0x74: return K_TO;
        case 0x69: return K_CALLID;
        case 0x6c: return K_CLEN;
        case 0x6d: return K_CONTACT;
      }
      return K_OTHER;
    case 2: return nameIs(text, s, 'to') ? K_TO : K_OTHER;
    case 3: return nameIs(text, s, 'via') ? K_VIA : K_OTHER;
    case 4: return nameIs(text, s, 'from') ? K_FROM : nameIs(text, s, 'cseq') ? K_CSEQ : K_OTHER;
    case 5: return nameIs(text, s, 'route') ? K_ROUTE : K_OTHER;
    case 7: return nameIs(text, s, 'call-id') ? K_CALLID : nameIs(text, s, 'contact') ? K_CONTACT : K_OTHER;
    case 12: return nameIs(text, s, 'max-forwards') ? K_MAXFWD : nameIs(text, s, 'record-route') ? K_RROUTE : K_OTHER;
    case 14: return nameIs(text, s, 'content-length') ? K_CLEN : K_OTHER;
  }
  return K_OTHER;
}

/** Non-negative integer from all-digit text, or -1 when not all digits or above `max`. */
export function parseDigits(s: string, start: number, end: number, max: number): number {
  if (start >= end || end - start > 15) return -1;
  let n = 0;
  for (let i = start; i < end; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x30 || c > 0x39) return -1;
    n = n * 10 + c - 0x30;
  }
  return n > max ? -1 : n;
}

/** `SIP/2.0`, case-insensitively (RFC 3261 §7.1), by character codes: startsWith() is slow on V8. */
function isSipVersion(s: string, start: number, end: number): boolean {
  return (
    end - start === 7 &&
    (s.charCodeAt(start) | 0x20) === 0x73 &&
    (s.charCodeAt(start + 1) | 0x20) === 0x69 &&
    (s.charCodeAt(start + 2) | 0x20) === 0x70 &&
    s.charCodeAt(start + 3) === 0x2f &&
    s.charCodeAt(start + 4) === 0x32 &&
    s.charCodeAt(start + 5) === 0x2e &&
    s.charCodeAt(start + 6) === 0x30
  );
}

function readStartLine(d: Scan, text: string, le: number): void {
  const sp = text.indexOf(' ');
  if (sp <= 0 || sp >= le) return d.fail('malformed start line');
  if (isSipVersion(text, 0, sp)) {
    // Status-Line: SIP-Version SP 3DIGIT SP Reason-Phrase; a missing final SP is tolerated.
    const code = parseDigits(text, sp + 1, sp + 4, 699);
    if (code < 100 || (sp + 4 < le && text.charCodeAt(sp + 4) !== 0x20)) return d.fail('malformed status line');
    d.statusCode = code;
    d.reason = sp + 5 < le ? text.slice(sp + 5, le) : '';
    d.startOk = true;
    return;
  }
  if (!isToken(text, 0, sp)) return d.fail('malformed method');
  // From here the line is a readable request: a 400 can answer what is wrong with the rest.
  d.isRequest = true;
  d.startOk = true;
  d.method = text.slice(0, sp);
  const sp2 = text.lastIndexOf(' ', le - 1);
  d.ruri = text.slice(sp + 1, sp2 > sp ? sp2 : le);
  if (sp2 <= sp + 1) return d.fail('malformed request line');
  if (!isSipVersion(text, sp2 + 1, le)) {
    return d.fail(text.slice(sp2 + 1, sp2 + 5).toUpperCase() === 'SIP/' ? 'unsupported SIP version' : 'malformed request line');
  }
  const u = parseUri(d.ruri);
  if (u === null) {
    if (!isAbsoluteUri(d.ruri)) return d.fail('malformed Request-URI');
    const scheme = d.ruri.slice(0, d.ruri.indexOf(':')).toLowerCase();
    if (scheme === 'sip' || scheme === 'sips' || scheme === 'tel') d.fail('malformed Request-URI');
  } else if (u.headers !== '') {
    // RFC 3261 §19.1.1 table: headers are not allowed in a Request-URI (RFC 4475 §3.1.2.11).
    d.fail('Request-URI with headers');
  }
  d.ruriParsed = u;
}

function record(d: Scan, id: number, value: string): void {
  const bit = 1 << id;
  if ((d.seen & bit) === 0) {
    switch (id) {
      case K_VIA: d.via = value; break;
      case K_FROM: d.from = value; break;
      case K_TO: d.to = value; break;
      case K_CALLID: d.callId = value; break;
      case K_CSEQ: d.cseq = value; break;
      case K_CLEN: d.contentLength = value; break;
      case K_MAXFWD: d.maxForwards = value; break;
    }
  } else if ((bit & SINGLE) !== 0 && d.duplicate === '') {
    d.duplicate = NAMES[id] ?? '';
  }
  d.seen |= bit;
  d.kid.push(id);
  d.kval.push(value);
}

/** Checks that the line [pos, lf] ends in CRLF with no CR before; returns the CR's index. */
function lineEnd(d: Scan, text: string, pos: number, lf: number): number {
  const le = lf - 1;
  if (le < pos || text.charCodeAt(le) !== 0x0d) {
    d.fail('line not ended by CRLF');
    return lf;
  }
  if (text.indexOf('\r', pos) < le) d.fail('CR inside a line');
  return le;
}

/** Reads header lines from `pos`; returns the index just past the blank line, -1 if `text` ends first. */
function readHeaders(d: Scan, text: string, pos: number): number {
  const { idx, vals } = d;
  for (;;) {
    const lf = text.indexOf('\n', pos);
    if (lf < 0) return -1;
    const le = lineEnd(d, text, pos, lf);
    if (le === pos) return lf + 1;
    const colon = text.indexOf(':', pos);
    let next = lf + 1;
    const bad = isWs(text.charCodeAt(pos)) || colon < 0 || colon > le;
    const nameEnd = bad ? pos : trimWsEnd(text, pos, colon);
    const id = bad ? K_OTHER : knownId(text, pos, nameEnd);
    if (bad) d.fail(isWs(text.charCodeAt(pos)) ? 'folded line without a header' : 'header line without a colon');
    else if (id === K_OTHER && !isToken(text, pos, nameEnd)) d.fail('malformed header name');
    const vs = bad ? pos : skipWs(text, colon + 1, le);
    const ve = trimWsEnd(text, vs, le);
    let value: string | undefined;
    // RFC 3261 §7.3.1: a line starting with SP or HTAB continues the value; the fold becomes one SP.
    while (next < text.length && isWs(text.charCodeAt(next))) {
      const lf2 = text.indexOf('\n', next);
      if (lf2 < 0) return -1;
      const le2 = lineEnd(d, text, next, lf2);
      value ??= text.slice(vs, ve);
      const a = skipWs(text, next, le2);
      const b = trimWsEnd(text, a, le2);
      if (b > a) value = value === '' ? text.slice(a, b) : `${value} ${text.slice(a, b)}`;
      next = lf2 + 1;
    }
    if (!bad) {
      if (id !== K_OTHER) {
        value ??= text.slice(vs, ve);
        record(d, id, value);
      }
      idx.push(pos, nameEnd, vs, ve);
      vals.push(value);
    }
    pos = next;
  }
}

/**
 * Scans a decoded header section into `d`. Returns the length of the section including the blank
 * line, or -1 when `text` ends before the blank line (the complete lines are still recorded).
 */
export function scanHead(d: Scan, text: string): number {
  d.text = text;
  const lf0 = text.indexOf('\n');
  if (lf0 < 0) return -1;
  const le0 = lineEnd(d, text, 0, lf0);
  if (le0 === lf0 - 1) readStartLine(d, text, le0);
  return readHeaders(d, text, lf0 + 1);
}
