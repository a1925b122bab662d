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

/** The common protocols, so the usual Via costs no string building: transport → [protocol, transport]. */
const KNOWN = new Map(['UDP', 'TCP', 'TLS', 'WSS', 'WS', 'SCTP'].map((t) => [t, [`SIP/2.0/${t}`, t] as const]));

function readToken(s: string, pos: number, end: number): number {
  while (pos < end && isTokenChar(s.charCodeAt(pos))) pos++;
  return pos;
}

function isHostChar(c: number): boolean {
  return (
    (c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a) || (c >= 0x30 && c <= 0x39) || c === 0x2d || c === 0x2e || c === 0x5f
  );
}

interface Protocol {
  protocol: string;
  transport: string;
  next: number;
}

/** Reads `name SLASH version SLASH transport` (SLASH = SWS "/" SWS). */
function readProtocol(s: string, pos: number, end: number): Protocol | null {
  if (s.startsWith('SIP/2.0/', pos)) {
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
  let stop = skipWs(value, pos, end);
  if (stop < end && !(list && value.charCodeAt(stop) === 0x2c)) {
    const map = new Map<string, string>();
    stop = parseParams(value, pos, end, map, list);
    if (stop < 0) return null;
    params = map;
  }
  if (stop < end && !list) return null;
  const rawEnd = trimWsEnd(value, start, stop);
  return {
    protocol: proto.protocol,
    transport: proto.transport,
    host,
    port,
    params,
    branch: params.get('branch') ?? '',
    received: params.get('received') ?? '',
    rport: params.get('rport') ?? null,
    raw: start === 0 && rawEnd === value.length ? value : value.slice(start, rawEnd),
  };
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
