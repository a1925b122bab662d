/**
 * The auth module's parameters: Kamailio 5.6's names, defaults and meaning (auth.txt), with the
 * few that do nothing here said so. docs/auth.md explains them with the nonce they shape.
 */
import { z } from 'zod';

const checks = (what: string): z.ZodDefault<z.ZodNumber> =>
  z.number().int().min(0).max(15).default(0)
    .describe(`which parts of ${what} the nonce is bound to (1 R-URI, 2 Call-ID, 4 From tag, 8 source IP; a sum): a response to the same nonce from another request is refused as stale`);

export const authParams = z
  .object({
    secret: z.string().min(1).optional()
      .describe('key material for the nonces\' HMAC; unset: 32 random bytes per start (nonces of a previous run are then stale). Set the same secret on several servers to let them accept each other\'s nonces (docs/auth.md)'),
    nonce_expire: z.number().int().min(1).max(86_400).default(300)
      .describe('seconds a nonce is valid; a response with an older one gets -4 (stale)'),
    nonce_auth_max_drift: z.number().int().min(0).max(3600).default(3)
      .describe('seconds a nonce may come from the future (another server\'s clock) before it is stale'),
    auth_checks_register: checks('a REGISTER'),
    auth_checks_no_dlg: checks('a request outside a dialog (no To tag)'),
    auth_checks_in_dlg: checks('a request inside a dialog (To tag)'),
    qop: z.enum(['', 'auth', 'auth-int']).default('')
      .describe('as in Kamailio 5.6 this only enables nonce_count (which needs it); challenges carry qop when the flags of auth_challenge & co ask (1 auth, 2 auth-int)'),
    nonce_count: z.union([z.boolean(), z.number().int().min(0).max(1)]).default(0)
      .describe('replay protection by nc: a response must carry a higher nc than the last one accepted for its nonce, else -4 (stale). Needs qop set'),
    nc_array_size: z.number().int().min(1).max(67_108_864).default(1_048_576)
      .describe('nonces whose nc is remembered (one byte each, rounded down to a power of two); an older nonce is then stale'),
    nc_array_order: z.number().int().min(0).max(26).default(0)
      .describe('nc_array_size as a power of two (0: use nc_array_size)'),
    one_time_nonce: z.union([z.boolean(), z.number().int().min(0).max(1)]).default(0)
      .describe('each nonce is accepted once; a second use gets -6 (nonce reused)'),
    otn_in_flight_no: z.number().int().min(8).max(536_870_912).default(1_048_576)
      .describe('nonces remembered for one_time_nonce (one bit each, rounded down to a power of two); an older one gets -6'),
    otn_in_flight_order: z.number().int().min(0).max(29).default(0)
      .describe('otn_in_flight_no as a power of two (0: use otn_in_flight_no)'),
    nid_pool_no: z.number().int().min(1).max(64).default(1)
      .describe('accepted for compatibility; one event loop issues every nonce, so there is one pool'),
    force_stateless_reply: z.union([z.boolean(), z.number().int().min(0).max(1)]).default(0)
      .describe('send challenges statelessly even when the request has a transaction'),
    realm_prefix: z.string().default('')
      .describe('a prefix taken off the realm given to the functions (e.g. "sip." makes sip.example.com act as example.com)'),
    use_domain: z.union([z.boolean(), z.number().int().min(0).max(1)]).default(0)
      .describe('pv_auth_check with checks=1 also compares the domains of From and To (REGISTER, PUBLISH)'),
    algorithm: z.enum(['', 'MD5', 'SHA-256']).default('')
      .describe('digest algorithm: MD5 (or empty) or SHA-256 (then also named in the challenge); auth.auth_algorithm() changes it at run time'),
    add_authinfo_hdr: z.union([z.boolean(), z.number().int().min(0).max(1)]).default(0)
      .describe('after a successful check, add Authentication-Info (rspauth, nextnonce) to the reply this server sends'),
    challenge_attr: z.string().regex(/^\$/, { message: 'expected an AVP name starting with $' }).default('$digest_challenge')
      .describe('the AVP that pv_www_authenticate & co fill with a challenge header when their flags ask (2, 4, 8): $digest_challenge is $avp(digest_challenge)'),
    proxy_challenge_header: z.string().regex(/^[A-Za-z0-9-]+$/).default('Proxy-Authenticate')
      .describe('name of the header a 407 challenge is sent in'),
    www_challenge_header: z.string().regex(/^[A-Za-z0-9-]+$/).default('WWW-Authenticate')
      .describe('name of the header a 401 challenge is sent in'),
  })
  .strict();

export type AuthParams = z.output<typeof authParams>;

/** A 0/1 or boolean parameter as a boolean. */
export function on(v: boolean | number): boolean {
  return v === true || v === 1;
}

/** The AVP name a challenge_attr value names: "$digest_challenge" → digest_challenge, "$avp(x)" → x. */
export function challengeAvpName(attr: string): string {
  const m = /^\$avp\((?:s:)?(.+)\)$/.exec(attr);
  return m?.[1] ?? attr.slice(1);
}
