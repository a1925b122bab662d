/**
 * fengari internals (not in its public C-like API): pushing a string without a copy (see
 * pushJsString), and the hook the concatenation operator's result passes through (see
 * concat-guard.ts). Pinned to fengari 0.1.5 (package.json): re-check on upgrade.
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
