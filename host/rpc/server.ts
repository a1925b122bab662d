/**
 * The control listener (`rpc.listen`): JSON-RPC 2.0 over HTTP POST on `/` or `/RPC` (Kamailio's
 * jsonrpcs path), and `GET /metrics`. A listener of its own, separate from xhttp's, so a script
 * can never see or answer a control request. Loopback only unless `rpc.token` is set; with a
 * token every request needs `Authorization: Bearer <token>`, /metrics included.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import type { ErrorBoundary } from '../boundary.js';
import { backpressureCounters } from '../backpressure.js';
import { KemiError } from '../errors.js';
import { readBody } from '../http/read-body.js';
import { HttpListener, splitHostPort } from '../http/server.js';
import type { Counter } from '../kemi/stats.js';
import { LogLimiter } from '../log-limiter.js';
import { handleJsonRpc, MAX_REQUEST_DEPTH, type RpcMethodDef } from './jsonrpc.js';
import { isLoopback } from './loopback.js';
import { METRICS_CONTENT_TYPE, renderMetrics, type MetricsSource } from './metrics.js';

export interface RpcServerOptions {
  readonly listen: string;
  readonly token: string | null;
  readonly maxBodyBytes: number;
  readonly requestTimeoutMs: number;
  readonly maxConnections: number;
  readonly maxUnsentBytes: number;
  readonly stalledTimeoutMs: number;
}

const digest = (s: string): Buffer => createHash('sha256').update(s).digest();

function plain(res: ServerResponse, code: number, text: string, headers: Record<string, string> = {}): void {
  if (res.headersSent || res.destroyed) return;
  res.writeHead(code, { 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': String(Buffer.byteLength(text) + 1), ...headers });
  res.end(`${text}\n`);
}

export class RpcServer {
  private readonly http: HttpListener;
  private readonly tokenDigest: Buffer | null;
  /** rpc:too_deep, requests refused for nesting past MAX_REQUEST_DEPTH */
  private readonly tooDeep: Counter;
  private readonly limiter = new LogLimiter(10_000);

  constructor(
    private readonly opts: RpcServerOptions,
    private readonly methods: ReadonlyMap<string, RpcMethodDef>,
    private readonly metrics: MetricsSource,
    private readonly log: Logger,
    /** where every RPC request runs (host/boundary.ts) */
    private readonly boundary: ErrorBoundary,
  ) {
    const { host, port } = splitHostPort(opts.listen);
    if (opts.token === null && !isLoopback(host)) {
      // the config schema refuses this first; kept so no caller can open an unguarded listener
      throw new KemiError('KEMI_ERR_CONFIG', `rpc.listen ${opts.listen} is not a loopback address: set rpc.token to listen there`);
    }
    this.tokenDigest = opts.token === null ? null : digest(opts.token);
    this.tooDeep = metrics.stats.counter('rpc', 'too_deep');
    this.http = new HttpListener(
      {
        host,
        port,
        headersTimeoutMs: Math.min(opts.requestTimeoutMs, 10_000),
        requestTimeoutMs: opts.requestTimeoutMs,
        keepAliveTimeoutMs: 5_000,
        maxHeaderBytes: 16_384,
        maxConnections: opts.maxConnections,
        maxUnsentBytes: opts.maxUnsentBytes,
        stalledTimeoutMs: opts.stalledTimeoutMs,
        backpressure: backpressureCounters(metrics.stats, 'rpc'),
      },
      log,
      boundary,
    );
    this.http.setHandler(this.handle);
  }

  async listen(): Promise<void> {
    try {
      await this.http.listen();
    } catch (e) {
      throw new KemiError('KEMI_ERR_LISTEN', `cannot listen on rpc ${this.opts.listen}: ${(e as Error).message}`);
    }
  }

  /** host:port actually bound */
  get address(): string {
    const h = this.http.host;
    return `${h.includes(':') ? `[${h}]` : h}:${String(this.http.port)}`;
  }

  close(): Promise<void> {
    return this.http.close();
  }

  private readonly handle = (req: IncomingMessage, res: ServerResponse): void => {
    if (!this.authorized(req)) {
      plain(res, 401, 'Unauthorized', { 'WWW-Authenticate': 'Bearer realm="kemihost"' });
      return;
    }
    const path = (req.url ?? '/').split('?')[0];
    if (path === '/metrics') {
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        plain(res, 405, 'Method Not Allowed', { Allow: 'GET, HEAD' });
        return;
      }
      const body = renderMetrics(this.metrics);
      res.writeHead(200, { 'Content-Type': METRICS_CONTENT_TYPE, 'Content-Length': String(Buffer.byteLength(body)) });
      res.end(req.method === 'HEAD' ? undefined : body);
      return;
    }
    if (path !== '/' && path !== '/RPC') {
      plain(res, 404, 'Not Found: POST JSON-RPC to / or /RPC; GET /metrics');
      return;
    }
    if (req.method !== 'POST') {
      plain(res, 405, 'Method Not Allowed', { Allow: 'POST' });
      return;
    }
    this.readBody(req, res);
  };

  private readonly onTooDeep = (): void => {
    this.tooDeep.value++;
    if (this.limiter.allow('deep')) this.log.warn({ max: MAX_REQUEST_DEPTH, suppressed: this.limiter.suppressed('deep') }, 'RPC request nested too deeply; refused with a parse error');
  };

  private authorized(req: IncomingMessage): boolean {
    const want = this.tokenDigest;
    if (want === null) return true;
    const m = /^Bearer\s+(\S+)\s*$/i.exec(req.headers.authorization ?? '');
    // compared as digests: equal length, constant time
    return m?.[1] !== undefined && timingSafeEqual(digest(m[1]), want);
  }

  private readBody(req: IncomingMessage, res: ServerResponse): void {
    const max = this.opts.maxBodyBytes;
    const tooLarge = (): void => { plain(res, 413, `Payload Too Large (rpc.max_body_bytes: ${String(max)})`, { Connection: 'close' }); };
    readBody(req, max, (body) => {
      handleJsonRpc(body.toString('utf8'), this.methods, this.onTooDeep).then(
        (out) => {
          if (out === null) {
            res.writeHead(204);
            res.end();
            return;
          }
          res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': String(Buffer.byteLength(out)) });
          res.end(out);
        },
        (err: unknown) => {
          this.boundary.caught('rpc-request', err);
          plain(res, 500, 'Internal Server Error');
        },
      );
    }, tooLarge);
  }
}
