/**
 * A test-only binding standing in for the async modules (async, http_async_client, jsonrpc),
 * which do not exist yet: it holds the current message through ctx.suspender and resumes it
 * later, exactly as those modules will. `KSR.testasync.*` in the scripts of the xhttp tests.
 */
import type { Context } from '../../host/kemi/context.js';
import { defineModule, fn, type AnyModuleDef } from '../../host/kemi/types.js';

export interface AsyncRecord {
  /** what each delayed resume() returned, in order */
  readonly resumed: boolean[];
  /** Contexts held by hold_only(), for the test to resume (or not) itself */
  readonly held: Context[];
}

export function testAsyncModule(): { module: AnyModuleDef; record: AsyncRecord } {
  const record: AsyncRecord = { resumed: [], held: [] };
  const module = defineModule({
    name: 'testasync',
    doc: 'Test only: hold the message and resume it in a route later.',
    functions: {
      hold: fn(['str', 'int'], 'int', (_s, ctx, route, ms) => {
        const s = ctx.suspender;
        if (s === null || !s.suspend(ctx)) return -1;
        setTimeout(() => { record.resumed.push(s.resume(ctx, route)); }, ms);
        return 1;
      }, 'Hold the message; after ms milliseconds resume it in route. 1 held, -1 not.'),
      hold_only: fn([], 'int', (_s, ctx) => {
        const s = ctx.suspender;
        if (s === null || !s.suspend(ctx)) return -1;
        record.held.push(ctx);
        return 1;
      }, 'Hold the message and leave resuming to the test. 1 held, -1 not.'),
    },
  });
  return { module, record };
}

