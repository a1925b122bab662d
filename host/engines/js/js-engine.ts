/**
 * The JavaScript engine on isolated-vm: one Isolate + Context per loaded script version, with
 * a memory limit and a timeout on every callback. The script is plain JS with top-level
 * function declarations (Kamailio's app_jsdt); it sees `KSR`, `console` and the language.
 *
 * The bridge (see prelude.ts for the isolate side): a callback is one `applySync` of the
 * prelude's runner, which catches the script's errors inside the isolate. Every KSR function
 * is a small wrapper in the isolate. What its call plan allows (call-plan.ts) it answers
 * itself, or queues for the host; anything else crosses through one sync ivm.Callback for all
 * functions (the function's index first), which runs host/kemi/invoke (dispatch.ts) and returns
 * the converted result: arguments copied once (primitives only), no host exception ever crossing.
 * Crossings are the cost to watch (docs/decisions.md, "Call plans"): a callback of a plain
 * route crosses once, to start.
 *
 * KSR.x.exit()/drop(): the isolate ends the callback itself and queues the host's part; the
 * host marks the running callback as stopped, and from then on every KSR call of that
 * callback throws the stop again without doing anything, and the result is CALL_EXIT/
 * CALL_DROP whatever the script does next. What JS cannot give (no uncatchable exception
 * exists short of terminating the isolate): a script that catches the stop keeps running plain
 * JS — it cannot touch the message or anything else through KSR, it can only compute and
 * change its own globals until it returns or hits the CPU limit.
 *
 * Limits: cpu_ms is CPU time, checked at every crossing, and a wall-clock timeout for the
 * script's own code (cpu-budget.ts); memory_mb is isolated-vm's, and an instance that went
 * over it is rebuilt from the same source (docs/decisions.md, "Out of memory in a script").
 * A KSR call made after its callback returned (a promise continuation) is refused in the
 * isolate (prelude.ts) — except in an `async function` callback, which may wait in place
 * (host/waits.ts): a KSR call that waits answers WAIT, the callback awaits it, and
 * continueCallback resumes it later (its end comes through the asyncEnded callback).
 *
 * The process must run with --no-node-snapshot (isolated-vm on Node 20+).
 */
import ivm from 'isolated-vm';
import type { Logger } from 'pino';
import { describeError, KemiError } from '../../errors.js';
import { LogLimiter } from '../../log-limiter.js';
import type { Context } from '../../kemi/context.js';
import type { BoundFunction } from '../../kemi/registry.js';
import { CALL_OK, type CallResult, type EngineOptions, type ScriptEngine } from '../engine.js';
import { convertResult, REVIEW_RUNS, type CallPlan } from './call-plan.js';
import { startBudget, WALL_FACTOR } from './cpu-budget.js';
import { cpuTimeMs } from '../cpu-clock.js';
import type { KemiType } from '../../kemi/types.js';
import { deadlineGrid, gridTimeout } from './deadline.js';
import { KsrDispatcher } from './dispatch.js';
import { idleFrame, type Frame } from './frame.js';
import { buildInstance, compileOnly, type Instance } from './instance.js';
import { failure, ScriptLocator } from './js-failures.js';
import { PlanRunner } from './plan-runner.js';
import { retire } from './retired.js';
import { hostCallbacks, type CallbackTarget } from './js-callbacks.js';
import { callOutcome, type OutcomeDeps } from './js-outcome.js';
import { JsSuspension, type Continuer } from './js-suspension.js';

/** The script's top level may take longer than one callback (it builds tables). */
const LOAD_CPU_MS = 5000;
const DEFAULT_MEMORY_MB = 128;
/** isolated-vm refuses less */
const MIN_MEMORY_MB = 8;
/** Nested callbacks (a KSR function running another callback) re-enter the same native stack. */
const MAX_DEPTH = 32;
const LOG_LEVELS = new Set(['debug', 'info', 'warn', 'error']);

export class JsEngine implements ScriptEngine, Continuer, CallbackTarget {
  readonly kind = 'js' as const;
  private vm: Instance | null = null;
  private source = '';
  private path = '';
  private locator = new ScriptLocator('');
  /**
   * [module, function, flags, failure value] per KSR function: flags 1 may be in a call plan,
   * 2 changes nothing, 4/8 stops (exit/drop), 16 may wait in place; the failure value is what a
   * late call returns
   */
  private readonly table: [string, string, number, unknown][] = [];
  private readonly plans: PlanRunner;
  private readonly memoryMb: number;
  /** isolated-vm's per-call options: the timeout is set before each call (cpu-budget.ts, deadline.ts) */
  private readonly runOpts: { timeout?: number };
  /** the spacing of the timeout deadlines, in ms (deadline.ts); 0 without a CPU limit */
  private readonly deadlineGrid: number;
  private readonly scriptLog: Logger;
  private readonly limiter = new LogLimiter(10_000);
  /** the KSR functions in table order (the index the isolate passes to dispatchCb) */
  private readonly fns: BoundFunction[] = [];
  /** the host side of every KSR function; reused by every isolate this engine builds */
  private readonly dispatchCb: ivm.Callback;
  private readonly consoleCb: ivm.Callback;
  private readonly flushThenCb: ivm.Callback;
  private readonly asyncEndedCb: ivm.Callback;
  /** async callbacks that ended during the host call into the isolate now running: id → run's "<queued>|<status>" */
  readonly ended = new Map<number, string>();
  private nextId = 0;
  /**
   * What the callbacks reach the engine through. isolated-vm keeps the host function of an
   * ivm.Callback alive after its isolate is disposed, so a callback that closed over `this`
   * would keep every replaced engine (its plans, frames, source) for the life of the process:
   * a hot reload would leak. dispose() cuts this link instead.
   */
  private readonly link: { engine: CallbackTarget | null } = { engine: this };

  /** the host side of KSR calls, and the running callback (a nested call pushes its own and puts this one back) */
  readonly ksr: KsrDispatcher;
  private depth = 0;
  private readonly outcomeDeps: OutcomeDeps;

  private disposed = false;
  private disposeWhenIdle = false;

  /** How many calls the plan of callback `name` holds (call-plan.ts). */
  plannedCalls(name: string): number {
    return this.plans.get(name)?.size ?? 0;
  }

  /** How many times the script's code called back to the host (KSR calls, queue hand-overs): what call plans save. */
  get crossings(): number {
    return this.ksr.crossed;
  }

  constructor(private readonly opts: EngineOptions) {
    this.memoryMb = opts.memoryMb > 0 ? Math.max(MIN_MEMORY_MB, Math.ceil(opts.memoryMb)) : DEFAULT_MEMORY_MB;
    this.runOpts = opts.cpuMs > 0 ? { timeout: Math.max(1, Math.ceil(opts.cpuMs)) } : {};
    this.deadlineGrid = deadlineGrid(opts.cpuMs);
    // not opts.log.child(): the runtime's engine logger already carries module 'engine', and
    // pino writes every binding of every child, so the line would carry `module` twice
    this.scriptLog = opts.registry.scriptLog;
    if (!nodeSnapshotDisabled()) {
      opts.log.warn('isolated-vm on Node 20+ needs node to run with --no-node-snapshot; without it the process may crash');
    }
    for (const mod of opts.registry.modules) {
      for (const fn of mod.functions) {
        const plannable = fn.pure !== null || fn.read !== null || fn.predict !== null;
        const stops = fn.stops === 'exit' ? 4 : fn.stops === 'drop' ? 8 : 0;
        this.table.push([mod.name, fn.name, (plannable ? 1 : 0) | (fn.effectFree ? 2 : 0) | stops | (fn.waits ? 16 : 0), convertResult(fn.returns, undefined)]);
        this.fns.push(fn);
      }
    }
    this.plans = new PlanRunner(this.fns, opts.log, opts.registry.stats.counter('script', 'deferred_mismatch'), (k, f, m) => { this.warnOnce(k, f, m); });
    this.ksr = new KsrDispatcher(this.fns, this.plans, opts, (k, f, m) => { this.warnOnce(k, f, m); }, () => this.location());
    const cbs = hostCallbacks(this.link);
    this.dispatchCb = cbs.dispatch;
    this.consoleCb = cbs.console;
    this.flushThenCb = cbs.flushThen;
    this.asyncEndedCb = cbs.asyncEnded;
    this.outcomeDeps = { plans: this.plans, locator: () => this.locator, cpuMs: opts.cpuMs, warnOnce: (k, f, m) => { this.warnOnce(k, f, m); } };
  }

  load(source: string, path: string): void {
    if (this.vm !== null || this.disposed) throw new KemiError('KEMI_ERR_ENGINE', 'a JS engine instance loads one script');
    this.source = source;
    this.path = path;
    this.locator = new ScriptLocator(path);
    this.vm = this.build();
  }

  /**
   * Compile `source` as `path` without running any of it (`kemihost check`): throws KemiError
   * KEMI_ERR_SCRIPT_LOAD with path:line:column for a syntax error. Uses a scratch isolate:
   * works before load() and leaves the engine as it was.
   */
  compile(source: string, path: string): void {
    compileOnly(source, path, this.memoryMb);
  }

  has(name: string): boolean {
    const vm = this.live();
    return vm !== null && !('ok' in vm) && this.indexOf(vm, name) >= 0;
  }

  call(name: string, ctx: Context, arg?: string): CallResult {
    const vm = this.live();
    if (vm === null) return failure('KEMI_ERR_SCRIPT_RUNTIME', 'no script loaded', undefined);
    if ('ok' in vm) return vm;
    if (this.depth >= MAX_DEPTH) {
      return failure('KEMI_ERR_SCRIPT_RUNTIME', `callbacks nested deeper than ${String(MAX_DEPTH)} levels`, undefined);
    }
    const code = this.indexOf(vm, name);
    if (code < 0) return failure('KEMI_ERR_SCRIPT_RUNTIME', `function '${name}' is not defined by ${this.path}`, undefined);
    const index = code >> 1;
    // an async function may wait in place, unless another callback's KSR call runs it
    const id = (code & 1) === 1 && this.depth === 0 && this.opts.waits !== undefined ? ++this.nextId : 0;

    // Save and restore: a KSR function may run another callback before returning.
    const outer = this.ksr.frame;
    const plan = this.plans.get(name);
    // renumbering a plan's slots is safe only while no callback runs
    if (plan !== null && ++plan.runs >= REVIEW_RUNS && this.depth === 0) this.review(vm, index, plan);
    const frame = this.newFrame(ctx, name, plan, id, 0);
    this.ksr.frame = frame;
    ctx.stop = null;
    this.depth++;
    let out: string | undefined;
    let result: CallResult | null = null;
    try {
      const [answers, keys] = this.planArgs(vm, frame, plan);
      out = vm.run.applySync(undefined, [index, arg ?? null, answers, keys, id], this.runOpts);
    } catch (e) {
      vm.suspect = true;
      // the isolate's copy of the plans is in doubt (it may have stopped while installing one)
      vm.installed.clear();
      result = this.locator.hostError(e, { cpuMs: this.opts.cpuMs, memoryMb: this.memoryMb });
      this.takeQueued(vm, frame, this.depth === 1);
    } finally {
      this.depth--;
      this.ksr.frame = outer;
    }
    if (this.depth === 0 && this.disposeWhenIdle) this.dispose();
    return result !== null ? callOutcome(this.outcomeDeps, frame, undefined, result) : this.segmentEnd(vm, frame, index, out, 0);
  }

  /** A running callback's frame; `spent`: the CPU time it used before it waited. */
  private newFrame(ctx: Context, route: string, plan: CallPlan | null, id: number, spent: number): Frame {
    const frame: Frame = { ctx, route, stop: null, refused: false, plan, answers: null, dirty: false, cpuStart: 0, checkAt: Infinity, overrun: null, id, wait: null };
    const cpuMs = this.opts.cpuMs;
    if (cpuMs > 0) {
      // performance.now(): the monotonic clock isolated-vm's timers use, from an offset
      const now = performance.now();
      startBudget(frame, now, cpuMs);
      frame.cpuStart -= spent;
      frame.checkAt -= spent;
      this.runOpts.timeout = gridTimeout(now, cpuMs * WALL_FACTOR, this.deadlineGrid);
    }
    return frame;
  }

  /**
   * What a host call into the isolate left (run's "<queued>|<status>", or undefined): the
   * callback's result; for an async callback that has not ended, its wait is started and the
   * result is CALL_OK (its message is held).
   */
  private segmentEnd(vm: Instance, frame: Frame, index: number, out: string | undefined, spent: number): CallResult {
    let text = out;
    if (typeof text === 'string' && text.endsWith('|w')) {
      const bar = text.length - 2;
      if (bar > 0) this.plans.runQueued(frame, text.slice(0, bar));
      text = this.ended.get(frame.id);
      this.ended.delete(frame.id);
      const wait = frame.wait;
      if (text === undefined) {
        if (wait === null) {
          return failure('KEMI_ERR_SCRIPT_RUNTIME', `${frame.route}() awaits something other than a KSR call that waits: it can never go on`, undefined);
        }
        const used = spent + (this.opts.cpuMs > 0 ? cpuTimeMs() - (frame.cpuStart + spent) : 0);
        // what it keeps while it waits: 50,000 may wait at once
        frame.answers = null;
        wait.ticket.suspended(new JsSuspension(this, vm, frame, index, wait.returns, used));
        return CALL_OK;
      }
      if (wait !== null) {
        // it ended without awaiting the call it began: the message stays held until that call ends
        const result = callOutcome(this.outcomeDeps, frame, text);
        wait.ticket.suspended({ resume: () => result, abandon: () => { /* nothing waits */ } });
        return CALL_OK;
      }
    }
    return callOutcome(this.outcomeDeps, frame, text);
  }

  /** Suspension.resume of an async callback (JsSuspension): the KSR call it awaits returns `value`, and it goes on. */
  continueCallback(vm0: Instance, prev: Frame, index: number, returns: KemiType, value: unknown, spent: number): CallResult {
    const vm = this.live();
    if (vm !== vm0) return failure('KEMI_ERR_SCRIPT_RUNTIME', 'the script instance was rebuilt or disposed while the callback waited', undefined);
    // the continuation answers from the callback's plan too, with answers read from the Context now
    const plan = this.plans.get(prev.route);
    const frame = this.newFrame(prev.ctx, prev.route, plan, prev.id, spent);
    const outer = this.ksr.frame;
    this.ksr.frame = frame;
    this.depth++;
    let going = 0;
    try {
      const [answers, keys] = this.planArgs(vm, frame, plan);
      going = vm.resume.applySync(undefined, [frame.id, convertResult(returns, value) as string | number | boolean | null, index, answers, keys], this.runOpts);
    } catch (e) {
      vm.suspect = true;
      vm.installed.clear();
      this.ended.delete(frame.id);
      this.takeQueued(vm, frame, this.depth === 1);
      return callOutcome(this.outcomeDeps, frame, undefined, this.locator.hostError(e, { cpuMs: this.opts.cpuMs, memoryMb: this.memoryMb }));
    } finally {
      this.depth--;
      this.ksr.frame = outer;
    }
    if (this.depth === 0 && this.disposeWhenIdle) this.dispose();
    if (going !== 1) return failure('KEMI_ERR_SCRIPT_RUNTIME', `${prev.route}() was not waiting any more`, undefined);
    return this.segmentEnd(vm, frame, index, '|w', spent);
  }

  /** The plan's answers for this run of a callback (JSON), and its keys when the isolate's copy is older. */
  private planArgs(vm: Instance, frame: Frame, plan: CallPlan | null): [string | null, string | null] {
    if (plan === null || plan.size === 0) return [null, null];
    frame.answers = plan.answers(frame.ctx);
    let keys: string | null = null;
    if (vm.installed.get(frame.route) !== plan.version) {
      keys = plan.keysJson();
      vm.installed.set(frame.route, plan.version);
    }
    return [JSON.stringify(frame.answers), keys];
  }

  /** Suspension.abandon (JsSuspension): the async callback will never go on. */
  forget(vm: Instance, id: number): void {
    this.ended.delete(id);
    if (this.vm !== vm || vm.isolate.isDisposed) return;
    try {
      vm.forget.applySync(undefined, [id]);
    } catch {
      vm.suspect = true;
    }
  }

  location(): string | undefined {
    const vm = this.vm;
    if (vm === null || this.depth === 0 || vm.isolate.isDisposed) return undefined;
    try {
      const at: unknown = vm.where.applySync(undefined, []);
      return typeof at === 'string' ? at : undefined;
    } catch {
      vm.suspect = true;
      return undefined;
    }
  }

  dispose(): void {
    if (this.disposed) return;
    if (this.depth > 0) {
      // Disposing the isolate under the running callback would kill it mid-message.
      this.disposeWhenIdle = true;
      return;
    }
    this.disposed = true;
    this.link.engine = null;
    const vm = this.vm;
    this.vm = null;
    if (vm !== null) {
      if (!vm.isolate.isDisposed) vm.isolate.dispose();
      retire(vm.handles);
    }
    retire([this.dispatchCb, this.consoleCb, this.flushThenCb, this.asyncEndedCb]);
  }

  /** The live instance; an isolate lost to the memory limit is rebuilt from the same source. */
  private live(): Instance | CallResult | null {
    const vm = this.vm;
    if (vm === null || this.disposed) return null;
    if (!vm.suspect) return vm;
    if (!vm.isolate.isDisposed) {
      vm.suspect = false;
      return vm;
    }
    if (this.depth > 0) return failure('KEMI_ERR_SCRIPT_RUNTIME', 'the script instance was disposed while running', undefined);
    try {
      const fresh = this.build();
      retire(vm.handles);
      this.vm = fresh;
      this.opts.log.warn({ script: this.path }, 'JS script instance rebuilt after its isolate was disposed');
      return fresh;
    } catch (e) {
      // Keep the dead instance: the next call tries again.
      const message = `could not rebuild the script instance: ${describeError(e)}`;
      this.warnOnce('rebuild', () => ({ err: e }), message);
      return failure('KEMI_ERR_SCRIPT_RUNTIME', message, undefined);
    }
  }

  private indexOf(vm: Instance, name: string): number {
    const hit = vm.indexes.get(name);
    if (hit !== undefined) return hit;
    let index = -1;
    try {
      index = vm.resolve.applySync(undefined, [name]);
    } catch {
      vm.suspect = true;
      index = -1;
    }
    // Only found functions are cached, so a callback defined later at run time is still found.
    if (typeof index === 'number' && index >= 0) vm.indexes.set(name, index);
    return index;
  }

  private build(): Instance {
    return buildInstance(
      {
        source: this.source,
        path: this.path,
        memoryMb: this.memoryMb,
        locator: this.locator,
        table: this.table,
        consoleCb: this.consoleCb,
        dispatchCb: this.dispatchCb,
        flushThenCb: this.flushThenCb,
        asyncEndedCb: this.asyncEndedCb,
      },
      (vm, script, context) => { this.runTopLevel(script, context, vm); },
    );
  }

  private runTopLevel(script: ivm.Script, context: ivm.Context, vm: Instance): void {
    const outer = this.ksr.frame;
    const frame = idleFrame();
    this.ksr.frame = frame;
    this.depth++;
    let result: CallResult = CALL_OK;
    try {
      script.runSync(context, { timeout: Math.max(this.opts.cpuMs, LOAD_CPU_MS) });
    } catch (e) {
      result = this.locator.hostError(e, { cpuMs: Math.max(this.opts.cpuMs, LOAD_CPU_MS), memoryMb: this.memoryMb });
    }
    try {
      // a KSR.x.exit() the isolate carried out itself is queued for the host (runStop); from
      // now on a KSR call outside a callback is late (prelude.ts)
      this.takeQueued(vm, frame, true);
    } finally {
      this.depth--;
      this.ksr.frame = outer;
    }
    if (frame.stop !== null) throw new KemiError('KEMI_ERR_SCRIPT_LOAD', `${this.path}: KSR.x.exit() called while loading the script`);
    if (!result.ok) {
      const f = result.failure;
      throw new KemiError('KEMI_ERR_SCRIPT_LOAD', `${f.location ?? this.path}: ${f.message}`, { location: f.location });
    }
  }

  /** Drop the entries of a plan that the isolate did not use for REVIEW_RUNS runs (CallPlan.prune). */
  private review(vm: Instance, index: number, plan: CallPlan): void {
    let text = '';
    try {
      // slot numbers change only here, and the isolate gets the new ones with the next run
      text = vm.hits.applySync(undefined, [index]);
    } catch {
      vm.suspect = true;
    }
    plan.prune(text === '' ? [] : text.split(',').map(Number));
  }

  /**
   * After a callback was stopped (CPU limit) or the script's top level ran, run what the
   * isolate still holds queued: a reply sent before the stop is sent. Gone with a disposed
   * isolate. `done`: no callback runs any more (a terminated run could not say so itself).
   */
  private takeQueued(vm: Instance, frame: Frame, done: boolean): void {
    if (vm.isolate.isDisposed) return;
    try {
      const slots = vm.take.applySync(undefined, [done]);
      if (slots !== '') this.plans.runQueued(frame, slots);
    } catch {
      // the isolate is going: what it queued is lost with the callback
    }
  }

  readonly console = (level: unknown, text: unknown, at: unknown): void => {
    if (level === 'late' && typeof text === 'string') {
      this.warnOnce(`late:${text}`, () => ({ function: text, at }),
        'KSR call refused: made after its callback returned (a promise continuation or an async function after await)');
      return;
    }
    if (typeof level !== 'string' || !LOG_LEVELS.has(level) || typeof text !== 'string') return;
    const lvl = level as 'debug' | 'info' | 'warn' | 'error';
    if (!this.scriptLog.isLevelEnabled(lvl)) return;
    this.scriptLog[lvl]({ at: typeof at === 'string' ? at : undefined }, text);
  };

  /** At most one line per key per 10 s: a script doing this does it on every message. */
  private warnOnce(key: string, fields: () => Record<string, unknown>, message: string): void {
    if (!this.limiter.allow(key)) return;
    this.opts.log.warn({ script: this.path, suppressed: this.limiter.suppressed(key), ...fields() }, message);
  }
}

function nodeSnapshotDisabled(): boolean {
  const flags = [...process.execArgv, ...(process.env.NODE_OPTIONS ?? '').split(/\s+/)];
  return flags.includes('--no-node-snapshot');
}
