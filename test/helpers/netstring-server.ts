/**
 * A real JSON-RPC 2.0 server over TCP netstrings on 127.0.0.1, for the jsonrpc tests and the
 * benchmark. It records every frame it receives (parsed) and answers through a handler the test
 * gives: by default `{"result": {"method", "params", "server"}}` at once. A handler can answer
 * later, out of order, with an error object, with raw bytes (garbage, an oversized frame), not at
 * all, or kill the connection. It can be stopped and started again on the same port.
 */
import net from 'node:net';
import { once } from 'node:events';
import { encodeNetstring, NetstringDecoder } from '../../host/jsonrpc/netstring.js';

export interface Received {
  readonly jsonrpc?: unknown;
  readonly id?: unknown;
  readonly method?: unknown;
  readonly params?: unknown;
  /** the whole object as received */
  readonly raw: Record<string, unknown>;
}

export interface Peer {
  /** answer with this object (jsonrpc "2.0" and the id are added when absent) */
  answer(id: unknown, body: { result: unknown } | { error: unknown }): void;
  /** write bytes as they are */
  raw(data: string | Buffer): void;
  destroy(): void;
}

export type Handler = (msg: Received, peer: Peer, server: NetstringServer) => void;

export const defaultHandler: Handler = (msg, peer, server) => {
  if (msg.id === undefined) return;
  peer.answer(msg.id, { result: { method: msg.method, params: msg.params ?? null, server: server.name } });
};

export class NetstringServer {
  readonly received: Received[] = [];
  /** connections accepted since start (all starts) */
  accepted = 0;
  handler: Handler;
  private server: net.Server | null = null;
  private readonly sockets = new Set<net.Socket>();
  private waiters: { n: number; resolve: () => void }[] = [];
  port = 0;

  private constructor(readonly name: string, handler: Handler) {
    this.handler = handler;
  }

  static async start(name = 'rpc', handler: Handler = defaultHandler, port = 0): Promise<NetstringServer> {
    const s = new NetstringServer(name, handler);
    await s.listen(port);
    return s;
  }

  /** Listen (again) on the port it had, or on `port`. */
  async listen(port = this.port): Promise<void> {
    const srv = net.createServer((sock) => {
      this.onConnection(sock);
    });
    srv.listen(port, '127.0.0.1');
    await once(srv, 'listening');
    this.server = srv;
    const a = srv.address();
    this.port = typeof a === 'object' && a !== null ? a.port : 0;
  }

  get connections(): number {
    return this.sockets.size;
  }

  requests(): Received[] {
    return this.received.filter((r) => r.id !== undefined);
  }

  /** Resolves once `n` frames in all have been received. */
  async waitReceived(n: number, timeoutMs = 3000): Promise<void> {
    if (this.received.length >= n) return;
    await new Promise<void>((resolve, reject) => {
      const w = { n, resolve };
      this.waiters.push(w);
      setTimeout(() => {
        reject(new Error(`${this.name}: ${String(this.received.length)} frames received, ${String(n)} expected`));
      }, timeoutMs).unref();
    });
  }

  /** Stop listening and drop every connection. */
  async stop(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    this.sockets.clear();
    const srv = this.server;
    this.server = null;
    if (srv !== null) await new Promise<void>((r) => srv.close(() => { r(); }));
  }

  private onConnection(sock: net.Socket): void {
    this.accepted++;
    this.sockets.add(sock);
    sock.setNoDelay(true);
    const decoder = new NetstringDecoder(16 * 1024 * 1024);
    const peer: Peer = {
      answer: (id, body) => {
        if (!sock.destroyed) sock.write(encodeNetstring(JSON.stringify({ jsonrpc: '2.0', id, ...body })));
      },
      raw: (data) => {
        if (!sock.destroyed) sock.write(data);
      },
      destroy: () => sock.destroy(),
    };
    sock.on('data', (chunk: Buffer) => {
      let frames: string[];
      try {
        frames = decoder.push(chunk);
      } catch {
        sock.destroy();
        return;
      }
      for (const f of frames) {
        const raw = JSON.parse(f) as Record<string, unknown>;
        const msg: Received = { jsonrpc: raw.jsonrpc, id: raw.id, method: raw.method, params: raw.params, raw };
        this.received.push(msg);
        this.waiters = this.waiters.filter((w) => {
          if (this.received.length < w.n) return true;
          w.resolve();
          return false;
        });
        this.handler(msg, peer, this);
      }
    });
    sock.on('error', () => undefined);
    sock.on('close', () => this.sockets.delete(sock));
  }
}

