/**
 * Runs callbacks of the current script version for everyone (the SIP router, bindings that
 * resume or dispatch events): one place that logs a failing callback with file:line, counts
 * it, and rate-limits the log so one broken line hit by every message cannot flood it.
 */
import type { Logger } from 'pino';
import type { CallResult, ScriptEngine, ScriptFailure } from './engines/engine.js';
import type { Context } from './kemi/context.js';
import type { Counter, Stats } from './kemi/stats.js';
import type { ScriptHandle } from './kemi/types.js';
import { LogLimiter } from './log-limiter.js';

export class ScriptRunner implements ScriptHandle {
  private readonly hasCache = new WeakMap<ScriptEngine, Map<string, boolean>>();
  private readonly limiter = new LogLimiter(10_000);
  private readonly errors: Counter;
  private readonly cpuLimit: Counter;
  private readonly memoryLimit: Counter;

  constructor(
    private readonly engine: () => ScriptEngine | null,
    private readonly log: Logger,
    stats: Stats,
  ) {
    this.errors = stats.counter('script', 'errors');
    this.cpuLimit = stats.counter('script', 'cpu_limit');
    this.memoryLimit = stats.counter('script', 'memory_limit');
  }

  /** Whether the current script defines this callback (cached per script version). */
  has(name: string): boolean {
    const engine = this.engine();
    if (engine === null) return false;
    let m = this.hasCache.get(engine);
    if (m === undefined) {
      m = new Map();
      this.hasCache.set(engine, m);
    }
    let v = m.get(name);
    if (v === undefined) {
      v = engine.has(name);
      m.set(name, v);
    }
    return v;
  }

  location(): string | undefined {
    return this.engine()?.location();
  }

  run(name: string, ctx: Context, arg?: string): CallResult {
    const engine = this.engine();
    if (engine === null) {
      return { ok: false, failure: { code: 'KEMI_ERR_SCRIPT_RUNTIME', message: 'no script loaded', location: undefined, stack: undefined } };
    }
    const result = engine.call(name, ctx, arg);
    if (!result.ok) this.failed(result.failure, name);
    return result;
  }

  private failed(f: ScriptFailure, route: string): void {
    this.errors.value++;
    if (f.code === 'KEMI_ERR_CPU_LIMIT') this.cpuLimit.value++;
    else if (f.code === 'KEMI_ERR_MEMORY_LIMIT') this.memoryLimit.value++;
    const key = `${route}|${f.location ?? f.message}`;
    if (this.limiter.allow(key)) {
      this.log.error({ code: f.code, route, at: f.location, stack: f.stack, suppressed: this.limiter.suppressed(key) }, f.message);
    }
  }
}
