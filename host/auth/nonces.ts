/**
 * Issuing and checking nonces, in the order Kamailio's check_nonce checks them, so a script sees
 * the same return codes:
 *
 *   1. not a nonce of ours in form                                   → invalid (-1)
 *   2. made before this server started (see below), or more than
 *      nonce_auth_max_drift seconds in the future                    → stale   (-4)
 *   3. tag1 does not match (forged, or another secret)               → invalid (-1)
 *   4. nonce_count on, nonce has a slot, response has nc:
 *      nc not 8 hex digits → invalid; nc not above the last one,
 *      ≥ 256, or the slot reused → stale; else skip to 7 (nc is the
 *      replay protection, so the auth_checks binding is not checked) → stale   (-4)
 *   5. one_time_nonce on: used before or slot reused                  → reused  (-6)
 *   6. auth_checks_* select parts: nonce not bound → invalid; bound
 *      to other values (another Call-ID, source…)                    → stale   (-4)
 *   7. expired                                                       → stale   (-4)
 *
 * Before-start rule: Kamailio calls every nonce made before it started stale (its secret and
 * nonce state are new). We do the same, except when the secret is fixed and neither
 * nonce_count nor one_time_nonce is on: then nothing is per-server, and a genuine unexpired
 * nonce made by another server sharing the secret (or before a restart) is accepted.
 */
import { randomBytes, randomInt } from 'node:crypto';
import { decodeNonce, deriveKeys, encodeNonce, NONCE_NC, NONCE_OTN, type NonceKeys } from './nonce-codec.js';
import { NonceTracker } from './nonce-tracker.js';

export type NonceVerdict = 'ok' | 'stale' | 'reused' | 'invalid';

export interface NonceOptions {
  /** the secret parameter; null: 32 random bytes per start */
  readonly secret: string | null;
  readonly expireS: number;
  readonly maxDriftS: number;
  /** nonce_count slots (0 = off) */
  readonly ncSlots: number;
  /** one_time_nonce slots (0 = off) */
  readonly otnSlots: number;
  /** milliseconds since the epoch (tests move it) */
  readonly now?: () => number;
}

const NC_TEXT = /^[0-9a-fA-F]{8}$/;

export class Nonces {
  private readonly keys: NonceKeys;
  private readonly tracker: NonceTracker;
  private readonly now: () => number;
  /** seconds since the epoch when this server started */
  readonly startedAt: number;

  constructor(private readonly o: NonceOptions) {
    this.keys = deriveKeys(o.secret ?? randomBytes(32));
    this.tracker = new NonceTracker({ ncSlots: o.ncSlots, otnSlots: o.otnSlots }, randomInt(0, 2 ** 32 - 1));
    this.now = o.now ?? Date.now;
    this.startedAt = this.seconds();
  }

  private seconds(): number {
    return Math.floor(this.now() / 1000);
  }

  /** bytes of replay state held (fixed at start) */
  get stateBytes(): number {
    return this.tracker.bytes;
  }

  /** A new nonce, valid for nonce_expire seconds, bound to `checks` when auth_checks_* select parts. */
  issue(checks: Buffer | null): string {
    const t = this.seconds();
    const tracked = this.tracker.tracking;
    const nid = tracked ? this.tracker.issue() : 0;
    const flags = (this.tracker.ncEnabled ? NONCE_NC : 0) | (this.tracker.otnEnabled ? NONCE_OTN : 0);
    return encodeNonce(this.keys, { since: t, expire: t + this.o.expireS, nid, flags }, checks);
  }

  /**
   * Check a nonce a response came with. `nc` is the response's nc ('' or null when none);
   * `checks` the check bytes for this request, null when auth_checks_* select nothing.
   */
  verify(nonce: string, nc: string | null, checks: Buffer | null): NonceVerdict {
    const opened = decodeNonce(this.keys, nonce);
    if (opened === null) return 'invalid';
    const f = opened.fields;
    const t = this.seconds();
    if (f.since < this.startedAt) {
      const portable = this.o.secret !== null && !this.tracker.tracking && opened.genuine;
      if (!portable) return 'stale';
    }
    if (f.since > t && f.since - t > this.o.maxDriftS) return 'stale';
    if (!opened.genuine) return 'invalid';
    if (this.tracker.ncEnabled && (f.flags & NONCE_NC) !== 0 && nc !== null && nc !== '') {
      if (!NC_TEXT.test(nc)) return 'invalid';
      if (this.tracker.checkNc(f.nid, parseInt(nc, 16)) !== 'ok') return 'stale';
      return f.expire < t ? 'stale' : 'ok';
    }
    if (this.tracker.otnEnabled) {
      if ((f.flags & NONCE_OTN) === 0) return 'stale';
      if (this.tracker.checkOnce(f.nid) !== 'ok') return 'reused';
    }
    if (checks !== null) {
      if (!opened.bound) return 'invalid';
      if (!opened.checksMatch(checks)) return 'stale';
    }
    return f.expire < t ? 'stale' : 'ok';
  }
}
