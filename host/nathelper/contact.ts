/**
 * The first Contact of a message as nathelper sees it (Kamailio's get_contact_uri: the first
 * URI of the first Contact header) and how it is rewritten in place. A rewrite replaces that
 * header line when the message is sent (HeaderEdits.replace), so the rest of the message and
 * the other contacts stay as received.
 */
import type { Context } from '../kemi/context.js';
import type { SipMessage } from '../sip/message.js';
import { firstElementEnd, skipQuoted, skipWs, trimWsEnd } from '../sip/split.js';
import type { Source, TransportProto } from '../sip/types.js';
import { parseUri, type SipUri } from '../sip/uri.js';

/** Where the first Contact URI sits in its header line. */
export interface ContactSpot {
  /** index of the header line in msg.headers */
  readonly line: number;
  /** the line's value: as received, or as an earlier nathelper call rewrote it */
  readonly value: string;
  /** the URI is value[start, end) */
  readonly start: number;
  readonly end: number;
  /** the URI is inside <…> */
  readonly angle: boolean;
  readonly uri: string;
  readonly parsed: SipUri;
}

/** No Contact header (-2), a `*` Contact (-3), or one that cannot be read (-1): Kamailio's codes. */
export type ContactFailure = -1 | -2 | -3;

/**
 * Kamailio's "first" contact, or why there is none: its contact parser prepends, so the contact
 * nathelper works on is the LAST of the first Contact header (the compat cases show it).
 * `value` is what the line holds now (edits included).
 */
export function firstContact(msg: SipMessage, current: (line: number) => string | undefined): ContactSpot | ContactFailure {
  const headers = msg.headers;
  const line = headers.findIndex((h) => h.name === 'contact');
  if (line < 0) return -2;
  const value = current(line) ?? (headers[line]?.value ?? '');
  let elStart = -1;
  let elEnd = -1;
  for (let pos = 0; pos <= value.length;) {
    const stop = firstElementEnd(value, pos);
    const a = skipWs(value, pos, stop);
    if (trimWsEnd(value, a, stop) > a) {
      elStart = a;
      elEnd = stop;
    }
    pos = stop + 1;
  }
  if (elStart < 0) return -1;
  let pos = elStart;
  if (value.charCodeAt(pos) === 0x2a && trimWsEnd(value, pos, elEnd) === pos + 1) return -3;
  let start: number;
  let end: number;
  let angle = false;
  if (value.charCodeAt(pos) === 0x22) {
    pos = skipQuoted(value, pos, elEnd);
    if (pos < 0) return -1;
  }
  const lt = value.indexOf('<', pos);
  if (lt >= 0 && lt < elEnd) {
    start = lt + 1;
    end = value.indexOf('>', start);
    if (end < 0 || end > elEnd) return -1;
    angle = true;
  } else {
    // a bare addr-spec: its parameters are the header's (RFC 3261 §20.10)
    start = pos;
    const semi = value.indexOf(';', start);
    end = trimWsEnd(value, start, semi < 0 || semi > elEnd ? elEnd : semi);
  }
  const uri = value.slice(start, end);
  const parsed = parseUri(uri);
  if (parsed === null || parsed.host === '' || parsed.scheme === 'tel') return -1;
  return { line, value, start, end, angle, uri, parsed };
}

/** The line with the Contact URI replaced; `bracket` puts <> around a bare URI. */
export function withUri(spot: ContactSpot, uri: string, bracket: boolean): string {
  const wrap = bracket && !spot.angle;
  return `${spot.value.slice(0, spot.start)}${wrap ? '<' : ''}${uri}${wrap ? '>' : ''}${spot.value.slice(spot.end)}`;
}

/** Kamailio's protocol numbers, as an alias parameter carries them. */
const PROTO_DIGITS: Readonly<Record<string, number>> = { udp: 1, tcp: 2, tls: 3, sctp: 4, ws: 5, wss: 6 };
const PROTO_NAMES = ['', 'udp', 'tcp', 'tls', 'sctp', 'ws', 'wss'];

export function protoDigit(proto: string): number {
  return PROTO_DIGITS[proto.toLowerCase()] ?? 0;
}

export function protoName(digit: number): string {
  return PROTO_NAMES[digit] ?? '';
}

/** The transport a message came over as Kamailio names it (xhttp's 'http' is TCP). */
export function srcProto(proto: TransportProto): string {
  return proto === 'http' ? 'tcp' : proto;
}

/**
 * Where the message being worked on came from: a reply's own source in a tm reply route (which
 * runs on the request's Context), else the Context's.
 */
export function sourceOf(ctx: Context): Source {
  return ctx.msg?.rcv ?? ctx.src;
}

/** The source address as a URI host: IPv6 in brackets. */
export function srcHost(ctx: Context): string {
  const ip = sourceOf(ctx).ip;
  return ip.includes(':') ? `[${ip}]` : ip;
}

/** `ip~port~proto` for the message's source (uri_add_rcv_alias). */
export function srcAlias(ctx: Context): string {
  const src = sourceOf(ctx);
  return `${srcHost(ctx)}~${String(src.port)}~${String(protoDigit(srcProto(src.proto)))}`;
}

/** get_src_uri: "sip:ip:port", with ";transport=…" unless UDP. */
export function srcUri(ctx: Context): string {
  const src = sourceOf(ctx);
  const proto = srcProto(src.proto);
  return `sip:${srcHost(ctx)}:${String(src.port)}${proto === 'udp' ? '' : `;transport=${proto}`}`;
}
