/**
 * KSR.kx.ifdef / ifndef / get_def / get_defn: the names a Kamailio config defines with `#!define`
 * (or `-A NAME=value` on its command line), which a KEMI script tests to turn features on and off
 * (`if KSR.kx.ifdef("WITH_NAT") then`). kemihost has no kamailio.cfg to hold them, so they are the
 * kx section of the config: `kx: { defines: { WITH_NAT: "", MAX_HOPS: 10 } }`. With none, every
 * name is undefined, as in a Kamailio config without #!define.
 */
import { z } from 'zod';
import { fn, type KemiFunctionDef } from '../host/kemi/types.js';

export const kxParams = z.object({
  defines: z.record(z.string(), z.union([z.string(), z.number()])).default({})
    .describe('the #!define names of a Kamailio config, name → value ("" for a bare #!define NAME): what KSR.kx.ifdef, ifndef, get_def and get_defn read'),
});

export type KxState = ReadonlyMap<string, string>;

export function kxInit(p: z.output<typeof kxParams>): KxState {
  return new Map(Object.entries(p.defines).map(([k, v]) => [k, String(v)]));
}

/** Kamailio's str2sint: an optional sign and leading digits; 0 when there are none. */
function leadingInt(v: string): number {
  const m = /^\s*([-+]?\d+)/.exec(v);
  return m === null ? 0 : Number(m[1]);
}

export const definesFunctions: Record<string, KemiFunctionDef<KxState>> = {
  ifdef: fn(['str'], 'bool', (s: KxState, _ctx, name) => s.has(name), 'true when the name is defined (config kx.defines, Kamailio\'s #!define).'),
  ifndef: fn(['str'], 'bool', (s: KxState, _ctx, name) => !s.has(name), 'true when the name is not defined (config kx.defines).'),
  get_def: fn(['str'], 'xval', (s: KxState, _ctx, name) => s.get(name) ?? '',
    'The value of a defined name (config kx.defines); an empty string when it is not defined.'),
  get_defn: fn(['str'], 'int', (s: KxState, _ctx, name) => leadingInt(s.get(name) ?? ''),
    'The value of a defined name as an integer; 0 when it is not defined or not a number.'),
};
