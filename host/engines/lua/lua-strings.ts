/**
 * Strings cross the Lua/JS boundary as Uint8Array (fengari's representation). Decoding costs
 * ~200 ns a string, but script constants ("$ru", "OK") are the same Uint8Array object on every
 * execution, so an identity cache makes them ~10 ns (../shared/MEASUREMENTS.md).
 */
import type { LuaState } from 'fengari';
import { luaS_bless, pushsvalue2s } from './fengari-internals.js';

const decoder = new TextDecoder('utf-8');
const cache = new WeakMap<Uint8Array, string>();

export function decodeLuaString(u8: Uint8Array): string {
  const hit = cache.get(u8);
  if (hit !== undefined) return hit;
  let s: string;
  const n = u8.length;
  if (n < 64) {
    // Short ASCII (the usual case) decodes faster by hand than through TextDecoder.
    s = '';
    let ascii = true;
    for (let i = 0; i < n; i++) {
      const c = u8[i] as number;
      if (c > 0x7f) {
        ascii = false;
        break;
      }
      s += String.fromCharCode(c);
    }
    if (!ascii) s = decoder.decode(u8);
  } else {
    s = decoder.decode(u8);
  }
  cache.set(u8, s);
  return s;
}

const encoder = new TextEncoder();

/** lua_pushstring copies its argument, so a pooled Buffer is safe to hand over. */
export function encodeLuaString(s: string): Uint8Array {
  return Buffer.from(s, 'utf8');
}

/**
 * Push a JS string as a Lua string without fengari's second copy: lua_pushstring copies with
 * Uint8Array.from, the most expensive step of returning a string to Lua. The array handed over
 * is fresh (TextEncoder, not Buffer's shared pool) because Lua keeps it for the string's life.
 * Host functions always have LUA_MINSTACK free slots, so no stack check is needed here.
 */
export function pushJsString(L: LuaState, s: string): void {
  pushsvalue2s(L, luaS_bless(L, encoder.encode(s)));
}
