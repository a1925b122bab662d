/**
 * SIP over TCP (RFC 3261 §18.3): framing by Content-Length, a connection table keyed by the
 * peer's ip:port (replies and forwarded requests reuse connections), timeouts for idle peers and
 * for peers that stop in the middle of a message, and backpressure: a peer that does not read
 * its replies stops being read from, and is disconnected if it does not catch up (backpressure.ts).
 */
import net from 'node:net';
import type { Logger } from 'pino';
import { Backpressure, type BackpressureCounters } from '../backpressure.js';
import { LogLimiter } from '../log-limiter.js';
import { SEND_CLOSE, SEND_NO_CONNECT, type Source } from './types.js';
import { hostPort } from './listen.js';
import type { ReceiveHandler, SipConnection, SipSocket } from './socket.js';
import { SipStreamFramer } from './stream-framer.js';

export interface TcpOptions {
  readonly maxMessageBytes: number;
  readonly idleTimeoutMs: number;
  readonly partialTimeoutMs: number;
  readonly maxConnections: number;
  /** past this many bytes not yet sent to a peer, stop reading from it */
  readonly maxUnsentBytes: number;
  /** close a peer that has not taken its unsent bytes within this long */
  readonly stalledTimeoutMs: number;
  readonly backpressure: BackpressureCounters;
}

/** What the router does with a framing error: answer it when it can, the connection then closes. */
export type FrameErrorHandler = (conn: SipConnection, src: Source, code: 400 | 413 | 513, reason: string, head: Buffer | null) => void;

const CRLF = Buffer.from('\r\n');

class TcpConnection implements SipConnection {
  readonly key: string;
  private readonly framer: SipStreamFramer;
  private readonly backpressure: Backpressure;
  private partialTimer: NodeJS.Timeout | null = null;

  constructor(
    private readonly sock: net.Socket,
    private readonly owner: TcpListener,
    readonly src: Source,
  ) {
    this.key = hostPort(src.ip, src.port);
    this.framer = new SipStreamFramer({ maxMessageBytes: owner.opts.maxMessageBytes });
    sock.setNoDelay(true);
    const o = owner.opts;
    this.backpressure = new Backpressure(sock, o, o.backpressure, {
      pauseReading: true,
      // While we do not read, a message cut in the middle is our doing, not the peer's.
      onPaused: () => { this.clearPartial(); },
      onRelieved: () => { if (this.framer.pendingBytes > 0) this.armPartial(); },
      onStalled: () => {
        if (owner.limiter.allow('stalled')) {
          owner.log.warn({ peer: this.key, unsent: sock.writableLength, ms: o.stalledTimeoutMs, suppressed: owner.limiter.suppressed('stalled') }, 'TCP peer does not read its replies; closed');
        }
        sock.destroy();
      },
    });
    sock.setTimeout(owner.opts.idleTimeoutMs, () => {
      owner.log.debug({ peer: this.key }, 'closing idle TCP connection');
      sock.destroy();
    });
    sock.on('data', (chunk: Buffer) => { this.onData(chunk); });
    sock.on('error', (err) => { owner.log.debug({ err, peer: this.key }, 'TCP connection error'); });
    sock.on('close', () => {
      this.clearPartial();
      owner.forget(this);
    });
  }

  get closed(): boolean {
    return this.sock.destroyed || !this.sock.writable;
  }

  write(data: Buffer): void {
    if (this.closed) return;
    this.owner.onSend(data);
    this.sock.write(data);
    this.backpressure.check();
  }

  end(data?: Buffer): void {
    if (this.closed) return;
    if (data === undefined) {
      this.sock.end();
    } else {
      this.owner.onSend(data);
      this.sock.end(data);
      this.backpressure.check();
    }
    // do not wait for a peer that never reads
    setTimeout(() => this.sock.destroy(), 1000).unref();
  }

  private onData(chunk: Buffer): void {
    for (const r of this.framer.push(chunk)) {
      if (r.kind === 'message') this.owner.onReceive(r.data, this.src, this, this.owner);
      else if (r.kind === 'keepalive') {
        this.sock.write(CRLF); // not a SIP message: not counted
        this.backpressure.check();
      } else {
        this.owner.onFrameError(this, this.src, r.code, r.reason, r.head);
        this.end();
        return;
      }
    }
    if (this.framer.pendingBytes > 0 && !this.backpressure.stalled) this.armPartial();
    else this.clearPartial();
  }

  private armPartial(): void {
    if (this.partialTimer !== null) return;
    this.partialTimer = setTimeout(() => {
      this.owner.log.info({ peer: this.key, pending: this.framer.pendingBytes }, 'TCP peer stopped in the middle of a message; closing');
      this.owner.stats.partialTimeouts++;
      this.sock.destroy();
    }, this.owner.opts.partialTimeoutMs);
    this.partialTimer.unref();
  }

  private clearPartial(): void {
    if (this.partialTimer !== null) clearTimeout(this.partialTimer);
    this.partialTimer = null;
  }
}

export class TcpListener implements SipSocket {
  readonly proto = 'tcp' as const;
  readonly localIp: string;
  localPort: number;
  readonly family: 4 | 6;
  readonly stats = { partialTimeouts: 0 };
  /** one line per 10 s for peers closed because they do not read */
  readonly limiter = new LogLimiter(10_000);
  onReceive: ReceiveHandler = () => undefined;
  /** sees every message sent (statistics by method and status) */
  onSend: (data: Buffer) => void = () => undefined;
  private readonly server: net.Server;
  private readonly conns = new Map<string, TcpConnection>();

  constructor(
    host: string,
    port: number,
    readonly opts: TcpOptions,
    readonly log: Logger,
    readonly onFrameError: FrameErrorHandler,
  ) {
    this.localIp = host;
    this.localPort = port;
    this.family = host.includes(':') ? 6 : 4;
    this.server = net.createServer((sock) => { this.accept(sock); });
    this.server.maxConnections = opts.maxConnections;
  }

  async listen(onReceive: ReceiveHandler): Promise<void> {
    this.onReceive = onReceive;
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen({ host: this.localIp, port: this.localPort, ipv6Only: this.family === 6 }, () => {
        this.server.off('error', reject);
        resolve();
      });
    });
    const addr = this.server.address();
    if (addr !== null && typeof addr === 'object') this.localPort = addr.port;
    this.server.on('error', (err) => { this.log.error({ err }, 'TCP listener error'); });
  }

  private accept(sock: net.Socket): void {
    const src: Source = {
      proto: 'tcp',
      ip: (sock.remoteAddress ?? '').replace(/^::ffff:/, ''),
      port: sock.remotePort ?? 0,
      localIp: this.localIp,
      localPort: this.localPort,
    };
    const conn = new TcpConnection(sock, this, src);
    this.conns.set(conn.key, conn);
  }

  forget(conn: TcpConnection): void {
    if (this.conns.get(conn.key) === conn) this.conns.delete(conn.key);
  }

  reachable(ip: string, port: number, flags: number): boolean {
    if ((flags & SEND_NO_CONNECT) === 0) return true;
    const conn = this.conns.get(hostPort(ip, port));
    return conn !== undefined && !conn.closed;
  }

  /**
   * Send over the connection to ip:port, opening one when there is none (RFC 3261 §18.2.2)
   * unless SEND_NO_CONNECT; SEND_CLOSE closes it once written (Kamailio's send flags).
   */
  send(data: Buffer, ip: string, port: number, flags = 0): void {
    const key = hostPort(ip, port);
    let conn = this.conns.get(key);
    if (conn === undefined || conn.closed) {
      if ((flags & SEND_NO_CONNECT) !== 0) {
        this.log.debug({ to: key }, 'no TCP connection and no connect asked for; message not sent');
        return;
      }
      if (this.conns.size >= this.opts.maxConnections) {
        this.log.warn({ to: key }, 'TCP connection limit reached; message not sent');
        return;
      }
      const sock = net.connect({ host: ip, port, family: this.family });
      const src: Source = { proto: 'tcp', ip, port, localIp: this.localIp, localPort: this.localPort };
      conn = new TcpConnection(sock, this, src);
      this.conns.set(key, conn);
    }
    if ((flags & SEND_CLOSE) !== 0) conn.end(data);
    else conn.write(data);
  }

  get connectionCount(): number {
    return this.conns.size;
  }

  async close(): Promise<void> {
    const closed = new Promise<void>((resolve) => { this.server.close(() => { resolve(); }); });
    for (const c of this.conns.values()) c.end();
    await closed;
  }
}
