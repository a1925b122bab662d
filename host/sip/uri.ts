/**
 * SIP, SIPS and tel URIs (RFC 3261 §19.1, RFC 3966), read into their parts. Every part is kept
 * as written — escapes included — so a URI can be rebuilt byte for byte; `unescapeUser` decodes
 * the user part when a comparison needs it (RFC 3261 §19.1.4).
 */
import { hasUriForbidden, scanHost } from './split.js';

/** A parsed SIP, SIPS or tel URI. */
export interface SipUri {
  /** Lowercased: `sip`, `sips` or `tel`. */
  scheme: string;
  /** The user part as written (escapes kept); for tel, the telephone number. */
  user: string;
  /** '' when absent. */
  password: string;
  /** As written; an IPv6 reference keeps its brackets (`[::1]`). '' for tel. */
  host: string;
  /** 0 when absent. */
  port: number;
  /** URI parameters: names lowercased, values as written, '' for a flag (`;lr`). */
  params: ReadonlyMap<string, string>;
  /** The header part after `?`, as written, '' when absent. */
  headers: string;
  /** The whole URI as given. */
  raw: string;
}

const EMPTY_PARAMS: ReadonlyMap<string, string> = new Map();

function isAlpha(c: number): boolean {
  return (c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a);
}

function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}

function isHex(c: number): boolean {
  return isDigit(c) || (c >= 0x61 && c <= 0x66) || (c >= 0x41 && c <= 0x46);
}

/** Reads `*( ";" name [ "=" value ] )` then `[ "?" headers ]`; returns false when text remains. */
function readTail(s: string, pos: number, uri: { params: ReadonlyMap<string, string>; headers: string }): boolean {
  const end = s.length;
  let params: Map<string, string> | null = null;
  while (pos < end && s.charCodeAt(pos) === 0x3b) {
    const nameStart = pos + 1;
    let i = nameStart;
    while (i < end) {
      const c = s.charCodeAt(i);
      if (c === 0x3d || c === 0x3b || c === 0x3f) break;
      i++;
    }
    if (i === nameStart) return false;
    const name = s.slice(nameStart, i).toLowerCase();
    let value = '';
    if (i < end && s.charCodeAt(i) === 0x3d) {
      const valueStart = i + 1;
      i = valueStart;
      while (i < end) {
        const c = s.charCodeAt(i);
        if (c === 0x3b || c === 0x3f) break;
        i++;
      }
      if (i === valueStart) return false;
      value = s.slice(valueStart, i);
    }
    params ??= new Map();
    if (!params.has(name)) params.set(name, value);
    pos = i;
  }
  if (params !== null) uri.params = params;
  if (pos < end) {
    if (s.charCodeAt(pos) !== 0x3f) return false;
    uri.headers = s.slice(pos + 1);
  }
  return true;
}

function readHost(s: string, pos: number): number {
  const end = s.length;
  if (pos < end && s.charCodeAt(pos) === 0x5b) {
    const close = s.indexOf(']', pos);
    if (close < 0 || close === pos + 1) return -1;
    for (let i = pos + 1; i < close; i++) {
      const c = s.charCodeAt(i);
      if (!isHex(c) && c !== 0x3a && c !== 0x2e) return -1;
    }
    return close + 1;
  }
  const i = scanHost(s, pos, end);
  return i === pos ? -1 : i;
}

function parseSip(s: string, colon: number, scheme: string): SipUri | null {
  const uri: SipUri = { scheme, user: '', password: '', host: '', port: 0, params: EMPTY_PARAMS, headers: '', raw: s };
  let pos = colon + 1;
  // No '@' may appear after the userinfo in a valid URI, so the first one ends it.
  const at = s.indexOf('@', pos);
  if (at >= 0) {
    const pw = s.indexOf(':', pos);
    if (pw >= 0 && pw < at) {
      uri.user = s.slice(pos, pw);
      uri.password = s.slice(pw + 1, at);
    } else {
      uri.user = s.slice(pos, at);
    }
    if (uri.user === '') return null;
    pos = at + 1;
  }
  const hostEnd = readHost(s, pos);
  if (hostEnd < 0) return null;
  uri.host = s.slice(pos, hostEnd);
  pos = hostEnd;
  if (pos < s.length && s.charCodeAt(pos) === 0x3a) {
    let port = 0;
    let i = pos + 1;
    while (i < s.length && isDigit(s.charCodeAt(i)) && i - pos <= 5) port = port * 10 + s.charCodeAt(i++) - 0x30;
    if (i === pos + 1 || port > 65535) return null;
    uri.port = port;
    pos = i;
  }
  return readTail(s, pos, uri) ? uri : null;
}

function parseTel(s: string, colon: number): SipUri | null {
  const uri: SipUri = { scheme: 'tel', user: '', password: '', host: '', port: 0, params: EMPTY_PARAMS, headers: '', raw: s };
  let end = s.indexOf(';', colon + 1);
  if (end < 0) end = s.length;
  if (end === colon + 1) return null;
  uri.user = s.slice(colon + 1, end);
  if (!readTail(s, end, uri) || uri.headers !== '') return null;
  return uri;
}

/**
 * Parses a `sip:`, `sips:` or `tel:` URI (RFC 3261 §19.1.1, §25.1; RFC 3966). Returns null for
 * any other scheme and for a malformed URI. Scheme matching is case-insensitive.
 */
export function parseUri(s: string): SipUri | null {
  // Scheme by character codes, case-insensitively: startsWith() is a slow call on V8.
  const c0 = s.charCodeAt(0) | 0x20;
  const c1 = s.charCodeAt(1) | 0x20;
  const c2 = s.charCodeAt(2) | 0x20;
  const c3 = s.charCodeAt(3);
  let colon: number;
  let scheme: string;
  if (c0 === 0x73 && c1 === 0x69 && c2 === 0x70) {
    if (c3 === 0x3a) {
      colon = 3;
      scheme = 'sip';
    } else if ((c3 | 0x20) === 0x73 && s.charCodeAt(4) === 0x3a) {
      colon = 4;
      scheme = 'sips';
    } else {
      return null;
    }
  } else if (c0 === 0x74 && c1 === 0x65 && c2 === 0x6c && c3 === 0x3a) {
    colon = 3;
    scheme = 'tel';
  } else {
    return null;
  }
  if (hasUriForbidden(s, colon + 1)) return null;
  return scheme === 'tel' ? parseTel(s, colon) : parseSip(s, colon, scheme);
}

/**
 * True when `s` starts like an absolute URI: `scheme ":"` with scheme = ALPHA *( ALPHA / DIGIT /
 * "+" / "-" / "." ) (RFC 3261 §25.1), followed by at least one character that is not SP, a
 * control, `<`, `>` or `"`. Used where any scheme is allowed (From, To, a Request-URI).
 */
export function isAbsoluteUri(s: string): boolean {
  const colon = s.indexOf(':');
  if (colon < 1 || colon === s.length - 1 || !isAlpha(s.charCodeAt(0))) return false;
  for (let i = 1; i < colon; i++) {
    const c = s.charCodeAt(i);
    if (!isAlpha(c) && !isDigit(c) && c !== 0x2b && c !== 0x2d && c !== 0x2e) return false;
  }
  return !hasUriForbidden(s, colon + 1);
}

/**
 * Decodes `%XX` escapes in a user part (RFC 3261 §19.1.4: `sip:%61lice@…` equals `sip:alice@…`).
 * Escaped octets are read as UTF-8; a `%` not followed by two hex digits is kept as written.
 */
export function unescapeUser(user: string): string {
  if (!user.includes('%')) return user;
  const bytes: number[] = [];
  for (let i = 0; i < user.length; i++) {
    const c = user.charCodeAt(i);
    if (c === 0x25 && i + 2 < user.length && isHex(user.charCodeAt(i + 1)) && isHex(user.charCodeAt(i + 2))) {
      bytes.push(parseInt(user.slice(i + 1, i + 3), 16));
      i += 2;
    } else if (c < 0x80) {
      bytes.push(c);
    } else {
      const cp = user.codePointAt(i) ?? c;
      for (const b of Buffer.from(String.fromCodePoint(cp), 'utf8')) bytes.push(b);
      if (cp > 0xffff) i++;
    }
  }
  return Buffer.from(bytes).toString('utf8');
}

/** `host[:port]`, bracketing a bare IPv6 address; port 0 means no port. */
export function formatHostPort(host: string, port: number): string {
  const h = host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
  return port > 0 ? `${h}:${String(port)}` : h;
}
