/**
 * KSR.auth: digest authentication (Kamailio's auth module). Kamailio 5.6 exports four functions
 * to KEMI (auth_challenge, consume_credentials, has_credentials, pv_auth_check); the others here
 * are the KEMI exports later Kamailio versions added for what 5.6 offers only to its native
 * config (www_challenge, pv_www_authenticate…), so scripts written for those run too.
 * docs/auth.md: parameters, the nonce, replay protection.
 */
import type { Context } from '../../host/kemi/context.js';
import type { Counter } from '../../host/kemi/stats.js';
import { defineModule, fn } from '../../host/kemi/types.js';
import { AuthApi } from './api.js';
import { challenge, consumeCredentials, credHeaderFor, getWwwAuthenticate, hasCredentials, pvAuthCheck, pvAuthenticate, setAlgorithm } from './functions.js';
import { authParams } from './params.js';
import { authPvs } from './pvs.js';

interface AuthState {
  readonly api: AuthApi;
  readonly challenges: Counter;
}

function countChallenge(s: AuthState, rc: number): number {
  if (rc === 1) s.challenges.value++;
  return rc;
}

function countCheck(s: AuthState, rc: number): number {
  return s.api.count(rc);
}

function method(ctx: Context): string {
  return ctx.msg?.method ?? '';
}

export default defineModule({
  name: 'auth',
  doc: 'Digest authentication: challenges, credentials checked against a password from the script, nonces with replay protection.',
  params: authParams,
  stats: ['challenges', 'authenticated', 'failed'],
  init: (host, p): AuthState => ({
    api: new AuthApi(host, p),
    challenges: host.stat('challenges'),
  }),
  api: (s: AuthState) => s.api,
  pvArgs: { auth_get_www_authenticate: [2] },
  pvs: authPvs,
  functions: {
    auth_challenge: fn(['str', 'int'], 'int', (s: AuthState, ctx, realm, flags) => countChallenge(s, challenge(s.api, ctx, realm, flags, credHeaderFor(ctx))),
      'Challenge the request: 401 with WWW-Authenticate for a REGISTER, 407 with Proxy-Authenticate otherwise. Flags: 1 qop=auth, 2 qop=auth-int, 4 no 500 when the challenge cannot be built, 16 stale=true. 1 sent; -2 not built; -3 not sent; -4 the 500 not sent either.'),
    www_challenge: fn(['str', 'int'], 'int', (s: AuthState, ctx, realm, flags) => countChallenge(s, challenge(s.api, ctx, realm, flags, 'authorization')),
      'Challenge with 401 and WWW-Authenticate (flags and results as auth_challenge). Not a KEMI export in Kamailio 5.6 (it is in later versions).'),
    proxy_challenge: fn(['str', 'int'], 'int', (s: AuthState, ctx, realm, flags) => countChallenge(s, challenge(s.api, ctx, realm, flags, 'proxy-authorization')),
      'Challenge with 407 and Proxy-Authenticate (flags and results as auth_challenge). Not a KEMI export in Kamailio 5.6 (it is in later versions).'),
    pv_auth_check: fn(['str', 'str', 'int', 'int'], 'int', (s: AuthState, ctx, realm, passwd, flags, checks) => countCheck(s, pvAuthCheck(s.api, ctx, realm, passwd, flags, checks)),
      'Check the request\'s credentials for the realm (Authorization for REGISTER, Proxy-Authorization otherwise) against passwd (flags&1: passwd is the HA1; 2/4/8: on failure a challenge without qop/with auth/with auth-int goes to $avp(digest_challenge)). checks&1: the auth user must be the From user (REGISTER: the To user, From = To). 1 ok; -1 error (malformed, forged nonce); -2 wrong password; -4 stale nonce; -5 no credentials; -6 nonce reused; -8 user mismatch.'),
    pv_www_authenticate: fn(['str', 'str', 'int'], 'int', (s: AuthState, ctx, realm, passwd, flags) => countCheck(s, pvAuthenticate(s.api, ctx, realm, passwd, flags, 'authorization', method(ctx))),
      'Check Authorization credentials against passwd (flags and results as pv_auth_check, without -8). Not a KEMI export in Kamailio 5.6 (it is in later versions).'),
    pv_www_authenticate_method: fn(['str', 'str', 'int', 'str'], 'int', (s: AuthState, ctx, realm, passwd, flags, m) => countCheck(s, pvAuthenticate(s.api, ctx, realm, passwd, flags, 'authorization', m)),
      'pv_www_authenticate with the method for the digest given (not the request\'s). Not a KEMI export in Kamailio 5.6.'),
    pv_proxy_authenticate: fn(['str', 'str', 'int'], 'int', (s: AuthState, ctx, realm, passwd, flags) => countCheck(s, pvAuthenticate(s.api, ctx, realm, passwd, flags, 'proxy-authorization', method(ctx))),
      'Check Proxy-Authorization credentials against passwd (flags and results as pv_auth_check, without -8). Not a KEMI export in Kamailio 5.6 (it is in later versions).'),
    has_credentials: fn(['str'], 'int', (s: AuthState, ctx, realm) => hasCredentials(s.api, ctx, realm),
      '1 when the request has Proxy-Authorization or Authorization Digest credentials with this realm, else -1.'),
    consume_credentials: fn([], 'int', (s: AuthState, ctx) => consumeCredentials(s.api, ctx),
      'Leave the credentials header the last check used out of the request sent on. 1 done; -1 for ACK, CANCEL, PRACK or when no check found credentials.'),
    auth_get_www_authenticate: fn(['str', 'int', 'str'], 'int', (s: AuthState, ctx, realm, flags, pv) => getWwwAuthenticate(s.api, ctx, realm, flags, pv),
      'Put a whole WWW-Authenticate header line (flags as www_challenge) into the named pseudo-variable, without sending anything. 1 done, -1 not a writable PV. Not a KEMI export in Kamailio 5.6.'),
    auth_algorithm: fn(['str'], 'int', (s: AuthState, _ctx, alg) => setAlgorithm(s.api, alg),
      'Use this digest algorithm from now on, for every message: MD5 or SHA-256 (then named in challenges). 1 done, -1 unknown. Not a KEMI export in Kamailio 5.6.'),
  },
});
