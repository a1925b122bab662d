/**
 * The host side of call plans (call-plan.ts): learning what a callback's calls allow, and running
 * what the isolate queued (deferred calls, and KSR.x.exit()/drop() carried out in the isolate)
 * in the order the script made them.
 */
import type { Logger } from 'pino';
import { SCRIPT_STOP } from '../../kemi/context.js';
import { invoke, jsTypeName } from '../../kemi/invoke.js';
import type { BoundFunction } from '../../kemi/registry.js';
import type { Counter } from '../../kemi/stats.js';
import { CallPlan, DEFERRED, DEFERRED_UNCHANGED, PURE, READ, type PlanKind } from './call-plan.js';
import type { Frame } from './frame.js';

/** Bound on the call plans (one per callback name). */
const PLAN_MAX_ROUTES = 64;

/** Log at most once per key per interval (the engine's limiter). */
export type WarnOnce = (key: string, fields: () => Record<string, unknown>, message: string) => void;

export class PlanRunner {
  /** per callback name, the calls the isolate may answer without crossing */
  private readonly plans = new Map<string, CallPlan>();

  constructor(
    /** the KSR functions in table order (the index the isolate names them by) */
    private readonly fns: readonly BoundFunction[],
    private readonly log: Logger,
    /** a deferred call returned something other than what the script was told (a binding's bug) */
    private readonly mismatches: Counter,
    private readonly warnOnce: WarnOnce,
  ) {}

  get(route: string): CallPlan | null {
    return this.plans.get(route) ?? null;
  }

  /** Learn a call of the running callback that a later run's isolate may answer itself. */
  remember(frame: Frame, wasDirty: boolean, fn: BoundFunction, index: number, raw: readonly unknown[], checked: readonly unknown[]): void {
    if (frame.route === '') return;
    let kind: PlanKind;
    if (fn.pure?.(checked) === true) kind = PURE;
    else if (!wasDirty && fn.read?.(checked) === true) kind = READ;
    else if (fn.predict === null || fn.predict(frame.ctx, checked) === undefined) return;
    else if (!fn.predictWhileUnchanged) kind = DEFERRED;
    else if (!wasDirty) kind = DEFERRED_UNCHANGED;
    else return;
    let plan = this.plans.get(frame.route);
    if (plan === undefined) {
      if (this.plans.size >= PLAN_MAX_ROUTES) return;
      plan = new CallPlan();
      this.plans.set(frame.route, plan);
    }
    plan.learn(kind, fn, index, raw, checked);
  }

  /**
   * Run the calls the isolate queued, in order. The script was already given the results of
   * the deferred ones; one that differs is a binding whose `predict` is wrong: counted and
   * logged. Nothing here throws into the isolate: the script's line is long past.
   */
  runQueued(frame: Frame, slots: string): void {
    frame.dirty = true;
    const plan = frame.plan;
    const answers = frame.answers;
    for (const part of slots.split(',')) {
      if (part.charCodeAt(0) === 0x66) {
        // "f<index>": a call that stopped the callback in the isolate (KemiFunctionDef.stops)
        this.runStop(frame, Number(part.slice(1)));
        continue;
      }
      if (plan === null || answers === null) continue;
      const slot = Number(part);
      try {
        const ran = plan.runDeferred(slot, frame.ctx);
        if (ran === null) continue;
        if (ran.result !== answers[slot]) {
          this.mismatches.value++;
          const told = answers[slot];
          this.warnOnce(`mismatch:${ran.fn.fullName}`, () => ({ function: ran.fn.fullName, returned: ran.result, told }),
            'a deferred KSR call returned another result than the script was given (script:deferred_mismatch)');
        }
      } catch (e) {
        this.log.error({ err: e, callback: frame.route }, 'internal error in a deferred KSR call');
      }
    }
  }

  /** KSR.x.exit()/drop() that the isolate carried out itself: the host's part (ctx.stop, dropped). */
  private runStop(frame: Frame, index: number): void {
    const fn = this.fns[index];
    if (fn?.stops == null) return;
    try {
      invoke(fn, frame.ctx, [], jsTypeName);
    } catch (e) {
      if (e === SCRIPT_STOP) {
        frame.stop = frame.ctx.stop ?? fn.stops;
        return;
      }
      this.log.error({ err: e, function: fn.fullName }, 'internal error in a KSR call that ends the callback');
    }
    // it must stop: the callback has ended in the isolate whatever the function did
    frame.stop = fn.stops;
  }
}
