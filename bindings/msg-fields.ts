/**
 * Message fields as the kx, siputils, corex and sanity bindings read them. Header parsing is
 * lazy in host/sip, so a malformed From (say) may only surface when a script asks for it: these
 * helpers turn such a failure into "absent" so a KSR getter returns its Kamailio failure value
 * instead of throwing into the script.
 */
import type { Context } from '../host/kemi/context.js';
import type { SipMessage } from '../host/sip/message.js';
import type { NameAddr } from '../host/sip/name-addr.js';
import { parseUri, type SipUri } from '../host/sip/uri.js';

/** Run a reader of a lazily parsed field; a parse error (thrown) or no value reads as null. */
export function tryRead<T>(read: () => T | null | undefined): T | null {
  try {
    return read() ?? null;
  } catch {
    return null;
  }
}

/** The From header parsed, or null when absent or malformed. */
export function fromOf(msg: SipMessage): NameAddr | null {
  return msg.hasHeader('from') ? tryRead(() => msg.from) : null;
}

/** The To header parsed, or null when absent or malformed. */
export function toOf(msg: SipMessage): NameAddr | null {
  return msg.hasHeader('to') ? tryRead(() => msg.to) : null;
}

/**
 * The current R-URI parsed (Kamailio's parse_sip_msg_uri: the rewritten one when the script set
 * $ru), or null for a reply, no message, or a URI that does not parse.
 */
export function ruriOf(ctx: Context): SipUri | null {
  const msg = ctx.msg;
  if (msg === null || !msg.isRequest) return null;
  return ctx.newRuri === null ? tryRead(() => msg.ruriParsed) : parseUri(ctx.newRuri);
}

/** `ip` as a URI host: an IPv6 address gets brackets. */
export function uriHost(ip: string): string {
  return ip.includes(':') && !ip.startsWith('[') ? `[${ip}]` : ip;
}

/** Parsed `Authorization` / `Proxy-Authorization` credentials (RFC 3261 §25.1, RFC 2617 §3.2.2). */
export interface Credentials {
  /** As written, e.g. `Digest`. */
  readonly scheme: string;
  /** Parameter names lowercased; values with quotes removed and quoted-pairs resolved. */
  readonly params: ReadonlyMap<string, string>;
}

const TOKEN = /^[A-Za-z0-9\-.!%*_+`'~]+$/;

/**
 * Parse `scheme param=value, param="quoted", ...`. Returns null when the text does not follow
 * the grammar; a scheme with no parameters is accepted (params empty).
 */
export function parseCredentials(value: string): Credentials | null {
  const s = value.trim();
  const sp = s.search(/\s/);
  const scheme = sp < 0 ? s : s.slice(0, sp);
  if (!TOKEN.test(scheme)) return null;
  const params = new Map<string, string>();
  let i = sp < 0 ? s.length : sp;
  const end = s.length;
  const skipWs = (): void => {
    while (i < end && /\s/.test(s.charAt(i))) i++;
  };
  skipWs();
  while (i < end) {
    const nameStart = i;
    while (i < end && s.charAt(i) !== '=' && s.charAt(i) !== ',' && !/\s/.test(s.charAt(i))) i++;
    const name = s.slice(nameStart, i).toLowerCase();
    if (!TOKEN.test(name)) return null;
    skipWs();
    if (s.charAt(i) !== '=') return null;
    i++;
    skipWs();
    let val: string;
    if (s.charAt(i) === '"') {
      i++;
      val = '';
      let closed = false;
      while (i < end) {
        const c = s.charAt(i);
        if (c === '\\' && i + 1 < end) {
          val += s.charAt(i + 1);
          i += 2;
        } else if (c === '"') {
          closed = true;
          i++;
          break;
        } else {
          val += c;
          i++;
        }
      }
      if (!closed) return null;
    } else {
      const valStart = i;
      while (i < end && s.charAt(i) !== ',' && !/\s/.test(s.charAt(i))) i++;
      val = s.slice(valStart, i);
      // Unquoted values are tokens in the grammar; be liberal and take anything up to the comma.
      if (val === '') return null;
    }
    if (!params.has(name)) params.set(name, val);
    skipWs();
    if (i < end) {
      if (s.charAt(i) !== ',') return null;
      i++;
      skipWs();
      if (i >= end) return null;
    }
  }
  return { scheme, params };
}

/** The user part of a digest username (`alice@example.com` → `alice`), as Kamailio splits it. */
export function digestUser(username: string): string {
  const at = username.indexOf('@');
  return at < 0 ? username : username.slice(0, at);
}
