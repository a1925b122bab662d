/** The ScriptHandle of a registry with no script loaded (`kemihost api`, `check`, tests). */
import type { ScriptHandle } from './types.js';

export const NO_SCRIPT: ScriptHandle = {
  has: () => false,
  location: () => undefined,
  sflags: 0,
  run: () => ({ ok: false, failure: { code: 'KEMI_ERR_SCRIPT_RUNTIME', message: 'no script loaded', location: undefined, stack: undefined } }),
};
