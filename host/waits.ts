/**
 * Callbacks that wait in place (issue 17, docs/waiting.md). A KSR call returns a Wait
 * (host/kemi/wait.ts); the engine asks here whether the callback may wait (`begin`), suspends
 * it — a Lua coroutine yields, a JS async callback awaits — and hands over how to continue it
 * (`WaitTicket.suspended`). Then, in one place for both engines:
 *
 * - the message is held through its owner (host/kemi/owner.ts) — a SIP request's transaction is
 *   suspended as Kamailio's t_suspend does, an xhttp exchange waits — so nothing finishes it
 *   meanwhile; a Context without an owner (an event route), or an ACK (nothing answers it, it
 *   has no transaction), is marked suspended itself. Either
 *   way the script version that runs it stays pinned (host/script-runner.ts), so a reload never
 *   moves a waiting callback to other code;
 * - the wait is bounded: limits.wait_ms (the call then returns its failure value, logged) and
 *   limits.max_waiting callbacks at once (further waits are refused at once);
 * - when the work settles, the callback continues through the owner's resume, exactly as a
 *   named resume route would: a message gone meanwhile (CANCEL, transaction timeout, closed
 *   connection) is counted and the callback is dropped without running (`abandon`);
 * - on shutdown every wait ends now with its failure value and its callback runs to its end,
 *   so what it sends still leaves before the transports close.
 */
import type { Logger } from 'pino';
import type { ErrorBoundary } from './boundary.js';
import { describeError } from './errors.js';
import type { CallResult } from './engines/engine.js';
import type { Context } from './kemi/context.js';
import { holdMessage, type GoneReport, type Hold } from './kemi/owner.js';
import type { Counter, Stats } from './kemi/stats.js';
import type { Wait } from './kemi/wait.js';
import { LogLimiter } from './log-limiter.js';

/** How an engine continues, or lets go of, a callback it suspended. */
export interface Suspension {
  /** Continue the callback with the call's result. What it did next: it may have waited again. */
  resume(value: unknown): CallResult;
  /** It will never continue (its message is gone, its engine disposed): free what it holds. */
  abandon(): void;
}

/** Runs a suspended callback's continuation as a callback of its pinned script version (ScriptRunner). */
export interface ContinuationRunner {
  continueCallback(ctx: Context, route: string, s: Suspension, value: unknown): CallResult;
}

/** What the engines see of Waits. */
export interface WaitHost {
  /**
   * A KSR call of `route` returned `wait` while running on ctx: hold the message and get a
   * ticket, or the reason it cannot wait (then the call returns wait.failure). The engine
   * checks first that it can suspend the callback: after `begin` it must.
   */
  begin(ctx: Context, route: string, wait: Wait): WaitTicket | string;
  /** Log why a call could not wait (rate-limited), counted as refused. */
  refuse(wait: Wait, reason: string, at: string | undefined): void;
}

export interface WaitsOptions {
  readonly waitMs: number;
  readonly maxWaiting: number;
}

export class WaitTicket {
  /** set by the engine once the callback is suspended; null until then */
  private suspension: Suspension | null = null;
  /** made only for a Wait whose start takes the signal (an AbortController costs ~1 KB per waiting call) */
  abort: AbortController | null = null;
  /** when limits.wait_ms ends it (performance.now()) */
  deadline = Infinity;
  settled = false;

  constructor(
    readonly ctx: Context,
    readonly route: string,
    readonly wait: Wait,
    /** the owner's hold, or null for a Context without an owner (marked suspended here) */
    readonly hold: Hold | null,
    private readonly waits: Waits,
  ) {}

  /** The engine suspended the callback: start the work now. */
  suspended(s: Suspension): void {
    this.suspension = s;
    this.waits.start(this);
  }

  get how(): Suspension | null {
    return this.suspension;
  }
}

export class Waits implements WaitHost {
  private readonly pending = new Set<WaitTicket>();
  private readonly limiter = new LogLimiter(10_000);
  private readonly gone: GoneReport;
  private readonly c: Readonly<Record<'started' | 'resumed' | 'timeouts' | 'failed' | 'refused' | 'gone' | 'waiting', Counter>>;
  private closed = false;
  /** the one timer of limits.wait_ms (armTimer) */
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly log: Logger,
    stats: Stats,
    private readonly boundary: ErrorBoundary,
    private readonly runner: ContinuationRunner,
    private readonly opts: WaitsOptions,
  ) {
    this.c = {
      started: stats.counter('wait', 'started'),
      resumed: stats.counter('wait', 'resumed'),
      timeouts: stats.counter('wait', 'timeouts'),
      failed: stats.counter('wait', 'failed'),
      refused: stats.counter('wait', 'refused'),
      gone: stats.counter('wait', 'gone'),
      waiting: stats.gauge('wait', 'waiting'),
    };
    this.gone = { counter: this.c.gone, host: { complain: (text, fields) => { this.note('gone', text, fields ?? {}); } } };
  }

  /** Callbacks waiting now. */
  get size(): number {
    return this.pending.size;
  }

  begin(ctx: Context, route: string, wait: Wait): WaitTicket | string {
    if (this.closed) return 'the server is stopping';
    if (this.pending.size >= this.opts.maxWaiting) return `${String(this.opts.maxWaiting)} callbacks are waiting already (limits.max_waiting)`;
    let hold: Hold | null = null;
    const h = ctx.owner === null ? null : holdMessage(ctx, !wait.holdsTransaction);
    if (h !== null && typeof h !== 'string') {
      hold = h;
    } else {
      // an event route, or an ACK: nothing answers it, so it needs no transaction to wait; the
      // Context itself is marked held (what pins its script version). A reply cannot wait: it
      // is relayed as soon as its route returns.
      if (typeof h === 'string' && ctx.msg?.method !== 'ACK') return h;
      if (h === null && ctx.kind !== 'event') return 'a reply cannot wait: it is relayed when its route returns';
      if (ctx.suspended) return 'the message is already held';
      ctx.suspended = true;
    }
    return new WaitTicket(ctx, route, wait, hold, this);
  }

  refuse(wait: Wait, reason: string, at: string | undefined): void {
    this.c.refused.value++;
    this.note(`refused:${wait.what}:${reason}`, `${wait.what} cannot wait here: ${reason}; it returns its failure value`, { at });
  }

  /** WaitTicket.suspended: start the work, with its time limit. */
  start(t: WaitTicket): void {
    this.pending.add(t);
    this.c.started.value++;
    this.c.waiting.value = this.pending.size;
    if (this.opts.waitMs > 0) {
      t.deadline = performance.now() + this.opts.waitMs;
      if (this.timer === null) this.armTimer(t.deadline);
    }
    let work: Promise<unknown>;
    try {
      let signal: AbortSignal | undefined;
      if (t.wait.start.length > 0) {
        t.abort = new AbortController();
        signal = t.abort.signal;
      }
      work = t.wait.start(signal as AbortSignal);
    } catch (e) {
      work = Promise.reject(e instanceof Error ? e : new Error(describeError(e)));
    }
    // not boundary.then: its wrappers would cost ~300 B more per waiting call; settle runs guarded itself
    work.then((v) => { this.settleGuarded(t, v, null); }, (e: unknown) => { this.settleGuarded(t, t.wait.failure, e); });
  }

  /** The work settled (`error` when it failed): the callback goes on, inside the error boundary. */
  private settleGuarded(t: WaitTicket, value: unknown, error: unknown): void {
    if (t.settled) return;
    this.boundary.run('module-promise', () => {
      if (error !== null) {
        this.c.failed.value++;
        this.note(`failed:${t.wait.what}`, `${t.wait.what} failed: ${describeError(error)}; the call returns its failure value`, { route: t.route });
      }
      this.settle(t, value);
    });
  }

  /**
   * One timer for every wait's limit: limits.wait_ms is the same for all, so the waits expire in
   * the order they started, which is `pending`'s order (a Set keeps insertion order). The timer
   * is armed for the oldest; when it fires, the expired ones end and it is armed for the next.
   */
  private armTimer(at: number): void {
    this.timer = this.boundary.timeout('module-timer', Math.max(0, at - performance.now()) + 1, () => {
      this.timer = null;
      const now = performance.now();
      for (const t of this.pending) {
        if (t.deadline > now) {
          this.armTimer(t.deadline);
          return;
        }
        this.expire(t);
      }
    }, null);
  }

  private expire(t: WaitTicket): void {
    t.abort?.abort();
    this.c.timeouts.value++;
    this.note(`timeout:${t.wait.what}`, `${t.wait.what}: no answer within limits.wait_ms (${String(this.opts.waitMs)} ms); the call returns its failure value`, { route: t.route });
    this.settle(t, t.wait.failure);
  }

  /** Stop: every wait ends now with its failure value; its callback runs to its end. */
  close(): void {
    this.closed = true;
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    for (const t of [...this.pending]) {
      t.abort?.abort();
      this.note('closing', 'the server is stopping: a waiting call returns its failure value now', { route: t.route, call: t.wait.what });
      // one callback's fault must not stop the others from going on, nor the server from stopping
      this.boundary.run('module-timer', () => { this.settle(t, t.wait.failure); });
    }
  }

  private settle(t: WaitTicket, value: unknown): void {
    if (t.settled) return;
    t.settled = true;
    this.pending.delete(t);
    this.c.waiting.value = this.pending.size;
    const s = t.how;
    if (s === null) return;
    const run = (): CallResult => this.runner.continueCallback(t.ctx, t.route, s, value);
    if (t.hold === null) {
      t.ctx.suspended = false;
      this.c.resumed.value++;
      run();
      return;
    }
    if (t.hold.continueWith(run, this.gone)) this.c.resumed.value++;
    else s.abandon();
  }

  private note(key: string, text: string, fields: Record<string, unknown>): void {
    if (!this.limiter.allow(key)) return;
    this.log.warn({ ...fields, suppressed: this.limiter.suppressed(key) }, text);
  }
}
