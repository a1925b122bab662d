/**
 * One loaded script version: its engine instance, where it came from, how many suspended
 * messages still belong to it, and the per-callback figures /metrics shows. Built beside the
 * running version by the Reloader, swapped in by the ScriptRunner, disposed by the runner once
 * it is replaced and its last suspended message is done.
 */
import type { ScriptEngine } from '../engines/engine.js';
import type { Context, VersionPin } from '../kemi/context.js';

/** Upper bounds of the callback latency histogram, in seconds (callbacks take µs to ms). */
export const LATENCY_BUCKETS: readonly number[] = [
  0.00001, 0.000025, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1,
];

/** Calls, failures and a latency histogram of one callback of one version. */
export class CallbackFigures {
  calls = 0;
  failures = 0;
  /** seconds, summed */
  sum = 0;
  /** per bucket (not cumulative); the last slot is +Inf */
  readonly buckets = new Array<number>(LATENCY_BUCKETS.length + 1).fill(0);

  observe(ms: number, ok: boolean): void {
    this.calls++;
    if (!ok) this.failures++;
    const s = ms / 1000;
    this.sum += s;
    let i = 0;
    while (i < LATENCY_BUCKETS.length && s > (LATENCY_BUCKETS[i] ?? Infinity)) i++;
    this.buckets[i] = (this.buckets[i] ?? 0) + 1;
  }
}

export interface VersionSource {
  readonly path: string;
  /** sha256 of the source text, hex */
  readonly sha256: string;
}

/** What the RPC reports about a version. */
export interface VersionInfo {
  readonly version: number;
  readonly path: string;
  readonly sha256: string;
  /** ISO 8601 */
  readonly loaded_at: string;
  /** suspended messages that still belong to it */
  readonly suspended: number;
  /** ISO 8601, when another version took over; null for the current one */
  readonly replaced_at: string | null;
}

/** Tells the runner a pinned Context was let go (see VersionPin in host/kemi/context.ts). */
export interface PinOwner {
  unsuspended(v: ScriptVersion, ctx: Context): void;
}

export class ScriptVersion implements VersionPin {
  readonly loadedAt = new Date();
  replacedAt: Date | null = null;
  /** suspended Contexts pinned to this version */
  suspended = 0;
  disposed = false;
  /** callback name → figures; only callbacks that ran are here */
  readonly figures = new Map<string, CallbackFigures>();
  /** cached `engine.has(name)` */
  private readonly hasCache = new Map<string, boolean>();
  owner: PinOwner | null = null;

  constructor(
    readonly number: number,
    readonly engine: ScriptEngine,
    readonly source: VersionSource,
  ) {}

  has(name: string): boolean {
    let v = this.hasCache.get(name);
    if (v === undefined) {
      v = this.engine.has(name);
      this.hasCache.set(name, v);
    }
    return v;
  }

  figuresFor(name: string): CallbackFigures {
    let f = this.figures.get(name);
    if (f === undefined) {
      f = new CallbackFigures();
      this.figures.set(name, f);
    }
    return f;
  }

  unsuspended(ctx: Context): void {
    this.owner?.unsuspended(this, ctx);
  }

  info(): VersionInfo {
    return {
      version: this.number,
      path: this.source.path,
      sha256: this.source.sha256,
      loaded_at: this.loadedAt.toISOString(),
      suspended: this.suspended,
      replaced_at: this.replacedAt?.toISOString() ?? null,
    };
  }
}
