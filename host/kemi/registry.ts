/**
 * All modules of one runtime, instantiated: the functions with their state bound, the PV
 * classes, the statistics, and the names of script callbacks the host may call. Engines walk
 * `modules` to build `KSR`; nothing here knows an engine.
 */
import type { Logger } from 'pino';
import { KemiError } from '../errors.js';
import type { Context } from './context.js';
import { PvRegistry } from './pv.js';
import { Stats } from './stats.js';
import type { AnyModuleDef, HttpAttach, KemiType, ModuleHost, MyselfMatcher, ScriptHandle } from './types.js';

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
}

export interface BoundModule {
  readonly name: string;
  readonly doc: string;
  readonly functions: readonly BoundFunction[];
}

export interface RegistryOptions {
  readonly log: Logger;
  readonly stats?: Stats;
  readonly myself: MyselfMatcher;
  readonly script: ScriptHandle;
  /** module name → validated parameters */
  readonly params?: Readonly<Record<string, Record<string, unknown>>>;
  readonly http?: HttpAttach | null;
}

export class KemiRegistry {
  readonly modules: BoundModule[] = [];
  readonly pvs = new PvRegistry();
  readonly stats: Stats;
  private readonly closers: (() => void | Promise<void>)[] = [];
  private readonly byName = new Map<string, BoundFunction>();

  constructor(defs: readonly AnyModuleDef[], opts: RegistryOptions) {
    this.stats = opts.stats ?? new Stats();
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
    const host: ModuleHost = {
      log: opts.log.child({ module: modName === '' ? 'script' : label }),
      stat: (name) => {
        checkDeclared(name);
        return this.stats.counter(label, name);
      },
      gauge: (name) => {
        checkDeclared(name);
        return this.stats.gauge(label, name);
      },
      myself: opts.myself,
      script: opts.script,
      pvs: this.pvs,
      http: opts.http ?? null,
    };
    const rawParams = opts.params?.[modName] ?? {};
    const params = def.params ? (def.params.parse(rawParams) as Record<string, unknown>) : {};
    const state: unknown = def.init ? def.init(host, params) : undefined;
    const close = def.close;
    if (close) this.closers.push(() => close(state));

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
      };
      functions.push(bound);
      this.byName.set(bound.fullName, bound);
    }
    const existing = this.modules.find((m) => m.name === modName);
    if (existing) {
      throw new KemiError('KEMI_ERR_ENGINE', `module ${label} registered twice`);
    }
    this.modules.push({ name: modName, doc: def.doc, functions });
    for (const [pvName, pv] of Object.entries(def.pvs ?? {})) this.pvs.add(label, pvName, pv, state);
  }

  /** 'KSR.hdr.append' or 'KSR.info' */
  lookup(fullName: string): BoundFunction | undefined {
    return this.byName.get(fullName);
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
