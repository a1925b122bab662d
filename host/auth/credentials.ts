/**
 * Digest credentials as a request carries them in Authorization / Proxy-Authorization
 * (RFC 2617 §3.2.2, RFC 3261 §22.4), read the way Kamailio's digest parser reads them, so that
 * what is accepted, skipped or refused matches:
 * - the scheme is `Digest` in any case; another scheme (Basic) is not an error, it is skipped;
 * - a value is a quoted string (ended by the next `"`, no escapes) or a token (ended by space,
 *   tab, CR, LF or comma); an empty value, an unclosed quote or a parameter without `=` is a
 *   parse error, which makes the authentication fail with -1;
 * - `username` "user@domain" (or "sip:user@domain") is split into user and domain.
 */

export type QopKind = 'none' | 'auth' | 'auth-int' | 'other';

/** One Digest credentials header, parsed. Absent parameters are null. */
export interface DigestCredentials {
  /** the username parameter as sent ($aU) */
  readonly username: string | null;
  /** its user part ($au): before '@', after a 'sip:' */
  readonly user: string;
  /** its domain part, after '@' ($ad); '' when none */
  readonly domain: string;
  readonly realm: string | null;
  readonly nonce: string | null;
  readonly uri: string | null;
  readonly response: string | null;
  readonly algorithm: string | null;
  readonly cnonce: string | null;
  readonly opaque: string | null;
  readonly qop: string | null;
  readonly qopKind: QopKind;
  readonly nc: string | null;
}

/** What a header value reads as: credentials, another scheme, or garbage. */
export type ParsedCredentials = { readonly kind: 'digest'; readonly cred: DigestCredentials } | { readonly kind: 'other-scheme' } | { readonly kind: 'malformed' };

const FIELDS = new Set(['username', 'realm', 'nonce', 'uri', 'response', 'algorithm', 'cnonce', 'opaque', 'qop', 'nc']);

function isSpace(c: string): boolean {
  return c === ' ' || c === '\t' || c === '\r' || c === '\n';
}

/** Kamailio's parse_username: "user@domain" → user, domain; a leading "sip:" goes from the user. */
function splitUsername(whole: string): { user: string; domain: string } {
  if (whole.length <= 2) return { user: whole, domain: '' };
  const at = whole.indexOf('@');
  let user = at < 0 ? whole : whole.slice(0, at);
  const domain = at < 0 ? '' : whole.slice(at + 1);
  const colon = user.indexOf(':');
  if (colon >= 0) user = user.slice(colon + 1);
  return { user, domain };
}

function qopKindOf(qop: string | null): QopKind {
  if (qop === null) return 'none';
  const q = qop.trim().toLowerCase();
  if (q === '') return 'none';
  if (q === 'auth') return 'auth';
  if (q === 'auth-int') return 'auth-int';
  return 'other';
}

/** The parameters after the scheme, or null when they do not parse. */
function readParams(s: string, from: number): Map<string, string> | null {
  const out = new Map<string, string>();
  let i = from;
  const end = s.length;
  for (;;) {
    while (i < end && isSpace(s.charAt(i))) i++;
    const eq = s.indexOf('=', i);
    if (eq < 0) return null;
    const name = s.slice(i, eq).trim().toLowerCase();
    if (name === '' || /[\s,"]/.test(name)) return null;
    i = eq + 1;
    while (i < end && isSpace(s.charAt(i))) i++;
    if (i >= end) return null;
    let value: string;
    if (s.charAt(i) === '"') {
      const close = s.indexOf('"', i + 1);
      if (close < 0) return null;
      value = s.slice(i + 1, close);
      i = close + 1;
    } else {
      const start = i;
      while (i < end && !isSpace(s.charAt(i)) && s.charAt(i) !== ',') i++;
      if (i === start) return null;
      value = s.slice(start, i);
    }
    // the first occurrence of a parameter counts, as a repeated one would in Kamailio's str slots
    if (FIELDS.has(name) && !out.has(name)) out.set(name, value);
    const comma = s.indexOf(',', i);
    if (comma < 0) return out;
    i = comma + 1;
  }
}

/** Read one Authorization / Proxy-Authorization header value. */
export function parseDigestCredentials(value: string): ParsedCredentials {
  const s = value.replace(/^[\s]+/, '');
  if (s.length < 6 || s.slice(0, 6).toLowerCase() !== 'digest' || (s.length > 6 && !isSpace(s.charAt(6)))) {
    return { kind: 'other-scheme' };
  }
  const p = readParams(s, 6);
  if (p === null) return { kind: 'malformed' };
  const username = p.get('username') ?? null;
  const { user, domain } = username === null ? { user: '', domain: '' } : splitUsername(username);
  const qop = p.get('qop') ?? null;
  const cred: DigestCredentials = {
    username,
    user,
    domain,
    realm: p.get('realm') ?? null,
    nonce: p.get('nonce') ?? null,
    uri: p.get('uri') ?? null,
    response: p.get('response') ?? null,
    algorithm: p.get('algorithm') ?? null,
    cnonce: p.get('cnonce') ?? null,
    opaque: p.get('opaque') ?? null,
    qop,
    qopKind: qopKindOf(qop),
    nc: p.get('nc') ?? null,
  };
  return { kind: 'digest', cred };
}

/**
 * Kamailio's check_dig_cred: what must be there before a response can be checked — username,
 * realm, nonce, uri and response; cnonce and nc too with qop auth or auth-int. null when
 * complete, else the first missing parameter (for the log line).
 */
export function missingParameter(c: DigestCredentials): string | null {
  if (c.username === null) return 'username';
  if (c.realm === null) return 'realm';
  if (c.nonce === null) return 'nonce';
  if (c.uri === null) return 'uri';
  if (c.response === null) return 'response';
  if (c.qopKind === 'auth' || c.qopKind === 'auth-int') {
    if (c.cnonce === null) return 'cnonce';
    if (c.nc === null) return 'nc';
  }
  return null;
}
