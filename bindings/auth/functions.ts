/**
 * The KSR.auth functions, as Kamailio's auth module implements its KEMI exports (auth_mod.c):
 * challenges sent with sl's send_reply, pv_*_authenticate with the password from the script,
 * the From/To identity check of pv_auth_check, has/consume_credentials.
 */
import type { Context } from '../../host/kemi/context.js';
import { parseUri, type SipUri } from '../../host/sip/uri.js';
import { fromOf, ruriOf, toOf } from '../msg-fields.js';
import { AUTH, neverChallenged, type AuthApi, type CredHeader } from './api.js';
import { on } from './params.js';
import { parseDigestCredentials } from '../../host/auth/credentials.js';

/** The header a request answers with: Authorization for REGISTER (401), Proxy-Authorization otherwise (407). */
export function credHeaderFor(ctx: Context): CredHeader {
  return ctx.msg?.method === 'REGISTER' ? 'authorization' : 'proxy-authorization';
}

function sendVia(api: AuthApi, ctx: Context, code: number, reason: string): boolean {
  const owner = ctx.owner;
  if (owner === null) return false;
  return on(api.p.force_stateless_reply) ? owner.sendReply(ctx, code, reason) : owner.reply(ctx, code, reason);
}

/**
 * Kamailio's auth_challenge_helper: 1 challenge sent; -2 it could not be built (and a 500 is
 * sent unless flag 4; -4 when that fails too); -3 the reply could not be sent; -1 not a request.
 * Flags: 1 qop=auth, 2 qop=auth-int, 4 no 500 on failure, 16 stale=true.
 */
export function challenge(api: AuthApi, ctx: Context, realm: string, flags: number, which: CredHeader): number {
  const msg = ctx.msg;
  if (msg === null || !msg.isRequest) {
    api.host.complain('auth challenge for something that is not a SIP request');
    return AUTH.ERROR;
  }
  const qop = (flags & 2) !== 0 ? 'auth-int' : (flags & 1) !== 0 ? 'auth' : null;
  const line = api.challengeLine(ctx, realm, qop, (flags & 16) !== 0, which);
  if (line === null) {
    api.host.complain('realm cannot be put in a challenge (quote, backslash or line break)', { realm });
    if ((flags & 4) === 0 && !sendVia(api, ctx, 500, 'Internal Server Error')) return -4;
    return -2;
  }
  ctx.replyHeaders.push(line);
  const sent = which === 'authorization' ? sendVia(api, ctx, 401, 'Unauthorized') : sendVia(api, ctx, 407, 'Proxy Authentication Required');
  return sent ? 1 : -3;
}

/**
 * Kamailio's pv_authenticate: check the credentials for the realm against a password (flags&1:
 * an HA1) given by the script; on failure, flags 2/4/8 put a challenge in challenge_attr's AVP.
 */
export function pvAuthenticate(api: AuthApi, ctx: Context, realm: string, passwd: string, flags: number, which: CredHeader, method: string): number {
  const r = api.authenticate(ctx, realm, which, method, (cred, stripped) => ((flags & 1) !== 0 ? passwd : api.ha1(cred.username ?? '', stripped, passwd)));
  if (r.code >= 0 || (flags & 14) === 0) return r.code;
  return api.challengeToAvp(ctx, realm, flags, r.stale, which) ? r.code : AUTH.ERROR;
}

/** The user part of the credentials Kamailio's identity check reads: the first Proxy-Authorization, else the first Authorization. */
function credentialsUser(ctx: Context): string | null {
  const msg = ctx.msg;
  if (msg === null) return null;
  const value = msg.getHeader('proxy-authorization') ?? msg.getHeader('authorization');
  if (value === undefined) return null;
  const p = parseDigestCredentials(value);
  return p.kind === 'digest' ? p.cred.user : '';
}

function uriOfHeader(v: { uri: string } | null): SipUri | null {
  return v === null ? null : parseUri(v.uri);
}

/**
 * The identity check of pv_auth_check and auth_check (flag 1): the authentication user must be
 * the From user (REGISTER and PUBLISH: the To user, and From must equal To; PUBLISH: the R-URI
 * user too). `useDomain` also compares the domains there; `skipAnonymous` (auth_check flag 2)
 * skips the user comparison for INVITE, BYE, PRACK, UPDATE and MESSAGE. 1, -8 or -1.
 */
export function identityCheck(ctx: Context, authUser: string, useDomain: boolean, skipAnonymous: boolean): number {
  const msg = ctx.msg;
  if (msg === null) return AUTH.ERROR;
  const from = uriOfHeader(fromOf(msg));
  if (from === null) return AUTH.ERROR;
  const registerLike = msg.method === 'REGISTER' || msg.method === 'PUBLISH';
  const to = registerLike ? uriOfHeader(toOf(msg)) : null;
  if (registerLike && to === null) return AUTH.ERROR;
  const compared = to ?? from;
  const anonymousOk = skipAnonymous && ['INVITE', 'BYE', 'PRACK', 'UPDATE', 'MESSAGE'].includes(msg.method);
  if (!anonymousOk && authUser !== compared.user) return AUTH.USER_MISMATCH;
  if (to !== null) {
    if (from.user !== to.user) return AUTH.USER_MISMATCH;
    if (useDomain && from.host !== to.host) return AUTH.USER_MISMATCH;
    if (msg.method === 'PUBLISH') {
      const ruri = ruriOf(ctx);
      if (ruri === null) return AUTH.ERROR;
      if (from.user !== ruri.user) return AUTH.USER_MISMATCH;
      if (useDomain && from.host !== ruri.host) return AUTH.USER_MISMATCH;
    }
  }
  return AUTH.OK;
}

/** KSR.auth.pv_auth_check: pv_www_authenticate for REGISTER, pv_proxy_authenticate otherwise, then checks&1: the identity check. */
export function pvAuthCheck(api: AuthApi, ctx: Context, realm: string, passwd: string, flags: number, checks: number): number {
  const msg = ctx.msg;
  if (msg === null || !msg.isRequest) return AUTH.ERROR;
  const rc = pvAuthenticate(api, ctx, realm, passwd, flags, credHeaderFor(ctx), msg.method);
  if (rc !== AUTH.OK || (checks & 1) === 0) return rc;
  if (neverChallenged(msg.method)) return AUTH.OK;
  const user = credentialsUser(ctx);
  if (user === null) return AUTH.ERROR;
  return identityCheck(ctx, user, on(api.p.use_domain), false);
}

/** KSR.auth.has_credentials: Proxy-Authorization or Authorization with this realm (1), else -1. */
export function hasCredentials(api: AuthApi, ctx: Context, realm: string): number {
  const msg = ctx.msg;
  if (msg === null) return -1;
  for (const which of ['proxy-authorization', 'authorization'] as const) {
    const f = api.find(msg, realm, which);
    if (typeof f !== 'string') return 1;
  }
  return -1;
}

/**
 * KSR.auth.consume_credentials: the credentials header the last check used is left out of
 * the request this server sends on. -1 for ACK, CANCEL, PRACK, or when no check found one.
 */
export function consumeCredentials(api: AuthApi, ctx: Context): number {
  const msg = ctx.msg;
  if (msg === null || !msg.isRequest || neverChallenged(msg.method)) return -1;
  const index = api.authorizedIndex(msg);
  if (index === null) {
    api.host.complain('consume_credentials: no credentials were checked for this request');
    return -1;
  }
  ctx.headerEdits.remove.add(`#${String(index)}`);
  return 1;
}

/** KSR.auth.auth_get_www_authenticate: the WWW-Authenticate line (nonce bound to nothing) into a PV. */
export function getWwwAuthenticate(api: AuthApi, ctx: Context, realm: string, flags: number, pvName: string): number {
  const pv = api.host.pvs.resolve(pvName);
  if (pv?.set === undefined) {
    api.host.complain('auth_get_www_authenticate: not a writable pseudo-variable', { pv: pvName });
    return -1;
  }
  const qop = (flags & 2) !== 0 ? 'auth-int' : (flags & 1) !== 0 ? 'auth' : null;
  const line = api.challengeLine(null, realm, qop, (flags & 16) !== 0, 'authorization');
  if (line === null) return -2;
  pv.set(ctx, line);
  return 1;
}

/** KSR.auth.auth_algorithm: switch the algorithm for what follows (MD5 or SHA-256); -1 for another. */
export function setAlgorithm(api: AuthApi, alg: string): number {
  if (alg !== 'MD5' && alg !== 'SHA-256') {
    api.host.complain('auth_algorithm: MD5 and SHA-256 are supported', { algorithm: alg });
    return -1;
  }
  api.algorithm = alg;
  api.algorithmNamed = true;
  return 1;
}
