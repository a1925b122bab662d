/**
 * A callback's call plan: the KSR calls it made that the isolate may answer without crossing
 * back to the host, learnt from earlier runs of the same callback (issue 3: crossings are the
 * cost). Before each run the host computes the plan's answers on the new Context and hands
 * them in with the one crossing that starts the callback. Three kinds of entry, from what the
 * function declares (KemiFunctionDef):
 *
 * - PURE (`pure`): the answer holds for the Context's whole life.
 * - READ (`read`): the answer holds until the callback's first call that changes something;
 *   the isolate uses it only before that, and a read is learnt only when it came before that.
 * - DEFERRED (`predict`): a call that only changes what later calls and the host look at. The
 *   isolate gives the script the predicted result and queues the call; the queue runs on the
 *   host, in order, before any other KSR call crosses and when the callback ends, so every
 *   effect is in place before anything can look at it.
 * - DEFERRED_UNCHANGED (`predict` with `predictWhileUnchanged`): the same, but the prediction
 *   holds only as a READ does, so the call is queued only as the run's first change.
 *
 * An entry is keyed by the function's index and its primitive arguments (the isolate finds it
 * by the same, prelude.ts: slotOf). Slots only grow while callbacks run (a failing entry is
 * marked dead, never reused), so a slot number the isolate holds stays valid while the host
 * learns more. Every answer is computed on every run, used or not: so every REVIEW_RUNS runs
 * the entries the isolate did not use are dropped (prune), and the slots renumbered, which is
 * done only while no callback runs.
 */
import type { Context } from '../../kemi/context.js';
import type { BoundFunction } from '../../kemi/registry.js';
import type { KemiType } from '../../kemi/types.js';

export const PURE = 0;
export const READ = 1;
export const DEFERRED = 2;
/** DEFERRED whose prediction holds only while nothing has changed (predictWhileUnchanged) */
export const DEFERRED_UNCHANGED = 3;
export type PlanKind = typeof PURE | typeof READ | typeof DEFERRED | typeof DEFERRED_UNCHANGED;

export type PlanValue = string | number | boolean | null;

/** Bounds: per callback, and how many first sightings are remembered while waiting for a second. */
const MAX_ENTRIES = 32;
const MAX_CANDIDATES = 64;
/** Runs of a callback between two reviews of what its plan's entries were used for. */
export const REVIEW_RUNS = 1000;

interface PlanEntry {
  readonly fn: BoundFunction;
  /** its index in the KSR table (what the isolate calls it by) */
  readonly index: number;
  /** the arguments as the script passed them (the key, and what the isolate matches) */
  readonly raw: readonly unknown[];
  /** the same, checked and converted by invoke when learnt: what `impl` and `predict` are given */
  readonly checked: readonly unknown[];
  readonly kind: PlanKind;
  /** planKey */
  readonly key: string;
  /** the review window it was learnt in: it is judged from the next window on */
  readonly window: number;
  live: boolean;
}

export class CallPlan {
  private entries: PlanEntry[] = [];
  private readonly slots = new Map<string, number>();
  /**
   * Keys seen once: an entry is added on its second sighting, so a call whose arguments change
   * on every message (a header with a Call-ID in it) never fills the plan with answers that
   * are computed on every run and never used.
   */
  private readonly candidates = new Set<string>();
  /** bumped on every change: the isolate's copy of the keys is sent again when it differs */
  version = 0;
  /** runs since the last review (counted by the engine) */
  runs = 0;
  private window = 0;

  get size(): number {
    return this.entries.length;
  }

  /** Learn a call the callback made (crossing): index in the KSR table, arguments before and after checking. */
  learn(kind: PlanKind, fn: BoundFunction, index: number, raw: readonly unknown[], checked: readonly unknown[]): void {
    // JSON carries no undefined: a deferred call that returns nothing is not worth the special case
    const deferred = kind === DEFERRED || kind === DEFERRED_UNCHANGED;
    if (this.entries.length >= MAX_ENTRIES || (deferred && fn.returns === 'none')) return;
    const key = planKey(index, raw);
    if (key === null || this.slots.has(key)) return;
    if (!this.candidates.has(key)) {
      if (this.candidates.size >= MAX_CANDIDATES) this.candidates.clear();
      this.candidates.add(key);
      return;
    }
    this.candidates.delete(key);
    this.slots.set(key, this.entries.length);
    this.entries.push({ fn, index, raw: [...raw], checked: [...checked], kind, key, window: this.window, live: true });
    this.version++;
  }

  /**
   * The answers for this run, by slot: a value for PURE and READ, the predicted result for
   * DEFERRED (null when it cannot be predicted this time: the isolate then lets the call
   * cross). An entry that fails is marked dead (version bumped), never kept.
   */
  answers(ctx: Context): PlanValue[] {
    const out: PlanValue[] = [];
    const entries = this.entries;
    for (let slot = 0; slot < entries.length; slot++) {
      const e = entries[slot] as PlanEntry;
      let v: PlanValue = null;
      if (e.live) {
        try {
          if (e.kind === DEFERRED || e.kind === DEFERRED_UNCHANGED) {
            const p = e.fn.predict?.(ctx, e.checked);
            v = p === undefined ? null : (convertResult(e.fn.returns, p) as PlanValue);
          } else {
            // the arguments were checked and converted when the entry was learnt: same result
            v = convertResult(e.fn.returns, e.fn.impl(ctx, e.checked)) as PlanValue;
          }
        } catch {
          // cannot happen for arguments that passed before; never keep a failing entry
          e.live = false;
          this.version++;
          v = null;
        }
      }
      out.push(v);
    }
    return out;
  }

  /**
   * Keep the entries the isolate used since the last review (`hits`: uses by slot) and those
   * learnt since; drop the rest (a branch the script no longer takes, arguments seen twice and
   * never again), which may be learnt again later. Renumbers the slots: only while no callback
   * runs. true when something was dropped.
   */
  prune(hits: readonly number[]): boolean {
    const kept = this.entries.filter((e, slot) => e.live && (e.window === this.window || (hits[slot] ?? 0) > 0));
    this.window++;
    this.runs = 0;
    if (kept.length === this.entries.length) return false;
    this.entries = kept;
    this.slots.clear();
    kept.forEach((e, slot) => this.slots.set(e.key, slot));
    this.version++;
    return true;
  }

  /** The plan for the isolate, as JSON: [function index, arguments, kind] per slot, null for a dead one. */
  keysJson(): string {
    return JSON.stringify(this.entries.map((e) => (e.live ? [e.index, e.raw, e.kind] : null)));
  }

  /** Run a queued DEFERRED call; the result it really returned. Throws what the function throws. */
  runDeferred(slot: number, ctx: Context): { fn: BoundFunction; result: unknown } | null {
    const e = this.entries[slot];
    if (e === undefined || (e.kind !== DEFERRED && e.kind !== DEFERRED_UNCHANGED)) return null;
    return { fn: e.fn, result: convertResult(e.fn.returns, e.fn.impl(ctx, e.checked)) };
  }
}

/**
 * The key of a call: function index and typed primitive arguments; null when not cacheable.
 * The isolate finds the call by the arguments themselves (prelude.ts: slotOf), so only what
 * JSON carries exactly is taken: no NaN or Infinity (JSON makes them null).
 */
function planKey(index: number, args: readonly unknown[]): string | null {
  let key = `${String(index)}|`;
  for (const a of args) {
    if (a !== null && typeof a !== 'string' && typeof a !== 'boolean' && !(typeof a === 'number' && Number.isFinite(a))) return null;
    key += `${(typeof a).charAt(0)}${String(a)}\u0001`;
  }
  return key;
}

/** KEMI return conventions, as the Lua engine pushes them. */
export function convertResult(returns: KemiType, r: unknown): unknown {
  switch (returns) {
    case 'none':
      return undefined;
    case 'bool':
      return r === true;
    case 'int':
    case 'long':
      return typeof r === 'number' ? r : -1;
    case 'str':
      return typeof r === 'string' || typeof r === 'number' ? r : null;
    case 'xval':
      // a list or table (KSR.pvx.xavp_getd & co.) crosses by copy, as the dispatch callback copies
      return typeof r === 'string' || typeof r === 'number' || (typeof r === 'object' && r !== null) ? r : null;
  }
}
