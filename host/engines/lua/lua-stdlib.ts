/**
 * The standard library a script gets (lua.stdlib).
 *
 * `safe` (the default): the language and its pure libraries — base without dofile/loadfile
 * (load takes text chunks only), coroutine, string without dump, table, math, utf8,
 * os.time/date/clock/difftime, debug.traceback, print (to the server's log, as KSR.info), and
 * a require that returns only those built-in libraries. Left out, because each reaches
 * outside the script: fengari's io (writes to the server's stdout/stderr, which block when a
 * pipe is full), os.exit (ends the server), os.execute (a shell command run synchronously:
 * no message is served meanwhile), os.remove/rename/tmpname (files), os.getenv (the server's
 * environment holds its secrets: database URLs, tokens; a script gets its settings from module
 * parameters or htable instead), package (package.loadlib and require load Lua and JavaScript
 * files, the latter with the server's full rights), os.setlocale, and the rest of debug (any
 * function's upvalues and locals, the registry, the hook).
 *
 * `full`: fengari's whole library, for trusted scripts (docs/lua.md says what that allows).
 *
 * Both: pcall & co. cannot swallow a stop, debug.sethook is refused (protected-calls.ts), and
 * library calls are bounded by the memory and CPU limits (bounded-lib.ts).
 */
import { lauxlib, lua, lualib, to_luastring, type CFunction, type LuaState } from 'fengari';
import { threadCpuTimeMs } from '../cpu-clock.js';
import { installBoundedLib, type Budget } from './bounded-lib.js';
import { decodeLuaString } from './lua-strings.js';
import { installProtectedCalls, raiseError, type StopGate } from './protected-calls.js';

export type LuaStdlib = 'safe' | 'full';

/** print(...) in safe mode: one log line (L is the calling thread, for the script's file:line) */
export type PrintSink = (L: LuaState, text: string) => void;

const SAFE_LIBS: readonly [string, CFunction][] = [
  ['_G', lualib.luaopen_base],
  ['coroutine', lualib.luaopen_coroutine],
  ['table', lualib.luaopen_table],
  ['string', lualib.luaopen_string],
  ['math', lualib.luaopen_math],
  ['utf8', lualib.luaopen_utf8],
  ['os', lualib.luaopen_os],
  ['debug', lualib.luaopen_debug],
];

export function openStdlib(L: LuaState, mode: LuaStdlib, gate: StopGate & Budget, print: PrintSink): void {
  if (mode === 'full') {
    lualib.luaL_openlibs(L);
  } else {
    for (const [name, open] of SAFE_LIBS) {
      lauxlib.luaL_requiref(L, to_luastring(name), open, true);
      lua.lua_pop(L, 1);
    }
    for (const name of ['dofile', 'loadfile']) setGlobal(L, name, null);
    setGlobal(L, 'print', (L1) => {
      print(L1, printed(L1));
      return 0;
    });
    setGlobal(L, 'require', requireLoaded);
    keepOnly(L, 'os', ['date', 'difftime', 'time']);
    keepOnly(L, 'debug', ['traceback']);
    // Lua's os.clock is the process's CPU time; fengari's is the time since it started.
    lua.lua_getglobal(L, to_luastring('os'));
    lua.lua_pushcfunction(L, (L1) => {
      lua.lua_pushnumber(L1, threadCpuTimeMs() / 1000);
      return 1;
    });
    lua.lua_setfield(L, -2, to_luastring('clock'));
    // string is also the strings' metatable __index: edit it in place
    lua.lua_getglobal(L, to_luastring('string'));
    lua.lua_pushnil(L);
    lua.lua_setfield(L, -2, to_luastring('dump'));
    lua.lua_pop(L, 2);
  }
  installProtectedCalls(L, gate, { binaryChunks: mode === 'full' });
  installBoundedLib(L, gate);
}

function setGlobal(L: LuaState, name: string, f: CFunction | null): void {
  if (f === null) lua.lua_pushnil(L);
  else lua.lua_pushcfunction(L, f);
  lua.lua_setglobal(L, to_luastring(name));
}

/** Replace library `name` (global and package.loaded) by a table of only these fields. */
function keepOnly(L: LuaState, name: string, fields: readonly string[]): void {
  const key = to_luastring(name);
  lua.lua_getglobal(L, key);
  lua.lua_createtable(L, 0, fields.length);
  for (const f of fields) {
    lua.lua_getfield(L, -2, to_luastring(f));
    lua.lua_setfield(L, -2, to_luastring(f));
  }
  lua.lua_pushvalue(L, -1);
  lua.lua_setglobal(L, key);
  lauxlib.luaL_getsubtable(L, lua.LUA_REGISTRYINDEX, lauxlib.LUA_LOADED_TABLE);
  lua.lua_pushvalue(L, -2);
  lua.lua_setfield(L, -2, key);
  lua.lua_pop(L, 3);
}

/** require in safe mode: the built-in libraries only; nothing is read from a file. */
function requireLoaded(L: LuaState): number {
  const name = lauxlib.luaL_checkstring(L, 1);
  lauxlib.luaL_getsubtable(L, lua.LUA_REGISTRYINDEX, lauxlib.LUA_LOADED_TABLE);
  if (lua.lua_getfield(L, -1, name) !== lua.LUA_TNIL) return 1;
  return raiseError(L, `module '${decodeLuaString(name)}' not found: the safe Lua library loads no files (lua.stdlib: full does)`);
}

/** print's arguments as Lua's print writes them: tostring of each, tab-separated. */
function printed(L: LuaState): string {
  const n = lua.lua_gettop(L);
  const parts: string[] = [];
  for (let i = 1; i <= n; i++) {
    parts.push(decodeLuaString(lauxlib.luaL_tolstring(L, i)));
    lua.lua_pop(L, 1);
  }
  return parts.join('\t');
}
