// The subset of fengari's C-like API that kemihost uses. fengari ships no types.
declare module 'fengari' {
  export interface LuaState {
    readonly __luaState: never;
  }
  export type LuaString = Uint8Array;
  export type CFunction = (L: LuaState) => number;
  export interface LuaDebug {
    currentline: number;
    short_src: LuaString | null;
    source: LuaString | null;
  }
  export const lua: {
    LUA_OK: number;
    LUA_YIELD: number;
    LUA_ERRRUN: number;
    LUA_ERRSYNTAX: number;
    LUA_ERRMEM: number;
    LUA_ERRERR: number;
    LUA_TNIL: number;
    LUA_TBOOLEAN: number;
    LUA_TNUMBER: number;
    LUA_TSTRING: number;
    LUA_TTABLE: number;
    LUA_TFUNCTION: number;
    LUA_REGISTRYINDEX: number;
    LUA_MASKCOUNT: number;
    LUA_MULTRET: number;
    lua_absindex(L: LuaState, idx: number): number;
    lua_close(L: LuaState): void;
    lua_createtable(L: LuaState, narr: number, nrec: number): void;
    lua_error(L: LuaState): never;
    lua_getglobal(L: LuaState, name: LuaString): number;
    lua_getinfo(L: LuaState, what: LuaString, ar: LuaDebug): number;
    lua_getstack(L: LuaState, level: number, ar: LuaDebug): number;
    lua_gettop(L: LuaState): number;
    lua_insert(L: LuaState, idx: number): void;
    lua_isinteger(L: LuaState, idx: number): boolean;
    lua_pcall(L: LuaState, nargs: number, nresults: number, msgh: number): number;
    lua_pop(L: LuaState, n: number): void;
    lua_pushboolean(L: LuaState, b: boolean): void;
    lua_pushcfunction(L: LuaState, f: CFunction): void;
    lua_pushinteger(L: LuaState, n: number): void;
    lua_pushnil(L: LuaState): void;
    lua_pushnumber(L: LuaState, n: number): void;
    lua_pushstring(L: LuaState, s: LuaString): LuaString;
    lua_pushvalue(L: LuaState, idx: number): void;
    lua_rawequal(L: LuaState, a: number, b: number): boolean;
    lua_rawgeti(L: LuaState, idx: number, n: number): number;
    lua_setfield(L: LuaState, idx: number, k: LuaString): void;
    lua_setglobal(L: LuaState, name: LuaString): void;
    lua_sethook(L: LuaState, f: ((L: LuaState, ar: LuaDebug) => void) | null, mask: number, count: number): void;
    lua_settop(L: LuaState, idx: number): void;
    lua_toboolean(L: LuaState, idx: number): boolean;
    lua_tonumber(L: LuaState, idx: number): number;
    lua_tostring(L: LuaState, idx: number): LuaString | null;
    lua_type(L: LuaState, idx: number): number;
    lua_typename(L: LuaState, t: number): LuaString;
  };
  export const lauxlib: {
    luaL_newstate(): LuaState;
    luaL_loadbuffer(L: LuaState, buf: LuaString, sz: number | null, name: LuaString): number;
    luaL_ref(L: LuaState, t: number): number;
    luaL_unref(L: LuaState, t: number, ref: number): void;
    luaL_traceback(L: LuaState, L1: LuaState, msg: LuaString | null, level: number): void;
    luaL_tolstring(L: LuaState, idx: number): LuaString;
  };
  export const lualib: {
    luaL_openlibs(L: LuaState): void;
  };
  export function to_luastring(s: string, cache?: boolean): LuaString;
  export function to_jsstring(s: LuaString, from?: number, to?: number, replacement_char?: boolean): string;
}
