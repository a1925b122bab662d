/**
 * A KSR call that waits in place (issue 17): the binding returns a Wait instead of its result,
 * and the engine suspends the running callback — a Lua coroutine yields, a JS async function
 * awaits — until the work settles; the script then sees an ordinary call that returned a value.
 * The host (host/waits.ts) holds the message meanwhile (a SIP request's transaction, an xhttp
 * exchange), bounds the wait (limits.wait_ms), and resumes the callback on its own script version.
 *
 * A binding knows nothing of engines or holding: it says what to start and what the call
 * returns when it cannot wait (a plain JS function, inside a Lua iterator) or when the wait ends
 * early (timeout, shutdown). `start` runs only once the callback can be suspended, so nothing is
 * sent for a call that is refused. Its promise resolves with the call's result (of the
 * function's declared return type) and may write pseudo-variables of the Context first; a
 * rejection counts as the failure value, logged with its reason.
 */
import type { Context } from './context.js';
import type { ArgsOf, JsOf, KemiFunctionDef, KemiType } from './types.js';

export class Wait<T = unknown> {
  constructor(
    /** 'KSR.http_client.query': for the log lines of a refused, timed-out or failed wait */
    readonly what: string,
    /**
     * Start the work; `signal` aborts when the wait ends early (timeout, shutdown). Declare the
     * parameter only when the work uses it: a start function that takes none is given none
     * (an AbortController costs about 1 KB per waiting call, and 50,000 may wait at once).
     */
    readonly start: (signal: AbortSignal) => Promise<T>,
    /** what the call returns when it cannot wait here or its wait ends early (-1, null…) */
    readonly failure: T,
    /**
     * A SIP request's transaction is the script's after the wait (async.sleep: Kamailio's
     * async_sleep suspends it with t_suspend). Otherwise (http_client, sqlops: blocking calls in
     * Kamailio, no transaction) one made only to hold the request goes again, silently, unless
     * the script relays or answers statefully (host/kemi/owner.ts, MessageOwner.hold).
     */
    readonly holdsTransaction = false,
  ) {}
}

/**
 * A KSR function that may wait: `impl` returns its result at once when it can (a cached
 * answer, a bad argument's -1), or a Wait.
 */
export function waitFn<S, const A extends readonly KemiType[], R extends KemiType>(
  params: A,
  returns: R,
  impl: (state: S, ctx: Context, ...args: ArgsOf<A>) => JsOf<R> | Wait<JsOf<R>>,
  doc = '',
): KemiFunctionDef<S> {
  return { params, returns, impl: impl as KemiFunctionDef<S>['impl'], doc, waits: true };
}
