/**
 * The async HTTP client behind KSR.http_async_client and KSR.async_http: one query = one or a
 * few exchanges (a redirect followed, one retry answering a 401 challenge) under one deadline,
 * ending in exactly one QueryResult — a reply, an error or a timeout — delivered by callback.
 */
import { performance } from 'node:perf_hooks';
import { AgentCache, type ConnOptions } from './agents.js';
import { answerChallenges, AUTH_BASIC, basicAuthorization } from './digest.js';
import { startExchange, type ExchangeHandle, type ExchangeResponse } from './exchange.js';

export interface QuerySpec {
  readonly url: URL;
  readonly method: string;
  /** name, value, name, value… */
  readonly headers: readonly string[];
  readonly body: string | null;
  readonly timeoutMs: number;
  readonly username: string;
  readonly password: string;
  /** 1 Basic, 2 Digest, 3 either (as the server's challenge asks) */
  readonly authmethod: number;
  readonly followRedirect: boolean;
  readonly maxBodyBytes: number;
  /** keep the first maxBodyBytes of a larger body instead of failing (see ExchangeRequest) */
  readonly truncateBody?: boolean;
  /** false: a body without a Content-Type header is sent without one (curl given "Content-Type:") */
  readonly defaultContentType?: boolean;
  readonly conn: ConnOptions;
}

/** Phase times in µs from the start of the query (curl's CURLINFO_*_TIME names). */
export interface QueryTimes {
  readonly total: number;
  readonly lookup: number;
  readonly connect: number;
  readonly appconnect: number;
  readonly pretransfer: number;
  readonly starttransfer: number;
}

export interface QueryResult {
  readonly ok: boolean;
  readonly timedOut: boolean;
  /** why it failed; null when ok */
  readonly err: string | null;
  /** the last response, when one arrived (a 500 is a response: ok) */
  readonly res: ExchangeResponse | null;
  /** "1.1" or "2" */
  readonly httpVersion: string;
  readonly times: QueryTimes;
  /** the URL of the last exchange (after redirects) */
  readonly url: string;
}

export interface QueryHandle {
  /** Stop the query without a result (shutdown). */
  abort(): void;
}

const MAX_REDIRECTS = 10;
const REDIRECTS = new Set([301, 302, 303, 307, 308]);

class QueryTimeout extends Error {
  readonly code = 'KEMI_HTTP_TIMEOUT';
}

function headerValues(raw: readonly string[], name: string): string[] {
  const out: string[] = [];
  for (let i = 0; i + 1 < raw.length; i += 2) if ((raw[i] as string).toLowerCase() === name) out.push(raw[i + 1] as string);
  return out;
}

/** A precise, stable reason for $http_err from what undici or node threw. */
export function describeFailure(e: Error): string {
  const code = (e as { code?: unknown }).code;
  const c = typeof code === 'string' ? code : '';
  switch (c) {
    case 'ECONNREFUSED':
      return `connection refused (${e.message})`;
    case 'UND_ERR_CONNECT_TIMEOUT':
      return `connect timeout (${e.message})`;
    case 'UND_ERR_SOCKET':
      return `connection closed before the response was complete (${e.message})`;
    case 'ECONNRESET':
      return `connection reset by the server (${e.message})`;
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return `host name not resolved (${e.message})`;
    case 'KEMI_HTTP_BODY_TOO_LARGE':
      return e.message;
    default:
      break;
  }
  if (c.startsWith('ERR_TLS') || c.includes('CERT') || c.startsWith('ERR_SSL') || /certificate|ssl|tls/i.test(e.message)) {
    return `TLS failure: ${e.message}${c === '' ? '' : ` (${c})`}`;
  }
  return c === '' ? e.message : `${e.message} (${c})`;
}

export class HttpClient {
  readonly agents: AgentCache;

  constructor(connectTimeoutMs: number) {
    this.agents = new AgentCache(connectTimeoutMs);
  }

  /** Run a query; `done` is called exactly once, asynchronously, unless the handle is aborted. */
  query(spec: QuerySpec, done: (r: QueryResult) => void): QueryHandle {
    const t0 = performance.now();
    let current: ExchangeHandle | null = null;
    let finished = false;
    let sentAt = 0;
    let url = spec.url;
    const us = (t: number): number => (t === 0 ? 0 : Math.max(0, Math.round((t - t0) * 1000)));

    const finish = (res: ExchangeResponse | null, err: Error | null): void => {
      if (finished) return;
      finished = true;
      clearTimeout(timer);
      const now = performance.now();
      const timedOut = err instanceof QueryTimeout;
      // undici does not say which protocol ALPN chose; an HTTP/2 response has no reason phrase
      const h2 = spec.conn.h2 && url.protocol === 'https:' && res !== null && res.reason === '';
      done({
        ok: err === null,
        timedOut,
        err: err === null ? null : timedOut ? err.message : describeFailure(err),
        res,
        httpVersion: h2 ? '2' : '1.1',
        url: url.href,
        times: {
          total: us(now),
          lookup: 0,
          connect: 0,
          appconnect: 0,
          pretransfer: us(res?.sentAt ?? sentAt),
          starttransfer: us(res?.headersAt ?? 0),
        },
      });
    };

    const timer = setTimeout(() => {
      const e = new QueryTimeout(`timeout: no complete reply within ${String(spec.timeoutMs)} ms`);
      current?.abort(e);
      finish(null, e);
    }, spec.timeoutMs);

    let agent;
    try {
      agent = this.agents.get(spec.conn);
    } catch (e) {
      const err = e instanceof Error ? e : new Error(String(e));
      setImmediate(() => { finish(null, new Error(`cannot set up the connection: ${err.message}`)); });
      return { abort: () => { finished = true; clearTimeout(timer); } };
    }
    const dispatcher = agent;

    const send = (method: string, body: string | null, authorization: string | null, redirects: number, authTried: boolean): void => {
      const headers = [...spec.headers];
      if (authorization !== null) headers.push('Authorization', authorization);
      if (body !== null && spec.defaultContentType !== false && !headers.some((h, i) => i % 2 === 0 && h.toLowerCase() === 'content-type')) {
        // what curl sends with CURLOPT_POSTFIELDS, so servers parse ported requests alike
        headers.push('Content-Type', 'application/x-www-form-urlencoded');
      }
      current = startExchange(dispatcher, { url, method, headers, body, maxBodyBytes: spec.maxBodyBytes, truncate: spec.truncateBody === true }, (o) => {
        if (!o.ok) {
          sentAt = o.sentAt;
          finish(null, o.error);
          return;
        }
        const res = o.res;
        if (res.status === 401 && !authTried && spec.username !== '') {
          const answer = answerChallenges(headerValues(res.rawHeaders, 'www-authenticate'), spec.authmethod, spec.username, spec.password, method, `${url.pathname}${url.search}`);
          if (answer !== null) {
            send(method, body, answer, redirects, true);
            return;
          }
        }
        const location = headerValues(res.rawHeaders, 'location')[0];
        if (spec.followRedirect && REDIRECTS.has(res.status) && location !== undefined && redirects < MAX_REDIRECTS) {
          let next: URL;
          try {
            next = new URL(location, url);
          } catch {
            finish(res, null);
            return;
          }
          const sameOrigin = next.origin === url.origin;
          url = next;
          // curl's default: 303 (and POST on 301/302) become a GET without a body
          const toGet = res.status === 303 || ((res.status === 301 || res.status === 302) && method === 'POST');
          send(toGet && method !== 'HEAD' ? 'GET' : method, toGet ? null : body, sameOrigin ? authorization : null, redirects + 1, authTried);
          return;
        }
        finish(res, null);
      });
    };

    const preemptive = spec.username !== '' && spec.authmethod === AUTH_BASIC ? basicAuthorization(spec.username, spec.password) : null;
    // Basic alone is sent at once; Digest, or "either", waits for the server's 401 (as curl does)
    send(spec.method, spec.body, preemptive, 0, preemptive !== null);

    return {
      abort: () => {
        if (finished) return;
        finished = true;
        clearTimeout(timer);
        current?.abort(new Error('HTTP client closed'));
      },
    };
  }

  close(): Promise<void> {
    return this.agents.close();
  }
}

