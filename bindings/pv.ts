import type { ResolvedPv } from '../host/kemi/pv.js';
import { defineModule, fn, readFn, type ModuleHost, type Xval } from '../host/kemi/types.js';
import type { Context } from '../host/kemi/context.js';
import { messagePvs } from './pv-classes.js';
import { clockPvs, morePvs } from './pv-more.js';
import { avpPv } from './pv-avp.js';
import { xavpPvs } from './pv-xavp.js';

interface PvState {
  readonly host: ModuleHost;
  readonly resolve: (spec: string) => ResolvedPv | null;
  /** $shv: shared by every message of this runtime (and, later, across reloads) */
  readonly shv: Map<string, Xval>;
  /** when this runtime's modules were made ($Tb) */
  readonly startedAt: number;
}

function lookup(s: PvState, name: string): ResolvedPv | null {
  const pv = s.resolve(name);
  if (pv === null) s.host.complain('unknown pseudo-variable', { pv: name });
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
    s.host.complain('pseudo-variable is read-only', { pv: name });
    return -1;
  }
  pv.set(ctx, value);
  return 1;
}

/** pv.geti's integer of a value (Kamailio's sr_kemi_pv_geti: an int as is, else str2sint's partial result, int32-clamped). */
function intOf(v: Xval): number {
  if (v === null) return 0;
  if (typeof v === 'number') return Math.trunc(v) | 0;
  const m = /^([+-]?)(\d*)/.exec(v);
  const digits = m?.[2] ?? '';
  if (digits === '') return 0;
  const n = Number(`${m?.[1] ?? ''}${digits}`);
  return Math.max(-2147483648, Math.min(2147483647, n));
}

/** KSR.pv: generic access to pseudo-variables, and the core PV classes. */
export default defineModule({
  name: 'pv',
  doc: 'Get, set and test pseudo-variables.',
  init: (host): PvState => ({ host, resolve: (n) => host.pvs.resolve(n), shv: new Map(), startedAt: Date.now() }),
  pvArgs: { get: [0], geti: [0], gete: [0], getvn: [0], getvs: [0], getw: [0], sets: [0], seti: [0], unset: [0], is_null: [0] },
  functions: {
    get: readFn(fn(['str'], 'xval', (s: PvState, ctx, name) => get(s, ctx, name), 'The value of a pseudo-variable (string or integer), or null.', stablePv), readPv),
    geti: readFn(fn(['str'], 'int', (s: PvState, ctx, name) => intOf(get(s, ctx, name)),
      'The value as an integer: 0 for $null or a name that does not resolve; a string gives its leading integer ("12ab" 12, "ab" 0), as Kamailio\'s str2sint.', stablePv), readPv),
    gete: readFn(fn(['str'], 'xval', (s: PvState, ctx, name) => get(s, ctx, name) ?? '', 'The value, or "" when it is $null.', stablePv), readPv),
    getvn: readFn(fn(['str', 'int'], 'xval', (s: PvState, ctx, name, vn) => get(s, ctx, name) ?? vn, 'The value, or the given integer when it is $null.', stablePv), readPv),
    getvs: readFn(fn(['str', 'str'], 'xval', (s: PvState, ctx, name, vs) => get(s, ctx, name) ?? vs, 'The value, or the given string when it is $null.', stablePv), readPv),
    getw: readFn(fn(['str'], 'xval', (s: PvState, ctx, name) => get(s, ctx, name) ?? '<null>', 'The value, or "<null>" when it is $null (as Kamailio 5.6 prints it).', stablePv), readPv),
    sets: fn(['str', 'str'], 'none', (s: PvState, ctx, name, v) => { set(s, ctx, name, v); }, 'Set a pseudo-variable to a string.'),
    seti: fn(['str', 'int'], 'none', (s: PvState, ctx, name, v) => { set(s, ctx, name, v); }, 'Set a pseudo-variable to an integer.'),
    unset: fn(['str'], 'none', (s: PvState, ctx, name) => { set(s, ctx, name, null); }, 'Set a pseudo-variable to $null.'),
    is_null: readFn(fn(['str'], 'bool', (s: PvState, ctx, name) => get(s, ctx, name) === null, 'true when the pseudo-variable is $null.', stablePv), readPv),
  },
  pvs: {
    ...messagePvs,
    ...morePvs,
    ...clockPvs,
    ...xavpPvs,
    Tb: { get: (s: PvState) => Math.floor(s.startedAt / 1000), doc: 'Unix time this server started, seconds' },
    var: {
      param: true,
      get: (_s, ctx, name) => ctx.vars.get(name) ?? null,
      set: (_s, ctx, name, v) => {
        if (v === null) ctx.vars.delete(name);
        else ctx.vars.set(name, v);
      },
      doc: 'a variable of the current message (kept across suspension and resume)',
    },
    avp: avpPv,
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
