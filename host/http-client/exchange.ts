/**
 * One HTTP request/response through an undici dispatcher, with the response kept whole (status
 * line, raw headers, body) because the script reads all of it ($http_mb). The body is counted
 * as it arrives and the exchange is aborted past the cap, so a huge reply never sits in memory.
 * undici's dispatch handler API is used rather than request(): it gives the reason phrase and
 * the raw headers, which request() drops.
 */
import type { Dispatcher } from 'undici';

export interface ExchangeRequest {
  readonly url: URL;
  readonly method: string;
  /** name, value, name, value… */
  readonly headers: readonly string[];
  readonly body: string | null;
  readonly maxBodyBytes: number;
  /**
   * true: past maxBodyBytes keep reading but keep only the first maxBodyBytes (curl's write
   * callback in Kamailio's http_client, which cuts the result at maxdatasize); false: fail.
   */
  readonly truncate?: boolean;
}

export interface ExchangeResponse {
  readonly status: number;
  readonly reason: string;
  /** name, value, name, value… as received */
  readonly rawHeaders: readonly string[];
  readonly body: Buffer;
  /** ms (performance.now()) when the request was handed to a connected socket */
  readonly sentAt: number;
  /** ms when the status line and headers had arrived */
  readonly headersAt: number;
  /** the body was cut at maxBodyBytes (only with `truncate`) */
  readonly truncated: boolean;
}

export type ExchangeOutcome = { readonly ok: true; readonly res: ExchangeResponse } | { readonly ok: false; readonly error: Error; readonly sentAt: number };

/** Thrown into the exchange when the body passes the cap. */
export class BodyTooLargeError extends Error {
  readonly code = 'KEMI_HTTP_BODY_TOO_LARGE';
  constructor(limit: number) {
    super(`response body larger than max_body_bytes (${String(limit)} bytes)`);
  }
}

export interface ExchangeHandle {
  /** Stop the exchange; its callback is not called any more. */
  abort(reason: Error): void;
}

function headerStrings(raw: unknown): string[] {
  if (!Array.isArray(raw)) return [];
  return raw.map((v: unknown) => (Buffer.isBuffer(v) ? v.toString('latin1') : String(v)));
}

/** Start one exchange; `done` is called exactly once unless abort() is called first. */
export function startExchange(dispatcher: Dispatcher, req: ExchangeRequest, done: (o: ExchangeOutcome) => void): ExchangeHandle {
  let finished = false;
  let controller: Dispatcher.DispatchController | null = null;
  let pendingAbort: Error | null = null;
  let status = 0;
  let reason = '';
  let rawHeaders: string[] = [];
  const chunks: Buffer[] = [];
  let size = 0;
  let truncated = false;
  let sentAt = 0;
  let headersAt = 0;

  // undici reports some failures (a closed dispatcher, an invalid option) from inside
  // dispatch(); the caller must never see its callback run before startExchange returns
  let dispatching = true;
  const finish = (o: ExchangeOutcome): void => {
    if (finished) return;
    finished = true;
    if (dispatching) setImmediate(() => { done(o); });
    else done(o);
  };
  const fail = (error: Error): void => { finish({ ok: false, error, sentAt }); };
  const tooLarge = (c: Dispatcher.DispatchController): void => {
    const e = new BodyTooLargeError(req.maxBodyBytes);
    fail(e);
    c.abort(e);
  };

  const handler: Dispatcher.DispatchHandler = {
    onRequestStart(c) {
      controller = c;
      sentAt = performance.now();
      if (pendingAbort !== null) c.abort(pendingAbort);
    },
    onResponseStart(c, code, headers, statusMessage) {
      // 1xx informational responses come before the real one
      if (code < 200) return;
      status = code;
      reason = statusMessage ?? '';
      rawHeaders = headerStrings(c.rawHeaders);
      headersAt = performance.now();
      const len = Number(headers['content-length']);
      if (req.truncate !== true && Number.isFinite(len) && len > req.maxBodyBytes) tooLarge(c);
    },
    onResponseData(c, chunk) {
      if (finished) return;
      if (req.truncate === true) {
        // the rest is read and dropped: memory stays bounded, the query's timeout bounds the time
        const room = req.maxBodyBytes - size;
        if (room < chunk.length) truncated = true;
        if (room > 0) {
          const kept = room < chunk.length ? chunk.subarray(0, room) : chunk;
          chunks.push(kept);
          size += kept.length;
        }
        return;
      }
      size += chunk.length;
      if (size > req.maxBodyBytes) {
        tooLarge(c);
        return;
      }
      chunks.push(chunk);
    },
    onResponseEnd() {
      finish({ ok: true, res: { status, reason, rawHeaders, body: Buffer.concat(chunks, size), sentAt, headersAt, truncated } });
    },
    onResponseError(_c, error) {
      fail(error);
    },
  };

  try {
    dispatcher.dispatch(
      {
        origin: req.url.origin,
        path: `${req.url.pathname}${req.url.search}`,
        method: req.method,
        headers: [...req.headers],
        body: req.body,
      },
      handler,
    );
  } catch (e) {
    fail(e instanceof Error ? e : new Error(String(e)));
  }
  dispatching = false;

  return {
    abort(r: Error) {
      finished = true;
      if (controller !== null) controller.abort(r);
      else pendingAbort = r;
    },
  };
}
