/**
 * The embedded HTTP listener (node:http). The xhttp binding installs the request handler;
 * until one is installed every request gets 404, so the port never hangs a client.
 *
 * Every wait a client can impose is bounded here: the header section (headersTimeout), the
 * whole request (requestTimeout), the idle time between kept-alive requests (keepAliveTimeout),
 * the number of connections (maxConnections), and a client that does not read its answers
 * (connection-guard.ts). Reading the body with a size cap is the handler's job (xhttp: 413).
 */
import http from 'node:http';
import type net from 'node:net';
import type { Logger } from 'pino';
import type { ErrorBoundary } from '../boundary.js';
import type { BackpressureCounters } from '../backpressure.js';
import { LogLimiter } from '../log-limiter.js';
import { ConnectionGuard } from './connection-guard.js';

export type HttpHandler = (req: http.IncomingMessage, res: http.ServerResponse) => void;

export interface HttpListenOptions {
  readonly host: string;
  readonly port: number;
  readonly headersTimeoutMs: number;
  readonly requestTimeoutMs: number;
  readonly keepAliveTimeoutMs: number;
  readonly maxHeaderBytes: number;
  readonly maxConnections: number;
  readonly maxUnsentBytes: number;
  readonly stalledTimeoutMs: number;
  readonly backpressure: BackpressureCounters;
}

/** How long close() lets requests in flight finish before it closes their connections. */
const CLOSE_GRACE_MS = 2000;

const notFound: HttpHandler = (_req, res) => {
  res.writeHead(404, { 'content-type': 'text/plain' });
  res.end('Not Found\n');
};

export class HttpListener {
  private handler: HttpHandler = notFound;
  private readonly server: http.Server;
  private readonly guards = new WeakMap<net.Socket, ConnectionGuard>();
  host: string;
  port: number;

  constructor(
    opts: HttpListenOptions,
    private readonly log: Logger,
    /** where every request handler runs (host/boundary.ts) */
    private readonly boundary: ErrorBoundary,
  ) {
    this.host = opts.host;
    this.port = opts.port;
    this.server = http.createServer(
      {
        maxHeaderSize: opts.maxHeaderBytes,
        requestTimeout: opts.requestTimeoutMs,
        headersTimeout: opts.headersTimeoutMs,
        keepAliveTimeout: opts.keepAliveTimeoutMs,
        // Node checks the two request timeouts on this interval (default 30 s): a timeout is only
        // as precise as the check, so check several times per timeout, but not more than 10/s.
        connectionsCheckingInterval: Math.min(1000, Math.max(100, Math.floor(opts.headersTimeoutMs / 4))),
      },
      (req, res) => {
        const run = (): void => { this.run(req, res); };
        const guard = this.guards.get(req.socket);
        if (guard === undefined) run();
        else guard.dispatch(res, run);
      },
    );
    this.server.maxConnections = opts.maxConnections;
    // A client opening connections in a loop must not flood the log: one line per 10 s.
    const limiter = new LogLimiter(10_000);
    this.server.on('connection', (sock: net.Socket) => {
      this.guards.set(sock, new ConnectionGuard(sock, opts, opts.backpressure, () => {
        if (limiter.allow('stalled')) {
          this.log.warn({ peer: `${sock.remoteAddress ?? ''}:${String(sock.remotePort)}`, ms: opts.stalledTimeoutMs, suppressed: limiter.suppressed('stalled') }, 'HTTP client does not read its answers; closed');
        }
      }));
    });
    this.server.on('drop', () => {
      if (limiter.allow('drop')) {
        this.log.warn({ max: opts.maxConnections, suppressed: limiter.suppressed('drop') }, 'HTTP connection refused: max_connections reached');
      }
    });
  }

  private run(req: http.IncomingMessage, res: http.ServerResponse): void {
    if (this.boundary.run('http-request', () => { this.handler(req, res); })) return;
    if (!res.headersSent) res.writeHead(500);
    res.end();
  }

  setHandler(h: HttpHandler): void {
    this.handler = h;
  }

  async listen(): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.port, this.host, () => {
        this.server.off('error', reject);
        resolve();
      });
    });
    const a = this.server.address();
    if (a !== null && typeof a === 'object') this.port = a.port;
  }

  /** Stop accepting, close idle connections, give requests in flight a moment, then close the rest. */
  async close(): Promise<void> {
    if (!this.server.listening) return;
    await new Promise<void>((resolve) => {
      const force = setTimeout(() => { this.server.closeAllConnections(); }, CLOSE_GRACE_MS);
      this.server.close(() => {
        clearTimeout(force);
        resolve();
      });
      this.server.closeIdleConnections();
    });
  }
}

/** "127.0.0.1:8080" / "[::1]:8080" → host and port */
export function splitHostPort(s: string): { host: string; port: number } {
  const m = /^\[?([^\]]+?)\]?:(\d+)$/.exec(s);
  if (m === null) throw new Error(`"${s}": expected host:port`);
  return { host: m[1] ?? '', port: Number(m[2]) };
}
