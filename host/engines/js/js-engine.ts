/**
 * The JavaScript engine on isolated-vm: one Isolate + Context per loaded script version, with
 * a memory limit and a timeout on every callback. The script is plain JS with top-level
 * function declarations (Kamailio's app_jsdt); it sees `KSR`, `console` and the language.
 *
 * The bridge (see prelude.ts for the isolate side): a callback is one `applySync` of the
 * prelude's runner, which catches the script's errors inside the isolate. Every KSR function
 * is a small wrapper in the isolate. What its call plan allows (call-plan.ts) it answers
 * itself, or queues for the host; anything else crosses through one sync ivm.Callback for all
 * functions (the function's index first), which runs host/kemi/invoke and returns the
 * converted result: arguments copied once (primitives only), no host exception ever crossing.
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
 * The process must run with --no-node-snapshot (isolated-vm on Node 20+).
 */
import ivm from 'isolated-vm';
import type { Logger } from 'pino';
import { describeError, isKemiError, KemiError } from '../../errors.js';
import { LogLimiter } from '../../log-limiter.js';
import { Context, SCRIPT_STOP } from '../../kemi/context.js';
import { ForeignValue, invoke, jsTypeName } from '../../kemi/invoke.js';
import type { BoundFunction } from '../../kemi/registry.js';
import { CALL_DROP, CALL_EXIT, CALL_OK, type CallResult, type EngineOptions, type ScriptEngine } from '../engine.js';
import { failure, ScriptLocator } from './js-failures.js';
import { CallPlan, convertResult, DEFERRED, DEFERRED_UNCHANGED, PURE, READ, REVIEW_RUNS, type PlanKind, type PlanValue } from './call-plan.js';
import { deadlineGrid, gridTimeout } from './deadline.js';
import { PRELUDE_FILE, PRELUDE_SOURCE } from './prelude.js';

/** The script's top level may take longer than one callback (it builds tables). */
const LOAD_CPU_MS = 5000;
const DEFAULT_MEMORY_MB = 128;
/** isolated-vm refuses less */
const MIN_MEMORY_MB = 8;
/** Nested callbacks (a KSR function running another callback) re-enter the same native stack. */
const MAX_DEPTH = 32;
/** What the dispatcher throws into the isolate for a stop (prelude.ts: STOPS). */
const STOP_EXIT = 1;
const STOP_DROP = 2;
/** the callback ran past cpu_ms counting its KSR calls (Frame.deadline) */
const STOP_CPU = 3;
const LOG_LEVELS = new Set(['debug', 'info', 'warn', 'error']);

/** (callback index, its argument, the plan's answers as JSON, the plan's keys as JSON when they changed) */
type RunFn = (index: number, arg: string | null, answers: string | null, keys: string | null) => string | undefined;
/** Bound on the call plans (one per callback name). */
const PLAN_MAX_ROUTES = 64;
/** What `run` returns after '|': the callback returned, a stop ended it, or the script's error follows. */
const STATUS_RETURNED = 0x72; // 'r'
const STATUS_STOPPED = 0x73; // 's'

/** One live isolate running the script, and the prelude functions the host calls. */
/**
 * The isolated-vm handle objects (Isolate, Context, Reference, Script, ExternalCopy, Callback)
 * of every disposed engine, kept reachable for the life of the process. When such an object
 * becomes garbage, isolated-vm frees it from a V8 weak callback that needs its per-thread
 * environment; at a natural process exit Node's last GC can run after isolated-vm has torn that
 * environment down, and the process aborts ("IsolateEnvironment::GetCurrent(): Assertion
 * `environment != nullptr' failed"). Never letting them become garbage avoids that. What stays
 * is the small host-side wrapper objects, about ten per engine (the isolates themselves and
 * their heaps are freed by dispose()).
 */
const retired: unknown[] = [];
/**
 * Past this many, the oldest half is let go: a script that runs out of memory on every message
 * (its isolate rebuilt each time) must not grow the list for ever. Objects dropped long before
 * the process ends are collected by an ordinary GC, which is safe; only exit-time is not.
 */
const RETIRED_MAX = 20_000;

function retire(handles: readonly unknown[]): void {
  retired.push(...handles);
  if (retired.length > RETIRED_MAX) retired.splice(0, RETIRED_MAX / 2);
}

interface Instance {
  readonly isolate: ivm.Isolate;
  /** every isolated-vm object made for this instance (see `retired`) */
  readonly handles: unknown[];
  readonly run: ivm.Reference<RunFn>;
  readonly resolve: ivm.Reference<(name: string) => number>;
  readonly where: ivm.Reference<() => string | undefined>;
  /** the calls the isolate queued and has not handed over (after a callback was stopped) */
  readonly take: ivm.Reference<() => string>;
  /** uses of each slot of a callback's plan since last asked (CallPlan.prune) */
  readonly hits: ivm.Reference<(index: number) => string>;
  /** callback name → runner index; only found functions are cached */
  readonly indexes: Map<string, number>;
  /** callback name → the plan version whose keys this isolate holds */
  readonly installed: Map<string, number>;
  /**
   * An applySync into it threw: it may have been disposed (memory limit). Asking isolated-vm
   * (`isDisposed`, a native getter) only then keeps that off the path of every call.
   */
  suspect: boolean;
}

/** One running callback: its Context, and whether KSR.x.exit()/drop() stopped it. */
interface Frame {
  readonly ctx: Context;
  /** the callback's name: its call plan */
  readonly route: string;
  /** its call plan, and the answers the isolate was given for this run (null: none) */
  readonly plan: CallPlan | null;
  answers: PlanValue[] | null;
  /** a KSR call that changes something ran: what reads answer may no longer hold (call-plan.ts) */
  dirty: boolean;
  /**
   * cpu_ms after the callback started (performance.now()); Infinity without a limit.
   * isolated-vm's timeout pauses while a KSR call runs on the host, so it counts only the
   * script's own code; this deadline, checked at every crossing, counts the KSR calls too, as
   * the Lua engine does.
   */
  readonly deadline: number;
  /** the deadline passed: every later KSR call is refused and the callback fails with the CPU limit */
  overrun: string | undefined | null;
  stop: 'exit' | 'drop' | null;
  /** a KSR call after the stop was refused (logged once per callback) */
  refused: boolean;
}

const NO_SOURCE = Object.freeze({ proto: 'udp', ip: '', port: 0, localIp: '', localPort: 0 } as const);

export class JsEngine implements ScriptEngine {
  readonly kind = 'js' as const;
  private vm: Instance | null = null;
  private source = '';
  private path = '';
  private locator = new ScriptLocator('');
  /** [module, function, flags] per KSR function: 1 may be in a call plan, 2 changes nothing, 4/8 stops (exit/drop) */
  private readonly table: [string, string, number][] = [];
  /** per callback name, the calls the isolate may answer without crossing (call-plan.ts) */
  private readonly plans = new Map<string, CallPlan>();
  /** a deferred call returned something other than what the script was told (a binding's bug) */
  private readonly mismatches: { value: number };
  private readonly memoryMb: number;
  /** isolated-vm's per-call options: the timeout is set before each call (deadline.ts) */
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
  /**
   * What the callbacks reach the engine through. isolated-vm keeps the host function of an
   * ivm.Callback alive after its isolate is disposed, so a callback that closed over `this`
   * would keep every replaced engine (its plans, frames, source) for the life of the process:
   * a hot reload would leak. dispose() cuts this link instead.
   */
  private readonly link: { engine: JsEngine | null } = { engine: this };

  /** the running callback; a nested call pushes its own and puts this one back */
  private frame: Frame = idleFrame();
  private depth = 0;

  private disposed = false;
  private disposeWhenIdle = false;
  private crossed = 0;

  /** How many calls the plan of callback `name` holds (call-plan.ts). */
  plannedCalls(name: string): number {
    return this.plans.get(name)?.size ?? 0;
  }

  /** How many times the script's code called back to the host (KSR calls, queue hand-overs): what call plans save. */
  get crossings(): number {
    return this.crossed;
  }

  constructor(private readonly opts: EngineOptions) {
    this.memoryMb = opts.memoryMb > 0 ? Math.max(MIN_MEMORY_MB, Math.ceil(opts.memoryMb)) : DEFAULT_MEMORY_MB;
    this.runOpts = opts.cpuMs > 0 ? { timeout: Math.max(1, Math.ceil(opts.cpuMs)) } : {};
    this.deadlineGrid = deadlineGrid(opts.cpuMs);
    this.scriptLog = opts.log.child({ module: 'script' });
    if (!nodeSnapshotDisabled()) {
      opts.log.warn('isolated-vm on Node 20+ needs node to run with --no-node-snapshot; without it the process may crash');
    }
    const link = this.link;
    for (const mod of opts.registry.modules) {
      for (const fn of mod.functions) {
        const plannable = fn.pure !== null || fn.read !== null || fn.predict !== null;
        const stops = fn.stops === 'exit' ? 4 : fn.stops === 'drop' ? 8 : 0;
        this.table.push([mod.name, fn.name, (plannable ? 1 : 0) | (fn.effectFree ? 2 : 0) | stops]);
        this.fns.push(fn);
      }
    }
    // one callback for every KSR function, the function's index first: one persistent handle
    // per engine instead of one per function
    this.dispatchCb = new ivm.Callback((index: number, ...args: unknown[]) => link.engine?.dispatchAt(index, args));
    this.consoleCb = new ivm.Callback((level: unknown, text: unknown, at: unknown) => { link.engine?.console(level, text, at); });
    this.flushThenCb = new ivm.Callback((slots: unknown, index: number, ...args: unknown[]) => link.engine?.flushThen(slots, index, args));
    this.mismatches = opts.registry.stats.counter('script', 'deferred_mismatch');
  }

  load(source: string, path: string): void {
    if (this.vm !== null || this.disposed) throw new KemiError('KEMI_ERR_ENGINE', 'a JS engine instance loads one script');
    this.source = source;
    this.path = path;
    this.locator = new ScriptLocator(path);
    this.vm = this.build();
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
    const index = this.indexOf(vm, name);
    if (index < 0) return failure('KEMI_ERR_SCRIPT_RUNTIME', `function '${name}' is not defined by ${this.path}`, undefined);

    // Save and restore: a KSR function may run another callback before returning.
    const outer = this.frame;
    const plan = this.plans.get(name) ?? null;
    // renumbering a plan's slots is safe only while no callback runs
    if (plan !== null && ++plan.runs >= REVIEW_RUNS && this.depth === 0) this.review(vm, index, plan);
    // performance.now(): the monotonic clock isolated-vm's timers use, from an offset
    const start = this.opts.cpuMs > 0 ? performance.now() : 0;
    const deadline = this.opts.cpuMs > 0 ? start + this.opts.cpuMs : Infinity;
    const frame: Frame = { ctx, route: name, stop: null, refused: false, plan, answers: null, dirty: false, deadline, overrun: null };
    this.frame = frame;
    ctx.stop = null;
    this.depth++;
    let result: CallResult = CALL_OK;
    let stopEnded = false;
    try {
      let answers: string | null = null;
      let keys: string | null = null;
      if (plan !== null && plan.size > 0) {
        frame.answers = plan.answers(ctx);
        answers = JSON.stringify(frame.answers);
        if (vm.installed.get(name) !== plan.version) {
          keys = plan.keysJson();
          vm.installed.set(name, plan.version);
        }
      }
      if (this.deadlineGrid > 0) this.runOpts.timeout = gridTimeout(start, this.opts.cpuMs, this.deadlineGrid);
      const out = vm.run.applySync(undefined, [index, arg ?? null, answers, keys], this.runOpts);
      if (typeof out === 'string') {
        // "<queued slots>|<status>[<error>]": the queued calls run first, as they came first
        const bar = out.indexOf('|');
        if (bar > 0) this.runQueued(frame, out.slice(0, bar));
        const status = out.charCodeAt(bar + 1);
        if (status === STATUS_STOPPED) stopEnded = true;
        else if (status !== STATUS_RETURNED) result = this.locator.scriptError(out.slice(bar + 2));
      }
    } catch (e) {
      vm.suspect = true;
      // the isolate's copy of the plans is in doubt (it may have stopped while installing one)
      vm.installed.clear();
      result = this.locator.hostError(e, { cpuMs: this.opts.cpuMs, memoryMb: this.memoryMb });
      this.takeQueued(vm, frame);
    } finally {
      this.depth--;
      this.frame = outer;
    }
    if (this.depth === 0 && this.disposeWhenIdle) this.dispose();
    if (frame.overrun !== null) {
      return failure('KEMI_ERR_CPU_LIMIT', `script exceeded the CPU limit of ${String(this.opts.cpuMs)} ms (KSR calls included)`, frame.overrun);
    }
    const stop = frame.stop;
    if (stop === null) return result;
    // The stop decided the outcome; what the script did after catching it is only reported.
    if (!result.ok) {
      const f = result.failure;
      this.warnOnce('after-stop-failure', () => ({ failure: f }), 'callback failed after the script caught KSR.x.exit()/drop()');
    } else if (!stopEnded) {
      this.warnOnce('swallowed', () => ({ callback: name }), 'the script caught KSR.x.exit()/drop() and returned normally');
    }
    return stop === 'drop' ? CALL_DROP : CALL_EXIT;
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
    retire([this.dispatchCb, this.consoleCb, this.flushThenCb]);
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
    const log = this.opts.log; // not `this`: see `link`
    const isolate = new ivm.Isolate({
      memoryLimit: this.memoryMb,
      onCatastrophicError: (message) => {
        log.fatal({ error: message }, 'isolated-vm lost control of a script isolate');
      },
    });
    const handles: unknown[] = [isolate];
    try {
      const context = isolate.createContextSync();
      const table = new ivm.ExternalCopy(this.table);
      const tableCopy = table.copyInto();
      handles.push(context, table, tableCopy);
      const api = context.evalClosureSync(
        PRELUDE_SOURCE,
        [this.consoleCb, tableCopy, this.path, this.dispatchCb, this.flushThenCb],
        { filename: PRELUDE_FILE, result: { reference: true } },
      );
      handles.push(api);
      const vm: Instance = {
        isolate,
        handles,
        run: api.getSync('run', { reference: true }) as ivm.Reference<RunFn>,
        resolve: api.getSync('resolve', { reference: true }) as ivm.Reference<(name: string) => number>,
        where: api.getSync('where', { reference: true }) as ivm.Reference<() => string | undefined>,
        take: api.getSync('take', { reference: true }) as ivm.Reference<() => string>,
        hits: api.getSync('hits', { reference: true }) as ivm.Reference<(index: number) => string>,
        indexes: new Map(),
        installed: new Map(),
        suspect: false,
      };
      handles.push(vm.run, vm.resolve, vm.where, vm.take, vm.hits);
      api.release();
      let script: ivm.Script;
      try {
        script = isolate.compileScriptSync(this.source, { filename: this.path });
      } catch (e) {
        throw this.locator.loadError(e);
      }
      handles.push(script);
      this.runTopLevel(script, context, vm);
      script.release();
      return vm;
    } catch (e) {
      if (!isolate.isDisposed) isolate.dispose();
      retire(handles);
      throw e;
    }
  }

  private runTopLevel(script: ivm.Script, context: ivm.Context, vm: Instance): void {
    const outer = this.frame;
    const frame = idleFrame();
    this.frame = frame;
    this.depth++;
    let result: CallResult = CALL_OK;
    try {
      script.runSync(context, { timeout: Math.max(this.opts.cpuMs, LOAD_CPU_MS) });
    } catch (e) {
      result = this.locator.hostError(e, { cpuMs: Math.max(this.opts.cpuMs, LOAD_CPU_MS), memoryMb: this.memoryMb });
    }
    try {
      // a KSR.x.exit() the isolate carried out itself is queued for the host (runStop)
      this.takeQueued(vm, frame);
    } finally {
      this.depth--;
      this.frame = outer;
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

  /** Learn a call of the running callback that a later run's isolate may answer itself (call-plan.ts). */
  private remember(frame: Frame, wasDirty: boolean, fn: BoundFunction, index: number, raw: readonly unknown[], checked: readonly unknown[]): void {
    if (frame.route === '') return;
    let kind: PlanKind;
    if (fn.pure?.(checked) === true) kind = PURE;
    else if (!wasDirty && fn.read?.(checked) === true) kind = READ;
    else if (fn.predict === null || fn.predict(frame.ctx, checked) === undefined) return;
    else if (!fn.predictWhileUnchanged) kind = DEFERRED;
    else if (!wasDirty) kind = DEFERRED_UNCHANGED;
    else return;
    let plan = this.plans.get(frame.route);
    if (plan === undefined) {
      if (this.plans.size >= PLAN_MAX_ROUTES) return;
      plan = new CallPlan();
      this.plans.set(frame.route, plan);
    }
    plan.learn(kind, fn, index, raw, checked);
  }

  /**
   * A KSR call that crosses while the isolate holds queued calls: they ran first in the
   * script, so they run first here, then the call (prelude.ts, wrap). One crossing for both.
   */
  private flushThen(slots: unknown, index: number, args: unknown[]): unknown {
    if (typeof slots === 'string' && slots !== '') this.runQueued(this.frame, slots);
    return this.dispatchAt(index, args);
  }

  /**
   * Run the deferred calls the isolate queued, in order. The script was already given their
   * results; one that differs is a binding whose `predict` is wrong: counted and logged.
   * Nothing here throws into the isolate: the script's line is long past.
   */
  private runQueued(frame: Frame, slots: string): void {
    frame.dirty = true;
    const plan = frame.plan;
    const answers = frame.answers;
    for (const part of slots.split(',')) {
      if (part.charCodeAt(0) === 0x66) {
        // "f<index>": a call that stopped the callback in the isolate (KemiFunctionDef.stops)
        this.runStop(frame, Number(part.slice(1)));
        continue;
      }
      if (plan === null || answers === null) continue;
      const slot = Number(part);
      try {
        const ran = plan.runDeferred(slot, frame.ctx);
        if (ran === null) continue;
        if (ran.result !== answers[slot]) {
          this.mismatches.value++;
          const told = answers[slot];
          this.warnOnce(`mismatch:${ran.fn.fullName}`, () => ({ function: ran.fn.fullName, returned: ran.result, told }),
            'a deferred KSR call returned another result than the script was given (script:deferred_mismatch)');
        }
      } catch (e) {
        this.opts.log.error({ err: e, callback: frame.route }, 'internal error in a deferred KSR call');
      }
    }
  }

  /** KSR.x.exit()/drop() that the isolate carried out itself: the host's part (ctx.stop, dropped). */
  private runStop(frame: Frame, index: number): void {
    const fn = this.fns[index];
    if (fn?.stops == null) return;
    try {
      invoke(fn, frame.ctx, [], jsTypeName);
    } catch (e) {
      if (e === SCRIPT_STOP) {
        frame.stop = frame.ctx.stop ?? fn.stops;
        return;
      }
      this.opts.log.error({ err: e, function: fn.fullName }, 'internal error in a KSR call that ends the callback');
    }
    // it must stop: the callback has ended in the isolate whatever the function did
    frame.stop = fn.stops;
  }

  /**
   * After a callback was stopped (CPU limit) or the script's top level ran, run what the
   * isolate still holds queued: a reply sent before the stop is sent. Gone with a disposed isolate.
   */
  private takeQueued(vm: Instance, frame: Frame): void {
    if (vm.isolate.isDisposed) return;
    try {
      const slots = vm.take.applySync(undefined, []);
      if (slots !== '') this.runQueued(frame, slots);
    } catch {
      // the isolate is going: what it queued is lost with the callback
    }
  }

  /** The host side of every KSR function (prelude.ts describes the protocol). */
  private dispatchAt(index: number, args: unknown[]): unknown {
    this.crossed++;
    const fn = this.fns[index];
    // eslint-disable-next-line @typescript-eslint/only-throw-error -- a message, see prelude.ts
    if (fn === undefined) throw 'internal error: no KSR function at this index';
    const frame = this.frame;
    if (frame.stop !== null) {
      // The script caught the stop and called KSR again: refuse, and throw the stop again.
      if (!frame.refused) {
        frame.refused = true;
        this.warnOnce(`refused:${fn.fullName}`, () => ({ function: fn.fullName, at: this.location() }), 'KSR call after KSR.x.exit()/drop() refused');
      }
      // eslint-disable-next-line @typescript-eslint/only-throw-error -- a stop code, see prelude.ts
      throw frame.stop === 'drop' ? STOP_DROP : STOP_EXIT;
    }
    if (frame.overrun !== null || performance.now() > frame.deadline) {
      frame.overrun ??= this.location();
      // eslint-disable-next-line @typescript-eslint/only-throw-error -- a stop code, see prelude.ts
      throw STOP_CPU;
    }
    const wasDirty = frame.dirty;
    if (!fn.effectFree) frame.dirty = true;
    for (let k = 0; k < args.length; k++) {
      const a = args[k];
      if (typeof a === 'object' && a !== null) args[k] = foreign(a);
    }
    const raw = fn.pure === null && fn.read === null && fn.predict === null ? null : [...args];
    let r: unknown;
    try {
      r = invoke(fn, frame.ctx, args, jsTypeName);
      if (raw !== null) this.remember(frame, wasDirty, fn, index, raw, args);
    } catch (e) {
      // eslint-disable-next-line @typescript-eslint/only-throw-error -- a message or a stop code, see prelude.ts
      throw this.raise(e, fn, frame);
    }
    return convertResult(fn.returns, r);
  }

  /** What to throw into the isolate for an exception from a KSR function. */
  private raise(e: unknown, fn: BoundFunction, frame: Frame): string | number {
    if (e === SCRIPT_STOP) {
      frame.stop = frame.ctx.stop ?? 'exit';
      return frame.stop === 'drop' ? STOP_DROP : STOP_EXIT;
    }
    if (isKemiError(e)) return e.message;
    this.opts.log.error({ err: e, function: fn.fullName }, 'internal error in a KSR function');
    return `internal error in '${fn.fullName}': ${describeError(e)}`;
  }

  private readonly console = (level: unknown, text: unknown, at: unknown): void => {
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

/** The isolate replaced a non-primitive argument by { t: typeName }: keep only its name. */
function foreign(a: object): ForeignValue {
  const t = (a as { t?: unknown }).t;
  return new ForeignValue(typeof t === 'string' ? t : 'object');
}

/** The frame outside any callback (and for the script's top level). */
function idleFrame(): Frame {
  return { ctx: new Context('event', null, NO_SOURCE), route: '', stop: null, refused: false, plan: null, answers: null, dirty: false, deadline: Infinity, overrun: null };
}
