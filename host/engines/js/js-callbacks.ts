/**
 * The host functions the isolates of one JS engine call (js-engine.ts, prelude.ts): one for
 * every KSR function (its index first), so one persistent handle per engine instead of one per
 * function; the console; the KSR call that hands over queued calls first; and where an async
 * callback reports its end. Made here, not in the engine's constructor: isolated-vm keeps them
 * alive for ever, and a closure made in the constructor shares its context with every other
 * closure made there, some of which hold the engine. They reach the engine only through
 * `link`, which dispose() cuts, so a replaced engine can be collected after a hot reload.
 */
import ivm from 'isolated-vm';
import type { KsrDispatcher } from './dispatch.js';

/** What the callbacks reach in the engine. */
export interface CallbackTarget {
  readonly ksr: KsrDispatcher;
  console(level: unknown, text: unknown, at: unknown): void;
  /** async callbacks that ended during the host call into the isolate now running: id → run's "<queued>|<status>" */
  readonly ended: Map<number, string>;
}

export interface HostCallbacks {
  readonly dispatch: ivm.Callback;
  readonly console: ivm.Callback;
  readonly flushThen: ivm.Callback;
  readonly asyncEnded: ivm.Callback;
}

export function hostCallbacks(link: { engine: CallbackTarget | null }): HostCallbacks {
  return {
    dispatch: new ivm.Callback((index: number, ...args: unknown[]) => link.engine?.ksr.dispatch(index, args)),
    console: new ivm.Callback((level: unknown, text: unknown, at: unknown) => { link.engine?.console(level, text, at); }),
    flushThen: new ivm.Callback((slots: unknown, index: number, ...args: unknown[]) => link.engine?.ksr.flushThen(slots, index, args)),
    asyncEnded: new ivm.Callback((id: unknown, out: unknown) => {
      if (typeof id === 'number' && typeof out === 'string') link.engine?.ended.set(id, out);
    }),
  };
}
