/**
 * $avp(name) and $(avp(name)[i]) as Kamailio's pv_core.c reads and writes them: a stack of
 * values per name (Context.avps), newest first. Assigning adds on top; `$avp(x) = $null` removes
 * the newest value only (destroy_avps without "all"), `$(avp(x)[*]) = $null` every one, and a
 * value assigned to `[*]` replaces them all. KSR.pvx.avp_* use the same store.
 */
import type { Context } from '../host/kemi/context.js';
import type { PvDef, Xval } from '../host/kemi/types.js';

/** "name", "name[2]", "name[-1]", "name[*]" (the index as the registry appends it). */
function parse(p: string): { name: string; index: number | 'all' | null } {
  const m = /^(.*)\[\s*(-?\d+|\*)\s*\]$/.exec(p);
  if (m === null) return { name: p, index: null };
  return { name: m[1] ?? '', index: m[2] === '*' ? 'all' : Number(m[2]) };
}

/** The newest value of the name goes (destroy_avps(name, 0)). */
export function avpShift(ctx: Context, name: string): void {
  const list = ctx.avps.get(name);
  if (list === undefined) return;
  list.shift();
  if (list.length === 0) ctx.avps.delete(name);
}

function get(ctx: Context, p: string): Xval {
  const { name, index } = parse(p);
  const list = ctx.avps.get(name);
  if (list === undefined) return null;
  if (index === null || index === 'all') return list[0] ?? null;
  // Kamailio 5.6 reads nothing at a negative AVP index
  return index < 0 ? null : (list[index] ?? null);
}

function set(ctx: Context, p: string, v: Xval): void {
  const { name, index } = parse(p);
  if (index === 'all') ctx.avps.delete(name);
  if (v === null) {
    if (index !== 'all') avpShift(ctx, name);
    return;
  }
  const list = ctx.avps.get(name);
  if (list === undefined) ctx.avps.set(name, [v]);
  else list.unshift(v);
}

export const avpPv: PvDef = {
  param: true,
  index: true,
  get: (_s, ctx, p) => get(ctx, p),
  set: (_s, ctx, p, v) => { set(ctx, p, v); },
  doc: 'an AVP of the current message: $avp(x) the newest value, $(avp(x)[i]) the i-th from the newest (a negative index reads $null, as in Kamailio 5.6); assigning adds a value on top, $null removes the newest ($(avp(x)[*]) = $null: every one)',
};
