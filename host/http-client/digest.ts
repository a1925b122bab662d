/**
 * HTTP authentication answers for the async HTTP client: Basic (RFC 7617) and Digest
 * (RFC 7616: MD5, SHA-256 and their -sess forms, qop=auth or none). curl does this for
 * Kamailio; here it is small enough to do with node:crypto instead of another dependency.
 */
import { createHash, randomBytes } from 'node:crypto';

export interface Challenge {
  /** lowercase scheme: "basic", "digest" */
  readonly scheme: string;
  /** lowercase parameter names */
  readonly params: ReadonlyMap<string, string>;
}

/** name=value or name="quoted value" pairs, as in WWW-Authenticate (RFC 9110 §11.2). */
const PARAM = /\s*([A-Za-z0-9_-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]*))\s*,?/y;

/**
 * The challenges of one WWW-Authenticate value. A value may hold several challenges
 * ("Digest realm=..., Basic realm=..."): a token not followed by "=" starts the next one.
 */
export function parseChallenges(value: string): Challenge[] {
  const out: Challenge[] = [];
  let i = 0;
  // "\s*(?:,\s*)?", not "\s*,?\s*": two adjacent \s* make a failing match quadratic in a run of
  // spaces, and this header comes from the server (64 KB of spaces took 2 s)
  const scheme = /\s*(?:,\s*)?([A-Za-z0-9_-]+)(?=\s|$|,)/y;
  while (i < value.length) {
    scheme.lastIndex = i;
    const s = scheme.exec(value);
    if (s === null) break;
    i = scheme.lastIndex;
    const params = new Map<string, string>();
    for (;;) {
      PARAM.lastIndex = i;
      const p = PARAM.exec(value);
      if (p === null) break;
      const name = (p[1] ?? '').toLowerCase();
      params.set(name, p[2] === undefined ? (p[3] ?? '') : p[2].replace(/\\(.)/g, '$1'));
      i = PARAM.lastIndex;
    }
    out.push({ scheme: (s[1] ?? '').toLowerCase(), params });
  }
  return out;
}

export function basicAuthorization(username: string, password: string): string {
  return `Basic ${Buffer.from(`${username}:${password}`, 'utf8').toString('base64')}`;
}

const HASHES: Readonly<Record<string, string>> = { md5: 'md5', 'sha-256': 'sha256' };

function quoted(s: string): string {
  return `"${s.replace(/(["\\])/g, '\\$1')}"`;
}

/**
 * The Authorization value answering a Digest challenge, or null when the challenge asks for
 * something not supported here (an unknown algorithm, qop=auth-int only).
 */
export function digestAuthorization(ch: Challenge, username: string, password: string, method: string, uri: string, cnonce = randomBytes(8).toString('hex'), passwordIsHa1 = false): string | null {
  const algorithm = ch.params.get('algorithm') ?? 'MD5';
  const alg = algorithm.toLowerCase();
  const sess = alg.endsWith('-sess');
  const hashName = HASHES[sess ? alg.slice(0, -5) : alg];
  if (hashName === undefined) return null;
  const h = (s: string): string => createHash(hashName).update(s, 'utf8').digest('hex');
  const realm = ch.params.get('realm') ?? '';
  const nonce = ch.params.get('nonce') ?? '';
  const qops = (ch.params.get('qop') ?? '').split(',').map((q) => q.trim().toLowerCase()).filter((q) => q !== '');
  if (qops.length > 0 && !qops.includes('auth')) return null;
  const qop = qops.length > 0 ? 'auth' : null;
  const nc = '00000001';
  // uac_auth_mode(1): the password is already H(username:realm:password)
  let ha1 = passwordIsHa1 ? password : h(`${username}:${realm}:${password}`);
  if (sess) ha1 = h(`${ha1}:${nonce}:${cnonce}`);
  const ha2 = h(`${method}:${uri}`);
  const response = qop === null ? h(`${ha1}:${nonce}:${ha2}`) : h(`${ha1}:${nonce}:${nc}:${cnonce}:${qop}:${ha2}`);
  const parts = [
    `username=${quoted(username)}`,
    `realm=${quoted(realm)}`,
    `nonce=${quoted(nonce)}`,
    `uri=${quoted(uri)}`,
    `algorithm=${algorithm}`,
    `response=${quoted(response)}`,
  ];
  const opaque = ch.params.get('opaque');
  if (opaque !== undefined) parts.push(`opaque=${quoted(opaque)}`);
  if (qop !== null) parts.push(`qop=${qop}`, `nc=${nc}`, `cnonce=${quoted(cnonce)}`);
  return `Digest ${parts.join(', ')}`;
}

/** authmethod bits, as Kamailio's (curl's CURLAUTH_*): 1 Basic, 2 Digest. */
export const AUTH_BASIC = 1;
export const AUTH_DIGEST = 2;

/**
 * The Authorization value answering a 401's challenges with the methods allowed by
 * `authmethod`: Digest first when offered (it does not send the password), else Basic.
 */
export function answerChallenges(values: readonly string[], authmethod: number, username: string, password: string, method: string, uri: string): string | null {
  const challenges = values.flatMap(parseChallenges);
  if ((authmethod & AUTH_DIGEST) !== 0) {
    for (const ch of challenges) {
      if (ch.scheme !== 'digest') continue;
      const a = digestAuthorization(ch, username, password, method, uri);
      if (a !== null) return a;
    }
  }
  if ((authmethod & AUTH_BASIC) !== 0 && challenges.some((c) => c.scheme === 'basic')) return basicAuthorization(username, password);
  return null;
}
