/**
 * The error boundary (DESIGN.md §9, §11): every piece of work that enters the server — a
 * datagram or a stream message, a timer, a promise continuation, an HTTP or RPC request, a
 * peer's data — runs through here. A fault there (a bug of ours, a peer's input nobody thought
 * of) is counted (`core:uncaught_errors`), logged once per kind and place per interval, and
 * swallowed: the caller answers what can still be answered and the server keeps serving.
 *
 * A process-level `uncaughtException` handler is only the last resort (host/cli.ts); the tests
 * throw from each entry point instead (test/e2e/error-boundary.test.ts).
 */
import type { Logger } from 'pino';
import type { Counter, Stats } from './kemi/stats.js';
import { LogLimiter } from './log-limiter.js';

/** Where work entered: names the log line and the rate-limit key. */
export type EntryKind =
  | 'sip-receive'
  | 'sip-frame-error'
  | 'tm-timer'
  | 'dns-answer'
  | 'module-timer'
  | 'module-promise'
  | 'http-request'
  | 'rpc-request'
  | 'peer-data'
  | 'reload'
  /** escaped every boundary: caught by the process-level last resort (host/cli.ts) */
  | 'process';

export class ErrorBoundary {
  private readonly limiter = new LogLimiter(10_000);
  readonly uncaught: Counter;

  constructor(
    private readonly log: Logger,
    stats: Stats,
  ) {
    this.uncaught = stats.counter('core', 'uncaught_errors');
  }

  /**
   * Run `fn`; an exception is counted, logged (rate-limited) and swallowed. Returns false when
   * `fn` threw, so the caller can answer what it was doing (a 500, a closed connection).
   */
  run(kind: EntryKind, fn: () => void): boolean {
    try {
      fn();
      return true;
    } catch (e) {
      this.caught(kind, e);
      return false;
    }
  }

  /** A setTimeout whose callback runs inside the boundary; unref'd (timers never keep the process up). */
  timeout<A>(kind: EntryKind, ms: number, fn: (arg: A) => void, arg: A): NodeJS.Timeout {
    const t = setTimeout(guardedTimer, Math.max(0, ms), this, kind, fn, arg);
    t.unref();
    return t;
  }

  /** A setInterval whose callback runs inside the boundary; unref'd. */
  interval(kind: EntryKind, ms: number, fn: () => void): NodeJS.Timeout {
    const t = setInterval(() => { this.run(kind, fn); }, ms);
    t.unref();
    return t;
  }

  /** Continue a promise inside the boundary: `ok` or `fail` runs guarded; nothing is left unhandled. */
  then<T>(p: Promise<T>, kind: EntryKind, ok: (v: T) => void, fail: (e: unknown) => void): void {
    p.then(
      (v) => { this.run(kind, () => { ok(v); }); },
      (e: unknown) => { this.run(kind, () => { fail(e); }); },
    );
  }

  /** Count and log a fault caught elsewhere at an entry point (a handler with its own try). */
  caught(kind: EntryKind, e: unknown): void {
    this.uncaught.value++;
    const err = e instanceof Error ? e : new Error(typeof e === 'string' ? e : 'non-Error value thrown');
    const key = `${kind}|${err.name}|${firstFrame(err)}`;
    if (this.limiter.allow(key)) {
      this.log.error({ entry: kind, err, suppressed: this.limiter.suppressed(key) }, `internal error while handling ${kind}; the server goes on`);
    }
  }
}

function guardedTimer<A>(b: ErrorBoundary, kind: EntryKind, fn: (arg: A) => void, arg: A): void {
  b.run(kind, () => { fn(arg); });
}

/** The place a fault came from (its stack's first frame), so one bug logs once whatever the message text. */
function firstFrame(err: Error): string {
  const stack = err.stack ?? '';
  const i = stack.indexOf('\n    at ');
  if (i < 0) return err.message.slice(0, 80);
  const j = stack.indexOf('\n', i + 1);
  return stack.slice(i + 8, j < 0 ? undefined : j);
}
