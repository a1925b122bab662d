import { z } from 'zod';
import type { Logger } from 'pino';
import type { Context } from '../host/kemi/context.js';
import { defineModule, fn, type ModuleHost } from '../host/kemi/types.js';
import type { SipMessage } from '../host/sip/message.js';
import { parseNameAddr } from '../host/sip/name-addr.js';
import { isAbsoluteUri, parseUri } from '../host/sip/uri.js';
import { fromOf, parseCredentials, toOf, tryRead } from './msg-fields.js';

/** Kamailio's sanity check bits (sanity_mod.h). */
export const SANITY = {
  RURI_SIP_VERSION: 1 << 0,
  RURI_SCHEME: 1 << 1,
  REQUIRED_HEADERS: 1 << 2,
  VIA_SIP_VERSION: 1 << 3,
  VIA_PROTOCOL: 1 << 4,
  CSEQ_METHOD: 1 << 5,
  CSEQ_VALUE: 1 << 6,
  CL: 1 << 7,
  EXPIRES_VALUE: 1 << 8,
  PROXY_REQUIRE: 1 << 9,
  PARSE_URIS: 1 << 10,
  CHECK_DIGEST: 1 << 11,
  CHECK_DUPTAGS: 1 << 12,
  CHECK_AUTHORIZATION: 1 << 13,
  VIA1_HEADER: 1 << 14,
} as const;

/** Kamailio's URI bits for PARSE_URIS. */
export const SANITY_URI = { RURI: 1 << 0, FROM: 1 << 1, TO: 1 << 2, CONTACT: 1 << 3 } as const;

/** 3047: Kamailio's SANITY_DEFAULT_CHECKS. */
const DEFAULT_CHECKS =
  SANITY.RURI_SIP_VERSION | SANITY.RURI_SCHEME | SANITY.REQUIRED_HEADERS | SANITY.CSEQ_METHOD | SANITY.CSEQ_VALUE |
  SANITY.CL | SANITY.EXPIRES_VALUE | SANITY.PROXY_REQUIRE | SANITY.CHECK_DIGEST;
/** 7: Kamailio's SANITY_DEFAULT_URI_CHECKS. */
const DEFAULT_URI_CHECKS = SANITY_URI.RURI | SANITY_URI.FROM | SANITY_URI.TO;

const params = z
  .object({
    default_checks: z
      .number()
      .int()
      .min(0)
      .max((1 << 15) - 1)
      .default(DEFAULT_CHECKS)
      .describe(
        'Checks run by sanity_check_defaults(), a bit mask: 1 R-URI SIP version, 2 R-URI scheme, 4 required headers, 8 Via SIP version, 16 Via protocol (accepted, not checked, as in Kamailio), 32 CSeq method, 64 CSeq value, 128 Content-Length, 256 Expires, 512 Proxy-Require, 1024 parse URIs, 2048 digest credentials, 4096 duplicate tags, 8192 authorization credentials, 16384 top Via. Default 3047.',
      ),
    uri_checks: z
      .number()
      .int()
      .min(0)
      .max(15)
      .default(DEFAULT_URI_CHECKS)
      .describe('URIs parsed by check 1024 in sanity_check_defaults(), a bit mask: 1 R-URI, 2 From, 4 To, 8 Contact. Default 7.'),
    proxy_require: z
      .string()
      .default('')
      .describe('Comma-separated option tags this server supports in Proxy-Require (case-insensitive); any other fails check 512 with 420. Default: none.'),
    autodrop: z
      .number()
      .int()
      .min(0)
      .default(1)
      .describe(
        'Accepted for compatibility. In Kamailio it only makes the native-config sanity_check() stop the script; the KEMI function returns -1 on a failed check whatever its value, so a script calls KSR.x.exit() itself.',
      ),
    noreply: z
      .number()
      .int()
      .min(0)
      .default(0)
      .describe('0: a failed check replies at once. Non-zero: no reply; the code and reason are kept for KSR.sanity.sanity_reply().'),
  })
  .strict();

interface Pending {
  readonly code: number;
  readonly reason: string;
}

interface SanityState {
  readonly defaultChecks: number;
  readonly uriChecks: number;
  readonly supported: ReadonlySet<string>;
  readonly noreply: boolean;
  readonly log: Logger;
  readonly host: ModuleHost;
  /** A failure that must not be answered (no usable From/To/CSeq/Via): Kamailio's FL_MSG_NOREPLY. */
  readonly mute: WeakSet<Context>;
  /** The reply a failed check asked for, when noreply defers it to sanity_reply(). */
  readonly pending: WeakMap<Context, Pending>;
}

/** One sanity_check() call over one message. Every check returns true when it passed. */
class Run {
  constructor(
    readonly s: SanityState,
    readonly ctx: Context,
    readonly msg: SipMessage,
  ) {}

  /** A failure answered with this status (now, or by sanity_reply() when noreply is set). */
  reject(code: number, reason: string): false {
    this.s.log.debug({ code, reason }, 'sanity check failed');
    const msg = this.msg;
    if (!msg.isRequest || msg.method === 'ACK') return false;
    if (this.s.noreply) {
      this.s.pending.set(this.ctx, { code, reason });
    } else if (!this.s.mute.has(this.ctx)) {
      const sent = this.ctx.owner?.sendReply(this.ctx, code, reason) ?? false;
      if (!sent) this.s.host.complain('sanity check failed and its reply could not be sent', { code, reason }, 'warn');
    }
    return false;
  }

  /** A failure not answered at all, now or later. */
  silent(why: string): false {
    this.s.log.debug({ why }, 'sanity check failed, no reply');
    this.s.mute.add(this.ctx);
    return false;
  }

  ruriSipVersion(): boolean {
    const v = this.msg.version;
    if (!this.msg.isRequest || v === '') return true;
    const slash = v.indexOf('/');
    if (slash < 0) return false;
    return v.slice(slash + 1) === '2.0' || this.reject(505, 'Version Not Supported (R-URI)');
  }

  ruriScheme(): boolean {
    if (!this.msg.isRequest) return true;
    const ruri = this.ctx.ruri;
    if (ruriParses(ruri)) return true;
    // Well-formed but of a scheme we do not support: RFC 3261 §8.2.2.1's 416 (Kamailio answers
    // 400 here, as its parser fails first: docs/compatibility.md).
    if (isAbsoluteUri(ruri)) return this.reject(416, 'Unsupported URI Scheme in Request URI');
    return this.reject(400, 'Bad Request URI');
  }

  requiredHeaders(): boolean {
    for (const name of ['from', 'to', 'call-id', 'cseq']) {
      const n = this.msg.getHeaders(name).length;
      if (n === 0) return this.silent(`missing ${name}`);
      // Kamailio fails a duplicate without replying, too.
      if (n > 1) return false;
    }
    return true;
  }

  via1Header(): boolean {
    const via = tryRead(() => this.msg.topVia);
    return (via !== null && via.host !== '') || this.silent('no usable top Via');
  }

  viaSipVersion(): boolean {
    const via = tryRead(() => this.msg.topVia);
    if (via === null) return this.silent('no usable top Via');
    const [name, version] = via.protocol.split('/');
    return (name?.toUpperCase() === 'SIP' && version === '2.0') || this.reject(505, 'Version Not Supported (Via)');
  }

  /** `<number> <method>` of the CSeq header, or null when absent / unreadable (after muting). */
  private cseq(): { number: string; method: string } | null {
    const raw = this.msg.getHeader('cseq');
    if (raw === undefined) return null;
    const parts = raw.trim().split(/\s+/).filter((p) => p !== '');
    if (parts.length > 2) return null;
    return { number: parts[0] ?? '', method: parts[1] ?? '' };
  }

  cseqMethod(): boolean {
    if (!this.msg.isRequest) return true;
    const c = this.cseq();
    if (c === null) return this.silent('missing or unreadable CSeq');
    if (c.method === '') return this.reject(400, 'Missing method in CSeq header');
    return c.method === this.msg.method || this.reject(400, 'CSeq method does not match request method');
  }

  cseqValue(): boolean {
    const c = this.cseq();
    if (c === null) return this.silent('missing or unreadable CSeq');
    if (c.number === '') return this.reject(400, 'Missing number in CSeq header');
    return isUint32(c.number) || this.reject(400, 'CSeq number is illegal');
  }

  contentLength(): boolean {
    const raw = this.msg.getHeader('content-length');
    if (raw === undefined) return true;
    const v = raw.trim();
    if (!/^[0-9]{1,10}$/.test(v)) return this.reject(400, 'Content-Length Failure');
    return Number(v) === bodyBytes(this.msg) || this.reject(400, 'Content-Length mis-match');
  }

  expiresValue(): boolean {
    const raw = this.msg.getHeader('expires');
    if (raw === undefined) return true;
    const v = raw.trim();
    if (v === '') return this.reject(400, 'Missing number in Expires header');
    return isUint32(v) || this.reject(400, 'Expires value is illegal');
  }

  proxyRequire(): boolean {
    const unsupported: string[] = [];
    for (const el of this.msg.getHeaderElements('proxy-require')) {
      const tag = el.trim();
      if (tag !== '' && !this.s.supported.has(tag.toLowerCase())) unsupported.push(tag);
    }
    if (unsupported.length === 0) return true;
    // RFC 3261 §8.2.2.3: the 420 lists what we do not support.
    this.ctx.replyHeaders.push(`Unsupported: ${unsupported.join(', ')}\r\n`);
    return this.reject(420, 'Bad Proxy Require Extension');
  }

  parseUris(checks: number): boolean {
    const msg = this.msg;
    if ((checks & SANITY_URI.RURI) !== 0 && msg.isRequest && !ruriParses(this.ctx.ruri)) {
      return this.reject(400, 'Bad Request URI');
    }
    if ((checks & SANITY_URI.FROM) !== 0) {
      if (!msg.hasHeader('from')) return this.silent('missing From');
      const na = fromOf(msg);
      if (na === null || parseUri(na.uri) === null) return this.reject(400, 'Invalid From Header');
    }
    if ((checks & SANITY_URI.TO) !== 0) {
      if (!msg.hasHeader('to')) return this.silent('missing To');
      const na = toOf(msg);
      if (na === null || parseUri(na.uri) === null) return this.reject(400, 'Invalid To Header');
    }
    if ((checks & SANITY_URI.CONTACT) !== 0) {
      const contacts = msg.getHeaderElements('contact');
      if (contacts.length === 1 && contacts[0]?.trim() === '*') return true;
      for (const c of contacts) {
        const na = parseNameAddr(c);
        if (na === null) return this.reject(400, 'Bad Contact Header');
        if (parseUri(na.uri) === null) return this.reject(400, 'Bad Contact URI');
      }
    }
    return true;
  }

  /**
   * Digest credentials in every Authorization, then every Proxy-Authorization header. Another
   * scheme ends the check: CHECK_AUTHORIZATION passes it, CHECK_DIGEST fails it (no reply), as
   * in Kamailio.
   */
  credentials(otherSchemePasses: boolean): boolean {
    const headers = [...this.msg.getHeaders('authorization'), ...this.msg.getHeaders('proxy-authorization')];
    for (const h of headers) {
      const cred = parseCredentials(h);
      if (cred === null) return this.reject(400, 'Bad Auth Header');
      if (cred.scheme.toLowerCase() !== 'digest') return otherSchemePasses;
      const p = cred.params;
      const qop = p.get('qop')?.toLowerCase();
      const needs = ['username', 'realm', 'nonce', 'uri', 'response'];
      if (qop === 'auth' || qop === 'auth-int') needs.push('cnonce', 'nc');
      if (needs.some((n) => !p.has(n))) return this.reject(400, 'Bad Auth Credentials');
      if (p.get('username') === '') return this.reject(400, 'Auth Empty User');
      if (p.get('nonce') === '') return this.reject(400, 'Auth Empty Nonce');
      if (p.get('response') === '') return this.reject(400, 'Auth Empty Response');
    }
    return true;
  }

  dupTags(): boolean {
    for (const [name, label] of [['from', 'From'], ['to', 'To']] as const) {
      const value = this.msg.getHeader(name);
      const na = value === undefined ? null : name === 'from' ? fromOf(this.msg) : toOf(this.msg);
      if (value === undefined || na === null) return this.silent(`missing or bad ${label}`);
      if (countTags(value, na.uri) > 1) return this.reject(400, `Many ${label} Tag Params`);
    }
    return true;
  }
}

/** Kamailio's str2valid_uint: 1..10 digits, at most 2^32 - 1. */
/**
 * An R-URI Kamailio's URI parser accepts: sip, sips and tel as parsed here, and also urn
 * (RFC 5031 service URNs such as urn:service:sos, which proxies route) and tels, which it takes
 * without looking inside. Any other scheme fails its parse.
 */
function ruriParses(ruri: string): boolean {
  return parseUri(ruri) !== null || (/^(urn|tels):/i.test(ruri) && isAbsoluteUri(ruri));
}

function isUint32(v: string): boolean {
  return /^[0-9]{1,10}$/.test(v) && Number(v) <= 0xffffffff;
}

/**
 * The bytes after the header section as received, which is what Content-Length must count (a
 * datagram may carry more or less than the header says).
 */
function bodyBytes(msg: SipMessage): number {
  const hb = msg.headerBytes;
  if (Number.isInteger(hb) && hb > 0 && hb <= msg.raw.length) return msg.raw.length - hb;
  return msg.body.length;
}

/** How many `tag` parameters a From/To value carries (the parsed form keeps only the first). */
function countTags(value: string, uri: string): number {
  let at = value.indexOf(uri);
  if (at < 0) return 0;
  at += uri.length;
  if (value.charAt(at) === '>') at++;
  let n = 0;
  for (const p of value.slice(at).split(';').slice(1)) {
    const eq = p.indexOf('=');
    if ((eq < 0 ? p : p.slice(0, eq)).trim().toLowerCase() === 'tag') n++;
  }
  return n;
}

/** Kamailio's sanity_check(): the checks in its order; stops at the first failure. */
function sanityCheck(s: SanityState, ctx: Context, checks: number, uriChecks: number): number {
  const msg = ctx.msg;
  if (msg === null) {
    s.host.complain('sanity_check without a SIP message', {}, 'warn');
    return -1;
  }
  if (s.noreply) s.pending.delete(ctx);
  const r = new Run(s, ctx, msg);
  const on = (bit: number): boolean => (checks & bit) !== 0;
  const passed =
    (!on(SANITY.RURI_SIP_VERSION) || r.ruriSipVersion()) &&
    (!on(SANITY.RURI_SCHEME) || r.ruriScheme()) &&
    (!on(SANITY.REQUIRED_HEADERS) || r.requiredHeaders()) &&
    (!on(SANITY.VIA1_HEADER) || r.via1Header()) &&
    (!on(SANITY.VIA_SIP_VERSION) || r.viaSipVersion()) &&
    // SANITY.VIA_PROTOCOL: accepted, not checked (a no-op in Kamailio too).
    (!on(SANITY.CSEQ_METHOD) || r.cseqMethod()) &&
    (!on(SANITY.CSEQ_VALUE) || r.cseqValue()) &&
    (!on(SANITY.CL) || r.contentLength()) &&
    (!on(SANITY.EXPIRES_VALUE) || r.expiresValue()) &&
    (!on(SANITY.PROXY_REQUIRE) || r.proxyRequire()) &&
    (!on(SANITY.PARSE_URIS) || r.parseUris(uriChecks)) &&
    (!on(SANITY.CHECK_DIGEST) || r.credentials(false)) &&
    (!on(SANITY.CHECK_AUTHORIZATION) || r.credentials(true)) &&
    (!on(SANITY.CHECK_DUPTAGS) || r.dupTags());
  return passed ? 1 : -1;
}

/** Kamailio's ki_sanity_reply: send the reply a failed check deferred (noreply mode). */
function sanityReply(s: SanityState, ctx: Context): number {
  const msg = ctx.msg;
  if (msg === null) return -1;
  if (!msg.isRequest || msg.method === 'ACK' || !s.noreply || s.mute.has(ctx)) return 1;
  const p = s.pending.get(ctx) ?? { code: 500, reason: 'Server Sanity Failure' };
  return ctx.owner?.sendReply(ctx, p.code, p.reason) === true ? 1 : -1;
}

/** KSR.sanity: syntax and semantic checks of a SIP message (Kamailio's sanity module). */
export default defineModule({
  name: 'sanity',
  doc: 'Message sanity checks (Kamailio sanity): version, scheme, required headers, CSeq, Content-Length, Expires, Proxy-Require, URIs, credentials.',
  params,
  init: (host, p): SanityState => {
    const supported = new Set(p.proxy_require.split(',').map((t) => t.trim().toLowerCase()).filter((t) => t !== ''));
    return {
      defaultChecks: p.default_checks,
      uriChecks: p.uri_checks,
      supported,
      noreply: p.noreply !== 0,
      log: host.log,
      host,
      mute: new WeakSet(),
      pending: new WeakMap(),
    };
  },
  functions: {
    sanity_check: fn(['int', 'int'], 'int', (s: SanityState, ctx, checks, uriChecks) => sanityCheck(s, ctx, checks, uriChecks),
      'Run the checks in the first bit mask (URIs of check 1024 from the second); 1 when all pass, -1 at the first failure (after replying to a request unless noreply is set, or the failure leaves nothing to reply to).'),
    sanity_check_defaults: fn([], 'int', (s: SanityState, ctx) => sanityCheck(s, ctx, s.defaultChecks, s.uriChecks),
      'Run the checks of the default_checks and uri_checks parameters; 1 when all pass, -1 at the first failure.'),
    sanity_reply: fn([], 'int', (s: SanityState, ctx) => sanityReply(s, ctx),
      'With noreply set, send the reply the last failed check chose (500 Server Sanity Failure when none); 1 sent or nothing to do, -1 when sending failed.'),
  },
});
