/**
 * The tm statistics ("tm:<name>"): declared by the tm module (so they are listed and exported)
 * and incremented by the transaction layer through the same counters.
 */
import type { Counter, Stats } from '../../kemi/stats.js';

export const TM_STATS = [
  'created', 'freed', 'active', 'suspended', 'expired_suspended', 'local_replies', 'relayed_replies',
  'rpl_received', 'absorbed', 'retransmissions', 'uac_branches', 'timeouts', 'canceled', 'send_errors',
] as const;

/** levels, not counts: transactions and suspended ones in flight now */
const GAUGES: ReadonlySet<TmStat> = new Set(['active', 'suspended']);

export type TmStat = (typeof TM_STATS)[number];
export type TmCounters = Readonly<Record<TmStat, Counter>>;

export function tmCounters(stats: Stats): TmCounters {
  const out: Partial<Record<TmStat, Counter>> = {};
  for (const name of TM_STATS) out[name] = GAUGES.has(name) ? stats.gauge('tm', name) : stats.counter('tm', name);
  return out as TmCounters;
}
