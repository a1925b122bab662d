/**
 * Sets of media relay instances and which instance a call goes to (Kamailio's rtpp_set and
 * select_rtpp_node): within a set, an instance is chosen by the Call-ID — the sum of its bytes
 * (as signed chars), low 8 bits, modulo the sum of the weights of the usable instances — so a
 * call keeps going to the same instance while the set does not change. An instance that did
 * not answer is disabled for `disable_tout` seconds and skipped; one disabled through the RPC
 * stays disabled until enabled again.
 */
import type { Counter } from '../kemi/stats.js';
import type { RelayUrl } from './relay-url.js';

export interface NodeCounters {
  readonly requests: Counter;
  readonly timeouts: Counter;
  readonly errors: Counter;
  /** 1 while disabled (a gauge) */
  readonly disabled: Counter;
}

export class RelayNode {
  /** ms (Date.now) until which it is skipped; 0: usable; Infinity: disabled by the RPC */
  disabledUntil = 0;
  /** a ping to re-enable it is on its way */
  probing = false;

  constructor(
    /** the transport's target number */
    readonly index: number,
    readonly setId: number,
    readonly url: RelayUrl,
    /** the IP the url's host resolved to */
    readonly ip: string,
    public weight: number,
    readonly counters: NodeCounters,
  ) {}

  get name(): string {
    return this.url.url;
  }

  usable(): boolean {
    return this.disabledUntil === 0;
  }

  /** disabled for a while (not by the RPC) and that while is over: time to ping it */
  dueForRecheck(now: number): boolean {
    return this.disabledUntil !== 0 && this.disabledUntil !== Infinity && now >= this.disabledUntil && !this.probing;
  }

  disable(until: number): void {
    this.disabledUntil = until;
    this.counters.disabled.value = 1;
  }

  enable(): void {
    this.disabledUntil = 0;
    this.counters.disabled.value = 0;
  }
}

/** Kamailio's "quick-and-dirty" hash of the Call-ID: bytes summed as signed chars, low 8 bits. */
export function callIdSum(callId: string): number {
  let sum = 0;
  for (const b of Buffer.from(callId)) sum += b >= 0x80 ? b - 0x100 : b;
  return (sum >>> 0) & 0xff;
}

export class RelaySets {
  private readonly sets = new Map<number, RelayNode[]>();

  constructor(readonly nodes: readonly RelayNode[]) {
    for (const n of nodes) {
      const list = this.sets.get(n.setId) ?? [];
      list.push(n);
      this.sets.set(n.setId, list);
    }
  }

  has(setId: number): boolean {
    return this.sets.has(setId);
  }

  get ids(): number[] {
    return [...this.sets.keys()];
  }

  members(setId: number): readonly RelayNode[] {
    return this.sets.get(setId) ?? [];
  }

  /** how many instances of the set are usable now */
  usableCount(setId: number): number {
    let n = 0;
    for (const node of this.members(setId)) if (node.usable()) n++;
    return n;
  }

  /**
   * The instance of `setId` for this Call-ID among the usable ones not in `exclude` (already
   * tried for this request); null when there is none.
   */
  select(setId: number, callId: string, exclude: ReadonlySet<RelayNode>): RelayNode | null {
    const members = this.members(setId);
    let total = 0;
    for (const n of members) if (n.usable() && !exclude.has(n)) total += n.weight;
    if (total === 0) return null;
    let cut = callIdSum(callId) % total;
    for (const n of members) {
      if (!n.usable() || exclude.has(n)) continue;
      if (cut < n.weight) return n;
      cut -= n.weight;
    }
    return null;
  }

  /** by url as configured ("all" for every instance), as the RPC commands name them */
  find(url: string): RelayNode[] {
    return url === 'all' ? [...this.nodes] : this.nodes.filter((n) => n.name === url);
  }
}
