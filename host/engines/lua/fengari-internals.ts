/**
 * fengari internals (not in its public C-like API): pushing a string without a copy (see
 * pushJsString), and the hook the concatenation operator's result passes through (see
 * concat-guard.ts), and a fix for how lua_pcallk saves 'allowhook' (see saveAllowHook). Pinned
 * to fengari 0.1.5 (package.json): re-check on upgrade.
 */
import { createRequire } from 'node:module';
import type { LuaState } from 'fengari';

export interface TString {
  readonly realstring: Uint8Array;
}

interface LObject {
  pushsvalue2s: (L: LuaState, ts: TString) => void;
  /** lvm.js's luaV_concat stores every result through this export, looked up at each call */
  setsvalue2s: (L: LuaState, idx: number, ts: TString) => void;
}

const require = createRequire(import.meta.url);
const lstring = require('fengari/src/lstring.js') as { luaS_bless: (L: LuaState, s: Uint8Array) => TString };

export const lobject = require('fengari/src/lobject.js') as LObject;
export const luaS_bless = lstring.luaS_bless;
export const pushsvalue2s = lobject.pushsvalue2s;

/** Lua 5.3's CIST_OAH: the bit of a CallInfo's status that keeps 'allowhook' across a pcall */
const CIST_OAH = 1;

interface StateInternals {
  allowhook: number;
  ci: { callstatus: number };
}

/**
 * Record the running function's 'allowhook' in its CallInfo before lua_pcallk, as Lua 5.3's
 * setoah does. fengari 0.1.5 writes `callstatus &= ~CIST_OAH | allowhook`, which can clear
 * the bit but never sets it, so when an error inside pcall is recovered in a coroutine
 * (ldo.js recover), 'allowhook' comes back as 0 and the count hook never runs again in that
 * coroutine: one `pcall(error)` would switch off cpu_ms and memory_mb for the rest of the
 * callback (every callback runs in a coroutine, lua-engine.ts). Call it right before
 * lua_pcallk from a host function.
 */
export function saveAllowHook(L: LuaState): void {
  const s = L as unknown as StateInternals;
  if (s.allowhook !== 0) s.ci.callstatus |= CIST_OAH;
  else s.ci.callstatus &= ~CIST_OAH;
}
