/**
 * All modules of one runtime, instantiated: the functions with their state bound, the PV
 * classes, the statistics, and the names of script callbacks the host may call. Engines walk
 * `modules` to build `KSR`; nothing here knows an engine.
 */
import type { Logger } from 'pino';
import { ErrorBoundary } from '../boundary.js';
import { LogLimiter } from '../log-limiter.js';
import { dbUrlFor, DEFAULT_DB_URL } from '../db/config.js';
import { Databases } from '../db/databases.js';
import { SipPort, type ModuleSip } from '../sip/sip-port.js';
import { KemiError } from '../errors.js';
import type { RpcMethodDef } from '../rpc/jsonrpc.js';
import type { Context } from './context.js';
import { PvRegistry } from './pv.js';
import { Stats } from './stats.js';
import type { AnyModuleDef, HttpAttach, KemiType, ModuleHost, MyselfMatcher, ScriptHandle } from './types.js';

/** One complaint per text and script line per interval (ModuleHost.complain). */
const COMPLAINT_INTERVAL_MS = 10_000;
const NO_RPC: ReadonlyMap<string, RpcMethodDef> = new Map();

export interface BoundFunction {
  readonly module: string;
  readonly name: string;
  /** 'KSR.xhttp.xhttp_reply' or 'KSR.info': how errors name it */
  readonly fullName: string;
  readonly params: readonly KemiType[];
  readonly returns: KemiType;
  readonly doc: string;
  /** the implementation with its module state bound; arguments already checked by invoke */
  readonly impl: (ctx: Context, args: readonly unknown[]) => unknown;
  /** whether a call with these (checked) arguments is pure (KemiFunctionDef.pure); null: never */
  readonly pure: ((args: readonly unknown[]) => boolean) | null;
  /** whether a call with these (checked) arguments is a read (KemiFunctionDef.read); null: never */
  readonly read: ((args: readonly unknown[]) => boolean) | null;
  /** the result a call will return, known in advance (KemiFunctionDef.predict); null: never */
  readonly predict: ((ctx: Context, args: readonly unknown[]) => unknown) | null;
  /** the prediction holds only while nothing has changed (KemiFunctionDef.predictWhileUnchanged) */
  readonly predictWhileUnchanged: boolean;
  /** how a call without arguments always ends the callback (KemiFunctionDef.stops); null: it does not */
  readonly stops: 'exit' | 'drop' | null;
  /** the function never changes anything (it has `pure` or `read`) */
  readonly effectFree: boolean;
  /** the call may wait in place (KemiFunctionDef.waits): in JS it returns a promise to await */
  readonly waits: boolean;
  /** positions of the arguments that name a script function (ModuleDef.routeArgs) */
  readonly routes: readonly number[];
  /** positions of the arguments that name a pseudo-variable (ModuleDef.pvArgs) */
  readonly pvs: readonly number[];
}

export interface BoundModule {
  readonly name: string;
  readonly doc: string;
  readonly functions: readonly BoundFunction[];
}

export interface RegistryOptions {
  readonly log: Logger;
  readonly stats?: Stats;
  /** the runtime's error boundary; a registry of its own (api, check, tests) makes one */
  readonly boundary?: ErrorBoundary;
  readonly myself: MyselfMatcher;
  readonly script: ScriptHandle;
  /** module name → validated parameters */
  readonly params?: Readonly<Record<string, Record<string, unknown>>>;
  readonly http?: HttpAttach | null;
  /** the top-level db_url (default: DEFAULT_DB_URL) and the databases opened for the modules */
  readonly dbUrl?: string;
  readonly databases?: Databases;
  /** the control RPC methods (ModuleHost.controlRpc), built when first asked for */
  readonly controlRpc?: () => ReadonlyMap<string, RpcMethodDef>;
  /** the runtime's SIP transport for modules; a registry of its own gets one that sends nothing */
  readonly sip?: ModuleSip;
}

export class KemiRegistry {
  readonly modules: BoundModule[] = [];
  readonly pvs = new PvRegistry();
  readonly stats: Stats;
  /**
   * Where the script's own log lines go (KSR.info & co., and the JS engine's console.*):
   * module 'script', a child of the runtime's root logger, so a line carries that key once.
   */
  readonly scriptLog: Logger;
  private readonly closers: (() => void | Promise<void>)[] = [];
  private readonly starters: (() => Promise<void>)[] = [];
  /** control RPC methods the modules declare, bound to their state (host/rpc/methods.ts adds them) */
  readonly rpc = new Map<string, { readonly doc: string; readonly run: (params: readonly unknown[]) => unknown }>();
  private readonly byName = new Map<string, BoundFunction>();
  private readonly names = new Set<string>();
  /** what each module offers the others (ModuleDef.api), by module name */
  private readonly apis = new Map<string, unknown>();

  readonly boundary: ErrorBoundary;
  private readonly sip: ModuleSip;

  constructor(defs: readonly AnyModuleDef[], opts: RegistryOptions) {
    this.stats = opts.stats ?? new Stats();
    this.sip = opts.sip ?? new SipPort();
    this.boundary = opts.boundary ?? new ErrorBoundary(opts.log, this.stats);
    this.scriptLog = opts.log.child({ module: 'script' });
    for (const def of defs) this.addModule(def, opts);
  }

  private addModule(def: AnyModuleDef, opts: RegistryOptions): void {
    const modName = def.name;
    const label = modName === '' ? 'core' : modName;
    // A declared name ending in '*' is a prefix: the module makes such counters as it needs them
    // (one per configured server, say); the rest exist from the start, at 0.
    const declared = def.stats ?? [];
    const prefixes = declared.filter((s) => s.endsWith('*')).map((s) => s.slice(0, -1));
    for (const s of declared) if (!s.endsWith('*')) this.stats.counter(label, s);
    const checkDeclared = (name: string): void => {
      if (name.endsWith('*') || (!declared.includes(name) && !prefixes.some((p) => name.startsWith(p)))) {
        throw new KemiError('KEMI_ERR_ENGINE', `module ${label} uses undeclared statistic ${name}`);
      }
    };
    const log = modName === '' ? this.scriptLog : opts.log.child({ module: label });
    const limiter = new LogLimiter(COMPLAINT_INTERVAL_MS);
    const host: ModuleHost = {
      log,
      complain: (text, fields, level = 'error') => {
        const at = opts.script.location();
        const key = `${text}|${at ?? ''}`;
        if (limiter.allow(key)) log[level]({ ...fields, at, suppressed: limiter.suppressed(key) }, text);
      },
      stat: (name) => {
        checkDeclared(name);
        return this.stats.counter(label, name);
      },
      gauge: (name) => {
        checkDeclared(name);
        return this.stats.gauge(label, name);
      },
      boundary: this.boundary,
      myself: opts.myself,
      script: opts.script,
      pvs: this.pvs,
      http: opts.http ?? null,
      database: (url) => {
        const dbs = opts.databases;
        if (dbs === undefined) return Promise.reject(new KemiError('KEMI_ERR_ENGINE', `module ${label}: no databases in this registry`));
        return dbs.get(url ?? dbUrlFor({ db_url: opts.dbUrl ?? DEFAULT_DB_URL, modules: opts.params ?? {} }, modName));
      },
      api: (name) => this.apis.get(name),
      configured: opts.params?.[modName] !== undefined,
      controlRpc: () => opts.controlRpc?.() ?? NO_RPC,
      sip: this.sip,
    };
    const rawParams = opts.params?.[modName] ?? {};
    const params = def.params ? (def.params.parse(rawParams) as Record<string, unknown>) : {};
    const state: unknown = def.init ? def.init(host, params) : undefined;
    if (def.api !== undefined) this.apis.set(modName, def.api(state));
    const close = def.close;
    if (close) this.closers.push(() => close(state));
    const start = def.start;
    if (start) this.starters.push(() => start(state));
    for (const [method, m] of Object.entries(def.rpc ?? {})) {
      if (this.rpc.has(method)) throw new KemiError('KEMI_ERR_ENGINE', `RPC method ${method} declared twice`);
      this.rpc.set(method, { doc: m.doc, run: (params) => m.run(state, params) });
    }

    for (const [name, at] of [...Object.entries(def.routeArgs ?? {}), ...Object.entries(def.pvArgs ?? {})]) {
      const f = def.functions[name];
      if (f === undefined || at.some((i) => i < 0 || i >= f.params.length)) throw new KemiError('KEMI_ERR_ENGINE', `module ${label}: routeArgs/pvArgs name ${name}, which it does not have with those arguments`);
    }
    const functions: BoundFunction[] = [];
    for (const [name, f] of Object.entries(def.functions)) {
      const impl = f.impl as (state: unknown, ctx: Context, ...args: readonly unknown[]) => unknown;
      const bound: BoundFunction = {
        module: modName,
        name,
        fullName: modName === '' ? `KSR.${name}` : `KSR.${modName}.${name}`,
        params: f.params,
        returns: f.returns,
        doc: f.doc,
        impl: bindImpl(impl, state, f.params.length),
        pure: bindPredicate(f.pure, state),
        read: bindPredicate(f.read, state),
        predict: f.predict === undefined ? null : ((p) => (ctx: Context, args: readonly unknown[]) => p(state, ctx, args))(f.predict),
        predictWhileUnchanged: f.predictWhileUnchanged === true,
        stops: f.stops ?? null,
        effectFree: f.pure !== undefined || f.read !== undefined,
        waits: f.waits === true,
        routes: def.routeArgs?.[name] ?? [],
        pvs: def.pvArgs?.[name] ?? [],
      };
      functions.push(bound);
      this.byName.set(bound.fullName, bound);
    }
    if (this.names.has(modName)) {
      throw new KemiError('KEMI_ERR_ENGINE', `module ${label} registered twice`);
    }
    this.names.add(modName);
    // a module that only serves others (usrloc) has no KSR table, as in Kamailio
    if (functions.length > 0 || def.api === undefined) this.modules.push({ name: modName, doc: def.doc, functions });
    for (const [pvName, pv] of Object.entries(def.pvs ?? {})) this.pvs.add(label, pvName, pv, state);
  }

  /** 'KSR.hdr.append' or 'KSR.info' */
  lookup(fullName: string): BoundFunction | undefined {
    return this.byName.get(fullName);
  }

  /** Every module's start hook, in registration order (Runtime.start, before the listeners open). */
  async start(): Promise<void> {
    for (const s of this.starters) await s();
  }

  async close(): Promise<void> {
    for (const c of this.closers.reverse()) await c();
    this.closers.length = 0;
  }
}

function bindPredicate(
  p: true | ((state: unknown, args: readonly unknown[]) => boolean) | undefined,
  state: unknown,
): ((args: readonly unknown[]) => boolean) | null {
  if (p === undefined) return null;
  if (p === true) return () => true;
  return (args) => p(state, args);
}

/** Spread-free calls for the common arities: this is on every KSR call. */
function bindImpl(
  impl: (state: unknown, ctx: Context, ...args: readonly unknown[]) => unknown,
  state: unknown,
  arity: number,
): (ctx: Context, args: readonly unknown[]) => unknown {
  switch (arity) {
    case 0:
      return (ctx) => impl(state, ctx);
    case 1:
      return (ctx, a) => impl(state, ctx, a[0]);
    case 2:
      return (ctx, a) => impl(state, ctx, a[0], a[1]);
    case 3:
      return (ctx, a) => impl(state, ctx, a[0], a[1], a[2]);
    default:
      return (ctx, a) => impl(state, ctx, ...a);
  }
}
