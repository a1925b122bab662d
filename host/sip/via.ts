/**
 * One Via element (RFC 3261 §20.42, §25.1 via-parm; `rport` from RFC 3581).
 */
import { isTokenChar, isWs, parseParams, skipWs, trimWsEnd } from './split.js';

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

const EMPTY_PARAMS: ReadonlyMap<string, string> = new Map();

/** Common protocols, so the usual Via costs no string building. */
const KNOWN_TRANSPORTS = ['UDP', 'TCP', 'TLS', 'WSS', 'WS', 'SCTP'];
const KNOWN_PROTOCOLS = KNOWN_TRANSPORTS.map((t) => `SIP/2.0/${t}`);

function readToken(s: string, pos: number, end: number): number {
  while (pos < end && isTokenChar(s.charCodeAt(pos))) pos++;
  return pos;
}

function isHostChar(c: number): boolean {
  return (
    (c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a) || (c >= 0x30 && c <= 0x39) || c === 0x2d || c === 0x2e || c === 0x5f
  );
}

/** Reads the sent-protocol; returns [protocol, transport, next index] or null. */
function readProtocol(s: string, pos: number, end: number): [string, string, number] | null {
  for (let k = 0; k < KNOWN_PROTOCOLS.length; k++) {
    const p = KNOWN_PROTOCOLS[k] ?? '';
    if (s.startsWith(p, pos) && pos + p.length < end && isWs(s.charCodeAt(pos + p.length))) {
      return [p, KNOWN_TRANSPORTS[k] ?? '', pos + p.length];
    }
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
  return [`${parts[0] ?? ''}/${parts[1] ?? ''}/${transport}`, transport, pos];
}

/**
 * Parses one Via element (a header value holding several must be split first, see
 * `splitElements`). Returns null when malformed, e.g. an empty parameter (`;;`) or no sent-by.
 */
export function parseVia(value: string): Via | null {
  const end = trimWsEnd(value, 0, value.length);
  let pos = skipWs(value, 0, end);
  const start = pos;
  const proto = readProtocol(value, pos, end);
  if (proto === null) return null;
  pos = proto[2];
  // LWS between sent-protocol and sent-by is mandatory.
  if (pos >= end || !isWs(value.charCodeAt(pos))) return null;
  pos = skipWs(value, pos, end);
  const hostStart = pos;
  if (value.charCodeAt(pos) === 0x5b) {
    const close = value.indexOf(']', pos);
    if (close < 0 || close >= end) return null;
    pos = close + 1;
  } else {
    while (pos < end && isHostChar(value.charCodeAt(pos))) pos++;
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
  let params = EMPTY_PARAMS;
  if (skipWs(value, pos, end) < end) {
    const map = new Map<string, string>();
    if (!parseParams(value, pos, end, map)) return null;
    params = map;
  }
  return {
    protocol: proto[0],
    transport: proto[1],
    host,
    port,
    params,
    branch: params.get('branch') ?? '',
    received: params.get('received') ?? '',
    rport: params.get('rport') ?? null,
    raw: start === 0 && end === value.length ? value : value.slice(start, end),
  };
}
