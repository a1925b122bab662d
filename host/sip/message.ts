/**
 * The SIP message model and its parser (RFC 3261 §7). Parsing is one pass over the header
 * section: the start line, a list of headers with unfolded values, and the checks a router
 * needs before it can trust a message (mandatory headers, top Via, From, To, CSeq,
 * Content-Length). Everything else — every Via, the Request-URI's parts, Max-Forwards, the
 * body — is read when first asked for and then cached.
 */
import { isAscii, isUtf8 } from 'node:buffer';
import { parseNameAddr, type NameAddr } from './name-addr.js';
import { canonicalHeaderName, H } from './header-names.js';
import { firstElementEnd, isToken, isWs, skipWs, splitElements, trimWsEnd } from './split.js';
import { isAbsoluteUri, parseUri, type SipUri } from './uri.js';
import { parseVia, type Via } from './via.js';

/** Options for {@link parseSipMessage}. */
export interface ParseOptions {
  /** Largest accepted message, header section and body together. Default 65536. */
  maxMessageBytes?: number;
}

/** One header line as received. */
export interface SipHeader {
  /** Canonical lowercase full name; compact forms are expanded (`v` → `via`, RFC 3261 §7.3.3). */
  readonly name: string;
  /** The name as written. */
  readonly rawName: string;
  /** Unfolded (RFC 3261 §7.3.1: each line fold becomes one SP) and trimmed. */
  readonly value: string;
}

/** A message that cannot be accepted. Match on `code`, never on the message text. */
export class SipParseError extends Error {
  readonly code = 'KEMI_ERR_SIP_PARSE' as const;
  /** The status a reply would carry: 400 Bad Request or 513 Message Too Large. */
  readonly status: 400 | 513;
  /** True when the start line, Via, From, To, Call-ID and CSeq are readable, so a reply can be built. */
  readonly replyable: boolean;
  /** The message as far as it could be read, when `replyable`. */
  readonly partial: SipMessage | null;

  constructor(message: string, status: 400 | 513, partial: SipMessage | null) {
    super(message);
    this.name = 'SipParseError';
    this.status = status;
    this.partial = partial;
    this.replyable = partial !== null;
  }
}

const DEFAULT_MAX = 65536;
/** Most header sections fit; decoding a little body with them is cheaper than a second search. */
const PREFIX_BYTES = 4096;
const CRLFCRLF = Buffer.from('\r\n\r\n', 'latin1');
const MAX_CSEQ = 2 ** 31 - 1;

/** What the scan of a header section found; becomes a SipMessage. */
class Draft {
  error: string | null = null;
  status: 400 | 513 = 400;
  startOk = false;
  isRequest = false;
  method = '';
  ruri = '';
  ruriParsed: SipUri | null = null;
  statusCode = 0;
  reason = '';
  headers: SipHeader[] = [];
  headerBytes = 0;
  encoding: 'utf8' | 'latin1' = 'utf8';
  via = '';
  from = '';
  to = '';
  callId = '';
  cseq = '';
  contentLength = '';
  contacts: string[] | null = null;
  duplicate = '';

  fail(message: string): void {
    this.error ??= message;
  }
}

/**
 * A parsed SIP message (RFC 3261 §7). Built by {@link parseSipMessage}; fields that need more
 * than the header index are parsed on first access and cached.
 */
export class SipMessage {
  readonly raw: Buffer;
  readonly isRequest: boolean;
  /** Request method, case as written (methods are case-sensitive); for a reply, the CSeq method. */
  readonly method: string;
  /** Request-URI as written, '' for replies. */
  readonly ruri: string;
  /** Always `SIP/2.0`. */
  readonly version: string;
  /** Reply status code, 0 for requests. */
  readonly status: number;
  /** Reply reason phrase ('' when empty, and for requests). */
  readonly reason: string;
  /** Every header line, in the order received. */
  readonly headers: readonly SipHeader[];
  /** Bytes of the start line and header section including the blank line: the body starts here. */
  readonly headerBytes: number;
  /**
   * How the header section was decoded: `utf8` (RFC 3261 §25 text is UTF-8), or `latin1` when
   * it is not valid UTF-8 — values then hold one character per byte. Encoding values back with
   * this encoding reproduces the bytes received.
   */
  readonly headerEncoding: 'utf8' | 'latin1';

  private readonly _topVia: Via;
  private readonly _from: NameAddr;
  private readonly _to: NameAddr;
  private readonly _callId: string;
  private readonly _cseq: { seq: number; method: string };
  private readonly _contentLength: number;
  private readonly _ruriParsed: SipUri | null;
  private _vias: Via[] | null = null;
  private _body: Buffer | null = null;
  private _maxForwards = -2;

  /** @internal Use {@link parseSipMessage}. */
  constructor(raw: Buffer, d: Draft, topVia: Via, from: NameAddr, to: NameAddr, cseq: { seq: number; method: string }, cl: number) {
    this.raw = raw;
    this.isRequest = d.isRequest;
    this.method = d.isRequest ? d.method : cseq.method;
    this.ruri = d.ruri;
    this.version = 'SIP/2.0';
    this.status = d.statusCode;
    this.reason = d.reason;
    this.headers = d.headers;
    this.headerBytes = d.headerBytes;
    this.headerEncoding = d.encoding;
    this._topVia = topVia;
    this._from = from;
    this._to = to;
    this._callId = d.callId;
    this._cseq = cseq;
    this._contentLength = cl;
    this._ruriParsed = d.ruriParsed;
  }

  /** First value of a header; `name` is case-insensitive, compact or full. */
  getHeader(name: string): string | undefined {
    const n = canonicalHeaderName(name);
    const hs = this.headers;
    for (const h of hs) if (h.name === n) return h.value;
    return undefined;
  }

  /** Every header line of that name, in order (values are not comma-split). */
  getHeaders(name: string): string[] {
    const n = canonicalHeaderName(name);
    const out: string[] = [];
    for (const h of this.headers) if (h.name === n) out.push(h.value);
    return out;
  }

  /** Every comma-separated element of every header line of that name, in order (e.g. all Vias). */
  getHeaderElements(name: string): string[] {
    const n = canonicalHeaderName(name);
    const out: string[] = [];
    for (const h of this.headers) if (h.name === n) for (const e of splitElements(h.value)) out.push(e);
    return out;
  }

  hasHeader(name: string): boolean {
    return this.getHeader(name) !== undefined;
  }

  /** The body: exactly Content-Length bytes (a datagram's trailing bytes are not part of it). */
  get body(): Buffer {
    this._body ??= this.raw.subarray(this.headerBytes, this.headerBytes + this._contentLength);
    return this._body;
  }

  get bodyText(): string {
    return this.body.toString('utf8');
  }

  /** Content-Length, or the bytes after the header section when the header is absent (UDP, RFC 3261 §18.3). */
  get contentLength(): number {
    return this._contentLength;
  }

  /**
   * Every Via element, top first. Throws SipParseError (400) when one below the top is malformed:
   * the top Via was checked by the parser, the others only now.
   */
  get vias(): readonly Via[] {
    if (this._vias === null) {
      const out: Via[] = [];
      for (const e of this.getHeaderElements(H.via)) {
        const v = out.length === 0 ? this._topVia : parseVia(e);
        if (v === null) throw new SipParseError(`malformed Via: ${e}`, 400, this);
        out.push(v);
      }
      this._vias = out;
    }
    return this._vias;
  }

  get topVia(): Via {
    return this._topVia;
  }

  get from(): NameAddr {
    return this._from;
  }

  get to(): NameAddr {
    return this._to;
  }

  get callId(): string {
    return this._callId;
  }

  get cseq(): { seq: number; method: string } {
    return this._cseq;
  }

  /** The Request-URI's parts for sip:, sips: and tel: URIs; null for other schemes and for replies. */
  get ruriParsed(): SipUri | null {
    return this._ruriParsed;
  }

  /**
   * Max-Forwards, or -1 when absent or not a number in 0..255 (RFC 4475 §3.1.2.4 lets an element
   * treat an out-of-range value as absent).
   */
  get maxForwards(): number {
    if (this._maxForwards === -2) {
      const v = this.getHeader(H.maxForwards);
      this._maxForwards = v === undefined ? -1 : parseDigits(v, 0, v.length, 255);
    }
    return this._maxForwards;
  }
}

/** Non-negative integer from all-digit text, or -1 when not all digits or above `max`. */
function parseDigits(s: string, start: number, end: number, max: number): number {
  if (start >= end || end - start > 12) return -1;
  let n = 0;
  for (let i = start; i < end; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x30 || c > 0x39) return -1;
    n = n * 10 + c - 0x30;
  }
  return n > max ? -1 : n;
}

function parseCSeq(v: string): { seq: number; method: string } | null {
  let i = 0;
  while (i < v.length && v.charCodeAt(i) >= 0x30 && v.charCodeAt(i) <= 0x39) i++;
  const seq = parseDigits(v, 0, i, MAX_CSEQ);
  const m = skipWs(v, i);
  if (seq < 0 || m === i || !isToken(v, m)) return null;
  return { seq, method: v.slice(m) };
}

function isSipVersion(s: string, start: number, end: number): boolean {
  if (end - start !== 7) return false;
  return s.startsWith('SIP/2.0', start) || s.slice(start, end).toUpperCase() === 'SIP/2.0';
}

function readStartLine(d: Draft, text: string, le: number): void {
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
    return d.fail(text.startsWith('SIP/', sp2 + 1) ? 'unsupported SIP version' : 'malformed request line');
  }
  if (!isAbsoluteUri(d.ruri)) return d.fail('malformed Request-URI');
  const u = parseUri(d.ruri);
  if (u === null) {
    const scheme = d.ruri.slice(0, d.ruri.indexOf(':')).toLowerCase();
    if (scheme === 'sip' || scheme === 'sips' || scheme === 'tel') d.fail('malformed Request-URI');
  } else if (u.headers !== '') {
    // RFC 3261 §19.1.1 table: headers are not allowed in a Request-URI (RFC 4475 §3.1.2.11).
    d.fail('Request-URI with headers');
  }
  d.ruriParsed = u;
}

function noteHeader(d: Draft, name: string, value: string): void {
  switch (name) {
    case H.via:
      if (d.via === '') d.via = value;
      return;
    case H.from:
      if (d.from !== '') d.duplicate = name;
      d.from = value;
      return;
    case H.to:
      if (d.to !== '') d.duplicate = name;
      d.to = value;
      return;
    case H.callId:
      if (d.callId !== '') d.duplicate = name;
      d.callId = value;
      return;
    case H.cseq:
      if (d.cseq !== '') d.duplicate = name;
      d.cseq = value;
      return;
    case H.contentLength:
      if (d.contentLength !== '') d.duplicate = name;
      d.contentLength = value;
      return;
    case H.contact:
      (d.contacts ??= []).push(value);
      return;
  }
}

/** Reads header lines `[from, hend)` of `text` (each ends in CRLF) into `d`. */
function readHeaders(d: Draft, text: string, from: number, hend: number): void {
  const headers = d.headers;
  let pos = from;
  while (pos < hend) {
    let lf = text.indexOf('\n', pos);
    let le = lf - 1;
    if (text.charCodeAt(le) !== 0x0d || text.indexOf('\r', pos) < le) d.fail('line not ended by CRLF');
    const c0 = text.charCodeAt(pos);
    const colon = text.indexOf(':', pos);
    let next = lf + 1;
    if (isWs(c0) || colon < 0 || colon > le) {
      d.fail(isWs(c0) ? 'folded line without a header' : 'header line without a colon');
      while (next < hend && isWs(text.charCodeAt(next))) next = text.indexOf('\n', next) + 1;
      pos = next;
      continue;
    }
    const nameEnd = trimWsEnd(text, pos, colon);
    if (!isToken(text, pos, nameEnd)) d.fail('malformed header name');
    const rawName = text.slice(pos, nameEnd);
    const name = canonicalHeaderName(rawName);
    const vs = skipWs(text, colon + 1, le);
    let value = text.slice(vs, trimWsEnd(text, vs, le));
    while (next < hend && isWs(text.charCodeAt(next))) {
      lf = text.indexOf('\n', next);
      le = lf - 1;
      if (text.charCodeAt(le) !== 0x0d || text.indexOf('\r', next) < le) d.fail('line not ended by CRLF');
      const a = skipWs(text, next, le);
      const b = trimWsEnd(text, a, le);
      if (b > a) value = value === '' ? text.slice(a, b) : `${value} ${text.slice(a, b)}`;
      next = lf + 1;
    }
    headers.push({ name, rawName, value });
    noteHeader(d, name, value);
    pos = next;
  }
}

/** Decodes the header section; returns the text and where its last header line ends. */
function decodeHead(d: Draft, buf: Buffer, limit: number): { text: string; hend: number } {
  let text = buf.toString('latin1', 0, Math.min(limit, PREFIX_BYTES));
  let end = text.indexOf('\r\n\r\n');
  if (end < 0 && limit > PREFIX_BYTES) {
    end = buf.indexOf(CRLFCRLF);
    if (end + 4 > limit) end = -1;
    text = buf.toString('latin1', 0, end < 0 ? limit : end + 4);
  }
  if (end < 0) {
    d.fail(buf.length > limit ? 'message too large' : 'no blank line after the header section');
    if (buf.length > limit) d.status = 513;
    // Still read the complete lines, so a reply can be built when they hold what it needs.
    return { text, hend: text.lastIndexOf('\n') + 1 };
  }
  d.headerBytes = end + 4;
  const whole = d.headerBytes === buf.length;
  if (!isAscii(whole ? buf : buf.subarray(0, d.headerBytes))) {
    const head = whole ? buf : buf.subarray(0, d.headerBytes);
    if (isUtf8(head)) text = head.toString('utf8');
    else d.encoding = 'latin1';
    end = text.length - 4;
  }
  return { text, hend: end + 2 };
}

function fail(d: Draft, partial: () => SipMessage | null): never {
  throw new SipParseError(d.error ?? 'malformed message', d.status, partial());
}

/**
 * Parses one SIP message from a datagram or a frame cut by {@link SipStreamFramer}
 * (RFC 3261 §7, §18.3). Throws SipParseError when the message must be refused: a malformed
 * start line or header line, a line not ended by CRLF (a bare LF is refused, not tolerated), no
 * blank line, a missing or malformed Via / From / To / Call-ID / CSeq, a repeated From / To /
 * Call-ID / CSeq / Content-Length, a malformed Contact, a Content-Length that is not all digits
 * or is larger than the bytes present (400), or a message over `maxMessageBytes` (513). Whether
 * the CSeq method matches the request method is left to the caller (a sanity check).
 */
export function parseSipMessage(buf: Buffer, opts?: ParseOptions): SipMessage {
  const max = opts?.maxMessageBytes ?? DEFAULT_MAX;
  const d = new Draft();
  const limit = Math.min(buf.length, max);
  if (buf.length > max) {
    d.fail('message too large');
    d.status = 513;
  }
  const { text, hend } = decodeHead(d, buf, limit);
  const lf0 = text.indexOf('\n');
  if (lf0 < 1 || lf0 >= hend) {
    d.fail('no start line');
    return fail(d, () => null);
  }
  if (text.charCodeAt(lf0 - 1) !== 0x0d || text.indexOf('\r') < lf0 - 1) d.fail('line not ended by CRLF');
  else readStartLine(d, text, lf0 - 1);
  readHeaders(d, text, lf0 + 1, hend);

  const topVia = d.via === '' ? null : parseVia(d.via.slice(0, firstElementEnd(d.via)));
  const from = d.from === '' ? null : parseNameAddr(d.from);
  const to = d.to === '' ? null : parseNameAddr(d.to);
  const cseq = d.cseq === '' ? null : parseCSeq(d.cseq);
  const callIdOk = d.callId !== '' && !d.callId.includes(' ') && !d.callId.includes('\t');
  if (d.via === '' || d.from === '' || d.to === '' || d.callId === '' || d.cseq === '') d.fail('missing mandatory header');
  if (topVia === null || from === null || to === null || cseq === null || !callIdOk) d.fail('malformed mandatory header');
  if (d.duplicate !== '') d.fail(`more than one ${d.duplicate} header`);
  if (d.contacts !== null) {
    for (const v of d.contacts) {
      if (v === '*') continue;
      for (const e of splitElements(v)) if (parseNameAddr(e) === null) d.fail('malformed Contact');
    }
  }
  const available = d.headerBytes === 0 ? 0 : buf.length - d.headerBytes;
  let cl = available;
  if (d.contentLength !== '') {
    cl = parseDigits(d.contentLength, 0, d.contentLength.length, Number.MAX_SAFE_INTEGER);
    if (cl < 0) d.fail('malformed Content-Length');
    else if (cl > available) d.fail('Content-Length larger than the body');
  }
  const replyable = d.startOk && topVia !== null && from !== null && to !== null && cseq !== null && callIdOk;
  if (d.error !== null || !replyable) {
    return fail(d, () =>
      replyable ? new SipMessage(buf, d, topVia, from, to, cseq, Math.max(0, Math.min(cl, available))) : null,
    );
  }
  return new SipMessage(buf, d, topVia, from, to, cseq, cl);
}
