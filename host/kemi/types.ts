/**
 * The KEMI export table: every binding is one `defineModule({...})`, like Kamailio's
 * `sr_kemi_t` arrays. Engines walk the registry built from these tables; a binding never
 * knows which engine calls it.
 */
import type { output, ZodObject, ZodRawShape } from 'zod';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import type { Context } from './context.js';
import type { Counter } from './stats.js';
import type { CallResult } from '../engines/engine.js';
import type { ResolvedPv } from './pv.js';
import type { ErrorBoundary } from '../boundary.js';
import type { Database } from '../db/database.js';
import type { RpcMethodDef } from '../rpc/jsonrpc.js';
import type { ModuleSip } from '../sip/sip-port.js';

export type KemiType = 'int' | 'long' | 'str' | 'bool' | 'xval' | 'none';

/** A KEMI "extended value": what `KSR.pv.get` and friends return. `null` is Lua nil / JS null. */
export type Xval = number | string | null;

export type JsOf<T extends KemiType> = T extends 'int' | 'long'
  ? number
  : T extends 'str'
    ? string
    : T extends 'bool'
      ? boolean
      : T extends 'xval'
        ? Xval
        : // eslint-disable-next-line @typescript-eslint/no-invalid-void-type -- a 'none' function returns nothing
          void;

export type ArgsOf<A extends readonly KemiType[]> = { [K in keyof A]: A[K] extends KemiType ? JsOf<A[K]> : never };

export interface KemiFunctionDef<S = unknown> {
  readonly params: readonly KemiType[];
  readonly returns: KemiType;
  readonly impl: (state: S, ctx: Context, ...args: never[]) => unknown;
  readonly doc: string;
  /**
   * The result depends only on the arguments and on what the message brought, and the call
   * changes nothing: an engine may compute it before the script asks (the JS engine does, to
   * save isolate crossings). A function when that depends on the arguments.
   */
  readonly pure?: true | ((state: S, args: readonly unknown[]) => boolean);
  /**
   * The call changes nothing and gives the same result until something changes the Context
   * (a PV that a script can set, say): an engine may compute it when a callback starts and
   * answer from that until the callback's first call that changes something. A function when
   * that depends on the arguments (a clock or a random number is never a read).
   */
  readonly read?: true | ((state: S, args: readonly unknown[]) => boolean);
  /**
   * The call only changes what later KSR calls and the host after the callback look at (a
   * reply header to add, a reply to send), and its result can be known before it runs: return
   * that result, or undefined when it cannot be known. It may read only the arguments and what
   * is fixed for the Context's life. An engine may then give the script this result and run
   * the call later, in order: before any other KSR call runs and before the callback ends.
   * Nothing that needs the script's line (logging) or that can fail after the check belongs
   * here.
   */
  readonly predict?: (state: S, ctx: Context, args: readonly unknown[]) => unknown;
  /**
   * `predict` also reads what KSR calls change (whether the request was already answered, the
   * reply headers added): its result holds only while nothing has changed in the callback, as
   * a `read` does. The engine then queues the call only as the callback's first change.
   */
  readonly predictWhileUnchanged?: true;
  /**
   * Called without arguments, the call always ends the running callback this way and does
   * nothing else (KSR.x.exit / KSR.x.drop): an engine may end the callback itself and run the
   * call afterwards, after the calls that came before it.
   */
  readonly stops?: 'exit' | 'drop';
  /** The call may wait in place (host/kemi/wait.ts: waitFn): its result may be a Wait. */
  readonly waits?: true;
}

/**
 * One KSR function. The implementation's argument and return types are derived from
 * `params`/`returns`, so a mismatch between the table and the code is a compile error.
 */
export function fn<S, const A extends readonly KemiType[], R extends KemiType>(
  params: A,
  returns: R,
  impl: (state: S, ctx: Context, ...args: ArgsOf<A>) => JsOf<R>,
  doc = '',
  pure?: KemiFunctionDef<S>['pure'],
): KemiFunctionDef<S> {
  const def = { params, returns, impl: impl as KemiFunctionDef<S>['impl'], doc };
  return pure === undefined ? def : { ...def, pure };
}

/** `fn(...)` with `read` set (KemiFunctionDef.read). */
export function readFn<S>(def: KemiFunctionDef<S>, read: NonNullable<KemiFunctionDef<S>['read']>): KemiFunctionDef<S> {
  return { ...def, read };
}

/**
 * `fn(...)` with `predict` set (KemiFunctionDef.predict). The arguments arrive checked and
 * converted to the declared types, as the implementation gets them.
 */
export function deferrable<S>(
  def: KemiFunctionDef<S>,
  predict: (state: S, ctx: Context, args: readonly unknown[]) => unknown,
  holds: 'for the context' | 'while unchanged' = 'for the context',
): KemiFunctionDef<S> {
  return holds === 'for the context' ? { ...def, predict } : { ...def, predict, predictWhileUnchanged: true };
}

/** A pseudo-variable class: `$ru`, or `$var(name)` where `param` is `name`. */
export interface PvDef<S = unknown> {
  readonly get: (state: S, ctx: Context, param: string) => Xval;
  readonly set?: (state: S, ctx: Context, param: string, value: Xval) => void;
  /** true when the PV takes a `(param)`, like `$var(x)` or `$hdr(Name)`. */
  readonly param?: boolean;
  /**
   * true when the PV takes Kamailio's index, `$(name(param)[N])`: the getter then receives
   * the param as `param[N]`. A PV without it does not resolve with an index.
   */
  readonly index?: boolean;
  /** read-only and derived from the received message or its source: the same for a Context's whole life */
  readonly stable?: boolean;
  /**
   * Two reads may differ with nothing done in between (a clock): never answered from a value
   * computed earlier (KemiFunctionDef.read).
   */
  readonly volatile?: boolean;
  readonly doc: string;
}

/** What a module's `init` is given: everything it may use from the runtime, nothing more. */
export interface ModuleHost {
  readonly log: Logger;
  /**
   * Log what went wrong with a script's call (bad argument value, unknown table, nothing to act
   * on) with the script's file:line: at most once per 10 s per text and script line, with the
   * count of the ones left out. Every complaint a message or a script can trigger goes here, so
   * no peer can flood the log.
   */
  complain(text: string, fields?: Record<string, unknown>, level?: 'error' | 'warn' | 'info'): void;
  /** A counter declared in the module's `stats`. */
  stat(name: string): Counter;
  /** a declared statistic that holds a level (in flight now) rather than a count: a gauge in /metrics, left alone by reset */
  gauge(name: string): Counter;
  /** Where the module's timers, promise continuations and peer handlers run (host/boundary.ts). */
  readonly boundary: ErrorBoundary;
  /** Addresses this server listens on, and configured aliases: what `is_myself` matches. */
  readonly myself: MyselfMatcher;
  /** Resolve a pseudo-variable name ("$ru", "$var(x)") declared by any module. */
  readonly pvs: { resolve(spec: string): ResolvedPv | null };
  /** The embedded HTTP listener, for xhttp: install the request handler (null when http is off). */
  readonly http: HttpAttach | null;
  /** The script currently loaded: which callbacks it has, where it is running. */
  readonly script: ScriptHandle;
  /**
   * The module's database: its own `db_url` parameter when it has one, else the top-level
   * `db_url` (docs/store.md). Opened once per URL and shared; closed with the runtime. Rejects
   * with a KemiError (KEMI_ERR_DB_*) when it cannot be opened. With `url`, the database at that
   * db_url instead (sqlops' named connections), shared and closed the same way.
   */
  database(url?: string): Promise<Database>;
  /**
   * What a module registered before this one offers other modules (its ModuleDef.api):
   * Kamailio's bind APIs, e.g. registrar binding usrloc's store. undefined when there is none.
   */
  api(module: string): unknown;
  /**
   * The config file has a section for this module (`modules.<name>`, even empty). Every module
   * exists here, while Kamailio loads only those its cfg names: a module that would otherwise
   * do work at start for nothing (load a table) does it only when configured.
   */
  readonly configured: boolean;
  /**
   * The control RPC methods (host/rpc/methods.ts, with every module's): what KSR.jsonrpcs runs
   * for a script that serves them itself. Empty in a registry without a runtime (api, check).
   */
  controlRpc(): ReadonlyMap<string, RpcMethodDef>;
  /** Sending outside any message and taking replies meant for the module (nathelper's keepalives). */
  readonly sip: ModuleSip;
}

export interface HttpAttach {
  /** Install the handler for every HTTP request on the listener (replacing the 404 default). */
  setHandler(handler: (req: IncomingMessage, res: ServerResponse) => void): void;
  /** host:port the listener is bound to, once it is */
  address(): string | null;
}

export interface MyselfMatcher {
  /** host (IP or name, IPv6 with or without brackets) and port (0 = any of ours) */
  isMyself(host: string, port: number): boolean;
  isMyselfIp(ip: string): boolean;
}

export interface ScriptHandle {
  /** true when the loaded script defines a callback with this name. */
  has(name: string): boolean;
  /** file:line of the script code running now, for log lines written by KSR.info & co. */
  location(): string | undefined;
  /**
   * Run a callback of the script on ctx (an event route, a resumed route). A failure is
   * logged and counted here; the result says what happened. Never throws for a script's fault.
   */
  run(name: string, ctx: Context, arg?: string): CallResult;
  /**
   * Kamailio's script flags (KSR.setsflag & co.): not the message's, the running callback's.
   * Zero when a callback starts, put back when a callback run from inside it ends, as
   * Kamailio's sr_kemi_route saves and clears them around every route.
   */
  sflags: number;
}

export interface ModuleDef<S = unknown, P extends ZodRawShape = ZodRawShape> {
  /** `KSR.<name>`; '' for functions directly on `KSR`. */
  readonly name: string;
  readonly doc: string;
  /** Kamailio's parameter names; defaults and docs live in the schema (`.default()`, `.describe()`). */
  readonly params?: ZodObject<P>;
  readonly functions: Readonly<Record<string, KemiFunctionDef<S>>>;
  readonly pvs?: Readonly<Record<string, PvDef<S>>>;
  /** counter names; one ending in '*' declares a prefix for counters made at init (per configured peer, say) */
  readonly stats?: readonly string[];
  /** Builds the module's state; `params` are the module's section of the config, parsed by `params` (defaults filled). */
  readonly init?: (host: ModuleHost, params: output<ZodObject<P>>) => S;
  /**
   * Runs after every module's init and before the listeners open (Runtime.start awaits it):
   * load tables, connect to peers. A rejection stops the start-up with its message.
   */
  readonly start?: (state: S) => Promise<void>;
  readonly close?: (state: S) => void | Promise<void>;
  /**
   * Control RPC methods with Kamailio's names (`ul.dump`, `permissions.addressReload`…): the
   * full method name → what it does with the module's state and the positional params. Throw
   * host/rpc/jsonrpc.ts's RpcError(INVALID_PARAMS, …) for bad params.
   */
  readonly rpc?: Readonly<Record<string, ModuleRpcMethod<S>>>;
  /**
   * What other modules may use of this one (ModuleHost.api): a store, as usrloc offers its
   * location tables to registrar. A module with an api and no functions has no `KSR.<name>`.
   */
  readonly api?: (state: S) => unknown;
  /**
   * Function name → the positions (0-based) of its arguments that name a function of the script
   * (a failure route, a resume route): `kemihost check` reports a literal name the script does
   * not define.
   */
  readonly routeArgs?: Readonly<Record<string, readonly number[]>>;
  /** Function name → the positions of its arguments that name a pseudo-variable (`kemihost check` knows them). */
  readonly pvArgs?: Readonly<Record<string, readonly number[]>>;
}

export interface ModuleRpcMethod<S> {
  readonly doc: string;
  readonly run: (state: S, params: readonly unknown[]) => unknown;
}

/** A module with its state type erased: what the registry holds (init and impl agree by construction). */
export type AnyModuleDef = ModuleDef;

export function defineModule<S, P extends ZodRawShape = ZodRawShape>(def: ModuleDef<S, P>): AnyModuleDef {
  return def as unknown as AnyModuleDef;
}
