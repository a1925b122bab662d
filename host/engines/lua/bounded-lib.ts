/**
 * Library calls that can build a lot in one instruction, bounded by the memory limit before
 * they build it and reporting their work to the CPU limit (lua-limits.ts). string.rep("x",
 * 1e9) used to take 24 s and 2 GB inside one call that no hook could interrupt; now it is
 * refused at once. Each wrapper computes what the call would produce — bytes of a string, or
 * values pushed on the stack (SLOT_BYTES each) — and reserves it. string.rep, table.concat
 * and the pattern functions (lua-pattern-lib.ts) are our own, built to check before or as they
 * go. Results under SMALL bytes are left to the hook's heap reading: each call is an instruction.
 */
import { lauxlib, lua, to_luastring, type CFunction, type LuaState } from 'fengari';
import { luaS_bless, pushsvalue2s } from './fengari-internals.js';
import { installPatternLib } from './lua-pattern-lib.js';
import { raiseError } from './protected-calls.js';

export interface Budget {
  /** before producing `bytes`: stops the callback past the memory limit */
  reserve(L: LuaState, bytes: number, what: string): void;
  /** work done inside one instruction (a byte copied = 1) */
  work(L: LuaState, units: number): void;
}

/** What one value on the stack or in a table costs, roughly (a TValue and its slot). */
export const SLOT_BYTES = 40;
/** The longest text one numeric format item can produce (%99.99f of 1e308). */
const NUMBER_TEXT_BYTES = 512;
/** Work units for moving one table element, and for one comparison of table.sort. */
const MOVE_UNITS = 32;
const COMPARE_UNITS = 64;
const SMALL = 256;
/** fengari's own limit on a string (lstrlib MAXSIZE) */
const MAX_STRING = 2147483647;

function posrelat(pos: number, len: number): number {
  if (pos >= 0) return pos;
  return -pos > len ? 0 : len + pos + 1;
}

type Wrap = (raw: CFunction) => CFunction;

export function installBoundedLib(L: LuaState, b: Budget): void {
  const lessThan = (L1: LuaState): number => {
    b.work(L1, COMPARE_UNITS);
    lua.lua_pushboolean(L1, lua.lua_compare(L1, 1, 2, lua.LUA_OPLT));
    return 1;
  };
  const reserve = (L1: LuaState, bytes: number, what: string): void => {
    if (bytes > SMALL) b.reserve(L1, bytes, what);
  };
  const sameSize = (what: string): Wrap => (raw) => (L1) => {
    reserve(L1, lauxlib.luaL_checkstring(L1, 1).length, what);
    return raw(L1);
  };

  wrapAll(L, 'string', {
    upper: sameSize('string.upper'),
    lower: sameSize('string.lower'),
    reverse: sameSize('string.reverse'),
    sub: (raw) => (L1) => {
      const l = lauxlib.luaL_checkstring(L1, 1).length;
      const i = Math.max(1, posrelat(lauxlib.luaL_checkinteger(L1, 2), l));
      const j = Math.min(l, posrelat(lauxlib.luaL_optinteger(L1, 3, -1), l));
      if (i <= j) reserve(L1, j - i + 1, 'string.sub');
      return raw(L1);
    },
    byte: (raw) => (L1) => {
      const l = lauxlib.luaL_checkstring(L1, 1).length;
      const i = Math.max(1, posrelat(lauxlib.luaL_optinteger(L1, 2, 1), l));
      const j = Math.min(l, posrelat(lauxlib.luaL_optinteger(L1, 3, i), l));
      if (i <= j) reserve(L1, (j - i + 1) * SLOT_BYTES, 'string.byte');
      return raw(L1);
    },
    char: (raw) => (L1) => {
      reserve(L1, lua.lua_gettop(L1), 'string.char');
      return raw(L1);
    },
    format: (raw) => (L1) => {
      reserve(L1, formatBound(L1), 'string.format');
      return raw(L1);
    },
    pack: (raw) => (L1) => {
      let bound = lauxlib.luaL_checkstring(L1, 1).length * 16;
      for (let i = 2; i <= lua.lua_gettop(L1); i++) if (lua.lua_type(L1, i) === lua.LUA_TSTRING) bound += lua.lua_rawlen(L1, i);
      reserve(L1, bound, 'string.pack');
      return raw(L1);
    },
    rep: () => (L1) => rep(L1, b),
  });
  wrapAll(L, 'table', {
    concat: () => (L1) => concat(L1, b),
    pack: (raw) => (L1) => {
      reserve(L1, lua.lua_gettop(L1) * SLOT_BYTES, 'table.pack');
      return raw(L1);
    },
    unpack: (raw) => (L1) => {
      // a table with a metatable runs Lua code (__index, __len) per value: the hook sees it
      if (lua.lua_type(L1, 1) === lua.LUA_TTABLE && !hasMetatable(L1, 1)) {
        const i = lauxlib.luaL_optinteger(L1, 2, 1);
        const j = lua.lua_isnoneornil(L1, 3) ? lua.lua_rawlen(L1, 1) : lauxlib.luaL_checkinteger(L1, 3);
        if (i <= j) reserve(L1, (j - i + 1) * SLOT_BYTES, 'table.unpack');
      }
      return raw(L1);
    },
    insert: (raw) => (L1) => {
      if (lua.lua_gettop(L1) === 3) b.work(L1, Math.max(0, rawLen(L1) - lauxlib.luaL_checkinteger(L1, 2)) * MOVE_UNITS);
      return raw(L1);
    },
    remove: (raw) => (L1) => {
      if (lua.lua_gettop(L1) >= 2) b.work(L1, Math.max(0, rawLen(L1) - lauxlib.luaL_checkinteger(L1, 2)) * MOVE_UNITS);
      return raw(L1);
    },
    move: (raw) => (L1) => {
      const n = lauxlib.luaL_checkinteger(L1, 3) - lauxlib.luaL_checkinteger(L1, 2) + 1;
      if (n > 0) b.work(L1, n * MOVE_UNITS);
      return raw(L1);
    },
    // Without an order function fengari compares in JS, where no hook runs: sorting a big
    // table took seconds in one call. Our order function is Lua's `<` and counts its calls.
    sort: (raw) => (L1) => {
      if (lua.lua_isnoneornil(L1, 2)) {
        lua.lua_settop(L1, 1);
        lua.lua_pushcfunction(L1, lessThan);
      }
      return raw(L1);
    },
  });
  wrapAll(L, 'utf8', {
    char: (raw) => (L1) => {
      reserve(L1, lua.lua_gettop(L1) * 4, 'utf8.char');
      return raw(L1);
    },
    codepoint: (raw) => (L1) => {
      const l = lauxlib.luaL_checkstring(L1, 1).length;
      const i = posrelat(lauxlib.luaL_optinteger(L1, 2, 1), l);
      const j = posrelat(lauxlib.luaL_optinteger(L1, 3, i), l);
      if (i <= j) reserve(L1, (j - i + 1) * SLOT_BYTES, 'utf8.codepoint');
      return raw(L1);
    },
  });
  wrapAll(L, 'os', {
    // a conversion writes at most a dozen bytes for its two (%c: "Thu Jan  1 00:00:00 1970")
    date: (raw) => (L1) => {
      if (lua.lua_type(L1, 1) === lua.LUA_TSTRING) reserve(L1, lua.lua_rawlen(L1, 1) * 16, 'os.date');
      return raw(L1);
    },
  });
  installPatternLib(L, b);
}

/** Replace functions of library `lib` in place (string is also the strings' metatable __index). */
function wrapAll(L: LuaState, lib: string, wraps: Record<string, Wrap>): void {
  if (lua.lua_getglobal(L, to_luastring(lib)) !== lua.LUA_TTABLE) {
    lua.lua_pop(L, 1);
    return;
  }
  for (const [name, wrap] of Object.entries(wraps)) {
    const key = to_luastring(name);
    lua.lua_getfield(L, -1, key);
    const raw = lua.lua_tocfunction(L, -1);
    lua.lua_pop(L, 1);
    if (raw === null) continue;
    lua.lua_pushcfunction(L, wrap(raw));
    lua.lua_setfield(L, -2, key);
  }
  lua.lua_pop(L, 1);
}

function hasMetatable(L: LuaState, idx: number): boolean {
  if (!lua.lua_getmetatable(L, idx)) return false;
  lua.lua_pop(L, 1);
  return true;
}

function rawLen(L: LuaState): number {
  return lua.lua_type(L, 1) === lua.LUA_TTABLE ? lua.lua_rawlen(L, 1) : 0;
}

/**
 * The most string.format can produce: the format's own text, each string argument (4 times
 * for %q, which may escape every byte), NUMBER_TEXT_BYTES per numeric item. A %s argument that
 * is not a string is converted first (its __tostring may return any string), in its place.
 */
function formatBound(L: LuaState): number {
  const fmt = lauxlib.luaL_checkstring(L, 1);
  const top = lua.lua_gettop(L);
  let bound = fmt.length;
  let arg = 1;
  for (let i = 0; i < fmt.length; i++) {
    if (fmt[i] !== 37 /* % */) continue;
    i++;
    if (fmt[i] === 37) continue;
    while (i < fmt.length && isFormatModifier(fmt[i] as number)) i++;
    const conv = fmt[i];
    if (++arg > top) break; // fengari reports the missing value
    if (conv === 115 /* s */ || conv === 113 /* q */) {
      const t = lua.lua_type(L, arg);
      if (conv === 115 && t !== lua.LUA_TSTRING && t !== lua.LUA_TNUMBER) {
        lauxlib.luaL_tolstring(L, arg);
        lua.lua_replace(L, arg);
      }
      const len = lua.lua_type(L, arg) === lua.LUA_TSTRING ? lua.lua_rawlen(L, arg) : NUMBER_TEXT_BYTES;
      bound += (conv === 113 ? 4 * len + 2 : len) + 99;
    } else {
      bound += NUMBER_TEXT_BYTES;
    }
  }
  return bound;
}

function isFormatModifier(c: number): boolean {
  return (c >= 48 && c <= 57) || c === 45 || c === 43 || c === 32 || c === 35 || c === 46; // 0-9 - + space # .
}

/** string.rep, reserving the result first; filled by doubling copies. */
function rep(L: LuaState, b: Budget): number {
  const s = lauxlib.luaL_checkstring(L, 1);
  const n = lauxlib.luaL_checkinteger(L, 2);
  const sep = lauxlib.luaL_optstring(L, 3, EMPTY) ?? EMPTY;
  if (n <= 0 || s.length + sep.length === 0) {
    lua.lua_pushstring(L, EMPTY);
    return 1;
  }
  const total = n * s.length + (n - 1) * sep.length;
  b.reserve(L, total, 'string.rep');
  if (total > MAX_STRING) return raiseError(L, 'resulting string too large');
  const out = new Uint8Array(total);
  out.set(s, 0);
  if (sep.length > 0 && n > 1) out.set(sep, s.length);
  let filled = Math.min(total, s.length + sep.length);
  while (filled < total) {
    const k = Math.min(filled, total - filled);
    out.copyWithin(filled, 0, k);
    filled += k;
  }
  pushsvalue2s(L, luaS_bless(L, out));
  return 1;
}

const EMPTY = new Uint8Array(0);

/** table.concat: all pieces first (a table may hold one big string many times), then the result reserved and built. */
function concat(L: LuaState, b: Budget): number {
  if (lua.lua_type(L, 1) !== lua.LUA_TTABLE) lauxlib.luaL_checktype(L, 1, lua.LUA_TTABLE);
  const sep = lauxlib.luaL_optstring(L, 2, EMPTY) ?? EMPTY;
  const first = lauxlib.luaL_optinteger(L, 3, 1);
  const last = lua.lua_isnoneornil(L, 4) ? lauxlib.luaL_len(L, 1) : lauxlib.luaL_checkinteger(L, 4);
  const pieces: Uint8Array[] = [];
  let total = 0;
  for (let i = first; i <= last; i++) {
    lua.lua_geti(L, 1, i);
    if (!lua.lua_isstring(L, -1)) {
      return raiseError(L, `invalid value (at index ${String(i)}) in table for 'concat'`);
    }
    const piece = lua.lua_tolstring(L, -1) ?? EMPTY;
    lua.lua_pop(L, 1);
    total += piece.length + (i < last ? sep.length : 0);
    if (total > MAX_STRING) return raiseError(L, 'resulting string too large');
    pieces.push(piece);
  }
  b.reserve(L, total + pieces.length * 8, 'table.concat');
  const out = new Uint8Array(total);
  let at = 0;
  for (let k = 0; k < pieces.length; k++) {
    const piece = pieces[k] as Uint8Array;
    out.set(piece, at);
    at += piece.length;
    if (k < pieces.length - 1 && sep.length > 0) {
      out.set(sep, at);
      at += sep.length;
    }
  }
  pushsvalue2s(L, luaS_bless(L, out));
  return 1;
}
