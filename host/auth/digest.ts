/**
 * The digest computations of RFC 2617 §3.2.2 (MD5) and RFC 7616 §3.4 (SHA-256), as a server
 * checks a response: HA1 from the password, HA2 from the method and digest-uri (and the body's
 * hash for qop=auth-int), and the request-digest. Kamailio's rfc2617.c computes the same.
 */
import { createHash } from 'node:crypto';

export type DigestAlgorithm = 'MD5' | 'SHA-256';

const NODE_HASH: Readonly<Record<DigestAlgorithm, string>> = { MD5: 'md5', 'SHA-256': 'sha256' };

/** Length of a hash in hex: what a response must have (32 for MD5, 64 for SHA-256). */
export function hexLength(alg: DigestAlgorithm): number {
  return alg === 'MD5' ? 32 : 64;
}

export function hashHex(alg: DigestAlgorithm, data: string | Buffer): string {
  return createHash(NODE_HASH[alg]).update(data).digest('hex');
}

/** HA1 = H(username ":" realm ":" password); `username` is the credentials' username as sent. */
export function ha1Of(alg: DigestAlgorithm, username: string, realm: string, password: string): string {
  return hashHex(alg, `${username}:${realm}:${password}`);
}

export interface ResponseInput {
  /** HA1 in hex, computed or stored */
  readonly ha1: string;
  readonly nonce: string;
  readonly method: string;
  readonly uri: string;
  /** the qop as the client sent it; '' or null for none (RFC 2069 form) */
  readonly qop: string | null;
  readonly nc: string | null;
  readonly cnonce: string | null;
  /** qop=auth-int: the message body, hashed into HA2 */
  readonly body?: Buffer;
}

/**
 * The request-digest. With a qop it is H(HA1:nonce:nc:cnonce:qop:HA2), without one
 * H(HA1:nonce:HA2); HA2 = H(method:uri), or H(method:uri:H(body)) for auth-int. Only the first
 * hash-length characters of HA1 count, as in Kamailio.
 */
export function requestDigest(alg: DigestAlgorithm, r: ResponseInput): string {
  const ha1 = r.ha1.slice(0, hexLength(alg));
  const authInt = r.qop !== null && r.qop.trim().toLowerCase() === 'auth-int';
  const ha2 = hashHex(alg, authInt ? `${r.method}:${r.uri}:${hashHex(alg, r.body ?? Buffer.alloc(0))}` : `${r.method}:${r.uri}`);
  const qop = r.qop ?? '';
  return qop === ''
    ? hashHex(alg, `${ha1}:${r.nonce}:${ha2}`)
    : hashHex(alg, `${ha1}:${r.nonce}:${r.nc ?? ''}:${r.cnonce ?? ''}:${qop}:${ha2}`);
}

/** rspauth of an Authentication-Info header (RFC 2617 §3.2.3): the digest with an empty method. */
export function responseAuth(alg: DigestAlgorithm, r: Omit<ResponseInput, 'method'>): string {
  return requestDigest(alg, { ...r, method: '' });
}
