/**
 * What a JS callback's end means for the host (js-engine.ts): the isolate's "<queued
 * slots>|<status>[<error>]" — the queued calls run first, as they came first — or the failure
 * of the host call itself, then the CPU limit and KSR.x.exit()/drop(), which decide the outcome
 * whatever the script did after catching them.
 */
import { CALL_DROP, CALL_EXIT, CALL_OK, type CallResult } from '../engine.js';
import type { Frame } from './frame.js';
import { failure, type ScriptLocator } from './js-failures.js';
import type { PlanRunner, WarnOnce } from './plan-runner.js';

/** 'r': the callback returned; 's': a stop ended it; anything else: the script's error follows */
const STATUS_RETURNED = 0x72; // 'r'
const STATUS_STOPPED = 0x73; // 's'

export interface OutcomeDeps {
  readonly plans: PlanRunner;
  readonly locator: () => ScriptLocator;
  readonly cpuMs: number;
  readonly warnOnce: WarnOnce;
}

export function callOutcome(d: OutcomeDeps, frame: Frame, out: string | undefined, failed: CallResult | null = null): CallResult {
  let result: CallResult = failed ?? CALL_OK;
  let stopEnded = false;
  if (typeof out === 'string') {
    const bar = out.indexOf('|');
    if (bar > 0) d.plans.runQueued(frame, out.slice(0, bar));
    const status = out.charCodeAt(bar + 1);
    if (status === STATUS_STOPPED) stopEnded = true;
    else if (status !== STATUS_RETURNED) result = d.locator().scriptError(out.slice(bar + 2));
  }
  if (frame.overrun !== null) {
    return failure('KEMI_ERR_CPU_LIMIT', `script exceeded the CPU limit of ${String(d.cpuMs)} ms (KSR calls included)`, frame.overrun);
  }
  const stop = frame.stop;
  if (stop === null) return result;
  if (!result.ok) {
    const f = result.failure;
    d.warnOnce('after-stop-failure', () => ({ failure: f }), 'callback failed after the script caught KSR.x.exit()/drop()');
  } else if (!stopEnded) {
    d.warnOnce('swallowed', () => ({ callback: frame.route }), 'the script caught KSR.x.exit()/drop() and returned normally');
  }
  return stop === 'drop' ? CALL_DROP : CALL_EXIT;
}
