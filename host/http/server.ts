/**
 * The embedded HTTP listener (node:http). The xhttp binding installs the request handler;
 * until one is installed every request gets 404, so the port never hangs a client.
 */
import http from 'node:http';
import type { Logger } from 'pino';

export type HttpHandler = (req: http.IncomingMessage, res: http.ServerResponse) => void;

export interface HttpListenOptions {
  readonly host: string;
  readonly port: number;
  readonly headersTimeoutMs: number;
  readonly requestTimeoutMs: number;
  readonly keepAliveTimeoutMs: number;
  readonly maxHeaderBytes: number;
}

const notFound: HttpHandler = (_req, res) => {
  res.writeHead(404, { 'content-type': 'text/plain' });
  res.end('Not Found\n');
};

export class HttpListener {
  private handler: HttpHandler = notFound;
  private readonly server: http.Server;
  host: string;
  port: number;

  constructor(opts: HttpListenOptions, private readonly log: Logger) {
    this.host = opts.host;
    this.port = opts.port;
    this.server = http.createServer(
      { maxHeaderSize: opts.maxHeaderBytes, requestTimeout: opts.requestTimeoutMs, headersTimeout: opts.headersTimeoutMs, keepAliveTimeout: opts.keepAliveTimeoutMs },
      (req, res) => {
        try {
          this.handler(req, res);
        } catch (err) {
          this.log.error({ err }, 'HTTP handler failed');
          if (!res.headersSent) res.writeHead(500);
          res.end();
        }
      },
    );
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

  async close(): Promise<void> {
    await new Promise<void>((resolve) => {
      this.server.close(() => { resolve(); });
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
