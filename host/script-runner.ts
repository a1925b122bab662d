/**
 * Runs script callbacks for everyone (the SIP router, bindings that resume or dispatch events):
 * one place that picks the script version, logs a failing callback with file:line, counts it
 * (rate-limiting the log so one broken line hit by every message cannot flood it), and times it.
 *
 * Versions (hot reload, docs/operations.md): new messages run on the current version; a
 * callback that returns with its message suspended pins the message to the version that ran it
 * (`ctx.version`), and every later callback of that message runs there. A replaced version is
 * disposed when its last pinned message is let go — the owner setting `ctx.suspended = false`
 * is the signal (see the setter in host/kemi/context.ts); a Context dropped without that is
 * caught by a FinalizationRegistry, so a forgotten message cannot keep an engine alive forever.
 */
import type { Logger } from 'pino';
import type { CallResult, ScriptFailure } from './engines/engine.js';
import type { Context } from './kemi/context.js';
import type { Counter, Stats } from './kemi/stats.js';
import type { ScriptHandle } from './kemi/types.js';
import type { ContinuationRunner, Suspension } from './waits.js';
import { LogLimiter } from './log-limiter.js';
import { ScriptVersion, type PinOwner } from './reload/version.js';

const NO_SCRIPT_FAILURE: ScriptFailure = { code: 'KEMI_ERR_SCRIPT_RUNTIME', message: 'no script loaded', location: undefined, stack: undefined };
const NO_SCRIPT: CallResult = Object.freeze({ ok: false, failure: NO_SCRIPT_FAILURE });

export class ScriptRunner implements ScriptHandle, PinOwner, ContinuationRunner {
  private cur: ScriptVersion | null = null;
  /** replaced versions that still have suspended messages */
  private readonly draining = new Set<ScriptVersion>();
  /** the version of the callback running now (callbacks nest: a KSR call may run another) */
  private running: ScriptVersion | null = null;
  /** ScriptHandle.sflags: the running callback's script flags */
  sflags = 0;
  private readonly limiter = new LogLimiter(10_000);
  private readonly errors: Counter;
  private readonly cpuLimit: Counter;
  private readonly memoryLimit: Counter;
  private readonly disposedVersions: Counter;
  private readonly collectedPins: Counter;
  /** a pinned Context garbage-collected while still suspended: its version loses the pin */
  private readonly lost = new FinalizationRegistry<ScriptVersion>((v) => {
    this.collectedPins.value++;
    this.drop(v);
  });

  constructor(
    private readonly log: Logger,
    stats: Stats,
  ) {
    this.errors = stats.counter('script', 'errors');
    this.cpuLimit = stats.counter('script', 'cpu_limit');
    this.memoryLimit = stats.counter('script', 'memory_limit');
    this.disposedVersions = stats.counter('script', 'disposed_versions');
    this.collectedPins = stats.counter('script', 'collected_pins');
    // counted by the JS engine (a binding's wrong `predict`); listed from the start for both engines
    stats.counter('script', 'deferred_mismatch');
  }

  /** The version new messages run on. */
  get current(): ScriptVersion | null {
    return this.cur;
  }

  /** Replaced versions still holding suspended messages, oldest first. */
  get drainingVersions(): ScriptVersion[] {
    return [...this.draining];
  }

  /**
   * Make `v` the current version. The one it replaces is disposed now when no suspended message
   * belongs to it, else when the last one is let go.
   */
  install(v: ScriptVersion): void {
    v.owner = this;
    const old = this.cur;
    this.cur = v;
    if (old === null) return;
    old.replacedAt = new Date();
    if (old.suspended === 0) this.dispose(old);
    else this.draining.add(old);
  }

  /** Runtime close: every version goes, pinned or not. */
  disposeAll(): void {
    for (const v of this.draining) this.dispose(v);
    if (this.cur !== null) this.dispose(this.cur);
    this.cur = null;
  }

  /** Whether the script defines this callback: the running version's inside a callback, else the current one's. */
  has(name: string): boolean {
    return (this.running ?? this.cur)?.has(name) ?? false;
  }

  location(): string | undefined {
    return this.running?.engine.location();
  }

  run(name: string, ctx: Context, arg?: string): CallResult {
    const pin = ctx.version;
    const v = pin instanceof ScriptVersion ? pin : (this.running ?? this.cur);
    if (v === null || v.disposed) return NO_SCRIPT;
    const outer = this.running;
    const outerSflags = this.sflags;
    this.running = v;
    this.sflags = 0;
    const figures = v.figuresFor(name);
    const t0 = performance.now();
    let result: CallResult;
    try {
      result = v.engine.call(name, ctx, arg);
    } finally {
      this.running = outer;
      this.sflags = outerSflags;
    }
    figures.observe(performance.now() - t0, result.ok);
    if (ctx.suspended) {
      if (pin === null) this.pin(ctx, v);
    } else if (pin !== null && outer === null) {
      // the resumed route ran to its end without suspending again: the message is done with v
      this.unpin(ctx);
    }
    if (!result.ok) this.failed(result.failure, name, v);
    return result;
  }

  /**
   * Continue a callback suspended in place (host/waits.ts) on the version it is pinned to, as
   * `run` runs a resumed route: timed, its failure logged and counted, the pin kept while it
   * waits again and released when it ends.
   */
  continueCallback(ctx: Context, route: string, s: Suspension, value: unknown): CallResult {
    const pin = ctx.version;
    const v = pin instanceof ScriptVersion ? pin : null;
    if (v === null || v.disposed) {
      s.abandon();
      return NO_SCRIPT;
    }
    const outer = this.running;
    const outerSflags = this.sflags;
    this.running = v;
    const figures = v.figuresFor(route);
    const t0 = performance.now();
    let result: CallResult;
    try {
      result = s.resume(value);
    } finally {
      this.running = outer;
      this.sflags = outerSflags;
    }
    figures.observe(performance.now() - t0, result.ok);
    if (!ctx.suspended && outer === null) this.unpin(ctx);
    if (!result.ok) this.failed(result.failure, route, v);
    return result;
  }

  /** From the Context setter: the owner let a pinned message go; release once the call stack is done with it. */
  unsuspended(v: ScriptVersion, ctx: Context): void {
    queueMicrotask(() => {
      if (!ctx.suspended && ctx.version === v) this.unpin(ctx);
    });
  }

  private pin(ctx: Context, v: ScriptVersion): void {
    ctx.version = v;
    v.suspended++;
    this.lost.register(ctx, v, ctx);
  }

  private unpin(ctx: Context): void {
    const v = ctx.version;
    if (!(v instanceof ScriptVersion)) return;
    ctx.version = null;
    this.lost.unregister(ctx);
    this.drop(v);
  }

  private drop(v: ScriptVersion): void {
    v.suspended--;
    if (v.suspended === 0 && v !== this.cur && v.replacedAt !== null) this.dispose(v);
  }

  private dispose(v: ScriptVersion): void {
    if (v.disposed) return;
    if (this.running !== null) {
      // never free an engine under a running callback (it may be this one): after the stack unwinds
      queueMicrotask(() => { this.dispose(v); });
      return;
    }
    v.disposed = true;
    this.draining.delete(v);
    v.engine.dispose();
    this.disposedVersions.value++;
    this.log.info({ version: v.number, sha256: v.source.sha256.slice(0, 12) }, 'script version disposed');
  }

  private failed(f: ScriptFailure, route: string, v: ScriptVersion): void {
    this.errors.value++;
    if (f.code === 'KEMI_ERR_CPU_LIMIT') this.cpuLimit.value++;
    else if (f.code === 'KEMI_ERR_MEMORY_LIMIT') this.memoryLimit.value++;
    const key = `${route}|${f.location ?? f.message}`;
    if (this.limiter.allow(key)) {
      this.log.error({ code: f.code, route, at: f.location, stack: f.stack, version: v.number, suppressed: this.limiter.suppressed(key) }, f.message);
    }
  }
}
