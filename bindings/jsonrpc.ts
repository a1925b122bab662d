/**
 * KSR.jsonrpc: Kamailio's jsonrpc-c (jsonrpcc) for KEMI scripts — JSON-RPC 2.0 over TCP
 * netstrings to a set of servers with priorities and failover (host/jsonrpc). Kamailio never
 * exported it to KEMI; the names, parameters and results are the module's own:
 * `request(method, params, return_route, error_route, result_var)` suspends the message (its
 * transaction, created if needed, or the xhttp request) and returns 0; the answer runs
 * return_route with result_var set to the JSON text of `result`; a timeout, no server, an answer
 * nested too deeply or an error object runs error_route with "timeout", "failure", "too_deep" or
 * the error object's JSON text.
 * Completion always runs later, from the event loop, never inside the request call.
 */
import type { Logger } from 'pino';
import { z } from 'zod';
import type { Context } from '../host/kemi/context.js';
import { holdMessage, type Hold } from '../host/kemi/owner.js';
import type { ResolvedPv } from '../host/kemi/pv.js';
import type { Counter } from '../host/kemi/stats.js';
import { defineModule, fn, type ModuleHost, type ScriptHandle } from '../host/kemi/types.js';
import type { Connection, ConnectionEvents, Outcome } from '../host/jsonrpc/connection.js';
import { parseParams } from '../host/jsonrpc/message.js';
import { parseServers, Pool } from '../host/jsonrpc/pool.js';
import { LogLimiter } from '../host/log-limiter.js';

const MAX_TIMEOUT_MS = 600_000;

const params = z
  .object({
    servers: z
      .string()
      .superRefine((s, c) => {
        try {
          parseServers(s);
        } catch (e) {
          c.addIssue({ code: 'custom', message: (e as Error).message });
        }
      })
      .default('')
      .describe('The JSON-RPC servers, "host1:port1,priority1 host2:port2,priority2 …" (jsonrpc-c\'s format). The group with the highest priority number that has a connected server is used; inside a group requests go round robin. Empty (the default): the module is idle; a request fails with "failure", a notification returns -1.'),
    max_conn_attempts: z.number().int().min(-1).default(-1)
      .describe('Reconnection attempts in a row for a server after a failure: -1 forever, 0 none (a server that fails once is not used again), N at most N; a successful connect starts the count again. Kamailio\'s default is 0; here -1, so a server that restarts is used again.'),
    reconnect_interval: z.number().int().min(10).max(3_600_000).default(3000)
      .describe('Milliseconds before the first reconnection attempt (Kamailio: 3 s, fixed); each further failed attempt doubles it, up to reconnect_max_interval.'),
    reconnect_max_interval: z.number().int().min(10).max(3_600_000).default(60_000)
      .describe('Upper bound of the reconnection backoff, in ms.'),
    connect_timeout: z.number().int().min(10).max(600_000).default(3000)
      .describe('A connection not established within this many ms counts as a failed attempt.'),
    timeout: z.number().int().min(1).max(MAX_TIMEOUT_MS).default(500)
      .describe('Milliseconds to wait for the answer to a request before error_route runs with "timeout" (Kamailio hard-codes 500). request_timeout() overrides it per call.'),
    max_netstring_bytes: z.number().int().min(16).max(67_108_864).default(1_048_576)
      .describe('Largest netstring accepted from a server; a longer one is a protocol error: the connection is closed, its pending requests fail with "failure", and it reconnects.'),
    max_json_depth: z.number().int().min(2).max(1000).default(64)
      .describe('An answer whose arrays/objects nest deeper than this (the response object is level 1) is refused without being parsed: its request runs error_route with "too_deep" (stat too_deep); one without a readable top-level id is a protocol error. json-c, which Kamailio uses, stops at 32.'),
    max_in_flight: z.number().int().min(1).max(1_000_000).default(1000)
      .describe('Requests waiting for an answer on one connection at most; a full connection takes no more (the next server, then the next group, is tried; none: "failure").'),
    max_unsent_bytes: z.number().int().min(16_384).max(67_108_864).default(4_194_304)
      .describe('A server that does not read what we send: past this many unsent bytes its connection takes no more requests (the next server is tried) or notifications (-1). At least 16384, where node signals a full socket.'),
    stalled_timeout: z.number().int().min(100).max(600_000).default(10_000)
      .describe('A connection past max_unsent_bytes whose server takes none of it for this many ms is closed: its pending requests fail with "failure" and it reconnects (stat stalled_closed).'),
  })
  .strict();

type Stat = 'requests' | 'notifications' | 'replies' | 'errors' | 'timeouts' | 'failures' | 'unmatched' | 'protocol_errors' | 'too_deep' | 'connection_failures' | 'gone' | 'servers_connected';

interface JsonRpcState {
  readonly log: Logger;
  readonly script: ScriptHandle;
  readonly host: ModuleHost;
  readonly limiter: LogLimiter;
  readonly pool: Pool;
  readonly timeout: number;
  readonly c: Readonly<Record<Stat, Counter>>;
  /** jsonrpc:server_<host>_<port>_connected, by connection */
  readonly serverStat: Map<Connection, Counter>;
  /** completions scheduled for requests no server could take (run on the next turn of the loop) */
  readonly immediates: Set<NodeJS.Immediate>;
  closed: boolean;
}

function logLimited(s: JsonRpcState, level: 'error' | 'warn' | 'info', key: string, text: string, fields: Record<string, unknown> = {}): void {
  if (s.limiter.allow(key)) s.log[level]({ ...fields, suppressed: s.limiter.suppressed(key) }, text);
}

/** A script mistake (bad argument, unknown route): logged with the script line, -1, nothing held. */
function refuse(s: JsonRpcState, text: string, fields: Record<string, unknown> = {}): number {
  logLimited(s, 'error', text, text, { ...fields, at: s.script.location() });
  return -1;
}

function events(s: () => JsonRpcState): ConnectionEvents {
  return {
    connected: (c) => {
      const st = s();
      const g = st.serverStat.get(c);
      if (g !== undefined && g.value === 0) {
        g.value = 1;
        st.c.servers_connected.value++;
      }
      st.log.info({ server: c.name }, 'jsonrpc server connected');
    },
    down: (c, why, retryMs) => {
      const st = s();
      st.c.connection_failures.value++;
      const g = st.serverStat.get(c);
      if (g !== undefined && g.value === 1) {
        g.value = 0;
        st.c.servers_connected.value--;
      }
      if (retryMs === null) st.log.error({ server: c.name, why }, 'jsonrpc server down; max_conn_attempts reached, no further reconnection');
      else logLimited(st, 'warn', `down ${c.name}`, 'jsonrpc server down; reconnecting later', { server: c.name, why, retryMs });
    },
    protocolError: (c, why) => {
      const st = s();
      st.c.protocol_errors.value++;
      logLimited(st, 'error', `proto ${c.name}`, 'jsonrpc protocol error; connection closed', { server: c.name, why });
    },
    tooDeep: (c, id) => {
      const st = s();
      st.c.too_deep.value++;
      logLimited(st, 'warn', `deep ${c.name}`, 'jsonrpc answer nested deeper than max_json_depth; refused unparsed (error_route gets "too_deep")', { server: c.name, id });
    },
    unmatched: (c, id) => {
      const st = s();
      st.c.unmatched.value++;
      logLimited(st, 'warn', `unmatched ${c.name}`, 'jsonrpc answer with an unknown id (late after a timeout, or never asked); ignored', { server: c.name, id });
    },
  };
}

interface Call {
  readonly ctx: Context;
  readonly hold: Hold;
  readonly method: string;
  readonly returnRoute: string;
  readonly errorRoute: string;
  readonly pv: ResolvedPv;
}

/** The answer (or its absence) is in: set result_var and continue the held message. */
function complete(s: JsonRpcState, call: Call, o: Outcome): void {
  if (s.closed) return;
  let route = call.errorRoute;
  let value: string;
  switch (o.kind) {
    case 'result':
      s.c.replies.value++;
      route = call.returnRoute;
      value = o.text;
      break;
    case 'error':
      s.c.errors.value++;
      value = o.text;
      logLimited(s, 'info', `error ${call.method}`, 'jsonrpc server answered with an error object', { method: call.method, error: o.text });
      break;
    case 'timeout':
      s.c.timeouts.value++;
      value = 'timeout';
      logLimited(s, 'warn', `timeout ${call.method}`, 'jsonrpc request timed out', { method: call.method });
      break;
    case 'too_deep':
      // counted and logged when it arrived (events.tooDeep)
      value = 'too_deep';
      break;
    case 'failure':
      s.c.failures.value++;
      value = 'failure';
      logLimited(s, 'warn', `failure ${call.method}`, 'jsonrpc request failed: no server could take it, or its connection was lost', { method: call.method });
      break;
  }
  call.pv.set?.(call.ctx, value);
  call.hold.resume(route, { counter: s.c.gone, host: s.host });
}

function request(s: JsonRpcState, ctx: Context, fname: string, method: string, p: string, returnRoute: string, errorRoute: string, resultVar: string, timeoutMs: number): number {
  if (s.closed) return -1;
  if (method === '') return refuse(s, `${fname}: the method is empty`);
  const parsed = parseParams(p);
  if (!parsed.ok) return refuse(s, `${fname}: ${parsed.why}`, { method });
  if (!s.script.has(returnRoute)) return refuse(s, `${fname}: the script defines no function named "${returnRoute}"`, { route: returnRoute });
  if (!s.script.has(errorRoute)) return refuse(s, `${fname}: the script defines no function named "${errorRoute}"`, { route: errorRoute });
  const pv = s.host.pvs.resolve(resultVar);
  if (pv?.set === undefined) return refuse(s, `${fname}: "${resultVar}" is not a writable pseudo-variable`, { pv: resultVar });
  if (!Number.isInteger(timeoutMs) || timeoutMs < 1 || timeoutMs > MAX_TIMEOUT_MS) return refuse(s, `${fname}: the timeout must be 1..${String(MAX_TIMEOUT_MS)} ms`, { timeoutMs });
  const hold = holdMessage(ctx);
  if (typeof hold === 'string') return refuse(s, `${fname}: ${hold}`);
  s.c.requests.value++;
  const call: Call = { ctx, hold, method, returnRoute, errorRoute, pv };
  const done = (o: Outcome): void => { complete(s, call, o); };
  if (s.pool.request(method, parsed.text, timeoutMs, done) === null) {
    // No server can take it: fail fast, but after this call returned, as any completion.
    const im = setImmediate(() => {
      s.immediates.delete(im);
      s.host.boundary.run('module-timer', () => { done({ kind: 'failure' }); });
    });
    s.immediates.add(im);
  }
  return 0;
}

function notification(s: JsonRpcState, method: string, p: string): number {
  if (s.closed) return -1;
  if (method === '') return refuse(s, 'KSR.jsonrpc.notification: the method is empty');
  const parsed = parseParams(p);
  if (!parsed.ok) return refuse(s, `KSR.jsonrpc.notification: ${parsed.why}`, { method });
  if (s.pool.notify(method, parsed.text) === null) {
    s.c.failures.value++;
    logLimited(s, 'warn', `notify ${method}`, 'jsonrpc notification not sent: no server connected', { method });
    return -1;
  }
  s.c.notifications.value++;
  return 1;
}

/** "127.0.0.1" 9999 → "server_127.0.0.1_9999_connected" */
export function serverStatName(host: string, port: number): string {
  return `server_${host}_${String(port)}_connected`;
}

/** KSR.jsonrpc: JSON-RPC 2.0 client over TCP netstrings (Kamailio's jsonrpc-c). */
export default defineModule({
  name: 'jsonrpc',
  doc: 'JSON-RPC 2.0 requests and notifications over TCP netstrings to servers with priorities and failover (Kamailio\'s jsonrpc-c); a request suspends the message and continues it in a named route.',
  params,
  stats: ['requests', 'notifications', 'replies', 'errors', 'timeouts', 'failures', 'unmatched', 'protocol_errors', 'too_deep', 'connection_failures', 'gone', 'servers_connected', 'backpressure_paused', 'stalled_closed', 'server_*'],
  init: (host, p): JsonRpcState => {
    const specs = parseServers(p.servers);
    let state: JsonRpcState | null = null;
    const self = (): JsonRpcState => {
      if (state === null) throw new Error('jsonrpc state used before init');
      return state;
    };
    const pool = new Pool(
      specs,
      {
        maxConnAttempts: p.max_conn_attempts,
        reconnectInterval: p.reconnect_interval,
        reconnectMaxInterval: Math.max(p.reconnect_max_interval, p.reconnect_interval),
        connectTimeout: p.connect_timeout,
        maxNetstringBytes: p.max_netstring_bytes,
        maxInFlight: p.max_in_flight,
        maxJsonDepth: p.max_json_depth,
        maxUnsentBytes: p.max_unsent_bytes,
        stalledTimeoutMs: p.stalled_timeout,
        backpressure: { paused: host.stat('backpressure_paused'), stalledClosed: host.stat('stalled_closed') },
        boundary: host.boundary,
      },
      events(self),
    );
    const serverStat = new Map<Connection, Counter>();
    for (const c of pool.connections) serverStat.set(c, host.gauge(serverStatName(c.host, c.port)));
    state = {
      log: host.log,
      script: host.script,
      host,
      limiter: new LogLimiter(10_000),
      pool,
      timeout: p.timeout,
      c: {
        requests: host.stat('requests'),
        notifications: host.stat('notifications'),
        replies: host.stat('replies'),
        errors: host.stat('errors'),
        timeouts: host.stat('timeouts'),
        failures: host.stat('failures'),
        unmatched: host.stat('unmatched'),
        protocol_errors: host.stat('protocol_errors'),
        too_deep: host.stat('too_deep'),
        connection_failures: host.stat('connection_failures'),
        gone: host.stat('gone'),
        servers_connected: host.gauge('servers_connected'),
      },
      serverStat,
      immediates: new Set(),
      closed: false,
    };
    if (specs.length > 0) pool.start();
    return state;
  },
  close: (s: JsonRpcState) => {
    s.closed = true;
    for (const im of s.immediates) clearImmediate(im);
    s.immediates.clear();
    s.pool.close();
    for (const g of s.serverStat.values()) g.value = 0;
    s.c.servers_connected.value = 0;
  },
  routeArgs: { request: [2, 3], request_timeout: [2, 3] },
  pvArgs: { request: [4], request_timeout: [4] },
  functions: {
    notification: fn(['str', 'str'], 'int', (s: JsonRpcState, _ctx, method, p) => notification(s, method, p),
      'Send a notification (no id, no answer): 1 when written to a connected server, -1 when none is connected or the arguments are bad. params: JSON text of an object or array, or "".'),
    request: fn(['str', 'str', 'str', 'str', 'str'], 'int', (s: JsonRpcState, ctx, method, p, ret, err, rv) => request(s, ctx, 'KSR.jsonrpc.request', method, p, ret, err, rv, s.timeout),
      'Suspend the message (creating its transaction if needed) and send the request; returns 0 (then call KSR.x.exit()), -1 on bad arguments. The answer runs return_route with result_var (e.g. "$var(result)") set to the JSON text of result; a timeout, no server, an answer nested deeper than max_json_depth or an error object runs error_route with it set to "timeout", "failure", "too_deep" or the error\'s JSON text.'),
    request_timeout: fn(['str', 'str', 'str', 'str', 'str', 'int'], 'int', (s: JsonRpcState, ctx, method, p, ret, err, rv, ms) => request(s, ctx, 'KSR.jsonrpc.request_timeout', method, p, ret, err, rv, ms),
      'Like request, waiting timeout_ms (1..600000) for this answer instead of the timeout parameter.'),
  },
});
