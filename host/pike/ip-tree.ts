/**
 * The pike module's tree of source addresses (Kamailio src/modules/pike: ip_tree.c,
 * pike_funcs.c, timer.c), with the same counting, so the same requests are blocked:
 *
 * One tree for IPv4 and IPv6, one level per address byte. A request from an address walks the
 * longest prefix already in the tree and counts a hit on its last node. A prefix node becomes
 * "hot" at reqs_density/4 hits in the current or the previous sampling unit (or on average)
 * and then grows a child for the next byte, which inherits its hits less one; once the whole
 * address is there, its node is an IP leaf counting `leaf` hits, and at reqs_density leaf
 * hits (current, previous or average) it turns red: that request gets -2 (first detection),
 * later ones -1. So a fresh IPv4 address is blocked after about 3 x density requests within a
 * unit, an address sharing a hot prefix with one seen before after fewer.
 *
 * Every `sampling_time_unit` the counts move to "previous" and restart; a red leaf that is no
 * longer hot is let go then (so one to two quiet units after the flood). Leaves (IP leaves and
 * prefix nodes without children) sit in a timer list and are removed `remove_latency` seconds
 * after their last counted hit; a parent left without children goes into the list in turn.
 *
 * Memory is bounded by `maxNodes`: a spoofed flood from millions of sources adds at most one
 * node per request, and when the tree holds maxNodes, the leaves closest to expiry (those hit
 * least recently) are removed early, as the timer would have removed them, before a new node is
 * made. A flooding source keeps being hit, so it stays near the end of the list and is still
 * counted. Kamailio has no such bound (its limit is the shared memory).
 */
const IPLEAF = 1;
const RED = 2;

/** hit counters are unsigned shorts in Kamailio: they stop one short of the maximum */
const HIT_CAP = 0xffff - 1;

export interface PikeNode {
  readonly byte: number;
  /** the first byte of the address: the tree branch */
  readonly branch: number;
  readonly parent: PikeNode | null;
  /** newest first, as Kamailio links them */
  kids: PikeNode[];
  hitsPrev: number;
  hitsCurr: number;
  leafPrev: number;
  leafCurr: number;
  flags: number;
  /** ms (clock of the tree) when the node leaves, while it is in the timer list */
  expires: number;
}

export type PikeResult = 1 | -1 | -2;

export interface TreeOptions {
  /** reqs_density_per_unit */
  readonly density: number;
  /** remove_latency, in ms */
  readonly removeLatencyMs: number;
  readonly maxNodes: number;
}

export class PikeTree {
  private readonly roots: (PikeNode | undefined)[] = new Array<PikeNode | undefined>(256);
  /** Kamailio's timer list: insertion order is expiry order, as every node gets now + latency */
  private readonly timer = new Set<PikeNode>();
  private count = 0;
  /** nodes removed before their time because the tree was full */
  evicted = 0;

  constructor(private readonly o: TreeOptions) {}

  get nodes(): number {
    return this.count;
  }

  get maxHits(): number {
    return this.o.density;
  }

  isHotLeaf(n: PikeNode): boolean {
    const m = this.o.density;
    return n.leafPrev >= m || n.leafCurr >= m || (n.leafPrev + n.leafCurr) >>> 1 >= m;
  }

  private isHotNonLeaf(n: PikeNode): boolean {
    const m = this.o.density >>> 2;
    return n.hitsPrev >= m || n.hitsCurr >= m || (n.hitsPrev + n.hitsCurr) >>> 1 >= m;
  }

  isWarm(n: PikeNode): boolean {
    return n.hitsCurr >= this.o.density >>> 2;
  }

  private newNode(byte: number, branch: number, parent: PikeNode | null): PikeNode {
    this.count++;
    return { byte, branch, parent, kids: [], hitsPrev: 0, hitsCurr: 0, leafPrev: 0, leafCurr: 0, flags: 0, expires: 0 };
  }

  private schedule(n: PikeNode, now: number): void {
    n.expires = now + this.o.removeLatencyMs;
    this.timer.delete(n);
    this.timer.add(n);
  }

  /** One hit from the address `ip` (4 or 16 bytes) at `now` (ms): 1, or -2 the first time it is red, -1 after. */
  check(ip: Uint8Array, now: number): PikeResult {
    while (this.count >= this.o.maxNodes && this.timer.size > 0) {
      const oldest = this.timer.values().next().value as PikeNode;
      this.expire(oldest, now);
      this.evicted++;
    }
    const first = ip[0] ?? 0;
    let kids: readonly PikeNode[] = this.roots[first] === undefined ? [] : [this.roots[first]];
    let node: PikeNode | null = null;
    let pos = 0;
    while (pos < ip.length) {
      const want = ip[pos];
      const kid = kids.find((k) => k.byte === want);
      if (kid === undefined) break;
      node = kid;
      kids = kid.kids;
      pos++;
    }

    if (node === null) {
      // an empty branch: its first node
      const root = this.newNode(first, first, null);
      root.hitsCurr = 1;
      this.roots[first] = root;
      this.schedule(root, now);
      return 1;
    }
    if (pos === ip.length) {
      // the whole address: an IP leaf
      node.flags |= IPLEAF;
      if (node.leafCurr < HIT_CAP) node.leafCurr++;
      let result: PikeResult = 1;
      if ((node.flags & RED) !== 0) result = -1;
      else if (this.isHotLeaf(node)) {
        node.flags |= RED;
        result = -2;
      }
      // an IP leaf stays in the timer list as long as it is hit
      this.schedule(node, now);
      return result;
    }
    // a prefix of the address
    if (node.hitsCurr < HIT_CAP) node.hitsCurr++;
    if (this.isHotNonLeaf(node)) {
      const child = this.split(node, ip[pos] ?? 0);
      this.schedule(child, now);
      // a father that was a leaf of the tree only (no address ends there) leaves the timer
      if ((node.flags & IPLEAF) === 0 && node.kids.length === 1) this.timer.delete(node);
      return 1;
    }
    // a prefix with few hits is not refreshed, so it expires: that keeps the tree small
    if (this.isWarm(node) && ((node.flags & IPLEAF) !== 0 || node.kids.length === 0)) this.schedule(node, now);
    return 1;
  }

  /** A child for `byte`, inheriting the father's hits less one. */
  private split(dad: PikeNode, byte: number): PikeNode {
    const n = this.newNode(byte, dad.branch, dad);
    if (dad.hitsCurr >= 1) n.hitsCurr = dad.hitsCurr - 1;
    // Kamailio subtracts one from leafPrev even when it is 0 (an unsigned wrap to 65535, which
    // would block the child at once): here it stops at 0
    if (dad.leafCurr >= 1) n.leafPrev = Math.max(0, dad.leafPrev - 1);
    dad.kids.unshift(n);
    return n;
  }

  /** The clean timer (every second in Kamailio): remove what expired by `now`. */
  clean(now: number): void {
    for (const n of this.timer) {
      if (n.expires > now) break;
      this.expire(n, now);
    }
  }

  /**
   * A node leaves the timer list: an IP leaf with children stops being a leaf (its children
   * keep it); a node without children is removed, and its father, left without children and
   * not an IP leaf itself, goes into the list.
   */
  private expire(n: PikeNode, now: number): void {
    this.timer.delete(n);
    n.expires = 0;
    if (n.kids.length > 0) {
      n.flags &= ~IPLEAF;
      n.leafCurr = 0;
      return;
    }
    const dad = n.parent;
    if (dad === null) {
      this.roots[n.byte] = undefined;
    } else {
      dad.kids.splice(dad.kids.indexOf(n), 1);
      if (dad.kids.length === 0 && (dad.flags & IPLEAF) === 0) this.schedule(dad, now);
    }
    this.count--;
  }

  /** The swap timer (every sampling_time_unit): counts move to "previous"; unblocked leaves are returned. */
  swap(): PikeNode[] {
    const unblocked: PikeNode[] = [];
    const visit = (n: PikeNode): void => {
      n.hitsPrev = n.hitsCurr;
      n.hitsCurr = 0;
      n.leafPrev = n.leafCurr;
      n.leafCurr = 0;
      if ((n.flags & RED) !== 0 && !this.isHotLeaf(n)) {
        n.flags &= ~RED;
        unblocked.push(n);
      }
      for (const k of n.kids) visit(k);
    };
    for (const r of this.roots) if (r !== undefined) visit(r);
    return unblocked;
  }

  /** Every IP leaf with its address bytes, in Kamailio's walk order (by first byte, newest child first). */
  leaves(): { node: PikeNode; bytes: number[] }[] {
    const out: { node: PikeNode; bytes: number[] }[] = [];
    const path: number[] = [];
    const visit = (n: PikeNode): void => {
      path.push(n.byte);
      if ((n.flags & IPLEAF) !== 0) out.push({ node: n, bytes: [...path] });
      for (const k of n.kids) visit(k);
      path.pop();
    };
    for (const r of this.roots) if (r !== undefined) visit(r);
    return out;
  }

  /** The address bytes of a node, from its branch root down. */
  static addressOf(n: PikeNode): number[] {
    const bytes: number[] = [];
    for (let p: PikeNode | null = n; p !== null; p = p.parent) bytes.unshift(p.byte);
    return bytes;
  }
}
