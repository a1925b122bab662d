/**
 * string.find, match, gmatch and gsub on the counted matcher (lua-pattern.ts), with the same
 * results and errors as fengari's. gsub builds its result in a buffer that reserves memory as
 * it grows: a replacement function may return a big string for every match.
 */
import { lauxlib, lua, to_luastring, type LuaState } from 'fengari';
import type { Budget } from './bounded-lib.js';
import { luaS_bless, pushsvalue2s } from './fengari-internals.js';
import { match, MatchState, noSpecials, pushCaptures, pushOneCapture } from './lua-pattern.js';
import { raiseError } from './protected-calls.js';

const L_ESC = 37; // '%'
const ANCHOR = 94; // '^'
const MAX_STRING = 2147483647;

function posrelat(pos: number, len: number): number {
  if (pos >= 0) return pos;
  return -pos > len ? 0 : len + pos + 1;
}

function asBuffer(u8: Uint8Array): Buffer {
  return Buffer.from(u8.buffer, u8.byteOffset, u8.length);
}

export function installPatternLib(L: LuaState, b: Budget): void {
  const fns: Record<string, (L1: LuaState) => number> = {
    find: (L1) => findAux(L1, b, true),
    match: (L1) => findAux(L1, b, false),
    gmatch: (L1) => gmatch(L1, b),
    gsub: (L1) => gsub(L1, b),
  };
  lua.lua_getglobal(L, to_luastring('string'));
  for (const [name, f] of Object.entries(fns)) {
    lua.lua_pushcfunction(L, f);
    lua.lua_setfield(L, -2, to_luastring(name));
  }
  lua.lua_pop(L, 1);
}

function findAux(L: LuaState, b: Budget, find: boolean): number {
  const s = lauxlib.luaL_checkstring(L, 1);
  let p = lauxlib.luaL_checkstring(L, 2);
  const ls = s.length;
  let init = posrelat(lauxlib.luaL_optinteger(L, 3, 1), ls);
  if (init < 1) {
    init = 1;
  } else if (init > ls + 1) {
    lua.lua_pushnil(L);
    return 1;
  }
  if (find && (lua.lua_toboolean(L, 4) || noSpecials(p))) {
    b.work(L, ls - init + 1);
    const at = asBuffer(s).indexOf(asBuffer(p), init - 1);
    if (at > -1) {
      lua.lua_pushinteger(L, at + 1);
      lua.lua_pushinteger(L, at + p.length);
      return 2;
    }
  } else {
    let s1 = init - 1;
    const anchor = p[0] === ANCHOR;
    if (anchor) p = p.subarray(1);
    const ms = new MatchState(L, b, s, p);
    do {
      ms.reprep();
      const e = match(ms, s1, 0);
      if (e !== null) {
        if (!find) return pushCaptures(ms, s1, e);
        lua.lua_pushinteger(L, s1 + 1);
        lua.lua_pushinteger(L, e);
        return pushCaptures(ms, null, 0) + 2;
      }
    } while (s1++ < ls && !anchor);
  }
  lua.lua_pushnil(L);
  return 1;
}

function gmatch(L: LuaState, b: Budget): number {
  const s = lauxlib.luaL_checkstring(L, 1);
  const p = lauxlib.luaL_checkstring(L, 2);
  let from = 0;
  let lastMatch = -1;
  lua.lua_pushcfunction(L, (L1) => {
    const ms = new MatchState(L1, b, s, p);
    for (let src = from; src <= s.length; src++) {
      ms.reprep();
      const e = match(ms, src, 0);
      if (e !== null && e !== lastMatch) {
        from = lastMatch = e;
        return pushCaptures(ms, src, e);
      }
    }
    return 0;
  });
  return 1;
}

/** A growing result that reserves memory before each growth. */
class OutBuffer {
  private buf = new Uint8Array(64);
  private len = 0;

  constructor(private readonly L: LuaState, private readonly b: Budget, private readonly what: string) {}

  add(piece: Uint8Array, from = 0, to = piece.length): void {
    const n = to - from;
    if (n <= 0) return;
    const need = this.len + n;
    if (need > this.buf.length) this.grow(need);
    this.buf.set(piece.subarray(from, to), this.len);
    this.len = need;
  }

  push(): void {
    pushsvalue2s(this.L, luaS_bless(this.L, this.buf.slice(0, this.len)));
  }

  private grow(need: number): void {
    if (need > MAX_STRING) raiseError(this.L, 'resulting string too large');
    let cap = this.buf.length * 2;
    while (cap < need) cap *= 2;
    cap = Math.min(cap, MAX_STRING);
    this.b.reserve(this.L, cap, this.what);
    const next = new Uint8Array(cap);
    next.set(this.buf.subarray(0, this.len));
    this.buf = next;
  }
}

function gsub(L: LuaState, b: Budget): number {
  const src = lauxlib.luaL_checkstring(L, 1);
  let p = lauxlib.luaL_checkstring(L, 2);
  const tr = lua.lua_type(L, 3);
  const maxS = lauxlib.luaL_optinteger(L, 4, src.length + 1);
  if (tr !== lua.LUA_TNUMBER && tr !== lua.LUA_TSTRING && tr !== lua.LUA_TFUNCTION && tr !== lua.LUA_TTABLE) {
    lauxlib.luaL_argerror(L, 3, to_luastring('string/function/table expected'));
  }
  const anchor = p[0] === ANCHOR;
  if (anchor) p = p.subarray(1);
  const ms = new MatchState(L, b, src, p);
  const out = new OutBuffer(L, b, 'string.gsub');
  let s = 0;
  let copyFrom = 0; // start of the unmatched text not yet added
  let lastMatch = -1;
  let n = 0;
  while (n < maxS) {
    ms.reprep();
    const e = match(ms, s, 0);
    if (e !== null && e !== lastMatch) {
      n++;
      out.add(src, copyFrom, s);
      addValue(ms, out, s, e, tr);
      s = lastMatch = copyFrom = e;
    } else if (s < src.length) {
      s++;
    } else {
      break;
    }
    if (anchor) break;
  }
  out.add(src, copyFrom, src.length);
  out.push();
  lua.lua_pushinteger(L, n);
  return 2;
}

function addValue(ms: MatchState, out: OutBuffer, s: number, e: number, tr: number): void {
  const L = ms.L;
  if (tr === lua.LUA_TFUNCTION) {
    lua.lua_pushvalue(L, 3);
    const n = pushCaptures(ms, s, e);
    lua.lua_call(L, n, 1);
  } else if (tr === lua.LUA_TTABLE) {
    pushOneCapture(ms, 0, s, e);
    lua.lua_gettable(L, 3);
  } else {
    addString(ms, out, s, e);
    return;
  }
  if (!lua.lua_toboolean(L, -1)) {
    out.add(ms.src, s, e); // nil or false: keep the original text
  } else if (!lua.lua_isstring(L, -1)) {
    raiseError(L, `invalid replacement value (a ${String.fromCharCode(...lauxlib.luaL_typename(L, -1))})`);
  } else {
    out.add(lua.lua_tolstring(L, -1) ?? new Uint8Array(0));
  }
  lua.lua_pop(L, 1);
}

/** A replacement string: %0 the match, %1-%9 captures, %% a '%'. */
function addString(ms: MatchState, out: OutBuffer, s: number, e: number): void {
  const L = ms.L;
  const news = lua.lua_tolstring(L, 3) ?? new Uint8Array(0);
  let literal = 0;
  for (let i = 0; i < news.length; i++) {
    if (news[i] !== L_ESC) continue;
    out.add(news, literal, i);
    i++;
    const c = news[i] ?? 0;
    if (c < 48 || c > 57) {
      if (c !== L_ESC) raiseError(L, "invalid use of '%' in replacement string");
      literal = i; // the second '%' is added with the next literal run
    } else if (c === 48) {
      out.add(ms.src, s, e);
      literal = i + 1;
    } else {
      pushOneCapture(ms, c - 49, s, e);
      out.add(lauxlib.luaL_tolstring(L, -1));
      lua.lua_pop(L, 2);
      literal = i + 1;
    }
  }
  out.add(news, literal, news.length);
}
