/**
 * KSR.http_async_client (Kamailio's http_async_client): HTTP(S) queries that never block the
 * server. `query` holds the message when it has a transaction (or is an xhttp request) and
 * resumes it in the named route when the reply, an error or the timeout arrives; without one,
 * and for `send` / `send_xdata`, the route runs on a Context of its own and the script goes on.
 * The client, the settings and the delivery are in http-async-client-core.ts; the PVs in
 * http-async-client-pv.ts.
 */
import { z } from 'zod';
import { defineModule, fn } from '../host/kemi/types.js';
import { HttpAsyncCore, registerCore, type QueryCounters } from './http-async-client-core.js';
import { httpAsyncClientPvs } from './http-async-client-pv.js';

const int = (def: number, doc: string) => z.number().int().min(0).default(def).describe(doc);
const path = (doc: string) => z.string().default('').describe(doc);

const params = z
  .object({
    workers: int(1, 'accepted for compatibility with Kamailio: one event loop runs every query, so the value changes nothing'),
    connection_timeout: z.number().int().min(1).max(86_400_000).default(500)
      .describe('ms: how long a query may take in all (connecting, sending, the whole reply) unless $http_req(timeout) says otherwise; also the limit for connecting'),
    hash_size: int(2048, 'accepted for compatibility with Kamailio (its query table size); queries in flight are kept in a Map here'),
    tls_version: z.number().int().min(0).max(7).default(0)
      .describe('lowest TLS version, curl\'s CURL_SSLVERSION_* numbers: 0 default, 1 or 4 TLSv1.0, 5 TLSv1.1, 6 TLSv1.2, 7 TLSv1.3'),
    tls_verify_host: int(2, 'non-zero: the server certificate must name the host of the URL'),
    tls_verify_peer: int(1, 'non-zero: the server certificate must chain to a trusted CA (tls_ca_path, else node\'s CAs)'),
    curl_verbose: int(0, 'non-zero: log each request (method, URL, headers) and response (status, headers) at info level'),
    curl_follow_redirect: int(0, 'non-zero: follow 301/302/303/307/308 (up to 10) unless $http_req(follow_redirect) says otherwise'),
    memory_manager: z.enum(['shm', 'sys']).default('shm')
      .describe('accepted for compatibility with Kamailio (curl\'s allocator); node manages the memory here'),
    tls_client_cert: path('PEM file of the client certificate for HTTPS, "" none'),
    tls_client_key: path('PEM file of the client certificate key, "" none'),
    tls_ca_path: path('a directory of PEM CA certificates (*.pem, *.crt, *.cer) or one PEM file; "" uses node\'s CAs'),
    tcp_keepalive: int(0, 'non-zero: TCP keepalive probes on the connections'),
    tcp_ka_idle: int(0, 's of idle time before the first keepalive probe (0: the OS default)'),
    tcp_ka_interval: int(0, 'accepted: node cannot set the interval between keepalive probes; the OS default applies'),
    max_body_bytes: z.number().int().min(1).max(268_435_456).default(4_194_304)
      .describe('largest response body kept; a larger one ends the query with $http_ok 0 and $http_err saying so (counted in errors)'),
    max_in_flight: z.number().int().min(1).default(2000)
      .describe('queries in flight at once (both modules); past it query/send return -1, counted in refused and logged'),
  })
  .strict();

type Params = z.infer<typeof params>;

/** The statistics every query is counted in; async_http has the same ones. */
export const QUERY_STATS = ['requests', 'replies', 'errors', 'timeouts', 'gone', 'refused'] as const;

interface HacState {
  readonly core: HttpAsyncCore;
  readonly c: QueryCounters;
}

function counters(stat: (name: string) => QueryCounters[keyof QueryCounters]): QueryCounters {
  return { requests: stat('requests'), replies: stat('replies'), errors: stat('errors'), timeouts: stat('timeouts'), gone: stat('gone'), refused: stat('refused') };
}

export function coreDefaults(p: Params): HttpAsyncCore['defaults'] {
  return {
    connectionTimeoutMs: p.connection_timeout,
    tlsVersion: p.tls_version,
    tlsVerifyHost: p.tls_verify_host !== 0,
    tlsVerifyPeer: p.tls_verify_peer !== 0,
    verbose: p.curl_verbose !== 0,
    followRedirect: p.curl_follow_redirect !== 0,
    tlsClientCert: p.tls_client_cert,
    tlsClientKey: p.tls_client_key,
    tlsCaPath: p.tls_ca_path,
    tcpKeepalive: p.tcp_keepalive !== 0,
    tcpKaIdle: p.tcp_ka_idle,
    maxBodyBytes: p.max_body_bytes,
    maxInFlight: p.max_in_flight,
  };
}

export { params as httpAsyncClientParams, counters as queryCounters };

export default defineModule({
  name: 'http_async_client',
  doc: 'Asynchronous HTTP(S) queries: the reply, an error or the timeout runs a named route, resuming the held message.',
  params,
  stats: QUERY_STATS,
  init: (host, raw): HacState => {
    const core = new HttpAsyncCore(coreDefaults(params.parse(raw)), host.log, host.script, host.boundary);
    registerCore(host.pvs, core);
    return { core, c: counters((n) => host.stat(n)) };
  },
  close: (s: HacState) => s.core.close(),
  routeArgs: { query: [1], send: [1], send_xdata: [1] },
  functions: {
    query: fn(['str', 'str'], 'int', (s: HacState, ctx, url, route) =>
      s.core.start(ctx, { fname: 'KSR.http_async_client.query', url, route, mayHold: true, xdata: null, avps: false, timeoutMs: s.core.defaults.connectionTimeoutMs, c: s.c }),
    'Send an HTTP(S) query ($http_req settings apply). With a transaction (t_newtran first) or in an xhttp request: the message is held and resumed in the named function when the reply, an error or the timeout arrives; returns 0 (call KSR.x.exit()). Without, or with $http_req(suspend) = 0: returns 1, the script goes on and the function runs on a Context of its own. -1: bad URL, unknown function, too many in flight.'),
    send: fn(['str', 'str'], 'int', (s: HacState, ctx, url, route) =>
      s.core.start(ctx, { fname: 'KSR.http_async_client.send', url, route, mayHold: false, xdata: null, avps: false, timeoutMs: s.core.defaults.connectionTimeoutMs, c: s.c }),
    'Send an HTTP(S) query without holding the message: 1, and the named function runs on a Context of its own with the result; -1 as query.'),
    send_xdata: fn(['str', 'str', 'str'], 'int', (s: HacState, ctx, url, route, xdata) =>
      s.core.start(ctx, { fname: 'KSR.http_async_client.send_xdata', url, route, mayHold: false, xdata, avps: false, timeoutMs: s.core.defaults.connectionTimeoutMs, c: s.c }),
    'Like send; the named function reads xdata in $http_xdata.'),
  },
  pvs: httpAsyncClientPvs,
});
