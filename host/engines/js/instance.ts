/**
 * One live isolate running a script: the isolate, its context with the prelude installed
 * (prelude.ts), the prelude functions the host calls, and the compiled script. Building it runs
 * no script code; the engine runs the top level (js-engine.ts: runTopLevel).
 */
import ivm from 'isolated-vm';
import { ScriptLocator } from './js-failures.js';
import { PRELUDE_FILE, PRELUDE_SOURCE } from './prelude.js';
import { retire } from './retired.js';

/** (callback index, its argument, the plan's answers as JSON, the plan's keys as JSON when they changed) */
/** (callback index, its argument, the plan's answers as JSON, the plan's keys as JSON when they changed, its id when it may wait in place or 0) */
export type RunFn = (index: number, arg: string | null, answers: string | null, keys: string | null, id: number) => string | undefined;

export type ResumeFn = (id: number, value: string | number | boolean | null, index: number, answers: string | null, keys: string | null) => number;

export interface Instance {
  readonly isolate: ivm.Isolate;
  /** every isolated-vm object made for this instance (retired.ts) */
  readonly handles: unknown[];
  readonly run: ivm.Reference<RunFn>;
  readonly resolve: ivm.Reference<(name: string) => number>;
  readonly where: ivm.Reference<() => string | undefined>;
  /** the calls the isolate queued and has not handed over (after a callback was stopped); true: no callback runs now */
  readonly take: ivm.Reference<(done: boolean) => string>;
  /** uses of each slot of a callback's plan since last asked (CallPlan.prune) */
  readonly hits: ivm.Reference<(index: number) => string>;
  /** continue async callback `id` (callback index, plan answers and keys as for run) with what the KSR call it awaits returned: 1, or 0 when it awaits nothing */
  readonly resume: ivm.Reference<ResumeFn>;
  /** async callback `id` will never go on: drop what it awaits */
  readonly forget: ivm.Reference<(id: number) => void>;
  /** callback name → runner index × 2, + 1 for an async function; only found functions are cached */
  readonly indexes: Map<string, number>;
  /** callback name → the plan version whose keys this isolate holds */
  readonly installed: Map<string, number>;
  /**
   * An applySync into it threw: it may have been disposed (memory limit). Asking isolated-vm
   * (`isDisposed`, a native getter) only then keeps that off the path of every call.
   */
  suspect: boolean;
}

/** What an instance is built from: the same for every instance of one engine. */
export interface InstanceSpec {
  readonly source: string;
  readonly path: string;
  readonly memoryMb: number;
  readonly locator: ScriptLocator;
  /** [module, function, flags, failure value] per KSR function (prelude.ts) */
  readonly table: readonly (readonly [string, string, number, unknown])[];
  readonly consoleCb: ivm.Callback;
  readonly dispatchCb: ivm.Callback;
  readonly flushThenCb: ivm.Callback;
  readonly asyncEndedCb: ivm.Callback;
}

/**
 * Build an instance and hand it, its compiled script and its context to `start` (which runs the
 * top level). Throws KemiError KEMI_ERR_SCRIPT_LOAD for a script that does not compile, and what
 * `start` throws; leaves no isolate behind when it throws.
 */
export function buildInstance(spec: InstanceSpec, start: (vm: Instance, script: ivm.Script, context: ivm.Context) => void): Instance {
  // No onCatastrophicError: with one, isolated-vm parks the thread that hit a fatal V8
  // out-of-memory error in an endless sleep, and a callback runs on the main thread, so the
  // server would hang for good (docs/decisions.md, "Out of memory in a script").
  const isolate = new ivm.Isolate({ memoryLimit: spec.memoryMb });
  const handles: unknown[] = [isolate];
  try {
    const context = isolate.createContextSync();
    const table = new ivm.ExternalCopy(spec.table);
    const tableCopy = table.copyInto();
    handles.push(context, table, tableCopy);
    const api = context.evalClosureSync(
      PRELUDE_SOURCE,
      [spec.consoleCb, tableCopy, spec.path, spec.dispatchCb, spec.flushThenCb, spec.asyncEndedCb],
      { filename: PRELUDE_FILE, result: { reference: true } },
    );
    handles.push(api);
    const vm: Instance = {
      isolate,
      handles,
      run: api.getSync('run', { reference: true }) as ivm.Reference<RunFn>,
      resolve: api.getSync('resolve', { reference: true }) as ivm.Reference<(name: string) => number>,
      where: api.getSync('where', { reference: true }) as ivm.Reference<() => string | undefined>,
      take: api.getSync('take', { reference: true }) as ivm.Reference<(done: boolean) => string>,
      hits: api.getSync('hits', { reference: true }) as ivm.Reference<(index: number) => string>,
      resume: api.getSync('resume', { reference: true }) as ivm.Reference<ResumeFn>,
      forget: api.getSync('forget', { reference: true }) as ivm.Reference<(id: number) => void>,
      indexes: new Map(),
      installed: new Map(),
      suspect: false,
    };
    handles.push(vm.run, vm.resolve, vm.where, vm.take, vm.hits, vm.resume, vm.forget);
    api.release();
    let script: ivm.Script;
    try {
      script = isolate.compileScriptSync(spec.source, { filename: spec.path });
    } catch (e) {
      throw spec.locator.loadError(e);
    }
    handles.push(script);
    start(vm, script, context);
    script.release();
    return vm;
  } catch (e) {
    if (!isolate.isDisposed) isolate.dispose();
    retire(handles);
    throw e;
  }
}

/**
 * Compile a script in a scratch isolate without running any of it: its top level, its
 * functions, the prelude. Throws KemiError KEMI_ERR_SCRIPT_LOAD with path:line:column for a
 * syntax error (V8 reports the early errors of every function body at compile time).
 */
export function compileOnly(source: string, path: string, memoryMb: number): void {
  const isolate = new ivm.Isolate({ memoryLimit: memoryMb });
  const handles: unknown[] = [isolate];
  try {
    handles.push(isolate.compileScriptSync(source, { filename: path }));
  } catch (e) {
    throw new ScriptLocator(path).loadError(e);
  } finally {
    isolate.dispose();
    retire(handles);
  }
}
