/**
 * The dispatcher's sets in memory (Kamailio's ds_lists): loaded at start and on reload from
 * the list file or the table, answered synchronously to the script. A load builds the new
 * sets beside the ones in use and swaps them in only when complete; a failed load leaves the
 * old ones serving. State changes (ds_mark_dst, probing, dispatcher.set_state) follow
 * ds_update_state / ds_reinit_state, thresholds included.
 */
import { DestinationError, DS_DISABLED, DS_NODNSARES, DS_INACTIVE, DS_PROBING, DS_STATES_ALL, DS_TRYING, DsSet, makeDestination, orderSet, skipped, type Destination } from './destination.js';
import { walkOrder } from './set-order.js';
import type { DsRow } from './sources.js';

export class ReloadRefused extends Error {}

export interface StoreOptions {
  readonly read: () => Promise<DsRow[]>;
  /** ds_load_mode 1: a bad destination fails the load; 0: it is skipped (logged by the caller) */
  readonly strict: boolean;
  readonly attrsNone: boolean;
  readonly reloadDeltaS: number;
  readonly rand: () => number;
  readonly skippedRow: (row: DsRow, why: string) => void;
  /** a host name's address (Kamailio resolves at load, ds_dns_mode 1); null when it has none */
  readonly resolve: (host: string) => Promise<string | null>;
  /** thresholds (ds_probing_threshold, ds_inactive_threshold) */
  readonly probingThreshold: number;
  readonly inactiveThreshold: number;
  /** a destination went from selectable to not (down) or back (up) */
  readonly changed?: (uri: string, up: boolean) => void;
}

export class DsStore {
  /** by id, in Kamailio's walk order (set-order.ts): Map keeps insertion order */
  private sets = new Map<number, DsSet>();
  private lastReload = 0;
  private loading: Promise<void> | null = null;
  /** whether a load has ever succeeded */
  loaded = false;

  constructor(private readonly o: StoreOptions) {}

  get(id: number): DsSet | undefined {
    return this.sets.get(id);
  }

  /** every set, in Kamailio's walk order (dispatcher.list, ds_is_from_list over all sets) */
  all(): DsSet[] {
    return [...this.sets.values()];
  }

  /** The sets, keyed in Kamailio's walk order of the ids as they were first named. */
  private build(bySet: Map<number, Destination[]>): Map<number, DsSet> {
    const sets = new Map<number, DsSet>();
    for (const id of walkOrder(bySet.keys())) sets.set(id, new DsSet(id, orderSet(bySet.get(id) ?? []), this.o.rand));
    return sets;
  }

  async load(): Promise<number> {
    const rows = await this.o.read();
    const bySet = new Map<number, Destination[]>();
    for (const row of rows) {
      let d: Destination;
      try {
        d = makeDestination(row.uri, row.flags, row.priority, row.attrs, this.o.attrsNone);
        if (d.ip === null && (d.flags & DS_NODNSARES) === 0) {
          d.ip = await this.o.resolve(d.host);
          if (d.ip === null) throw new DestinationError(`could not resolve ${d.host} (missing no-probing flag?)`);
        }
      } catch (e) {
        if (!(e instanceof DestinationError)) throw e;
        if (this.o.strict) throw e;
        this.o.skippedRow(row, e.message);
        continue;
      }
      const list = bySet.get(row.setid);
      if (list === undefined) bySet.set(row.setid, [d]);
      else list.push(d);
    }
    this.sets = this.build(bySet);
    this.loaded = true;
    return rows.length;
  }

  /**
   * ds_reload / dispatcher.reload: throws ReloadRefused at once (not in the promise) within
   * reload_delta s of the previous one; reloads run one at a time.
   */
  reload(nowS: number): Promise<number> {
    this.claimChange(nowS);
    return this.serialReload();
  }

  private async serialReload(): Promise<number> {
    while (this.loading !== null) await this.loading;
    const p = this.load();
    this.loading = p.then(() => undefined, () => undefined);
    try {
      return await p;
    } finally {
      this.loading = null;
    }
  }

  /** The reload_delta check that reload, dispatcher.add and dispatcher.remove share. */
  claimChange(nowS: number): void {
    if (this.lastReload !== 0 && this.o.reloadDeltaS > 0 && this.lastReload > nowS - this.o.reloadDeltaS) throw new ReloadRefused('ongoing reload');
    this.lastReload = nowS;
  }

  /**
   * dispatcher.add / dispatcher.remove: the sets rebuilt in memory as Kamailio rebuilds them
   * (each destination re-added in its current order with its state and load, so equal
   * priorities come out reversed, as there); a reload forgets the change.
   */
  rebuild(add: { readonly group: number; readonly dest: Destination } | null, remove: { readonly group: number; readonly uri: string } | null): void {
    const bySet = new Map<number, Destination[]>();
    for (const set of this.all()) {
      for (const d of set.dests) {
        if (remove !== null && set.id === remove.group && d.uri === remove.uri) continue;
        const copy = { ...d, messageCount: 0 };
        const list = bySet.get(set.id);
        if (list === undefined) bySet.set(set.id, [copy]);
        else list.push(copy);
      }
    }
    if (add !== null) {
      const list = bySet.get(add.group);
      if (list === undefined) bySet.set(add.group, [add.dest]);
      else list.push(add.dest);
    }
    this.sets = this.build(bySet);
  }

  find(group: number, uri: string): Destination | null {
    const lc = uri.toLowerCase();
    return this.sets.get(group)?.dests.find((d) => d.uri.toLowerCase() === lc) ?? null;
  }

  /** ds_update_state: a failure (trying) counts toward inactive; a success while inactive counts toward active. */
  updateState(group: number, uri: string, wanted: number): boolean {
    const set = this.sets.get(group);
    const d = this.find(group, uri);
    if (set === undefined || d === null) return false;
    let state = wanted;
    const old = d.flags;
    d.flags &= ~DS_STATES_ALL;
    if ((state & DS_TRYING) !== 0 && (old & DS_INACTIVE) !== 0) {
      // inactive stays inactive on a failure: it must become active before it can be trying
      state = (state & ~DS_TRYING) | DS_INACTIVE;
    }
    d.flags |= (state & DS_DISABLED) !== 0 ? DS_DISABLED : state;
    if ((state & DS_TRYING) !== 0) {
      d.messageCount++;
      if (d.messageCount >= this.o.probingThreshold) {
        d.flags = (d.flags & ~DS_TRYING) | DS_INACTIVE;
        d.messageCount = 0;
      }
    } else if ((wanted & DS_TRYING) === 0 && (old & DS_INACTIVE) !== 0) {
      d.messageCount++;
      if (d.messageCount < this.o.inactiveThreshold) {
        d.flags |= DS_INACTIVE;
        if ((old & DS_PROBING) !== 0) d.flags |= DS_PROBING;
      } else {
        d.messageCount = 0;
      }
    } else {
      d.messageCount = 0;
    }
    this.after(set, d, old);
    return true;
  }

  /** ds_reinit_state (dispatcher.set_state): the state as given, no thresholds, no events (as Kamailio). */
  setState(group: number, uri: string, state: number): boolean {
    const set = this.sets.get(group);
    const d = this.find(group, uri);
    if (set === undefined || d === null) return false;
    const old = d.flags;
    d.flags = (d.flags & ~DS_STATES_ALL) | state;
    this.after(set, d, old, false);
    return true;
  }

  /** ds_reinit_duid_state (dispatcher.set_duid_state): the first destination with this duid (any case). */
  setStateByDuid(group: number, duid: string, state: number): boolean {
    const set = this.sets.get(group);
    const lc = duid.toLowerCase();
    const d = set?.dests.find((x) => x.attrs.duid.toLowerCase() === lc);
    if (set === undefined || d === undefined) return false;
    const old = d.flags;
    d.flags = (d.flags & ~DS_STATES_ALL) | state;
    this.after(set, d, old, false);
    return true;
  }

  setStateAll(group: number, state: number): boolean {
    const set = this.sets.get(group);
    if (set === undefined) return false;
    for (const d of set.dests) {
      const old = d.flags;
      d.flags = (d.flags & ~DS_STATES_ALL) | state;
      this.after(set, d, old, false);
    }
    return true;
  }

  private after(set: DsSet, d: Destination, old: number, events = true): void {
    if (events && !skipped(old) && skipped(d.flags)) this.o.changed?.(d.uri, false);
    else if (events && skipped(old) && !skipped(d.flags)) this.o.changed?.(d.uri, true);
    if (d.attrs.rweight > 0 && skipped(old) !== skipped(d.flags)) set.initRelativeWeights();
  }
}

/** "A", "I", "T", "D" then "P" or "X": dispatcher.list's FLAGS. */
export function flagsText(flags: number): string {
  const s = (flags & DS_INACTIVE) !== 0 ? 'I' : (flags & DS_DISABLED) !== 0 ? 'D' : (flags & DS_TRYING) !== 0 ? 'T' : 'A';
  return s + ((flags & DS_PROBING) !== 0 ? 'P' : 'X');
}

/** ds_parse_flags (ds_mark_dst's state): a/i/d/t/p letters; -1 for anything else. */
export function parseMarkState(s: string): number {
  let flag = 0;
  for (const c of s.toLowerCase()) {
    if (c === 'a') flag &= ~DS_STATES_ALL;
    else if (c === 'i') flag |= DS_INACTIVE;
    else if (c === 'd') flag |= DS_DISABLED;
    else if (c === 't') flag |= DS_TRYING;
    else if (c === 'p') flag |= DS_PROBING;
    else return -1;
  }
  return flag;
}

/** dispatcher.set_state's state: first letter (or digit) the state, an optional "p" after it; -1 when unknown. */
export function parseRpcState(s: string): number {
  const c = s.charAt(0).toLowerCase();
  const p = s.length > 1 && s.charAt(1).toLowerCase() === 'p' ? DS_PROBING : 0;
  if (c === '0' || c === 'i') return DS_INACTIVE | p;
  if (c === '1' || c === 'a') return p;
  if (c === '2' || c === 'd') return DS_DISABLED;
  if (c === '3' || c === 't') return DS_TRYING | p;
  return -1;
}
