/**
 * A test-only binding standing in for an async module: it holds the current message through
 * its owner (host/kemi/owner.ts) and resumes it later, exactly as async, http_async_client and
 * jsonrpc do. `KSR.testasync.*` in the scripts of the xhttp and reload tests.
 */
import type { Context } from '../../host/kemi/context.js';
import { holdMessage, type GoneReport, type Hold } from '../../host/kemi/owner.js';
import { defineModule, fn, type AnyModuleDef } from '../../host/kemi/types.js';

/** A GoneReport that only counts (the tests read `gone.counter.value`). */
export function testGone(): GoneReport {
  return { counter: { value: 0 }, host: { complain: () => undefined } };
}

export interface AsyncRecord {
  /** what each delayed resume() returned, in order */
  readonly resumed: boolean[];
  /** Contexts held by hold_only(), for the test to resume (or not) itself */
  readonly held: Context[];
  /** resume a Context held by hold_only() (its latest hold) in `route`; false when it is gone */
  resume(ctx: Context, route: string): boolean;
  readonly gone: GoneReport;
}

export function testAsyncModule(): { module: AnyModuleDef; record: AsyncRecord } {
  const holds = new WeakMap<Context, Hold>();
  const gone = testGone();
  const record: AsyncRecord = {
    resumed: [],
    held: [],
    gone,
    resume: (ctx, route) => holds.get(ctx)?.resume(route, gone) ?? false,
  };
  const module = defineModule({
    name: 'testasync',
    doc: 'Test only: hold the message and resume it in a route later.',
    functions: {
      hold: fn(['str', 'int'], 'int', (_s, ctx, route, ms) => {
        const h = holdMessage(ctx);
        if (typeof h === 'string') return -1;
        setTimeout(() => { record.resumed.push(h.resume(route, gone)); }, ms);
        return 1;
      }, 'Hold the message; after ms milliseconds resume it in route. 1 held, -1 not.'),
      hold_only: fn([], 'int', (_s, ctx) => {
        const h = holdMessage(ctx);
        if (typeof h === 'string') return -1;
        holds.set(ctx, h);
        record.held.push(ctx);
        return 1;
      }, 'Hold the message and leave resuming to the test. 1 held, -1 not.'),
    },
  });
  return { module, record };
}
