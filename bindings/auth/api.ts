/**
 * The digest authentication steps every auth backend shares — what Kamailio's auth module
 * offers auth_db through bind_auth_s: find the credentials for a realm, check their nonce,
 * check the response against an HA1, mark them for consume_credentials, build challenges.
 * KSR.auth uses it directly (pv_auth_check: the password comes from the script); KSR.auth_db
 * gets it with ModuleHost.api('auth') and brings the HA1 from the subscriber table.
 *
 * Return codes are Kamailio's (auth/api.h), and so are the cases that produce them.
 */
import { timingSafeEqual } from 'node:crypto';
import type { Context } from '../../host/kemi/context.js';
import type { Counter } from '../../host/kemi/stats.js';
import type { ModuleHost } from '../../host/kemi/types.js';
import { missingParameter, parseDigestCredentials, type DigestCredentials, type ParsedCredentials } from '../../host/auth/credentials.js';
import { ha1Of, hexLength, requestDigest, responseAuth, type DigestAlgorithm } from '../../host/auth/digest.js';
import { checkBytes } from '../../host/auth/nonce-codec.js';
import { Nonces } from '../../host/auth/nonces.js';
import type { SipMessage } from '../../host/sip/message.js';
import { challengeAvpName, on, type AuthParams } from './params.js';

/** What the auth functions return to the script (Kamailio's auth_cfg_result_t). */
export const AUTH = {
  OK: 1,
  ERROR: -1,
  INVALID_PASSWORD: -2,
  USER_UNKNOWN: -3,
  STALE_NONCE: -4,
  NO_CREDENTIALS: -5,
  NONCE_REUSED: -6,
  USER_MISMATCH: -8,
} as const;

/** Which credentials header: Authorization (answers a 401) or Proxy-Authorization (a 407). */
export type CredHeader = 'authorization' | 'proxy-authorization';

/** Requests that are never challenged: an ACK has no reply, a CANCEL must match its INVITE. */
export function neverChallenged(method: string): boolean {
  return method === 'ACK' || method === 'CANCEL' || method === 'PRACK';
}

/** What pre_auth found: nothing to check (ACK…), a failure code, or credentials to check. */
export type PreAuth =
  | { readonly kind: 'authenticated' }
  | { readonly kind: 'fail'; readonly code: number; readonly stale: boolean }
  | { readonly kind: 'check'; readonly cred: DigestCredentials; readonly index: number };

/** Per received message: its credentials headers parsed once, and the one that was checked. */
interface MessageAuth {
  readonly parsed: Map<number, ParsedCredentials>;
  authorization: number | null;
  proxy: number | null;
}

export class AuthApi {
  readonly nonces: Nonces;
  /** the digest algorithm in use; `algorithmNamed`: challenges name it (the parameter or auth_algorithm set it) */
  algorithm: DigestAlgorithm;
  algorithmNamed: boolean;
  private readonly perMessage = new WeakMap<SipMessage, MessageAuth>();
  private readonly challengeAvp: string;
  /** auth:authenticated and auth:failed, for auth's checks and auth_db's alike */
  private readonly ok: Counter;
  private readonly notOk: Counter;

  constructor(
    readonly host: ModuleHost,
    readonly p: AuthParams,
  ) {
    const nc = on(p.nonce_count) && p.qop !== '';
    if (on(p.nonce_count) && p.qop === '') host.log.warn('nonce_count needs qop set (auth or auth-int): nonce_count is off, as in Kamailio');
    this.nonces = new Nonces({
      secret: p.secret ?? null,
      expireS: p.nonce_expire,
      maxDriftS: p.nonce_auth_max_drift,
      ncSlots: nc ? (p.nc_array_order > 0 ? 2 ** p.nc_array_order : p.nc_array_size) : 0,
      otnSlots: on(p.one_time_nonce) ? (p.otn_in_flight_order > 0 ? 2 ** p.otn_in_flight_order : p.otn_in_flight_no) : 0,
    });
    this.algorithm = p.algorithm === 'SHA-256' ? 'SHA-256' : 'MD5';
    this.algorithmNamed = p.algorithm !== '';
    this.challengeAvp = challengeAvpName(p.challenge_attr);
    this.ok = host.stat('authenticated');
    this.notOk = host.stat('failed');
  }

  /** Count a check's result (auth:authenticated / auth:failed) and return it. */
  count(rc: number): number {
    if (rc === AUTH.OK) this.ok.value++;
    else this.notOk.value++;
    return rc;
  }

  /** realm_prefix taken off the front of a realm (Kamailio's strip_realm) */
  stripRealm(realm: string): string {
    const pre = this.p.realm_prefix;
    return pre !== '' && realm.startsWith(pre) ? realm.slice(pre.length) : realm;
  }

  private state(msg: SipMessage): MessageAuth {
    let s = this.perMessage.get(msg);
    if (s === undefined) {
      s = { parsed: new Map(), authorization: null, proxy: null };
      this.perMessage.set(msg, s);
    }
    return s;
  }

  /**
   * Kamailio's find_credentials: the first header of that kind whose Digest realm equals
   * `realm` (case-insensitively). Another scheme is skipped; a header that does not parse
   * makes it 'malformed' (the functions then return -1).
   */
  find(msg: SipMessage, realm: string, which: CredHeader): { index: number; cred: DigestCredentials } | 'none' | 'malformed' {
    const s = this.state(msg);
    const headers = msg.headers;
    const want = realm.toLowerCase();
    for (let i = 0; i < headers.length; i++) {
      const h = headers[i];
      if (h?.name !== which) continue;
      let parsed = s.parsed.get(i);
      if (parsed === undefined) {
        parsed = parseDigestCredentials(h.value);
        s.parsed.set(i, parsed);
      }
      if (parsed.kind === 'malformed') return 'malformed';
      if (parsed.kind === 'digest' && parsed.cred.realm?.toLowerCase() === want) return { index: i, cred: parsed.cred };
    }
    return 'none';
  }

  /** Which auth_checks_* value applies to this request (Kamailio's get_auth_checks). */
  checksFor(msg: SipMessage | null): number {
    if (msg === null) return 0;
    if (msg.method === 'REGISTER') return this.p.auth_checks_register;
    let toTag = '';
    try {
      toTag = msg.to.tag;
    } catch {
      // a To that does not parse counts as no tag, as in Kamailio
    }
    return toTag !== '' ? this.p.auth_checks_in_dlg : this.p.auth_checks_no_dlg;
  }

  /** The bytes a nonce for this request is bound to; null when no check is selected. */
  checkData(ctx: Context | null): Buffer | null {
    const msg = ctx?.msg ?? null;
    const cfg = this.checksFor(msg);
    if (cfg === 0 || ctx === null || msg === null) return null;
    let fromTag = '';
    try {
      fromTag = msg.from.tag;
    } catch {
      // no usable From: the tag counts as empty, as Kamailio skips what it cannot parse
    }
    return checkBytes(cfg, { ruri: ctx.ruri, callId: msg.callId, fromTag, srcIp: ctx.src.ip });
  }

  /** Kamailio's pre_auth: find the credentials for the realm, check they are complete and their nonce. */
  preAuth(ctx: Context, realm: string, which: CredHeader): PreAuth {
    const msg = ctx.msg;
    if (msg === null || !msg.isRequest) return { kind: 'fail', code: AUTH.ERROR, stale: false };
    if (neverChallenged(msg.method)) return { kind: 'authenticated' };
    const found = this.find(msg, realm, which);
    if (found === 'malformed') {
      this.host.complain('credentials that do not parse', { header: which }, 'info');
      return { kind: 'fail', code: AUTH.ERROR, stale: false };
    }
    if (found === 'none') return { kind: 'fail', code: AUTH.NO_CREDENTIALS, stale: false };
    const s = this.state(msg);
    if (which === 'authorization') s.authorization = found.index;
    else s.proxy = found.index;
    const missing = missingParameter(found.cred);
    if (missing !== null) {
      this.host.complain('credentials without a required parameter', { missing }, 'info');
      return { kind: 'fail', code: AUTH.ERROR, stale: false };
    }
    const verdict = this.nonces.verify(found.cred.nonce ?? '', found.cred.nc, this.checkData(ctx));
    switch (verdict) {
      case 'ok':
        return { kind: 'check', cred: found.cred, index: found.index };
      case 'stale':
        return { kind: 'fail', code: AUTH.STALE_NONCE, stale: true };
      case 'reused':
        return { kind: 'fail', code: AUTH.NONCE_REUSED, stale: false };
      case 'invalid':
        return { kind: 'fail', code: AUTH.ERROR, stale: false };
    }
  }

  /** Kamailio's auth_check_response: -1 for a response of the wrong length, -2 when it differs. */
  checkResponse(ctx: Context, cred: DigestCredentials, method: string, ha1: string): number {
    const got = cred.response ?? '';
    const len = hexLength(this.algorithm);
    if (got.length !== len) return AUTH.ERROR;
    const want = requestDigest(this.algorithm, {
      ha1, nonce: cred.nonce ?? '', method, uri: cred.uri ?? '', qop: cred.qop, nc: cred.nc, cnonce: cred.cnonce, body: ctx.msg?.body ?? Buffer.alloc(0),
    });
    const a = Buffer.from(want);
    const b = Buffer.from(got);
    return a.length === b.length && timingSafeEqual(a, b) ? AUTH.OK : AUTH.INVALID_PASSWORD;
  }

  /** HA1 from a clear password, with this module's algorithm. */
  ha1(username: string, realm: string, password: string): string {
    return ha1Of(this.algorithm, username, realm, password);
  }

  /** After a successful check: Authentication-Info for the reply, when add_authinfo_hdr is on. */
  postAuth(ctx: Context, cred: DigestCredentials, ha1: string): void {
    if (!on(this.p.add_authinfo_hdr)) return;
    const rspauth = responseAuth(this.algorithm, { ha1, nonce: cred.nonce ?? '', uri: cred.uri ?? '', qop: cred.qop, nc: cred.nc, cnonce: cred.cnonce });
    const next = on(this.p.one_time_nonce) ? this.nonces.issue(this.checkData(ctx)) : (cred.nonce ?? '');
    ctx.replyHeaders.push(`Authentication-Info: nextnonce="${next}", qop=${cred.qop ?? ''}, rspauth="${rspauth}", cnonce="${cred.cnonce ?? ''}", nc=${cred.nc ?? ''}\r\n`);
  }

  /**
   * The whole check (Kamailio's pv_authenticate / digest_authenticate): `ha1For` gives the HA1
   * for the credentials, or a negative code (user unknown, database error).
   */
  authenticate(ctx: Context, realm: string, which: CredHeader, method: string, ha1For: (cred: DigestCredentials, realm: string) => string | number): { code: number; stale: boolean; cred: DigestCredentials | null } {
    const r = this.stripRealm(realm);
    const pre = this.preAuth(ctx, r, which);
    if (pre.kind === 'authenticated') return { code: AUTH.OK, stale: false, cred: null };
    if (pre.kind === 'fail') return { code: pre.code, stale: pre.stale, cred: null };
    const ha1 = ha1For(pre.cred, r);
    if (typeof ha1 === 'number') return { code: ha1, stale: false, cred: pre.cred };
    const rc = this.checkResponse(ctx, pre.cred, method, ha1);
    if (rc === AUTH.OK) this.postAuth(ctx, pre.cred, ha1);
    return { code: rc, stale: false, cred: pre.cred };
  }

  /**
   * The challenge header line ("WWW-Authenticate: Digest realm=…, nonce=…\r\n"), its nonce bound
   * to ctx's request when auth_checks_* say so; null when the realm cannot go in a header.
   */
  challengeLine(ctx: Context | null, realm: string, qop: 'auth' | 'auth-int' | null, stale: boolean, which: CredHeader): string | null {
    const r = this.stripRealm(realm);
    if (/["\\\r\n]/.test(r)) return null;
    const name = which === 'proxy-authorization' ? this.p.proxy_challenge_header : this.p.www_challenge_header;
    const nonce = this.nonces.issue(this.checkData(ctx));
    const alg = this.algorithmNamed ? `, algorithm=${this.algorithm}` : '';
    return `${name}: Digest realm="${r}", nonce="${nonce}"${qop === null ? '' : `, qop="${qop}"`}${stale ? ', stale=true' : ''}${alg}\r\n`;
  }

  /** pv_*_authenticate flags 2, 4, 8: a challenge header into challenge_attr's AVP; false when it could not be built. */
  challengeToAvp(ctx: Context, realm: string, flags: number, stale: boolean, which: CredHeader): boolean {
    const qop = (flags & 8) !== 0 ? 'auth-int' : (flags & 4) !== 0 ? 'auth' : null;
    const line = this.challengeLine(ctx, realm, qop, stale, which);
    if (line === null) return false;
    const list = ctx.avps.get(this.challengeAvp);
    if (list === undefined) ctx.avps.set(this.challengeAvp, [line]);
    else list.unshift(line);
    return true;
  }

  /** The index of the credentials header the last check used (Authorization first, as Kamailio looks). */
  authorizedIndex(msg: SipMessage): number | null {
    const s = this.perMessage.get(msg);
    return s?.authorization ?? s?.proxy ?? null;
  }
}
