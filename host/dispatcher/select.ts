/**
 * Choosing destinations in a set (dispatch.c ds_manage_routes): the first one by the
 * algorithm, then — for failover — the others in Kamailio's order (those after it, then those
 * before it, the default last), skipping inactive and disabled ones.
 */
import { skipped, type DsSet } from './destination.js';

export const ALG = {
  CALLID: 0, FROM: 1, TO: 2, RURI: 3, ROUNDROBIN: 4, AUTHUSER: 5, RANDOM: 6, PV: 7,
  SERIAL: 8, WEIGHT: 9, CALLLOAD: 10, RELWEIGHT: 11, PARALLEL: 12, LATENCY: 13,
} as const;

/** What the hash algorithms read from the message; null when it cannot be read (Kamailio: error, -1). */
export interface HashKeys {
  callId(): number | null;
  from(): number | null;
  to(): number | null;
  ruri(): number | null;
  /** undefined: no credentials (round robin instead); null: unreadable */
  authUser(): number | null | undefined;
  pv(): number | null;
  isInvite: boolean;
}

export interface Selection {
  /** index of the chosen destination in set.dests */
  readonly first: number;
  /** the failover list in order, the chosen one first (empty unless asked for) */
  readonly order: number[];
  /** the algorithm as applied (10 falls back to 0 outside an INVITE) */
  readonly alg: number;
}

export interface SelectOptions {
  readonly useDefault: boolean;
  readonly failover: boolean;
  /** at most this many records in all (Infinity = no limit); the chosen one is always in `order` */
  readonly limit: number;
  /** records an earlier group of the same call (ds_select_routes) added already */
  readonly already: number;
  readonly rand: () => number;
}

function roundRobin(set: DsSet): { hash: number; vlast: number } {
  const hash = set.last;
  set.last = (set.last + 1) % set.dests.length;
  return { hash, vlast: set.last };
}

/** Algorithm 10's first choice: the active destination with the fewest calls under its maxload. */
function leastLoaded(set: DsSet): number {
  let best = -1;
  set.dests.forEach((d, j) => {
    if (skipped(d.flags)) return;
    if (d.attrs.maxload !== 0 && d.dload >= d.attrs.maxload) return;
    if (best < 0 || d.dload < (set.dests[best]?.dload ?? 0)) best = j;
  });
  return best;
}

/** Select from `set` with `alg`: null when nothing can be selected (no active destination, unreadable key). */
export function select(set: DsSet, alg: number, keys: HashKeys, o: SelectOptions): Selection | null {
  const nr = set.dests.length;
  if (nr === 0) return null;
  let hash = 0;
  let ulast = false;
  let vlast = 0;
  let applied = alg;
  const hashed = (h: number | null): boolean => {
    if (h === null) return false;
    hash = h;
    return true;
  };
  switch (alg) {
    case ALG.CALLID: if (!hashed(keys.callId())) return null; break;
    case ALG.FROM: if (!hashed(keys.from())) return null; break;
    case ALG.TO: if (!hashed(keys.to())) return null; break;
    case ALG.RURI: if (!hashed(keys.ruri())) return null; break;
    case ALG.ROUNDROBIN: ({ hash, vlast } = roundRobin(set)); ulast = true; break;
    case ALG.AUTHUSER: {
      const h = keys.authUser();
      if (h === null) return null;
      if (h === undefined) {
        ({ hash, vlast } = roundRobin(set));
        ulast = true;
      } else hash = h;
      break;
    }
    case ALG.RANDOM: hash = Math.floor(o.rand() * 0x7fffffff); break;
    case ALG.PV: if (!hashed(keys.pv())) return null; break;
    case ALG.WEIGHT:
      hash = set.wlist[set.wlast] ?? 0;
      set.wlast = (set.wlast + 1) % 100;
      break;
    case ALG.CALLLOAD:
      if (!keys.isInvite) {
        applied = ALG.CALLID;
        break;
      }
      hash = leastLoaded(set);
      if (hash < 0) return null;
      break;
    case ALG.RELWEIGHT:
      hash = set.rwlist[set.rwlast] ?? 0;
      set.rwlast = (set.rwlast + 1) % 100;
      break;
    default:
      // 8 (serial), 12 (parallel) and unknown algorithms (13 here) use the first entry
      hash = 0;
  }
  const span = o.useDefault && nr !== 1 ? nr - 1 : nr;
  hash %= span;
  let i = hash;
  while (skipped(set.dests[i]?.flags ?? 0)) {
    i = (i + 1) % span;
    if (i === hash) {
      if (!o.useDefault) return null;
      i = nr - 1;
      if (skipped(set.dests[i]?.flags ?? 0)) return null;
      break;
    }
  }
  if (ulast && vlast === set.last) set.last = (i + 1) % nr;
  return { first: i, order: o.failover && alg !== ALG.PARALLEL ? failoverOrder(set, i, applied, o) : [], alg: applied };
}

/** ds_manage_routes_fill_xavp plus the default entry: the chosen one, those after it, those before, the default. */
function failoverOrder(set: DsSet, first: number, alg: number, o: SelectOptions): number[] {
  const nr = set.dests.length;
  const limit = o.limit - o.already;
  const out = [first];
  const usable = (j: number): boolean => {
    const d = set.dests[j];
    if (d === undefined || skipped(d.flags) || (o.useDefault && j === nr - 1)) return false;
    return !(alg === ALG.CALLLOAD && d.attrs.maxload !== 0 && d.dload >= d.attrs.maxload);
  };
  for (let j = first + 1; j < nr && out.length < limit; j++) if (usable(j)) out.push(j);
  for (let j = 0; j < first && out.length < limit; j++) if (usable(j)) out.push(j);
  if (o.useDefault && first !== nr - 1 && out.length < limit) out.push(nr - 1);
  return out;
}
