/**
 * What auth_db's functions do with a request, as Kamailio's authorize.c does it: the HA1 from
 * the subscriber row (computed from the clear password with calculate_ha1, else the ha1 or
 * ha1b column), the response checked with the auth module's api, the identity check of
 * auth_check, load_credentials into pseudo-variables.
 */
import { isKemiError } from '../../host/errors.js';
import type { Context } from '../../host/kemi/context.js';
import type { ModuleHost } from '../../host/kemi/types.js';
import { parseUri } from '../../host/sip/uri.js';
import type { SubscriberRow, SubscriberStore } from '../../host/subscribers/store.js';
import type { DigestCredentials } from '../../host/auth/credentials.js';
import { AUTH, type AuthApi, type CredHeader } from '../auth/api.js';
import { identityCheck } from '../auth/functions.js';
import { on } from '../auth/params.js';
import type { AuthDbParams, CredentialColumn } from './params.js';

export interface AuthDbState {
  readonly host: ModuleHost;
  readonly p: AuthDbParams;
  readonly auth: AuthApi;
  readonly credentials: readonly CredentialColumn[];
  /** null until start() has opened the store */
  store: SubscriberStore | null;
  readonly c: { readonly dbErrors: { value: number } };
}

/** The row, null for none, or AUTH.ERROR when the store could not answer (logged). */
function lookup(s: AuthDbState, table: string, user: string, domain: string | null): SubscriberRow | null | typeof AUTH.ERROR {
  if (s.store === null) {
    s.host.complain('auth_db: no subscriber table (add a modules.auth_db section to the config to open it)', {}, 'warn');
    return AUTH.ERROR;
  }
  try {
    return s.store.find(table, user, domain);
  } catch (e) {
    s.c.dbErrors.value++;
    s.host.complain('auth_db: subscriber lookup failed', { table, err: isKemiError(e) ? e.message : String(e) });
    return AUTH.ERROR;
  }
}

/** load_credentials: each column's value into its pseudo-variable (SQL NULL sets nothing). */
function loadCredentials(s: AuthDbState, ctx: Context, row: SubscriberRow): void {
  for (const c of s.credentials) {
    const v = row[c.column];
    if (v === null || v === undefined) continue;
    const pv = s.host.pvs.resolve(c.pv);
    if (pv?.set === undefined) {
      s.host.complain('auth_db: load_credentials names a pseudo-variable that cannot be set', { pv: c.pv });
      continue;
    }
    pv.set(ctx, v);
  }
}

/** Kamailio's digest_authenticate_hdr: the check, and the credentials it used (null when none was checked). */
export function digestAuthenticate(s: AuthDbState, ctx: Context, realm: string, table: string, which: CredHeader, method: string): { code: number; cred: DigestCredentials | null } {
  const got: { row: SubscriberRow | null } = { row: null };
  const r = s.auth.authenticate(ctx, realm, which, method, (cred, stripped) => {
    const domain = on(s.p.use_domain) ? (cred.domain !== '' ? cred.domain : stripped) : null;
    const found = lookup(s, table, cred.user, domain);
    if (found === AUTH.ERROR) return AUTH.ERROR;
    if (found === null) return AUTH.USER_UNKNOWN;
    got.row = found;
    if (on(s.p.force_generate_avps)) loadCredentials(s, ctx, found);
    const calc = on(s.p.calculate_ha1);
    const col = !calc && cred.domain !== '' ? s.p.password_column_2 : s.p.password_column;
    const value = String(found[col] ?? '');
    return calc ? s.auth.ha1(cred.username ?? '', stripped, value) : value;
  });
  if (r.code === AUTH.OK && got.row !== null && !on(s.p.force_generate_avps)) loadCredentials(s, ctx, got.row);
  return { code: r.code, cred: r.cred };
}

/** KSR.auth_db.auth_check: www for REGISTER, proxy otherwise; flags 1 (and 2) the identity check. */
export function authCheck(s: AuthDbState, ctx: Context, realm: string, table: string, flags: number): number {
  const msg = ctx.msg;
  if (msg === null || !msg.isRequest) return AUTH.ERROR;
  if (msg.method === 'ACK' || msg.method === 'CANCEL') return AUTH.OK;
  if (realm === '' || table === '') {
    s.host.complain('auth_check: empty realm or table');
    return AUTH.ERROR;
  }
  const which: CredHeader = msg.method === 'REGISTER' ? 'authorization' : 'proxy-authorization';
  const r = digestAuthenticate(s, ctx, realm, table, which, msg.method);
  if (r.code !== AUTH.OK || r.cred === null || (flags & 1) === 0) return r.code;
  return identityCheck(ctx, r.cred.user, on(s.p.use_domain), (flags & 2) !== 0);
}

/** KSR.auth_db.www_authenticate & co: the check with Authorization or Proxy-Authorization. */
export function authenticateWith(s: AuthDbState, ctx: Context, realm: string, table: string, which: CredHeader, method: string | null): number {
  const msg = ctx.msg;
  if (msg === null || !msg.isRequest) return AUTH.ERROR;
  if (realm === '' || table === '' || method === '') {
    s.host.complain('auth_db: empty realm, table or method');
    return AUTH.ERROR;
  }
  return digestAuthenticate(s, ctx, realm, table, which, method ?? msg.method).code;
}

/**
 * KSR.auth_db.is_subscriber: 1 when the URI's user (flags&1: and host) is in the table, with
 * its load_credentials values set unless flags&2; -2 when not; -1 bad URI, table or database.
 */
export function isSubscriber(s: AuthDbState, ctx: Context, uri: string, table: string, flags: number): number {
  const u = uri === '' ? null : parseUri(uri);
  if (u === null || table === '') {
    s.host.complain('is_subscriber: not a URI, or no table', { uri });
    return -1;
  }
  const found = lookup(s, table, u.user, (flags & 1) !== 0 && u.host !== '' ? u.host : null);
  if (found === AUTH.ERROR) return -1;
  if (found === null) return -2;
  if ((flags & 2) === 0) loadCredentials(s, ctx, found);
  return 1;
}
