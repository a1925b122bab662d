/**
 * uac_auth / uac_auth_mode: in a failure route whose winning reply is a 401 or 407, answer its
 * Digest challenge with credentials for its realm (the `credential` list, or the PVs named by
 * auth_username_avp / auth_password_avp / auth_realm_avp) and add the Authorization or
 * Proxy-Authorization header to the request; the script then calls t_relay() to send it again
 * (Kamailio's uac auth.c). The R-URI is set to the failed branch's, whose URI the digest covers.
 * As in Kamailio without the dialog module, the CSeq is not changed.
 */
import type { Context } from '../host/kemi/context.js';
import type { ModuleHost } from '../host/kemi/types.js';
import { digestAuthorization, parseChallenges } from '../host/http-client/digest.js';
import { routeTypeOf } from '../host/sip/transaction/route-type.js';
import { transactionOf } from '../host/sip/transaction/transaction-layer.js';

export interface Credential {
  readonly user: string;
  readonly realm: string;
  readonly password: string;
}

export interface UacAuthConfig {
  readonly credentials: readonly Credential[];
  /** PV names (auth_username_avp…), null when not configured */
  readonly userPv: string | null;
  readonly passwordPv: string | null;
  readonly realmPv: string | null;
}

/** "username:domain:password" (Kamailio's credential modparam); the password may hold ':'. */
export function parseCredential(s: string): Credential | null {
  const m = /^([^:]+):([^:]+):(.+)$/.exec(s.trim());
  return m === null ? null : { user: m[1] ?? '', realm: m[2] ?? '', password: m[3] ?? '' };
}

function pvText(host: ModuleHost, ctx: Context, name: string | null): string {
  if (name === null) return '';
  const v = host.pvs.resolve(name)?.get(ctx) ?? null;
  return v === null ? '' : String(v);
}

/** The credential for this realm: the PVs first (an empty realm PV matches any realm), then the list. */
function credentialFor(host: ModuleHost, cfg: UacAuthConfig, ctx: Context, realm: string): Credential | null {
  if (cfg.userPv !== null && cfg.passwordPv !== null) {
    const user = pvText(host, ctx, cfg.userPv);
    const password = pvText(host, ctx, cfg.passwordPv);
    const r = pvText(host, ctx, cfg.realmPv);
    if (user !== '' && password !== '' && (r === '' || r === realm)) return { user, realm, password };
  }
  return cfg.credentials.find((c) => c.realm === realm) ?? null;
}

export function uacAuth(host: ModuleHost, cfg: UacAuthConfig, ctx: Context, mode: number): number {
  const fail = (text: string, fields: Record<string, unknown> = {}): number => {
    host.complain(`uac_auth: ${text}`, fields, 'warn');
    return -1;
  };
  const msg = ctx.msg;
  const t = transactionOf(ctx);
  if (routeTypeOf(ctx) !== 'failure' || t === null || msg === null) return fail('only in a failure route');
  const branch = t.routeBranch;
  const reply = branch?.finalReply ?? null;
  const uri = branch?.sentUri() ?? null;
  if (branch === null || reply === null || uri === null) return fail('the winning reply was not received (a timeout or a local reply)');
  const code = reply.status;
  if (code !== 401 && code !== 407) return fail('the winning reply is not 401 or 407', { code });
  const challenges = reply.getHeaders(code === 401 ? 'www-authenticate' : 'proxy-authenticate').flatMap(parseChallenges).filter((c) => c.scheme === 'digest');
  const ch = challenges[0];
  if (ch === undefined) return fail('no Digest challenge in the reply', { code });
  const realm = ch.params.get('realm') ?? '';
  const cred = credentialFor(host, cfg, ctx, realm);
  // Kamailio logs this one at info: a realm we have no account for is not a fault
  if (cred === null) return fail(`no credential for realm "${realm}"`);
  const value = digestAuthorization(ch, cred.user, cred.password, msg.method, uri, undefined, (mode & 1) === 1);
  if (value === null) return fail('the challenge asks for what is not supported here (algorithm, qop=auth-int only)', { algorithm: ch.params.get('algorithm') });
  ctx.newRuri = uri;
  ctx.dset.markRuriNew();
  ctx.headerEdits.append.push(`${code === 401 ? 'Authorization' : 'Proxy-Authorization'}: ${value}\r\n`);
  return 1;
}
