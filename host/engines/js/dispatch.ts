/**
 * The host side of a KSR call from the isolate (prelude.ts describes the protocol): refuse it
 * after a stop or past the CPU budget, run it through invoke on the running callback's Context,
 * learn it for the call plan, and turn what it throws into what the isolate expects.
 */
import type { Logger } from 'pino';
import { describeError, isKemiError } from '../../errors.js';
import { SCRIPT_STOP } from '../../kemi/context.js';
import { ForeignValue, invoke, jsTypeName } from '../../kemi/invoke.js';
import type { BoundFunction } from '../../kemi/registry.js';
import { Wait } from '../../kemi/wait.js';
import type { WaitHost } from '../../waits.js';
import { convertResult } from './call-plan.js';
import { budgetSpent } from './cpu-budget.js';
import { idleFrame, type Frame } from './frame.js';
import type { PlanRunner, WarnOnce } from './plan-runner.js';

/** What the dispatcher throws into the isolate for a stop (prelude.ts: STOPS). */
const STOP_EXIT = 1;
const STOP_DROP = 2;
/** the callback used more than cpu_ms of CPU time counting its KSR calls (cpu-budget.ts) */
const STOP_CPU = 3;
/** what a call that waits in place answers: the isolate gives the script a promise (prelude.ts: WAIT) */
const WAIT = '\u0000kemihost:wait\u0000';

export class KsrDispatcher {
  /** the running callback; the engine sets it, a nested call pushes its own and puts this one back */
  frame: Frame = idleFrame();
  /** how many times the script's code called back to the host: what call plans save */
  crossed = 0;
  private readonly log: Logger;
  private readonly cpuMs: number;
  private readonly waits: WaitHost | undefined;

  constructor(
    /** the KSR functions in table order (the index the isolate names them by) */
    private readonly fns: readonly BoundFunction[],
    private readonly plans: PlanRunner,
    opts: { readonly log: Logger; readonly cpuMs: number; readonly waits?: WaitHost },
    private readonly warnOnce: WarnOnce,
    /** the script line making the current call */
    private readonly location: () => string | undefined,
  ) {
    this.log = opts.log;
    this.cpuMs = opts.cpuMs;
    this.waits = opts.waits;
  }

  /**
   * A KSR call that crosses while the isolate holds queued calls: they ran first in the
   * script, so they run first here, then the call (prelude.ts, wrap). One crossing for both.
   */
  flushThen(slots: unknown, index: number, args: unknown[]): unknown {
    if (typeof slots === 'string' && slots !== '') this.plans.runQueued(this.frame, slots);
    return this.dispatch(index, args);
  }


  /** The host side of every KSR function (prelude.ts describes the protocol). */
  dispatch(index: number, args: unknown[]): unknown {
    this.crossed++;
    const fn = this.fns[index];
    // eslint-disable-next-line @typescript-eslint/only-throw-error -- a message, see prelude.ts
    if (fn === undefined) throw 'internal error: no KSR function at this index';
    const frame = this.frame;
    if (frame.stop !== null) {
      // The script caught the stop and called KSR again: refuse, and throw the stop again.
      if (!frame.refused) {
        frame.refused = true;
        this.warnOnce(`refused:${fn.fullName}`, () => ({ function: fn.fullName, at: this.location() }), 'KSR call after KSR.x.exit()/drop() refused');
      }
      // eslint-disable-next-line @typescript-eslint/only-throw-error -- a stop code, see prelude.ts
      throw frame.stop === 'drop' ? STOP_DROP : STOP_EXIT;
    }
    if (frame.overrun !== null || budgetSpent(frame, performance.now(), this.cpuMs)) {
      frame.overrun ??= this.location();
      // eslint-disable-next-line @typescript-eslint/only-throw-error -- a stop code, see prelude.ts
      throw STOP_CPU;
    }
    const wasDirty = frame.dirty;
    if (!fn.effectFree) frame.dirty = true;
    for (let k = 0; k < args.length; k++) {
      const a = args[k];
      if (typeof a === 'object' && a !== null) args[k] = foreign(a);
    }
    const raw = fn.pure === null && fn.read === null && fn.predict === null ? null : [...args];
    let r: unknown;
    try {
      r = invoke(fn, frame.ctx, args, jsTypeName);
      if (raw !== null) this.plans.remember(frame, wasDirty, fn, index, raw, args);
    } catch (e) {
      // eslint-disable-next-line @typescript-eslint/only-throw-error -- a message or a stop code, see prelude.ts
      throw this.raise(e, fn, frame);
    }
    if (r instanceof Wait) return this.waitHere(fn, frame, r);
    return convertResult(fn.returns, r);
  }

  /** A KSR call returned a Wait: the callback awaits it (WAIT), or the call returns its failure value and why is logged. */
  private waitHere(fn: BoundFunction, frame: Frame, w: Wait): unknown {
    const host = this.waits;
    let reason: string;
    if (host === undefined) {
      reason = 'waiting in place is not available here';
    } else if (frame.id === 0) {
      reason = 'only an async function callback can wait (declare it `async function` and `await` the call); a callback run by another KSR call cannot';
    } else if (frame.wait !== null) {
      reason = 'the callback already waits for another call (await one at a time)';
    } else {
      const ticket = host.begin(frame.ctx, frame.route, w);
      if (typeof ticket !== 'string') {
        frame.wait = { ticket, returns: fn.returns };
        return WAIT;
      }
      reason = ticket;
    }
    host?.refuse(w, reason, this.location());
    return convertResult(fn.returns, w.failure);
  }

  /** What to throw into the isolate for an exception from a KSR function. */
  private raise(e: unknown, fn: BoundFunction, frame: Frame): string | number {
    if (e === SCRIPT_STOP) {
      frame.stop = frame.ctx.stop ?? 'exit';
      return frame.stop === 'drop' ? STOP_DROP : STOP_EXIT;
    }
    if (isKemiError(e)) return e.message;
    this.log.error({ err: e, function: fn.fullName }, 'internal error in a KSR function');
    return `internal error in '${fn.fullName}': ${describeError(e)}`;
  }
}

/** The isolate replaced a non-primitive argument by { t: typeName }: keep only its name. */
function foreign(a: object): ForeignValue {
  const t = (a as { t?: unknown }).t;
  return new ForeignValue(typeof t === 'string' ? t : 'object');
}
