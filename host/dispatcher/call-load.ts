/**
 * Algorithm 10's call tracking (Kamailio's ds_ht.c and ds_load_*): a Call-ID → destination
 * table, kept without any dialog module. A call counts on its destination (`dload`) from its
 * selection until ds_load_update sees its BYE or CANCEL, ds_load_unset removes it, or it
 * expires: `ds_hash_initexpire` s while unconfirmed, `ds_hash_expire` s once a 2xx confirmed it.
 */
import type { Destination } from './destination.js';
import type { DsStore } from './store.js';

interface Cell {
  readonly setid: number;
  duid: string;
  confirmed: boolean;
  expires: number;
}

/** Calls counted at most: past that a new call is not counted (classic dispatching), so a flood of Call-IDs cannot grow memory without end. */
export const MAX_CALLS = 1_000_000;

export class CallLoad {
  private readonly cells = new Map<string, Cell>();

  constructor(
    private readonly store: DsStore,
    private readonly initExpireS: number,
    private readonly expireS: number,
    private readonly now: () => number = () => Date.now() / 1000,
  ) {}

  get size(): number {
    return this.cells.size;
  }

  private byDuid(setid: number, duid: string): Destination | null {
    const lc = duid.toLowerCase();
    return this.store.get(setid)?.dests.find((d) => d.attrs.duid.toLowerCase() === lc) ?? null;
  }

  /** ds_load_add: false when the destination has no duid, the call is already counted, or the table is full. */
  add(callId: string, setid: number, d: Destination): boolean {
    if (d.attrs.duid === '' || this.cells.has(callId) || this.cells.size >= MAX_CALLS) return false;
    this.cells.set(callId, { setid, duid: d.attrs.duid, confirmed: false, expires: this.now() + this.initExpireS });
    d.dload++;
    return true;
  }

  /** ds_load_replace (ds_next_dst): the call moves to `duid`. 0, -1 (no such call), -2 (no such destination). */
  replace(callId: string, duid: string): number {
    const cell = this.cells.get(callId);
    if (cell === undefined || duid === '') return -1;
    const next = this.byDuid(cell.setid, duid);
    if (next === null) return -2;
    this.remove(callId);
    return this.add(callId, cell.setid, next) ? 0 : -1;
  }

  /** ds_load_remove: false when the call is not counted. */
  remove(callId: string): boolean {
    const cell = this.cells.get(callId);
    if (cell === undefined) return false;
    this.cells.delete(callId);
    const d = this.byDuid(cell.setid, cell.duid);
    if (d !== null && d.dload > 0) d.dload--;
    return true;
  }

  /** ds_load_state(CONFIRMED): a 2xx to the INVITE. */
  confirm(callId: string): boolean {
    const cell = this.cells.get(callId);
    if (cell === undefined) return false;
    cell.confirmed = true;
    cell.expires = this.now() + this.expireS;
    return true;
  }

  /** ds_ht_timer: calls past their time stop counting. */
  sweep(): number {
    const now = this.now();
    let n = 0;
    for (const [callId, cell] of this.cells) {
      if (cell.expires > now) continue;
      this.remove(callId);
      n++;
    }
    return n;
  }
}
