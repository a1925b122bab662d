/**
 * Values between the Lua stack and the host for the Lua engine (lua-engine.ts): KSR arguments
 * in, results out, error texts, and the small lookups the engine makes without running script
 * code.
 */
import { lua, to_jsstring, to_luastring, type LuaState } from 'fengari';
import { CALL_DROP, CALL_EXIT, CALL_OK, type CallResult, type ScriptFailure } from '../engine.js';
import type { Context } from '../../kemi/context.js';
import { ForeignValue } from '../../kemi/invoke.js';
import type { KemiType } from '../../kemi/types.js';
import { decodeLuaString, pushJsString } from './lua-strings.js';
import { pushStructured } from './lua-values.js';

/** A new coroutine of L's (it shares L's globals and registry, and inherits its count hook). */
export function newThread(L: LuaState): LuaState {
  const co = lua.lua_newthread(L);
  lua.lua_pop(L, 1);
  return co;
}

export function popString(L: LuaState): string {
  const s = lua.lua_tostring(L, -1);
  lua.lua_pop(L, 1);
  return s === null ? 'unknown error (not a string)' : to_jsstring(s);
}

/** Push the global `name` without running the script's code (no __index on _G). */
export function rawGlobal(L: LuaState, name: string): number {
  lua.lua_pushglobaltable(L);
  lua.lua_pushstring(L, to_luastring(name));
  const t = lua.lua_rawget(L, -2);
  lua.lua_remove(L, -2);
  return t;
}

/** A callback that returned: KSR.x.exit/drop may have been called and swallowed by the script. */
export function completed(ctx: Context): CallResult {
  return ctx.stop === null ? CALL_OK : ctx.stop === 'exit' ? CALL_EXIT : CALL_DROP;
}

export function toJs(L: LuaState, i: number): unknown {
  const t = lua.lua_type(L, i);
  if (t === lua.LUA_TSTRING) {
    const s = lua.lua_tostring(L, i);
    return s === null ? null : decodeLuaString(s);
  }
  if (t === lua.LUA_TNUMBER) return lua.lua_tonumber(L, i);
  if (t === lua.LUA_TNIL) return null;
  if (t === lua.LUA_TBOOLEAN) return lua.lua_toboolean(L, i);
  return new ForeignValue(to_jsstring(lua.lua_typename(L, t)));
}

export function pushNumber(L: LuaState, n: number): void {
  if ((n | 0) === n) lua.lua_pushinteger(L, n);
  else lua.lua_pushnumber(L, n);
}

export function pushResult(L: LuaState, returns: KemiType, r: unknown): number {
  switch (returns) {
    case 'none':
      return 0;
    case 'bool':
      lua.lua_pushboolean(L, r === true);
      return 1;
    case 'int':
    case 'long':
      pushNumber(L, typeof r === 'number' ? r : -1);
      return 1;
    case 'str':
    case 'xval':
      if (typeof r === 'string') pushJsString(L, r);
      else if (typeof r === 'number') pushNumber(L, r);
      else if (returns === 'xval' && typeof r === 'object' && r !== null) pushStructured(L, r);
      else lua.lua_pushnil(L);
      return 1;
  }
}

/** "scripts/x.lua:12: attempt to…" → "scripts/x.lua:12" */
export function locationOf(message: string): string | undefined {
  const m = /^(.*?:\d+):/.exec(message);
  return m?.[1];
}

export function failure(code: ScriptFailure['code'], message: string, location: string | undefined, stack?: string): CallResult {
  return { ok: false, failure: { code, message, location, stack } };
}
