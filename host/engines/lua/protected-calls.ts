/**
 * The script's protected calls — pcall, xpcall, coroutine.resume, load — as host functions
 * that raise the stop again once the running callback is stopped (KSR.x.exit/drop, the CPU or
 * memory limit): a script cannot swallow it. They are JS functions without Lua upvalues, so
 * even with the debug library (lua.stdlib: full) nothing leads back to fengari's own pcall:
 * debug.getupvalue finds nothing in them. The stop does not depend on them alone either: every
 * KSR call and every hook of a stopped callback raises it too (lua-limits.ts).
 *
 * pcall/xpcall keep fengari's continuation (lua_pcallk), so a coroutine may still yield inside
 * them. debug.sethook is refused: the count hook is what enforces cpu_ms and memory_mb.
 */
import { lauxlib, lua, to_luastring, type KFunction, type LuaState } from 'fengari';
import { saveAllowHook } from './fengari-internals.js';

export interface StopGate {
  readonly stopped: boolean;
  raiseStop(L: LuaState): never;
  /** check the CPU limit now (after compiling a chunk, which the hook cannot see) */
  check(L: LuaState): void;
}

/** A chunk that load() compiles: the parser runs without the hook, so its time is bounded by size. */
export const MAX_LOAD_CHUNK_BYTES = 64 * 1024;
/** load's reserved stack slot for a reader's piece (as in fengari's lbaselib) */
const RESERVED_SLOT = 5;

/** Raise a plain error message at the calling script line (luaL_error would read % as formats). */
export function raiseError(L: LuaState, message: string): never {
  lauxlib.luaL_where(L, 1);
  lua.lua_pushstring(L, to_luastring(message));
  lua.lua_concat(L, 2);
  return lua.lua_error(L);
}

function setField(L: LuaState, table: number, name: string, f: (L: LuaState) => number): void {
  lua.lua_pushcfunction(L, f);
  lua.lua_setfield(L, table, to_luastring(name));
}

export function installProtectedCalls(L: LuaState, gate: StopGate, opts: { binaryChunks: boolean }): void {
  const finish: KFunction = (L1, status, extra) => {
    if (gate.stopped) return gate.raiseStop(L1);
    if (status !== lua.LUA_OK && status !== lua.LUA_YIELD) {
      lua.lua_pushboolean(L1, false);
      lua.lua_pushvalue(L1, -2);
      return 2;
    }
    return lua.lua_gettop(L1) - extra;
  };

  const pcall = (L1: LuaState): number => {
    lauxlib.luaL_checkany(L1, 1);
    lua.lua_pushboolean(L1, true);
    lua.lua_insert(L1, 1);
    saveAllowHook(L1);
    return finish(L1, lua.lua_pcallk(L1, lua.lua_gettop(L1) - 2, lua.LUA_MULTRET, 0, 0, finish), 0);
  };

  // The script's handler runs where the error happened; for a stop it is not run at all.
  const handler = (L1: LuaState): number => {
    if (gate.stopped) return 1;
    lua.lua_pushvalue(L1, lua.lua_upvalueindex(1));
    lua.lua_insert(L1, 1);
    lua.lua_call(L1, lua.lua_gettop(L1) - 1, 1);
    return 1;
  };

  const xpcall = (L1: LuaState): number => {
    const n = lua.lua_gettop(L1);
    lauxlib.luaL_checktype(L1, 2, lua.LUA_TFUNCTION);
    lua.lua_pushvalue(L1, 2);
    lua.lua_pushcclosure(L1, handler, 1);
    lua.lua_replace(L1, 2);
    lua.lua_pushboolean(L1, true);
    lua.lua_pushvalue(L1, 1);
    lua.lua_rotate(L1, 3, 2);
    saveAllowHook(L1);
    return finish(L1, lua.lua_pcallk(L1, n - 2, lua.LUA_MULTRET, 2, 2, finish), 2);
  };

  const load = (L1: LuaState): number => {
    const s = lua.lua_tostring(L1, 1);
    const mode = opts.binaryChunks ? lauxlib.luaL_optstring(L1, 3, to_luastring('bt')) : to_luastring('t');
    const env = lua.lua_isnone(L1, 4) ? 0 : 4;
    let status: number;
    if (s !== null) {
      if (s.length > MAX_LOAD_CHUNK_BYTES) {
        lua.lua_pushnil(L1);
        lua.lua_pushstring(L1, to_luastring(tooLarge(s.length)));
        return 2;
      }
      const name = lauxlib.luaL_optstring(L1, 2, s) ?? s;
      status = lauxlib.luaL_loadbufferx(L1, s, s.length, name, mode);
    } else {
      const name = lauxlib.luaL_optstring(L1, 2, to_luastring('=(load)')) ?? to_luastring('=(load)');
      lauxlib.luaL_checktype(L1, 1, lua.LUA_TFUNCTION);
      lua.lua_settop(L1, RESERVED_SLOT);
      let total = 0;
      status = lua.lua_load(L1, (L2) => {
        lauxlib.luaL_checkstack(L2, 2, to_luastring('too many nested functions'));
        lua.lua_pushvalue(L2, 1);
        lua.lua_call(L2, 0, 1);
        if (lua.lua_isnoneornil(L2, -1)) {
          lua.lua_pop(L2, 1);
          return null;
        }
        if (!lua.lua_isstring(L2, -1)) raiseError(L2, 'reader function must return a string');
        lua.lua_replace(L2, RESERVED_SLOT);
        const piece = lua.lua_tostring(L2, RESERVED_SLOT);
        total += piece?.length ?? 0;
        if (total > MAX_LOAD_CHUNK_BYTES) raiseError(L2, tooLarge(total));
        return piece;
      }, null, name, mode);
    }
    // The reader's errors (a stop among them) come back as load's error value.
    if (gate.stopped) return gate.raiseStop(L1);
    gate.check(L1);
    if (status !== lua.LUA_OK) {
      lua.lua_pushnil(L1);
      lua.lua_insert(L1, -2);
      return 2;
    }
    if (env !== 0) {
      lua.lua_pushvalue(L1, env);
      if (lua.lua_setupvalue(L1, -2, 1) === null) lua.lua_pop(L1, 1);
    }
    return 1;
  };

  lua.lua_pushglobaltable(L);
  const g = lua.lua_gettop(L);
  setField(L, g, 'pcall', pcall);
  setField(L, g, 'xpcall', xpcall);
  setField(L, g, 'load', load);
  if (lua.lua_getfield(L, g, to_luastring('coroutine')) === lua.LUA_TTABLE) {
    lua.lua_getfield(L, -1, to_luastring('resume'));
    const rawResume = lua.lua_tocfunction(L, -1);
    lua.lua_pop(L, 1);
    if (rawResume !== null) {
      setField(L, lua.lua_gettop(L), 'resume', (L1) => {
        const n = rawResume(L1);
        if (gate.stopped) gate.raiseStop(L1);
        return n;
      });
    }
  }
  lua.lua_pop(L, 1);
  if (lua.lua_getfield(L, g, to_luastring('debug')) === lua.LUA_TTABLE) {
    lua.lua_getfield(L, -1, to_luastring('sethook'));
    const has = lua.lua_type(L, -1) === lua.LUA_TFUNCTION;
    lua.lua_pop(L, 1);
    if (has) {
      setField(L, lua.lua_gettop(L), 'sethook', (L1) =>
        raiseError(L1, 'debug.sethook is not available: kemihost\'s count hook enforces limits.cpu_ms and limits.memory_mb'));
    }
  }
  lua.lua_pop(L, 2);
}

function tooLarge(bytes: number): string {
  return `chunk of ${String(bytes)} bytes is too large for load (at most ${String(MAX_LOAD_CHUNK_BYTES)})`;
}
