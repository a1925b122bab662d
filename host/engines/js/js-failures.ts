/**
 * Turning what comes out of an isolate into ScriptFailures and load errors. Everything here
 * treats its input as untrusted: it may come from the script (its own error text) or from
 * isolated-vm (its fatal-error messages, matched exactly).
 */
import { describeError, KemiError } from '../../errors.js';
import type { CallResult, ScriptFailure } from '../engine.js';
import { PRELUDE_FILE } from './prelude.js';

/** isolated-vm's messages (src/isolate/run_with_timeout.h), the only way it reports them. */
const IVM_TIMEOUT = 'Script execution timed out.';
const IVM_MEMORY = 'Isolate was disposed during execution due to memory limit';
const IVM_DISPOSED = 'Isolate was disposed during execution';

export function failure(code: ScriptFailure['code'], message: string, location: string | undefined, stack?: string): CallResult {
  return { ok: false, failure: { code, message, location, stack } };
}

/**
 * The script's part of a stack: the host frames below isolated-vm's boundary marker say nothing
 * about the script (and name host files), the prelude's runner frame is noise.
 */
export function scriptStack(stack: string | undefined): string | undefined {
  if (stack === undefined) return undefined;
  const lines = stack.split('\n');
  const end = lines.findIndex((l) => l.includes('<isolated-vm boundary>'));
  const kept = (end < 0 ? lines : lines.slice(0, end)).filter((l) => !l.includes(PRELUDE_FILE));
  return kept.join('\n');
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Finds `path:line:column` of the user's script in V8 stack text and syntax-error messages. */
export class ScriptLocator {
  private readonly re: RegExp;

  constructor(readonly path: string) {
    this.re = new RegExp(`${escapeRegExp(path)}:(\\d+):(\\d+)`);
  }

  /** The first (innermost) frame of the script in a stack, as path:line:column. */
  inStack(stack: string | undefined): string | undefined {
    if (stack === undefined) return undefined;
    const m = this.re.exec(stack);
    return m === null ? undefined : `${this.path}:${m[1] ?? '0'}:${m[2] ?? '0'}`;
  }

  /** What the runner returned for a failed callback: "<message length>|<message><stack>". */
  scriptError(encoded: string): CallResult {
    const bar = encoded.indexOf('|');
    const n = bar > 0 ? Number(encoded.slice(0, bar)) : NaN;
    if (!Number.isInteger(n) || n < 0 || bar + 1 + n > encoded.length) {
      return failure('KEMI_ERR_SCRIPT_RUNTIME', 'uncaught exception (unreadable description)', undefined);
    }
    const message = encoded.slice(bar + 1, bar + 1 + n);
    const stack = encoded.slice(bar + 1 + n);
    const s = stack === '' ? undefined : scriptStack(stack);
    return failure('KEMI_ERR_SCRIPT_RUNTIME', message, this.inStack(s), s);
  }

  /** An exception from applySync/runSync itself: a limit, a dead isolate, or (top level) the script's error. */
  hostError(e: unknown, limits: { cpuMs: number; memoryMb: number }): CallResult {
    if (e instanceof Error) {
      if (e.message === IVM_TIMEOUT) {
        // isolated-vm renders where the script was when it was stopped: say where the loop is.
        const stack = scriptStack(e.stack);
        return failure('KEMI_ERR_CPU_LIMIT', `script exceeded the CPU limit of ${String(limits.cpuMs)} ms`, this.inStack(stack), stack);
      }
      if (e.message === IVM_MEMORY) {
        return failure('KEMI_ERR_MEMORY_LIMIT', `script exceeded the memory limit of ${String(limits.memoryMb)} MB`, undefined);
      }
      if (e.message === IVM_DISPOSED) {
        return failure('KEMI_ERR_SCRIPT_RUNTIME', 'the script instance was disposed while running', undefined);
      }
      const stack = scriptStack(e.stack);
      return failure('KEMI_ERR_SCRIPT_RUNTIME', `${e.name}: ${e.message}`, this.inStack(stack), stack);
    }
    return failure('KEMI_ERR_SCRIPT_RUNTIME', `uncaught exception: ${describeError(e)}`, undefined);
  }

  /** A compile error: V8's message carries " [path:line:column]" at its end. */
  loadError(e: unknown): KemiError {
    if (e instanceof KemiError) return e;
    const text = e instanceof Error ? e.message : describeError(e);
    const m = / \[(.*:\d+:\d+)\]$/.exec(text);
    const location = m?.[1];
    const bare = m === null ? text : text.slice(0, m.index);
    const name = e instanceof Error ? e.name : 'Error';
    const message = location === undefined ? `${this.path}: ${name}: ${bare}` : `${location}: ${name}: ${bare}`;
    return new KemiError('KEMI_ERR_SCRIPT_LOAD', message, { location, cause: e });
  }
}
