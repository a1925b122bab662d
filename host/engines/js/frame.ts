/** What the JS engine knows about the callback running now (js-engine.ts). */
import { Context } from '../../kemi/context.js';
import type { CallPlan, PlanValue } from './call-plan.js';
import type { CpuBudget } from './cpu-budget.js';
import type { KemiType } from '../../kemi/types.js';
import type { WaitTicket } from '../../waits.js';

/**
 * One running callback: its Context, its call plan, and whether a stop or the CPU limit ended
 * it. Its CPU budget (cpu-budget.ts; checkAt Infinity without a limit) is checked at every
 * crossing: isolated-vm's timeout pauses while a KSR call runs on the host, so it counts only
 * the script's own code, and the budget counts the KSR calls too, as the Lua engine does.
 */
export interface Frame extends CpuBudget {
  readonly ctx: Context;
  /** the callback's name: its call plan ('' for the script's top level) */
  readonly route: string;
  /** its call plan, and the answers the isolate was given for this run (null: none) */
  readonly plan: CallPlan | null;
  answers: PlanValue[] | null;
  /** a KSR call that changes something ran: what reads answer may no longer hold (call-plan.ts) */
  dirty: boolean;
  /** the budget was spent: every later KSR call is refused and the callback fails with the CPU limit */
  overrun: string | undefined | null;
  stop: 'exit' | 'drop' | null;
  /** a KSR call after the stop was refused (logged once per callback) */
  refused: boolean;
  /** an async callback that may wait in place: its id (prelude.ts); 0 otherwise */
  readonly id: number;
  /** the wait a KSR call of it began (host/waits.ts), taken when the host call into the isolate returns */
  wait: PendingWait | null;
}

export interface PendingWait {
  readonly ticket: WaitTicket;
  readonly returns: KemiType;
}

const NO_SOURCE = Object.freeze({ proto: 'udp', ip: '', port: 0, localIp: '', localPort: 0 } as const);

/** The frame outside any callback (and for the script's top level). */
export function idleFrame(): Frame {
  return { ctx: new Context('event', null, NO_SOURCE), route: '', stop: null, refused: false, plan: null, answers: null, dirty: false, cpuStart: 0, checkAt: Infinity, overrun: null, id: 0, wait: null };
}
