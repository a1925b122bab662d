/**
 * The nonce as bytes. Kamailio's nonce is base64(expire, since, MD5(…, secret1)[, MD5(checks,
 * secret2)][, nonce id]); ours keeps that structure with HMAC-SHA256 in place of the keyed MD5:
 *
 *   base64url( v=1 | since:u32 | expire:u32 | nid:u32 | flags:u8 | tag1[12] [| tag2[12]] )
 *
 *   tag1 = HMAC-SHA256(k1, v..flags)                    the times and the id are ours, unchanged
 *   tag2 = HMAC-SHA256(k2, v..flags | the check values)  only when auth_checks_* select some:
 *                                                        R-URI, Call-ID, From tag, source IP
 *
 * k1 and k2 are derived from the secret (HMAC(secret, label)), so one secret gives two
 * independent keys as Kamailio's split secret does. A 96-bit tag cannot be guessed; a nonce
 * whose bytes were changed fails tag1; one replayed with other check values fails tag2 (which
 * Kamailio, and so we, answer as stale: the UA may compute a new response without asking its
 * user). The nonce is 35 characters without checks, 51 with.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

const VERSION = 1;
const HEAD = 14;
const TAG = 12;

/** auth_checks_* bits (Kamailio's nonce.h): which parts of the request the nonce is bound to. */
export const CHECK_RURI = 1;
export const CHECK_CALLID = 2;
export const CHECK_FROMTAG = 4;
export const CHECK_SRC_IP = 8;

/** flags byte: the nonce has a nonce-count slot / a one-time-nonce slot (Kamailio's NF_VALID_*). */
export const NONCE_NC = 1;
export const NONCE_OTN = 2;

export interface NonceKeys {
  readonly k1: Buffer;
  readonly k2: Buffer;
}

export function deriveKeys(secret: string | Buffer): NonceKeys {
  const k = (label: string): Buffer => createHmac('sha256', secret).update(label).digest();
  return { k1: k('kemihost auth nonce v1'), k2: k('kemihost auth checks v1') };
}

export interface NonceFields {
  /** seconds since the epoch */
  readonly since: number;
  readonly expire: number;
  /** the nonce id (nonce_count / one_time_nonce slot), 0 when neither is on */
  readonly nid: number;
  readonly flags: number;
}

/** The parts of a request a nonce is bound to, as auth_checks_* select them. */
export interface CheckValues {
  readonly ruri: string;
  readonly callId: string;
  readonly fromTag: string;
  /** the source address as text (IPv4 dotted or IPv6) */
  readonly srcIp: string;
}

/**
 * The bytes tag2 covers for these check bits: each selected value length-prefixed, in bit
 * order, after the bits themselves, so no two selections or values give the same bytes.
 */
export function checkBytes(cfg: number, v: CheckValues): Buffer {
  const parts: Buffer[] = [Buffer.from([cfg & 0xff])];
  const add = (s: string): void => {
    const b = Buffer.from(s, 'utf8');
    const len = Buffer.alloc(4);
    len.writeUInt32BE(b.length);
    parts.push(len, b);
  };
  if ((cfg & CHECK_RURI) !== 0) add(v.ruri);
  if ((cfg & CHECK_CALLID) !== 0) add(v.callId);
  if ((cfg & CHECK_FROMTAG) !== 0) add(v.fromTag);
  if ((cfg & CHECK_SRC_IP) !== 0) add(v.srcIp);
  return Buffer.concat(parts);
}

function tag(key: Buffer, head: Buffer, extra?: Buffer): Buffer {
  const h = createHmac('sha256', key).update(head);
  if (extra !== undefined) h.update(extra);
  return h.digest().subarray(0, TAG);
}

/** A new nonce for these fields, bound to `checks` when given. */
export function encodeNonce(keys: NonceKeys, f: NonceFields, checks: Buffer | null): string {
  const head = Buffer.alloc(HEAD);
  head.writeUInt8(VERSION, 0);
  head.writeUInt32BE(f.since >>> 0, 1);
  head.writeUInt32BE(f.expire >>> 0, 5);
  head.writeUInt32BE(f.nid >>> 0, 9);
  head.writeUInt8(f.flags & 0xff, 13);
  const parts = [head, tag(keys.k1, head)];
  if (checks !== null) parts.push(tag(keys.k2, head, checks));
  return Buffer.concat(parts).toString('base64url');
}

/** A received nonce read back; `genuine` and `checksMatch` say what its tags prove. */
export interface OpenedNonce {
  readonly fields: NonceFields;
  /** tag1 is ours: the times, id and flags were made here (or by a server with the same secret) */
  readonly genuine: boolean;
  /** tag2 is there */
  readonly bound: boolean;
  /** tag2 matches these check values (false when not bound) */
  checksMatch(checks: Buffer): boolean;
}

const NONCE_TEXT = /^[A-Za-z0-9_-]+$/;

/** Read a nonce; null when it is not one of ours in form (length, alphabet, version). */
export function decodeNonce(keys: NonceKeys, nonce: string): OpenedNonce | null {
  if (nonce.length > 64 || !NONCE_TEXT.test(nonce)) return null;
  const raw = Buffer.from(nonce, 'base64url');
  if ((raw.length !== HEAD + TAG && raw.length !== HEAD + 2 * TAG) || raw.readUInt8(0) !== VERSION) return null;
  const head = raw.subarray(0, HEAD);
  const tag1 = raw.subarray(HEAD, HEAD + TAG);
  const tag2 = raw.length > HEAD + TAG ? raw.subarray(HEAD + TAG) : null;
  return {
    fields: { since: head.readUInt32BE(1), expire: head.readUInt32BE(5), nid: head.readUInt32BE(9), flags: head.readUInt8(13) },
    genuine: timingSafeEqual(tag1, tag(keys.k1, head)),
    bound: tag2 !== null,
    checksMatch: (checks) => tag2 !== null && timingSafeEqual(tag2, tag(keys.k2, head, checks)),
  };
}
