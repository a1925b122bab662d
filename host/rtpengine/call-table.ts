/**
 * Which rtpengine instance has a call (Kamailio's rtpengine hash table): a call that got an
 * answer from an instance goes to that instance again — answer, re-offer, query, delete — even
 * when the weights would now choose another. Keyed by Call-ID and via-branch; a delete without
 * via-branch finds and removes every branch of the Call-ID. Entries expire after
 * hash_table_tout seconds, and the table is bounded: past `max` entries the oldest goes.
 */
import type { RelayNode } from '../media-relay/relay-set.js';

interface Entry {
  readonly node: RelayNode;
  expires: number;
}

export class CallTable {
  private readonly calls = new Map<string, Map<string, Entry>>();
  private count = 0;

  constructor(
    private readonly ttlMs: number,
    private readonly max: number,
  ) {}

  get size(): number {
    return this.count;
  }

  /** the instance of (callId, viaBranch); with `anyBranch`, of any branch of the call when viaBranch is '' */
  lookup(callId: string, viaBranch: string, anyBranch: boolean, now = Date.now()): RelayNode | null {
    const branches = this.calls.get(callId);
    if (branches === undefined) return null;
    const exact = branches.get(viaBranch);
    if (exact !== undefined) {
      if (exact.expires > now) return exact.node;
      this.drop(callId, branches, viaBranch);
      return null;
    }
    if (!anyBranch || viaBranch !== '') return null;
    for (const [b, e] of branches) {
      if (e.expires > now) return e.node;
      this.drop(callId, branches, b);
    }
    return null;
  }

  /** remember (callId, viaBranch) → node unless already known (Kamailio keeps the first) */
  insert(callId: string, viaBranch: string, node: RelayNode, now = Date.now()): void {
    let branches = this.calls.get(callId);
    const had = branches?.get(viaBranch);
    if (had !== undefined && had.expires > now) return;
    if (had === undefined && this.count >= this.max) this.evictOldest();
    if (branches === undefined) {
      branches = new Map();
      this.calls.set(callId, branches);
    }
    if (had === undefined) this.count++;
    branches.set(viaBranch, { node, expires: now + this.ttlMs });
  }

  /** forget (callId, viaBranch); viaBranch '' forgets every branch of the call */
  remove(callId: string, viaBranch: string): void {
    const branches = this.calls.get(callId);
    if (branches === undefined) return;
    if (viaBranch === '') {
      this.count -= branches.size;
      this.calls.delete(callId);
      return;
    }
    if (branches.has(viaBranch)) this.drop(callId, branches, viaBranch);
  }

  /** drop what expired (run from a timer) */
  sweep(now = Date.now()): void {
    for (const [callId, branches] of this.calls) {
      for (const [b, e] of branches) if (e.expires <= now) this.drop(callId, branches, b);
    }
  }

  private drop(callId: string, branches: Map<string, Entry>, viaBranch: string): void {
    branches.delete(viaBranch);
    this.count--;
    if (branches.size === 0) this.calls.delete(callId);
  }

  private evictOldest(): void {
    const first = this.calls.entries().next();
    if (first.done === true) return;
    const [callId, branches] = first.value;
    const b = branches.keys().next();
    if (b.done !== true) this.drop(callId, branches, b.value);
  }
}
