/**
 * Two fengari internals (not in its public C-like API) for pushing a string without a copy;
 * see pushJsString. Pinned to fengari 0.1.5 (package.json): re-check on upgrade.
 */
import { createRequire } from 'node:module';
import type { LuaState } from 'fengari';

interface TString {
  readonly __tstring: never;
}

const require = createRequire(import.meta.url);
const lstring = require('fengari/src/lstring.js') as { luaS_bless: (L: LuaState, s: Uint8Array) => TString };
const lobject = require('fengari/src/lobject.js') as { pushsvalue2s: (L: LuaState, ts: TString) => void };

export const luaS_bless = lstring.luaS_bless;
export const pushsvalue2s = lobject.pushsvalue2s;
