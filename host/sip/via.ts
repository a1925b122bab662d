/**
 * One Via element (RFC 3261 §20.42, §25.1 via-parm; `rport` from RFC 3581).
 */
import { isTokenChar, isWs, nameEquals, paramMap, scanHost, scanParams, skipWs, trimWsEnd, type ParamSink } from './split.js';

/** A parsed Via element. */
export interface Via {
  /** `name/version/transport` without the LWS the grammar allows around the slashes, e.g. `SIP/2.0/UDP`. */
  protocol: string;
  /** Uppercased: UDP, TCP, TLS, WS, WSS, SCTP, or any other token as sent. */
  transport: string;
  /** sent-by host as written; an IPv6 reference keeps its brackets. */
  host: string;
  /** sent-by port, 0 when absent. */
  port: number;
  /** Names lowercased, values as written, '' for a flag. */
  params: ReadonlyMap<string, string>;
  /** '' when absent. */
  branch: string;
  /** '' when absent. */
  received: string;
  /** null when absent, '' when present without a value (RFC 3581 §4). */
  rport: string | null;
  /** The element as given, trimmed. */
  raw: string;
}

/** The common protocols, so the usual Via costs no string building: transport → [protocol, transport]. */
const KNOWN = new Map(['UDP', 'TCP', 'TLS', 'WSS', 'WS', 'SCTP'].map((t) => [t, [`SIP/2.0/${t}`, t] as const]));

function readToken(s: string, pos: number, end: number): number {
  while (pos < end && isTokenChar(s.charCodeAt(pos))) pos++;
  return pos;
}

interface Protocol {
  protocol: string;
  transport: string;
  next: number;
}

/** Reads `name SLASH version SLASH transport` (SLASH = SWS "/" SWS). */
function readProtocol(s: string, pos: number, end: number): Protocol | null {
  // `SIP/2.0/` by character codes: startsWith() is a slow call on V8.
  if (
    s.charCodeAt(pos) === 0x53 && s.charCodeAt(pos + 1) === 0x49 && s.charCodeAt(pos + 2) === 0x50 &&
    s.charCodeAt(pos + 3) === 0x2f && s.charCodeAt(pos + 4) === 0x32 && s.charCodeAt(pos + 5) === 0x2e &&
    s.charCodeAt(pos + 6) === 0x30 && s.charCodeAt(pos + 7) === 0x2f
  ) {
    const t = readToken(s, pos + 8, end);
    const known = KNOWN.get(s.slice(pos + 8, t));
    if (known !== undefined) return { protocol: known[0], transport: known[1], next: t };
  }
  const parts: string[] = [];
  for (let k = 0; k < 3; k++) {
    if (k > 0) {
      pos = skipWs(s, pos, end);
      if (s.charCodeAt(pos) !== 0x2f) return null;
      pos = skipWs(s, pos + 1, end);
    }
    const t = readToken(s, pos, end);
    if (t === pos) return null;
    parts.push(s.slice(pos, t).toUpperCase());
    pos = t;
  }
  const transport = parts[2] ?? '';
  return { protocol: `${parts[0] ?? ''}/${parts[1] ?? ''}/${transport}`, transport, next: pos };
}

/** A Via whose parameter map is built only when asked for: the parser needs just three of them. */
class ParsedVia implements Via, ParamSink {
  branch = '';
  received = '';
  rport: string | null = null;
  raw = '';
  /** Where the parameters end in `raw` (they start at paramStart). */
  paramEnd = 0;
  private map: ReadonlyMap<string, string> | null = null;

  constructor(
    readonly protocol: string,
    readonly transport: string,
    readonly host: string,
    readonly port: number,
    private readonly paramStart: number,
  ) {}

  get params(): ReadonlyMap<string, string> {
    this.map ??= paramMap(this.raw, this.paramStart, this.paramEnd);
    return this.map;
  }

  /** Keeps the three parameters a proxy reads on every message; the first occurrence wins. */
  param(s: string, ns: number, ne: number, vs: number, ve: number): void {
    const len = ne - ns;
    if (len === 6 && this.branch === '' && nameEquals(s, ns, ne, 'branch')) this.branch = s.slice(vs, ve);
    else if (len === 8 && this.received === '' && nameEquals(s, ns, ne, 'received')) this.received = s.slice(vs, ve);
    else if (len === 5 && this.rport === null && nameEquals(s, ns, ne, 'rport')) this.rport = s.slice(vs, ve);
  }
}

function readVia(value: string, list: boolean): Via | null {
  const end = trimWsEnd(value, 0, value.length);
  const start = skipWs(value, 0, end);
  const proto = readProtocol(value, start, end);
  if (proto === null) return null;
  let pos = proto.next;
  // LWS between sent-protocol and sent-by is mandatory.
  if (pos >= end || !isWs(value.charCodeAt(pos))) return null;
  pos = skipWs(value, pos, end);
  const hostStart = pos;
  if (value.charCodeAt(pos) === 0x5b) {
    const close = value.indexOf(']', pos);
    if (close < 0 || close >= end) return null;
    pos = close + 1;
  } else {
    pos = scanHost(value, pos, end);
  }
  if (pos === hostStart) return null;
  const host = value.slice(hostStart, pos);
  let port = 0;
  let i = skipWs(value, pos, end);
  if (i < end && value.charCodeAt(i) === 0x3a) {
    i = skipWs(value, i + 1, end);
    const digits = i;
    while (i < end && i - digits < 6) {
      const c = value.charCodeAt(i);
      if (c < 0x30 || c > 0x39) break;
      port = port * 10 + c - 0x30;
      i++;
    }
    if (i === digits || port > 65535) return null;
    pos = i;
  }
  const via = new ParsedVia(proto.protocol, proto.transport, host, port, pos - start);
  const stop = scanParams(value, pos, end, list, via);
  if (stop < 0 || (stop < end && !list)) return null;
  const rawEnd = trimWsEnd(value, start, stop);
  via.raw = start === 0 && rawEnd === value.length ? value : value.slice(start, rawEnd);
  via.paramEnd = rawEnd - start;
  return via;
}

/**
 * Parses one Via element (a header value holding several must be split first, see
 * `splitElements`). Returns null when malformed, e.g. an empty parameter (`;;`) or no sent-by.
 */
export function parseVia(value: string): Via | null {
  return readVia(value, false);
}

/**
 * Parses the first element of a Via header value that may hold several (`a, b`); what follows
 * the first comma is not looked at.
 */
export function parseFirstVia(value: string): Via | null {
  return readVia(value, true);
}
