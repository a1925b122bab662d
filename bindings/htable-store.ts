/**
 * The shared tables behind KSR.htable and $sht(...): one Map per declared table, with Kamailio's
 * expiry rules. Expiry is real: an item past its time is gone the moment anything looks at it,
 * and a periodic sweep (see htable.ts) drops the ones nobody looks at.
 *
 * Memory: a table holds exactly the keys scripts set and have not removed or let expire. There is
 * no item limit (Kamailio has none either, beyond its shared memory): a table fed with
 * attacker-chosen keys must have autoexpire set, or be cleaned by the script.
 */

export type HtValue = number | string;

interface Cell {
  value: HtValue;
  /** Epoch ms after which the item is gone; 0 = never. */
  expireAt: number;
}

export interface TableOptions {
  /** seconds; 0 = items never expire */
  readonly autoexpire: number;
  /** returned (and counted from by inc/dec) for an item that is not set */
  readonly initval: number | undefined;
  /** whether updating an item restarts its expiry */
  readonly updateexpire: boolean;
}

export class HtTable {
  readonly name: string;
  readonly autoexpireMs: number;
  readonly initval: number | undefined;
  private readonly updateExpire: boolean;
  private readonly cells = new Map<string, Cell>();

  constructor(name: string, opts: TableOptions) {
    this.name = name;
    this.autoexpireMs = opts.autoexpire * 1000;
    this.initval = opts.initval;
    this.updateExpire = opts.updateexpire;
  }

  get size(): number {
    return this.cells.size;
  }

  private fresh(now: number): number {
    return this.autoexpireMs > 0 ? now + this.autoexpireMs : 0;
  }

  /** The item when it is set and not expired; an expired one is removed on the way. */
  private live(key: string, now: number): Cell | undefined {
    const c = this.cells.get(key);
    if (c !== undefined && c.expireAt !== 0 && c.expireAt <= now) {
      this.cells.delete(key);
      return undefined;
    }
    return c;
  }

  get(key: string, now: number): HtValue | undefined {
    return this.live(key, now)?.value;
  }

  has(key: string, now: number): boolean {
    return this.live(key, now) !== undefined;
  }

  /**
   * Set an item. `expireSec` > 0 gives this item its own expiry (tables with autoexpire only,
   * as Kamailio's per-item expire); otherwise a new item gets the table's and an updated one
   * keeps its own unless updateexpire is set.
   */
  set(key: string, value: HtValue, now: number, expireSec = 0): void {
    const own = expireSec > 0 && this.autoexpireMs > 0 ? now + expireSec * 1000 : null;
    const c = this.live(key, now);
    if (c === undefined) {
      this.cells.set(key, { value, expireAt: own ?? this.fresh(now) });
      return;
    }
    c.value = value;
    if (own !== null) c.expireAt = own;
    else if (this.updateExpire) c.expireAt = this.fresh(now);
  }

  delete(key: string): void {
    this.cells.delete(key);
  }

  /**
   * Add `delta` to an integer item and return the new value. An item that is not set starts
   * from initval (no initval: null, as Kamailio); a string item cannot be incremented (null).
   */
  add(key: string, delta: number, now: number): number | null {
    const c = this.live(key, now);
    if (c === undefined) {
      if (this.initval === undefined) return null;
      const value = this.initval + delta;
      this.cells.set(key, { value, expireAt: this.fresh(now) });
      return value;
    }
    if (typeof c.value !== 'number') return null;
    c.value += delta;
    if (this.updateExpire) c.expireAt = this.fresh(now);
    return c.value;
  }

  /** Kamailio's ht_set_cell_expire: seconds from now, <= 0 never; no effect without autoexpire. */
  setExpire(key: string, seconds: number, now: number): void {
    if (this.autoexpireMs === 0) return;
    const c = this.live(key, now);
    if (c !== undefined) c.expireAt = seconds > 0 ? now + seconds * 1000 : 0;
  }

  /** Whole seconds until the item expires; 0 when it is not set, never expires, or the table has no autoexpire. */
  expiresIn(key: string, now: number): number {
    if (this.autoexpireMs === 0) return 0;
    const c = this.live(key, now);
    if (c === undefined || c.expireAt === 0) return 0;
    return Math.ceil((c.expireAt - now) / 1000);
  }

  /** Live items, for matching and counting; expired ones are removed as they are met. */
  *entries(now: number): Generator<[string, HtValue]> {
    for (const [key, c] of this.cells) {
      if (c.expireAt !== 0 && c.expireAt <= now) {
        // Deleting the current entry while iterating a Map is safe.
        this.cells.delete(key);
        continue;
      }
      yield [key, c.value];
    }
  }

  removeWhere(match: (key: string, value: HtValue) => boolean, now: number): void {
    for (const [key, value] of this.entries(now)) if (match(key, value)) this.cells.delete(key);
  }

  clear(): void {
    this.cells.clear();
  }

  /** Drop every expired item. */
  sweep(now: number): void {
    if (this.autoexpireMs === 0) return;
    for (const [key, c] of this.cells) if (c.expireAt !== 0 && c.expireAt <= now) this.cells.delete(key);
  }
}
