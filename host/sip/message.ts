/**
 * The SIP message model and its parser (RFC 3261 §7). Parsing is one pass over the header
 * section (see message-scan.ts) plus the checks a router needs before it can trust a message:
 * mandatory headers, top Via, From, To, CSeq, Content-Length. Everything else — the header
 * objects, every Via, Max-Forwards, the body — is built when first asked for and then cached.
 */
import { isAscii, isUtf8 } from 'node:buffer';
import { canonicalHeaderName, H } from './header-names.js';
import {
  K_CALLID, K_CLEN, K_CONTACT, K_CSEQ, K_FROM, K_MAXFWD, K_ROUTE, K_RROUTE, K_TO, K_VIA,
  parseDigits, Scan, scanHead,
} from './message-scan.js';
import { parseNameAddr, type NameAddr } from './name-addr.js';
import { isToken, skipWs, splitElements } from './split.js';
import type { Source } from './types.js';
import type { SipUri } from './uri.js';
import { parseFirstVia, parseVia, type Via } from './via.js';

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

/**
 * The raw header values of a request whose start line was readable but whose Via, From, To,
 * Call-ID or CSeq was not: enough to send back a 400 over a stream (RFC 3261 §8.2.6 copies
 * them as received). Values are '' when absent.
 */
export interface RawRequestHead {
  readonly method: string;
  readonly vias: readonly string[];
  readonly from: string;
  readonly to: string;
  readonly callId: string;
  readonly cseq: string;
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
  /** A request's start line was readable but not the headers `partial` needs (then partial is null). */
  readonly head: RawRequestHead | null;

  constructor(message: string, status: 400 | 513, partial: SipMessage | null, head: RawRequestHead | null = null) {
    super(message);
    this.name = 'SipParseError';
    this.status = status;
    this.partial = partial;
    this.replyable = partial !== null;
    this.head = partial === null ? head : null;
  }
}

/** The CSeq header read (RFC 3261 §20.16). */
export interface CSeq {
  seq: number;
  method: string;
}

const DEFAULT_MAX = 65536;
/** Most header sections fit; decoding a little body with them is cheaper than a second search. */
const PREFIX_BYTES = 4096;
const CRLFCRLF = Buffer.from('\r\n\r\n', 'latin1');
const MAX_CSEQ = 2 ** 31 - 1;

/** Canonical name → the id the scan recorded it under. */
const RECORDED = new Map<string, number>([
  [H.via, K_VIA], [H.from, K_FROM], [H.to, K_TO], [H.callId, K_CALLID], [H.cseq, K_CSEQ], [H.contentLength, K_CLEN],
  [H.contact, K_CONTACT], [H.maxForwards, K_MAXFWD], [H.route, K_ROUTE], [H.recordRoute, K_RROUTE],
]);

/**
 * A parsed SIP message (RFC 3261 §7). Built by {@link parseSipMessage}; fields that need more
 * than the scan are parsed on first access and cached.
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
  /** Bytes of the start line and header section including the blank line: the body starts here. */
  readonly headerBytes: number;
  /**
   * How the header section was decoded: `utf8` (RFC 3261 §25 text is UTF-8), or `latin1` when
   * it is not valid UTF-8 — values then hold one character per byte. Encoding values back with
   * this encoding reproduces the bytes received.
   */
  readonly headerEncoding: 'utf8' | 'latin1';
  /**
   * Where the message came from (Kamailio's msg->rcv), set by the router when it was received;
   * null for a message built here. A tm reply route runs on the request's Context, so this is
   * how it knows the reply's source.
   */
  rcv: Source | null = null;
  /**
   * The first Contact's URI as functions after nathelper's fix_nated_contact / set_contact_alias
   * see it (Kamailio re-points its parsed contact): registrar's save() stores this one. null:
   * as received.
   */
  contactUri: string | null = null;

  private readonly scan: Scan;
  private readonly _topVia: Via;
  private readonly _from: NameAddr;
  private readonly _to: NameAddr;
  private readonly _cseq: CSeq;
  private readonly _contentLength: number;
  private _headers: SipHeader[] | null = null;
  private _vias: Via[] | null = null;
  private _body: Buffer | null = null;
  private _maxForwards = -2;

  /** @internal Use {@link parseSipMessage}. */
  constructor(raw: Buffer, s: Scan, headerBytes: number, top: [Via, NameAddr, NameAddr, CSeq], cl: number) {
    this.raw = raw;
    this.isRequest = s.isRequest;
    this.method = s.isRequest ? s.method : top[3].method;
    this.ruri = s.ruri;
    this.version = 'SIP/2.0';
    this.status = s.statusCode;
    this.reason = s.reason;
    this.headerBytes = headerBytes;
    this.headerEncoding = s.encoding;
    this.scan = s;
    this._topVia = top[0];
    this._from = top[1];
    this._to = top[2];
    this._cseq = top[3];
    this._contentLength = cl;
  }

  /** Every header line, in the order received. */
  get headers(): readonly SipHeader[] {
    if (this._headers === null) {
      const { text, idx, vals } = this.scan;
      const out: SipHeader[] = [];
      for (let i = 0, k = 0; k < idx.length; i++, k += 4) {
        const rawName = text.slice(idx[k], idx[k + 1]);
        const value = vals[i] ?? text.slice(idx[k + 2], idx[k + 3]);
        out.push({ name: canonicalHeaderName(rawName), rawName, value });
      }
      this._headers = out;
    }
    return this._headers;
  }

  /** First value of a header; `name` is case-insensitive, compact or full. */
  getHeader(name: string): string | undefined {
    const n = canonicalHeaderName(name);
    const id = RECORDED.get(n);
    if (id !== undefined) {
      const i = this.scan.kid.indexOf(id);
      return i < 0 ? undefined : this.scan.kval[i];
    }
    for (const h of this.headers) if (h.name === n) return h.value;
    return undefined;
  }

  /** Every header line of that name, in order (values are not comma-split). */
  getHeaders(name: string): string[] {
    const n = canonicalHeaderName(name);
    const id = RECORDED.get(n);
    if (id !== undefined) return this.scan.all(id);
    const out: string[] = [];
    for (const h of this.headers) if (h.name === n) out.push(h.value);
    return out;
  }

  /** Every comma-separated element of every header line of that name, in order (e.g. all Vias). */
  getHeaderElements(name: string): string[] {
    const out: string[] = [];
    for (const v of this.getHeaders(name)) for (const e of splitElements(v)) out.push(e);
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
   * Every Via element, top first (RFC 3261 §20.42). Throws SipParseError (400) when one below the
   * top is malformed: the parser checked the top Via, the others are read only now.
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
    return this.scan.callId;
  }

  get cseq(): CSeq {
    return this._cseq;
  }

  /** The Request-URI's parts for sip:, sips: and tel: URIs; null for other schemes and for replies. */
  get ruriParsed(): SipUri | null {
    return this.scan.ruriParsed;
  }

  /**
   * Max-Forwards, or -1 when absent or not a number in 0..255 (RFC 4475 §3.1.2.4 lets an element
   * treat an out-of-range value as absent).
   */
  get maxForwards(): number {
    if (this._maxForwards === -2) {
      const v = this.scan.maxForwards;
      this._maxForwards = v === '' ? -1 : parseDigits(v, 0, v.length, 255);
    }
    return this._maxForwards;
  }
}

function parseCSeq(v: string): CSeq | null {
  let i = 0;
  while (i < v.length && v.charCodeAt(i) >= 0x30 && v.charCodeAt(i) <= 0x39) i++;
  const seq = parseDigits(v, 0, i, MAX_CSEQ);
  const m = skipWs(v, i);
  if (seq < 0 || m === i || !isToken(v, m)) return null;
  return { seq, method: v.slice(m) };
}

/**
 * Scans the header section of `buf[0, limit)`. Returns the section's length in bytes, or -1 when
 * it has no blank line (the scan then holds the complete lines, so a reply may still be built).
 */
function scanBuffer(buf: Buffer, limit: number): [Scan, number] {
  let s = new Scan();
  let head = scanHead(s, buf.toString('latin1', 0, Math.min(limit, PREFIX_BYTES)));
  if (head < 0 && limit > PREFIX_BYTES) {
    const end = buf.indexOf(CRLFCRLF);
    s = new Scan();
    head = scanHead(s, buf.toString('latin1', 0, end < 0 || end + 4 > limit ? limit : end + 4));
  }
  // The latin1 scan gave byte offsets; text that is not ASCII is read again as UTF-8 when valid.
  if (head > 0 && !isAscii(buf) && !isAscii(buf.subarray(0, head))) {
    const bytes = buf.subarray(0, head);
    if (isUtf8(bytes)) {
      s = new Scan();
      scanHead(s, bytes.toString('utf8'));
    } else {
      s.encoding = 'latin1';
    }
  }
  return [s, head];
}

function refuse(s: Scan, partial: SipMessage | null): never {
  const head: RawRequestHead | null =
    partial === null && s.startOk && s.isRequest
      ? { method: s.method, vias: s.all(K_VIA), from: s.from, to: s.to, callId: s.callId, cseq: s.cseq }
      : null;
  throw new SipParseError(s.error ?? 'malformed message', s.status, partial, head);
}

/**
 * Parses one SIP message from a datagram or a frame cut by SipStreamFramer (RFC 3261 §7, §18.3).
 * Throws SipParseError when the message must be refused: a malformed start line or header line,
 * a line not ended by CRLF (a bare LF or CR is refused, not tolerated), no blank line, a missing
 * or malformed Via / From / To / Call-ID / CSeq, a repeated From / To / Call-ID / CSeq /
 * Content-Length, a malformed Contact, a Content-Length that is not all digits or is larger than
 * the bytes present (400), or a message over `maxMessageBytes` (513). Whether the CSeq method
 * matches the request method is left to the caller (a sanity check, RFC 4475 §3.1.2.17).
 */
export function parseSipMessage(buf: Buffer, opts?: ParseOptions): SipMessage {
  const max = opts?.maxMessageBytes ?? DEFAULT_MAX;
  const limit = Math.min(buf.length, max);
  const [s, head] = scanBuffer(buf, limit);
  if (buf.length > max) {
    s.error = 'message too large';
    s.status = 513;
  } else if (head < 0) {
    s.fail('no blank line after the header section');
  }
  const topVia = s.via === '' ? null : parseFirstVia(s.via);
  const from = s.from === '' ? null : parseNameAddr(s.from);
  const to = s.to === '' ? null : parseNameAddr(s.to);
  const cseq = s.cseq === '' ? null : parseCSeq(s.cseq);
  if (s.via === '' || s.from === '' || s.to === '' || s.callId === '' || s.cseq === '') s.fail('missing mandatory header');
  if (topVia === null) s.fail('malformed Via');
  if (from === null) s.fail('malformed From');
  if (to === null) s.fail('malformed To');
  if (cseq === null) s.fail('malformed CSeq');
  if (s.duplicate !== '') s.fail(`more than one ${s.duplicate} header`);
  // A registrar acts on Contact (RFC 4475 §3.1.2.13); other requests carry it through untouched.
  if ((s.seen & (1 << K_CONTACT)) !== 0 && s.method === 'REGISTER') {
    for (const v of s.all(K_CONTACT)) {
      if (v === '*') continue;
      for (const e of splitElements(v)) if (parseNameAddr(e) === null) s.fail('malformed Contact');
    }
  }
  const available = head < 0 ? 0 : buf.length - head;
  let cl = available;
  const clV = s.contentLength;
  if ((s.seen & (1 << K_CLEN)) !== 0) {
    cl = parseDigits(clV, 0, clV.length, Number.MAX_SAFE_INTEGER);
    if (cl < 0) s.fail('malformed Content-Length');
    else if (cl > available) s.fail('Content-Length larger than the body');
  }
  if (s.startOk && topVia !== null && from !== null && to !== null && cseq !== null && s.callId !== '') {
    const top: [Via, NameAddr, NameAddr, CSeq] = [topVia, from, to, cseq];
    if (s.error === null) return new SipMessage(buf, s, head, top, cl);
    refuse(s, new SipMessage(buf, s, Math.max(head, 0), top, Math.max(0, Math.min(cl, available))));
  }
  return refuse(s, null);
}
