/**
 * KSR.async_http: the older form of http_async_client (Kamailio's async_http module):
 * http_async_get / http_async_post, results in $avp(http_rc), $avp(http_rb), $avp(http_error).
 * Sugar over the same client and the same rules as http_async_client.query (hold with a
 * transaction, else run the route on a Context of its own); the $http_* PVs work too.
 */
import { z } from 'zod';
import { defineModule, fn } from '../host/kemi/types.js';
import { findCore, HttpAsyncCore, type QueryCounters } from './http-async-client-core.js';
import { coreDefaults, httpAsyncClientParams, QUERY_STATS, queryCounters } from './http-async-client.js';

const params = z
  .object({
    workers: z.number().int().min(0).default(1)
      .describe('accepted for compatibility with Kamailio: one event loop runs every query, so the value changes nothing'),
    http_timeout: z.number().int().min(1).max(86_400_000).default(500)
      .describe('ms: how long an async_http query may take in all ($http_req(timeout) overrides it); the connection settings are http_async_client\'s'),
    hash_size: z.number().int().min(0).default(2048)
      .describe('accepted for compatibility with Kamailio (its query table size); nothing to size here'),
  })
  .strict();

interface AsyncHttpState {
  readonly core: HttpAsyncCore;
  /** true when no http_async_client module made the core (a registry without it): close it here */
  readonly owns: boolean;
  readonly timeoutMs: number;
  readonly c: QueryCounters;
}

function send(s: AsyncHttpState, ctx: Parameters<HttpAsyncCore['start']>[0], fname: string, url: string, route: string, method: string, body?: string): number {
  return s.core.start(ctx, { fname, url, route, mayHold: true, xdata: null, avps: true, method, ...(body === undefined ? {} : { body }), timeoutMs: s.timeoutMs, c: s.c });
}

export default defineModule({
  name: 'async_http',
  doc: 'The older form of http_async_client: GET and POST queries with results in $avp(http_rc), $avp(http_rb), $avp(http_error).',
  params,
  stats: QUERY_STATS,
  init: (host, raw): AsyncHttpState => {
    const p = params.parse(raw);
    const shared = findCore(host.pvs);
    const core = shared ?? new HttpAsyncCore(coreDefaults(httpAsyncClientParams.parse({})), host.log, host.script, host.boundary);
    return { core, owns: shared === undefined, timeoutMs: p.http_timeout, c: queryCounters((n) => host.stat(n)) };
  },
  close: (s: AsyncHttpState) => (s.owns ? s.core.close() : undefined),
  routeArgs: { http_async_get: [1], http_async_post: [2] },
  functions: {
    http_async_get: fn(['str', 'str'], 'int', (s: AsyncHttpState, ctx, url, route) => send(s, ctx, 'KSR.async_http.http_async_get', url, route, 'GET'),
      'GET the URL; the named function runs with $avp(http_rc) (status, 0 when no reply), $avp(http_rb) (body) and $avp(http_error). Returns 0 when the message was held (it has a transaction), 1 when the script goes on, -1 on a bad argument.'),
    http_async_post: fn(['str', 'str', 'str'], 'int', (s: AsyncHttpState, ctx, url, data, route) => send(s, ctx, 'KSR.async_http.http_async_post', url, route, 'POST', data),
      'POST data to the URL; results and return value as http_async_get.'),
  },
});
