import type { Logger } from 'pino';
import type { ResolvedPv } from '../host/kemi/pv.js';
import { defineModule, fn, readFn, type Xval } from '../host/kemi/types.js';
import type { Context } from '../host/kemi/context.js';
import { messagePvs } from './pv-classes.js';

interface PvState {
  readonly log: Logger;
  readonly resolve: (spec: string) => ResolvedPv | null;
  /** $shv: shared by every message of this runtime (and, later, across reloads) */
  readonly shv: Map<string, Xval>;
  readonly unknown: Set<string>;
}

function lookup(s: PvState, name: string): ResolvedPv | null {
  const pv = s.resolve(name);
  if (pv === null && !s.unknown.has(name) && s.unknown.size < 1000) {
    // Once per name: a typo in a script must be visible without flooding the log per message.
    s.unknown.add(name);
    s.log.error({ pv: name }, 'unknown pseudo-variable');
  }
  return pv;
}

function get(s: PvState, ctx: Context, name: string): Xval {
  return lookup(s, name)?.get(ctx) ?? null;
}

/** Reading a PV is pure when the PV is stable (derived from the received message only). */
function stablePv(s: PvState, args: readonly unknown[]): boolean {
  const name = args[0];
  return typeof name === 'string' && s.resolve(name)?.stable === true;
}

/**
 * Any other PV the registry knows is a read (KemiFunctionDef.read): the same until a KSR call
 * changes something; a clock is not.
 */
function readPv(s: PvState, args: readonly unknown[]): boolean {
  const name = args[0];
  if (typeof name !== 'string') return false;
  const pv = s.resolve(name);
  return pv !== null && !pv.volatile;
}

function set(s: PvState, ctx: Context, name: string, value: Xval): number {
  const pv = lookup(s, name);
  if (pv === null) return -1;
  if (pv.set === undefined) {
    s.log.error({ pv: name }, 'pseudo-variable is read-only');
    return -1;
  }
  pv.set(ctx, value);
  return 1;
}

/** KSR.pv: generic access to pseudo-variables, and the core PV classes. */
export default defineModule({
  name: 'pv',
  doc: 'Get, set and test pseudo-variables.',
  init: (host): PvState => ({ log: host.log, resolve: (n) => host.pvs.resolve(n), shv: new Map(), unknown: new Set() }),
  functions: {
    get: readFn(fn(['str'], 'xval', (s: PvState, ctx, name) => get(s, ctx, name), 'The value of a pseudo-variable (string or integer), or null.', stablePv), readPv),
    gete: readFn(fn(['str'], 'xval', (s: PvState, ctx, name) => get(s, ctx, name) ?? '', 'The value, or "" when it is $null.', stablePv), readPv),
    getvn: readFn(fn(['str', 'int'], 'xval', (s: PvState, ctx, name, vn) => get(s, ctx, name) ?? vn, 'The value, or the given integer when it is $null.', stablePv), readPv),
    getvs: readFn(fn(['str', 'str'], 'xval', (s: PvState, ctx, name, vs) => get(s, ctx, name) ?? vs, 'The value, or the given string when it is $null.', stablePv), readPv),
    getw: readFn(fn(['str'], 'xval', (s: PvState, ctx, name) => get(s, ctx, name) ?? '<<null>>', 'The value, or "<<null>>" when it is $null.', stablePv), readPv),
    sets: fn(['str', 'str'], 'none', (s: PvState, ctx, name, v) => { set(s, ctx, name, v); }, 'Set a pseudo-variable to a string.'),
    seti: fn(['str', 'int'], 'none', (s: PvState, ctx, name, v) => { set(s, ctx, name, v); }, 'Set a pseudo-variable to an integer.'),
    unset: fn(['str'], 'none', (s: PvState, ctx, name) => { set(s, ctx, name, null); }, 'Set a pseudo-variable to $null.'),
    is_null: readFn(fn(['str'], 'bool', (s: PvState, ctx, name) => get(s, ctx, name) === null, 'true when the pseudo-variable is $null.', stablePv), readPv),
  },
  pvs: {
    ...messagePvs,
    var: {
      param: true,
      get: (_s, ctx, name) => ctx.vars.get(name) ?? null,
      set: (_s, ctx, name, v) => {
        if (v === null) ctx.vars.delete(name);
        else ctx.vars.set(name, v);
      },
      doc: 'a variable of the current message (kept across suspension and resume)',
    },
    avp: {
      param: true,
      get: (_s, ctx, name) => ctx.avps.get(name)?.[0] ?? null,
      set: (_s, ctx, name, v) => {
        if (v === null) {
          ctx.avps.delete(name);
          return;
        }
        const list = ctx.avps.get(name);
        if (list === undefined) ctx.avps.set(name, [v]);
        else list.unshift(v);
      },
      doc: 'an AVP of the current message: assignment adds a value on top, $null deletes them all',
    },
    shv: {
      param: true,
      get: (s: PvState, _ctx, name) => s.shv.get(name) ?? null,
      set: (s: PvState, _ctx, name, v) => {
        if (v === null) s.shv.delete(name);
        else s.shv.set(name, v);
      },
      doc: 'a shared variable, seen by every message',
    },
  },
});
