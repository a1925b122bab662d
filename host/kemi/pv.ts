/**
 * The pseudo-variable registry: "$ru", "$hdr(From)", "$var(x)", "$sht(t=>k)". Modules declare
 * PV classes in their table; a name is parsed once and the resolved spec is cached, because
 * scripts pass the same constant names on every message.
 */
import { KemiError } from '../errors.js';
import type { Context } from './context.js';
import type { PvDef, Xval } from './types.js';

export interface ResolvedPv {
  readonly name: string;
  get(ctx: Context): Xval;
  /** undefined when the PV is read-only */
  readonly set: ((ctx: Context, value: Xval) => void) | undefined;
  /** the value never changes for a given Context (see PvDef.stable) */
  readonly stable: boolean;
  /** two reads may differ with nothing done in between (see PvDef.volatile) */
  readonly volatile: boolean;
}

interface PvClass {
  readonly def: PvDef;
  readonly state: unknown;
  readonly module: string;
}

const MAX_CACHED = 4096;

export class PvRegistry {
  private readonly classes = new Map<string, PvClass>();
  private readonly cache = new Map<string, ResolvedPv | null>();

  add(module: string, name: string, def: PvDef, state: unknown): void {
    if (this.classes.has(name)) {
      const other = this.classes.get(name)?.module ?? '?';
      throw new KemiError('KEMI_ERR_ENGINE', `pseudo-variable $${name} declared by ${module} and ${other}`);
    }
    this.classes.set(name, { def, state, module });
  }

  /** Every PV class name with its doc, for `kemihost api`. */
  list(): { name: string; param: boolean; writable: boolean; doc: string; module: string }[] {
    return [...this.classes].map(([name, c]) => ({
      name,
      param: c.def.param === true,
      writable: c.def.set !== undefined,
      doc: c.def.doc,
      module: c.module,
    }));
  }

  /** Resolve "$name" / "$name(param)" / "$(name(param))"; null when the name is not a known PV. */
  resolve(spec: string): ResolvedPv | null {
    const hit = this.cache.get(spec);
    if (hit !== undefined) return hit;
    const resolved = this.parse(spec);
    // Names built at run time (e.g. "$var(" .. i .. ")") must not grow the cache without bound.
    if (this.cache.size >= MAX_CACHED) this.cache.clear();
    this.cache.set(spec, resolved);
    return resolved;
  }

  private parse(spec: string): ResolvedPv | null {
    let s = spec.trim();
    if (!s.startsWith('$')) return null;
    s = s.slice(1);
    if (s.startsWith('(') && s.endsWith(')')) s = s.slice(1, -1);
    // $(name(param)[N]): the index goes to the getter as "param[N]" when the class takes one
    let index = '';
    const ix = /\)(\[\s*(?:-?\d+|\*)\s*\])$/.exec(s);
    if (ix !== null) {
      index = ix[1] ?? '';
      s = s.slice(0, s.length - index.length);
    }
    let name = s;
    let param = '';
    const open = s.indexOf('(');
    if (open >= 0) {
      if (!s.endsWith(')')) return null;
      name = s.slice(0, open);
      param = s.slice(open + 1, -1);
    }
    const cls = this.classes.get(name);
    if (cls === undefined) return null;
    if ((cls.def.param === true) !== (open >= 0)) return null;
    if (index !== '') {
      if (cls.def.index !== true) return null;
      param += index;
    }
    const { def, state } = cls;
    const set = def.set;
    return {
      name: spec,
      stable: def.stable === true && set === undefined && def.volatile !== true,
      volatile: def.volatile === true,
      get: (ctx) => def.get(state, ctx, param),
      set: set === undefined ? undefined : (ctx, value) => { set(state, ctx, param, value); },
    };
  }
}
