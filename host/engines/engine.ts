/**
 * The contract between the host and a script engine. An engine instance holds one loaded
 * script version; it builds `KSR` by walking the registry and knows no binding by name.
 */
import type { Logger } from 'pino';
import type { Context } from '../kemi/context.js';
import type { KemiRegistry } from '../kemi/registry.js';
import type { WaitHost } from '../waits.js';

export type EngineKind = 'lua' | 'js';

export interface EngineOptions {
  readonly registry: KemiRegistry;
  readonly log: Logger;
  /** CPU time one callback may take before it is stopped (0 = no limit) */
  readonly cpuMs: number;
  /** memory for one script instance (see each engine for what it bounds) */
  readonly memoryMb: number;
  /** the Lua engine's standard library (config lua.stdlib); safe when absent */
  readonly luaStdlib?: 'safe' | 'full';
  /** where a callback that waits in place is held and resumed (host/waits.ts); without it a KSR call cannot wait */
  readonly waits?: WaitHost;
}

/** Why a callback failed. `location` is file:line(:column) in the user's script when known. */
export interface ScriptFailure {
  readonly code: 'KEMI_ERR_SCRIPT_RUNTIME' | 'KEMI_ERR_CPU_LIMIT' | 'KEMI_ERR_MEMORY_LIMIT';
  readonly message: string;
  readonly location: string | undefined;
  readonly stack: string | undefined;
}

/** ok: the callback returned or called KSR.x.exit/drop (then `stop` says which). */
export type CallResult =
  | { readonly ok: true; readonly stop: 'exit' | 'drop' | null }
  | { readonly ok: false; readonly failure: ScriptFailure };

export const CALL_OK: CallResult = Object.freeze({ ok: true, stop: null });
export const CALL_EXIT: CallResult = Object.freeze({ ok: true, stop: 'exit' });
export const CALL_DROP: CallResult = Object.freeze({ ok: true, stop: 'drop' });

export interface ScriptEngine {
  readonly kind: EngineKind;
  /** Compile and run the script's top level. Throws KemiError KEMI_ERR_SCRIPT_LOAD (with location). */
  load(source: string, path: string): void;
  /**
   * Compile only, running nothing of the script (`kemihost check`); the engine stays as it was.
   * Throws KemiError KEMI_ERR_SCRIPT_LOAD with the location of a syntax error.
   */
  compile(source: string, path: string): void;
  /** true when the loaded script defines a function with this name */
  has(name: string): boolean;
  /**
   * Run one callback on ctx. Never throws for a script's fault: the result says what happened.
   * A callback that waits in place (host/waits.ts) returns CALL_OK with its message held; its
   * continuation's result comes through Suspension.resume.
   */
  call(name: string, ctx: Context, arg?: string): CallResult;
  /** file:line of the script code running now (for KSR.info & co.), when inside a callback */
  location(): string | undefined;
  dispose(): void;
}

/** The callbacks the host calls; a script without the required one does not load. */
export const REQUIRED_CALLBACKS = ['ksr_request_route'] as const;
