/**
 * The JavaScript engine on isolated-vm: one Isolate + Context per loaded script version, with
 * a memory limit and a timeout on every callback. The script is plain JS with top-level
 * function declarations (Kamailio's app_jsdt); it sees `KSR`, `console` and the language.
 *
 * The bridge (see prelude.ts for the isolate side): every KSR function is a small wrapper in
 * the isolate around its own sync ivm.Callback, which runs host/kemi/invoke and returns the
 * converted result: one crossing per KSR call, arguments copied once (primitives only), no
 * host exception ever crossing. (One Callback per function rather than one dispatcher taking
 * the function's index: a call without arguments then crosses with none, which isolated-vm
 * makes cheaper — bench/js-engine.ts.) A callback is one `applySync` of the prelude's runner,
 * which catches the script's errors inside the isolate.
 *
 * KSR.x.exit()/drop(): the host marks the running callback as stopped; from then on every
 * KSR call of that callback throws the stop again without doing anything, and the result is
 * CALL_EXIT/CALL_DROP whatever the script does next. What JS cannot give (no uncatchable
 * exception exists short of terminating the isolate): a script that catches the stop keeps
 * running plain JS — it cannot touch the message or anything else through KSR, it can only
 * compute and change its own globals until it returns or hits the CPU limit.
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
import type { KemiType } from '../../kemi/types.js';
import { CALL_DROP, CALL_EXIT, CALL_OK, type CallResult, type EngineOptions, type ScriptEngine } from '../engine.js';
import { failure, ScriptLocator } from './js-failures.js';
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
const LOG_LEVELS = new Set(['debug', 'info', 'warn', 'error']);

type RunFn = (index: number, arg?: string, pre?: PreValue[]) => string | undefined;
type PreValue = string | number | boolean | null;

/** A pure KSR call a callback made: computed again before each later run of that callback. */
interface PlanEntry {
  readonly fn: BoundFunction;
  readonly args: readonly unknown[];
}
/** Bounds on the prefetch plans (pure calls remembered per callback name). */
const PLAN_MAX_ENTRIES = 16;
const PLAN_MAX_ROUTES = 64;

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
  /** callback name → runner index; only found functions are cached */
  readonly indexes: Map<string, number>;
  /**
   * An applySync into it threw: it may have been disposed (memory limit). Asking isolated-vm
   * (`isDisposed`, a native getter) only then keeps that off the path of every call.
   */
  suspect: boolean;
}

/** One running callback: its Context, and whether KSR.x.exit()/drop() stopped it. */
interface Frame {
  readonly ctx: Context;
  /** the callback's name: its prefetch plan */
  readonly route: string;
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
  /** [module, function, 1 when it may be pure (prefetchable)] per KSR function */
  private readonly table: [string, string, number][] = [];
  /**
   * Prefetch: per callback name, the pure KSR calls it made (key → call). Before a callback
   * runs, their results are computed on the host and handed in with the one crossing that
   * starts it; inside the isolate those calls are answered without crossing. Exact, because
   * a pure call's result cannot change while a Context is processed (KemiFunctionDef.pure).
   */
  private readonly plans = new Map<string, Map<string, PlanEntry>>();
  private readonly memoryMb: number;
  private readonly runOpts: { timeout?: number };
  private readonly scriptLog: Logger;
  private readonly limiter = new LogLimiter(10_000);
  /** the KSR functions in table order (the index the isolate passes to dispatchCb) */
  private readonly fns: BoundFunction[] = [];
  /** the host side of every KSR function; reused by every isolate this engine builds */
  private readonly dispatchCb: ivm.Callback;
  private readonly consoleCb: ivm.Callback;
  /**
   * What the callbacks reach the engine through. isolated-vm keeps the host function of an
   * ivm.Callback alive after its isolate is disposed, so a callback that closed over `this`
   * would keep every replaced engine (its plans, frames, source) for the life of the process:
   * a hot reload would leak. dispose() cuts this link instead.
   */
  private readonly link: { engine: JsEngine | null } = { engine: this };

  /** the running callback; a nested call pushes its own and puts this one back */
  private frame: Frame = { ctx: new Context('event', null, NO_SOURCE), route: '', stop: null, refused: false };
  private depth = 0;

  private disposed = false;
  private disposeWhenIdle = false;

  constructor(private readonly opts: EngineOptions) {
    this.memoryMb = opts.memoryMb > 0 ? Math.max(MIN_MEMORY_MB, Math.ceil(opts.memoryMb)) : DEFAULT_MEMORY_MB;
    this.runOpts = opts.cpuMs > 0 ? { timeout: Math.max(1, Math.ceil(opts.cpuMs)) } : {};
    this.scriptLog = opts.log.child({ module: 'script' });
    if (!nodeSnapshotDisabled()) {
      opts.log.warn('isolated-vm on Node 20+ needs node to run with --no-node-snapshot; without it the process may crash');
    }
    const link = this.link;
    for (const mod of opts.registry.modules) {
      for (const fn of mod.functions) {
        this.table.push([mod.name, fn.name, fn.pure === null ? 0 : 1]);
        this.fns.push(fn);
      }
    }
    // one callback for every KSR function, the function's index first: one persistent handle
    // per engine instead of one per function
    this.dispatchCb = new ivm.Callback((index: number, ...args: unknown[]) => link.engine?.dispatchAt(index, args));
    this.consoleCb = new ivm.Callback((level: unknown, text: unknown, at: unknown) => { link.engine?.console(level, text, at); });
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
    const frame: Frame = { ctx, route: name, stop: null, refused: false };
    this.frame = frame;
    ctx.stop = null;
    this.depth++;
    let result: CallResult = CALL_OK;
    let stopEnded = false;
    try {
      const pre = this.prefetch(name, ctx);
      const out = pre === null
        ? vm.run.applySync(undefined, arg === undefined ? [index] : [index, arg], this.runOpts)
        : vm.run.applySync(undefined, [index, arg, JSON.stringify(pre)], this.runOpts);
      if (out === '') stopEnded = true;
      else if (typeof out === 'string') result = this.locator.scriptError(out);
    } catch (e) {
      vm.suspect = true;
      result = this.locator.hostError(e, { cpuMs: this.opts.cpuMs, memoryMb: this.memoryMb });
    } finally {
      this.depth--;
      this.frame = outer;
    }
    if (this.depth === 0 && this.disposeWhenIdle) this.dispose();
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
    retire([this.dispatchCb, this.consoleCb]);
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
        [this.consoleCb, tableCopy, this.path, this.dispatchCb],
        { filename: PRELUDE_FILE, result: { reference: true } },
      );
      handles.push(api);
      const vm: Instance = {
        isolate,
        handles,
        run: api.getSync('run', { reference: true }) as ivm.Reference<RunFn>,
        resolve: api.getSync('resolve', { reference: true }) as ivm.Reference<(name: string) => number>,
        where: api.getSync('where', { reference: true }) as ivm.Reference<() => string | undefined>,
        indexes: new Map(),
        suspect: false,
      };
      handles.push(vm.run, vm.resolve, vm.where);
      api.release();
      let script: ivm.Script;
      try {
        script = isolate.compileScriptSync(this.source, { filename: this.path });
      } catch (e) {
        throw this.locator.loadError(e);
      }
      handles.push(script);
      this.runTopLevel(script, context);
      script.release();
      return vm;
    } catch (e) {
      if (!isolate.isDisposed) isolate.dispose();
      retire(handles);
      throw e;
    }
  }

  private runTopLevel(script: ivm.Script, context: ivm.Context): void {
    const outer = this.frame;
    const frame: Frame = { ctx: new Context('event', null, NO_SOURCE), route: '', stop: null, refused: false };
    this.frame = frame;
    this.depth++;
    let result: CallResult = CALL_OK;
    try {
      script.runSync(context, { timeout: Math.max(this.opts.cpuMs, LOAD_CPU_MS) });
    } catch (e) {
      result = this.locator.hostError(e, { cpuMs: Math.max(this.opts.cpuMs, LOAD_CPU_MS), memoryMb: this.memoryMb });
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

  /** key → value pairs of this callback's plan, computed on ctx; null when there is none. */
  private prefetch(route: string, ctx: Context): PreValue[] | null {
    const plan = this.plans.get(route);
    if (plan === undefined || plan.size === 0) return null;
    const out: PreValue[] = [];
    for (const [key, e] of plan) {
      try {
        out.push(key, convertResult(e.fn.returns, invoke(e.fn, ctx, [...e.args], jsTypeName)) as PreValue);
      } catch {
        plan.delete(key); // cannot happen for arguments that passed before; never keep a failing entry
      }
    }
    return out;
  }

  /** Remember a pure call of the running callback, so the next run gets its answer in advance. */
  private remember(route: string, fn: BoundFunction, index: number, raw: readonly unknown[], checked: readonly unknown[]): void {
    if (route === '' || fn.pure === null || !fn.pure(checked)) return;
    let key = `${String(index)}|`;
    for (const a of raw) {
      if (a !== null && typeof a !== 'string' && typeof a !== 'number' && typeof a !== 'boolean') return;
      key += `${(typeof a).charAt(0)}${String(a)}\u0001`;
    }
    let plan = this.plans.get(route);
    if (plan === undefined) {
      if (this.plans.size >= PLAN_MAX_ROUTES) return;
      plan = new Map();
      this.plans.set(route, plan);
    }
    if (plan.size < PLAN_MAX_ENTRIES && !plan.has(key)) plan.set(key, { fn, args: raw });
  }

  /** The host side of every KSR function (prelude.ts describes the protocol). */
  private dispatchAt(index: number, args: unknown[]): unknown {
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
    for (let k = 0; k < args.length; k++) {
      const a = args[k];
      if (typeof a === 'object' && a !== null) args[k] = foreign(a);
    }
    const raw = fn.pure === null ? null : [...args];
    let r: unknown;
    try {
      r = invoke(fn, frame.ctx, args, jsTypeName);
      if (raw !== null) this.remember(frame.route, fn, index, raw, args);
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

/** KEMI return conventions, as the Lua engine pushes them. */
function convertResult(returns: KemiType, r: unknown): unknown {
  switch (returns) {
    case 'none':
      return undefined;
    case 'bool':
      return r === true;
    case 'int':
    case 'long':
      return typeof r === 'number' ? r : -1;
    case 'str':
    case 'xval':
      return typeof r === 'string' || typeof r === 'number' ? r : null;
  }
}
