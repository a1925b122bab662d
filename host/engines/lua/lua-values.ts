/**
 * A structured KEMI result (KSR.pvx.xavp_getd & co.: lists and tables of strings and integers)
 * pushed as Lua tables, as Kamailio's app_lua pushes SR_KEMIP_ARRAY (keys 1..n) and
 * SR_KEMIP_DICT (string keys). A $null item leaves its slot nil.
 */
import { lua, type LuaState } from 'fengari';
import { pushJsString } from './lua-strings.js';

/** Nesting beyond this is cut (a record holding itself cannot happen, but a bound costs nothing). */
const MAX_DEPTH = 32;

export function pushStructured(L: LuaState, v: unknown, depth = 0): void {
  if (typeof v === 'string') pushJsString(L, v);
  else if (typeof v === 'number') {
    if ((v | 0) === v) lua.lua_pushinteger(L, v);
    else lua.lua_pushnumber(L, v);
  } else if (Array.isArray(v) && depth < MAX_DEPTH) {
    lua.lua_createtable(L, v.length, 0);
    v.forEach((item: unknown, i) => {
      if (item === null || item === undefined) return;
      pushStructured(L, item, depth + 1);
      lua.lua_seti(L, -2, i + 1);
    });
  } else if (typeof v === 'object' && v !== null && depth < MAX_DEPTH) {
    const entries = Object.entries(v);
    lua.lua_createtable(L, 0, entries.length);
    for (const [k, item] of entries) {
      pushJsString(L, k);
      pushStructured(L, item, depth + 1);
      lua.lua_rawset(L, -3);
    }
  } else lua.lua_pushnil(L);
}
