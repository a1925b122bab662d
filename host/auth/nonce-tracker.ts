/**
 * Replay state for nonces, as Kamailio's nc.c and ot_nonce.c keep it, in fixed memory:
 *
 * - every nonce issued gets the next 32-bit id; the id is inside the nonce (under its tag);
 * - nonce_count: one byte per slot (nc_array_size slots, id modulo the size) holds the highest
 *   nc accepted for that nonce. A response is accepted only with an nc above it and below 256;
 * - one_time_nonce: one bit per slot (otn_in_flight_no slots) says the nonce was used.
 *
 * Memory is the array sizes, whatever the traffic: nc_array_size bytes and otn_in_flight_no / 8
 * bytes. The price of the bound: once more nonces have been issued after a nonce than there are
 * slots, its slot belongs to a newer nonce and the old one is refused (nonce_count: stale;
 * one_time_nonce: reused) even if it has not expired. Slots start "used up", so after a restart
 * no nonce of the previous run is accepted by these checks.
 */

export type NcVerdict = 'ok' | 'too-old' | 'too-big' | 'replay';
export type OtnVerdict = 'ok' | 'too-old' | 'replay';

/** Largest power of two not above n (Kamailio rounds the sizes down the same way), at least 1. */
export function floorPow2(n: number): number {
  if (n < 1) return 1;
  return 2 ** Math.floor(Math.log2(n));
}

export interface TrackerSizes {
  /** slots for nonce_count, 0 when off; rounded down to a power of two */
  readonly ncSlots: number;
  /** slots for one_time_nonce, 0 when off; rounded down to a power of two */
  readonly otnSlots: number;
}

export class NonceTracker {
  private nextId: number;
  private readonly nc: Uint8Array | null;
  private readonly otn: Uint8Array | null;
  private readonly ncMask: number;
  private readonly otnMask: number;

  constructor(sizes: TrackerSizes, firstId: number) {
    this.nextId = firstId >>> 0;
    const nc = sizes.ncSlots > 0 ? floorPow2(sizes.ncSlots) : 0;
    const otn = sizes.otnSlots > 0 ? Math.max(8, floorPow2(sizes.otnSlots)) : 0;
    this.nc = nc > 0 ? new Uint8Array(nc).fill(0xff) : null;
    this.otn = otn > 0 ? new Uint8Array(otn / 8).fill(0xff) : null;
    this.ncMask = nc - 1;
    this.otnMask = otn - 1;
  }

  get tracking(): boolean {
    return this.nc !== null || this.otn !== null;
  }

  /** bytes held by the arrays */
  get bytes(): number {
    return (this.nc?.length ?? 0) + (this.otn?.length ?? 0);
  }

  /** The id for a new nonce, its slots reset (nc 0, not used). */
  issue(): number {
    const id = this.nextId;
    this.nextId = (this.nextId + 1) >>> 0;
    if (this.nc !== null) this.nc[id & this.ncMask] = 0;
    if (this.otn !== null) {
      const slot = id & this.otnMask;
      this.otn[slot >>> 3] = (this.otn[slot >>> 3] ?? 0) & ~(1 << (slot & 7));
    }
    return id;
  }

  /** more nonces were issued after `id` than `slots` hold: its slot is someone else's now */
  private overflowed(id: number, slots: number): boolean {
    return ((this.nextId - 1 - id) >>> 0) >= slots;
  }

  get ncEnabled(): boolean {
    return this.nc !== null;
  }

  get otnEnabled(): boolean {
    return this.otn !== null;
  }

  /** Accept nc for nonce `id` when it is higher than any accepted before (and remember it). */
  checkNc(id: number, nc: number): NcVerdict {
    const arr = this.nc;
    if (arr === null) return 'ok';
    if (this.overflowed(id, arr.length)) return 'too-old';
    if (nc >= 256) return 'too-big';
    const slot = id & this.ncMask;
    if ((arr[slot] ?? 0xff) >= nc) return 'replay';
    arr[slot] = nc;
    return 'ok';
  }

  /** Accept nonce `id` once (and mark it used). */
  checkOnce(id: number): OtnVerdict {
    const arr = this.otn;
    if (arr === null) return 'ok';
    if (this.overflowed(id, arr.length * 8)) return 'too-old';
    const slot = id & this.otnMask;
    const byte = arr[slot >>> 3] ?? 0xff;
    const bit = 1 << (slot & 7);
    if ((byte & bit) !== 0) return 'replay';
    arr[slot >>> 3] = byte | bit;
    return 'ok';
  }
}
