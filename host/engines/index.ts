/** Pick the engine for a script by its file extension. */
import { extname } from 'node:path';
import { KemiError } from '../errors.js';
import type { EngineKind, EngineOptions, ScriptEngine } from './engine.js';
import { LuaEngine } from './lua/lua-engine.js';

export function engineKindOf(path: string): EngineKind {
  const ext = extname(path).toLowerCase();
  if (ext === '.lua') return 'lua';
  if (ext === '.js' || ext === '.mjs' || ext === '.cjs') return 'js';
  throw new KemiError('KEMI_ERR_SCRIPT_LOAD', `${path}: unknown script type "${ext}" (expected .lua or .js)`);
}

export async function createEngine(kind: EngineKind, opts: EngineOptions): Promise<ScriptEngine> {
  if (kind === 'lua') return new LuaEngine(opts);
  // The JS engine loads isolated-vm, a native addon: only pay for it when a .js script runs.
  const { JsEngine } = await import('./js/js-engine.js').catch((e: unknown) => {
    throw new KemiError('KEMI_ERR_ENGINE', 'the JavaScript engine is not available', { cause: e });
  });
  return new JsEngine(opts);
}
