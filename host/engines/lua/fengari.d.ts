// The subset of fengari's C-like API that kemihost uses. fengari ships no types.
declare module 'fengari' {
  export interface LuaState {
    readonly __luaState: never;
  }
  export type LuaString = Uint8Array;
  export type CFunction = (L: LuaState) => number;
  /** a continuation for lua_pcallk/lua_callk (called after a yield inside the call) */
  export type KFunction = (L: LuaState, status: number, ctx: number) => number;
  /** a lua_load reader: the next piece of the chunk, or null at its end */
  export type Reader = (L: LuaState, data: unknown) => LuaString | null;
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
    LUA_TNONE: number;
    LUA_TTHREAD: number;
    LUA_TLIGHTUSERDATA: number;
    LUA_TUSERDATA: number;
    LUA_REGISTRYINDEX: number;
    LUA_MASKCOUNT: number;
    LUA_OPLT: number;
    LUA_MULTRET: number;
    lua_absindex(L: LuaState, idx: number): number;
    lua_call(L: LuaState, nargs: number, nresults: number): void;
    lua_checkstack(L: LuaState, n: number): boolean;
    lua_compare(L: LuaState, a: number, b: number, op: number): boolean;
    lua_concat(L: LuaState, n: number): void;
    lua_getfield(L: LuaState, idx: number, k: LuaString): number;
    lua_geti(L: LuaState, idx: number, i: number): number;
    lua_isnone(L: LuaState, idx: number): boolean;
    lua_isnoneornil(L: LuaState, idx: number): boolean;
    lua_isstring(L: LuaState, idx: number): boolean;
    lua_load(L: LuaState, reader: Reader, data: unknown, chunkname: LuaString, mode: LuaString | null): number;
    lua_pcallk(L: LuaState, nargs: number, nresults: number, msgh: number, ctx: number, k: KFunction | null): number;
    /** run or continue coroutine L (LUA_OK: it returned, LUA_YIELD: it yielded, else it failed and is dead) */
    lua_resume(L: LuaState, from: LuaState | null, nargs: number): number;
    lua_isyieldable(L: LuaState): boolean;
    /** push a new thread (coroutine) sharing L's globals */
    lua_newthread(L: LuaState): LuaState;
    /** from a host function: yields L's coroutine (it throws, so it never returns there) */
    lua_yield(L: LuaState, nresults: number): never;
    lua_pushglobaltable(L: LuaState): void;
    lua_pushcclosure(L: LuaState, f: CFunction, n: number): void;
    lua_rawget(L: LuaState, idx: number): number;
    lua_gettable(L: LuaState, idx: number): number;
    lua_getmetatable(L: LuaState, idx: number): boolean;
    lua_rawlen(L: LuaState, idx: number): number;
    lua_rawset(L: LuaState, idx: number): void;
    lua_remove(L: LuaState, idx: number): void;
    lua_replace(L: LuaState, idx: number): void;
    lua_rotate(L: LuaState, idx: number, n: number): void;
    lua_setupvalue(L: LuaState, funcindex: number, n: number): LuaString | null;
    lua_seti(L: LuaState, idx: number, i: number): void;
    lua_tocfunction(L: LuaState, idx: number): CFunction | null;
    lua_tointeger(L: LuaState, idx: number): number;
    lua_tolstring(L: LuaState, idx: number): LuaString | null;
    lua_upvalueindex(i: number): number;
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
    LUA_LOADED_TABLE: LuaString;
    luaL_argerror(L: LuaState, arg: number, extramsg: LuaString): never;
    luaL_checkany(L: LuaState, arg: number): void;
    luaL_checkinteger(L: LuaState, arg: number): number;
    luaL_checknumber(L: LuaState, arg: number): number;
    luaL_checkstack(L: LuaState, sz: number, msg: LuaString | null): void;
    luaL_checkstring(L: LuaState, arg: number): LuaString;
    luaL_checktype(L: LuaState, arg: number, t: number): void;
    luaL_getsubtable(L: LuaState, idx: number, fname: LuaString): boolean;
    luaL_len(L: LuaState, idx: number): number;
    luaL_loadbufferx(L: LuaState, buf: LuaString, sz: number, name: LuaString, mode: LuaString | null): number;
    luaL_optinteger(L: LuaState, arg: number, def: number): number;
    luaL_optstring(L: LuaState, arg: number, def: LuaString | null): LuaString | null;
    luaL_requiref(L: LuaState, modname: LuaString, openf: CFunction, glb: boolean): void;
    luaL_typename(L: LuaState, idx: number): LuaString;
    luaL_where(L: LuaState, level: number): void;
    luaL_newstate(): LuaState;
    luaL_loadbuffer(L: LuaState, buf: LuaString, sz: number | null, name: LuaString): number;
    luaL_ref(L: LuaState, t: number): number;
    luaL_unref(L: LuaState, t: number, ref: number): void;
    luaL_traceback(L: LuaState, L1: LuaState, msg: LuaString | null, level: number): void;
    luaL_tolstring(L: LuaState, idx: number): LuaString;
  };
  export const lualib: {
    luaL_openlibs(L: LuaState): void;
    luaopen_base: CFunction;
    luaopen_coroutine: CFunction;
    luaopen_debug: CFunction;
    luaopen_math: CFunction;
    luaopen_os: CFunction;
    luaopen_string: CFunction;
    luaopen_table: CFunction;
    luaopen_utf8: CFunction;
  };
  export function to_luastring(s: string, cache?: boolean): LuaString;
  export function to_jsstring(s: LuaString, from?: number, to?: number, replacement_char?: boolean): string;
}
