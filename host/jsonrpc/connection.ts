/**
 * One JSON-RPC server: one TCP connection carrying many requests at once, answers matched by id
 * in any order. Every request has its own timer. When the connection fails — refused, reset, a
 * frame that is not a netstring or not a JSON-RPC response — every request pending on it fails
 * at once ("failure": waiting for its timer would only delay the error route), and a reconnect
 * is scheduled with exponential backoff, at most `maxConnAttempts` times in a row (jsonrpc-c's
 * semantics: -1 forever, 0 never; a successful connect starts the count again).
 */
import net from 'node:net';
import type { ErrorBoundary } from '../boundary.js';
import { Backpressure, type BackpressureCounters } from '../backpressure.js';
import { encodeNetstring, NetstringDecoder, NetstringError } from './netstring.js';
import { parseResponse } from './message.js';

export type Outcome =
  | { readonly kind: 'result'; readonly text: string }
  | { readonly kind: 'error'; readonly text: string }
  | { readonly kind: 'timeout' }
  | { readonly kind: 'failure' }
  /** the answer nested deeper than maxJsonDepth: refused unparsed */
  | { readonly kind: 'too_deep' };

export type Done = (o: Outcome) => void;

export interface ConnectionSettings {
  /** every socket handler and timer of the connection runs inside it (host/boundary.ts) */
  readonly boundary: ErrorBoundary;
  readonly maxConnAttempts: number;
  readonly reconnectInterval: number;
  readonly reconnectMaxInterval: number;
  readonly connectTimeout: number;
  readonly maxNetstringBytes: number;
  readonly maxInFlight: number;
  /** answers nesting deeper are refused unparsed (the response object is level 1) */
  readonly maxJsonDepth: number;
  /**
   * A server that stops reading must not make us buffer without bound: past this many unsent
   * bytes the connection takes nothing more (requests fail over, notifications are refused)...
   */
  readonly maxUnsentBytes: number;
  /** ...and if it takes none of them for this long, the connection is closed and remade. */
  readonly stalledTimeoutMs: number;
  readonly backpressure: BackpressureCounters;
}

/** What a connection tells its owner (the pool): state changes and faults, for stats and logs. */
export interface ConnectionEvents {
  connected(c: Connection): void;
  /** the connection is down; `why` for the log; `retryMs` null when no reconnect will be made */
  down(c: Connection, why: string, retryMs: number | null): void;
  protocolError(c: Connection, why: string): void;
  unmatched(c: Connection, id: unknown): void;
  /** an answer nested deeper than maxJsonDepth; `id` its request's id when it could be read */
  tooDeep(c: Connection, id: number | undefined): void;
}

interface Pending {
  readonly done: Done;
  readonly timer: NodeJS.Timeout;
}

const FAILURE: Outcome = { kind: 'failure' };
const TIMEOUT: Outcome = { kind: 'timeout' };
const TOO_DEEP: Outcome = { kind: 'too_deep' };

export class Connection {
  readonly name: string;
  private socket: net.Socket | null = null;
  private backpressure: Backpressure | null = null;
  private up = false;
  private closed = false;
  private readonly pending = new Map<number, Pending>();
  private reconnectTimer: NodeJS.Timeout | null = null;
  /** failures since the last successful connect */
  private failures = 0;

  constructor(
    readonly host: string,
    readonly port: number,
    private readonly cfg: ConnectionSettings,
    private readonly events: ConnectionEvents,
  ) {
    this.name = `${host}:${String(port)}`;
  }

  get connected(): boolean {
    return this.up;
  }

  get inFlight(): number {
    return this.pending.size;
  }

  /** connected and below the in-flight cap */
  get canTake(): boolean {
    return this.writable && this.pending.size < this.cfg.maxInFlight;
  }

  /** connected, and the server is reading what we send */
  get writable(): boolean {
    return this.up && this.socket !== null && this.socket.writableLength < this.cfg.maxUnsentBytes;
  }

  connect(): void {
    if (this.closed || this.socket !== null) return;
    const decoder = new NetstringDecoder(this.cfg.maxNetstringBytes);
    const sock = net.connect({ host: this.host, port: this.port, noDelay: true });
    this.socket = sock;
    // Reading answers does not make us write, so reading goes on while the server is behind.
    this.backpressure = new Backpressure(sock, this.cfg, this.cfg.backpressure, {
      pauseReading: false,
      onStalled: () => {
        this.fail(sock, `the server took none of ${String(sock.writableLength)} unsent bytes in ${String(this.cfg.stalledTimeoutMs)} ms`);
      },
    });
    sock.setTimeout(this.cfg.connectTimeout, () => {
      if (!this.up) this.fail(sock, `no connection within ${String(this.cfg.connectTimeout)} ms`);
    });
    sock.once('connect', () => {
      sock.setTimeout(0);
      this.up = true;
      this.failures = 0;
      this.events.connected(this);
    });
    sock.on('data', (chunk: Buffer) => {
      if (!this.cfg.boundary.run('peer-data', () => { this.onData(sock, decoder, chunk); })) this.fail(sock, 'internal error while reading an answer');
    });
    sock.on('error', (e: Error) => {
      this.fail(sock, e.message);
    });
    sock.on('close', () => {
      this.fail(sock, 'connection closed by the server');
    });
  }

  /**
   * Send a request with this id; `done` is called exactly once, later (never from inside this
   * call). false when the connection cannot take it now (the caller tries another server).
   */
  request(id: number, text: string, timeoutMs: number, done: Done): boolean {
    const sock = this.socket;
    if (!this.canTake || sock === null) return false;
    const timer = this.cfg.boundary.timeout('module-timer', timeoutMs, () => {
      if (this.pending.delete(id)) done(TIMEOUT);
    }, null);
    this.pending.set(id, { done, timer });
    sock.write(encodeNetstring(text));
    this.backpressure?.check();
    return true;
  }

  /** Send a notification (no answer expected). false when not connected. */
  notify(text: string): boolean {
    const sock = this.socket;
    if (!this.writable || sock === null) return false;
    sock.write(encodeNetstring(text));
    this.backpressure?.check();
    return true;
  }

  /** Shut down for good: socket, timers; pending requests are dropped (the server is stopping). */
  close(): void {
    this.closed = true;
    if (this.reconnectTimer !== null) clearTimeout(this.reconnectTimer);
    this.reconnectTimer = null;
    for (const p of this.pending.values()) clearTimeout(p.timer);
    this.pending.clear();
    this.socket?.destroy();
    this.socket = null;
    this.backpressure = null;
    this.up = false;
  }

  private onData(sock: net.Socket, decoder: NetstringDecoder, chunk: Buffer): void {
    let frames: string[];
    try {
      frames = decoder.push(chunk);
    } catch (e) {
      if (!(e instanceof NetstringError)) throw e;
      this.protocolFault(sock, e.message);
      return;
    }
    for (const frame of frames) {
      if (this.socket !== sock) return;
      const r = parseResponse(frame, this.cfg.maxJsonDepth);
      if (r === null) {
        this.protocolFault(sock, 'a frame that is not a JSON-RPC 2.0 response');
        return;
      }
      const tooDeep = 'tooDeep' in r;
      if (tooDeep) {
        this.events.tooDeep(this, r.id);
        // Without an id nobody can be told: the stream is still in step (netstrings), but the
        // server is answering nonsense, as for any frame that is not a response.
        if (r.id === undefined) {
          this.protocolFault(sock, `an answer nested deeper than ${String(this.cfg.maxJsonDepth)} levels, without a top-level id`);
          return;
        }
      }
      const p = typeof r.id === 'number' ? this.pending.get(r.id) : undefined;
      if (p === undefined) {
        this.events.unmatched(this, r.id);
        continue;
      }
      this.pending.delete(r.id as number);
      clearTimeout(p.timer);
      p.done(tooDeep ? TOO_DEEP : r.ok ? { kind: 'result', text: r.result } : { kind: 'error', text: r.error });
    }
  }

  private protocolFault(sock: net.Socket, why: string): void {
    this.events.protocolError(this, why);
    this.fail(sock, `protocol error: ${why}`);
  }

  /** The connection `sock` is done for (any reason): fail what is pending, maybe reconnect. */
  private fail(sock: net.Socket, why: string): void {
    if (this.socket !== sock) return;
    this.socket = null;
    this.backpressure = null;
    this.up = false;
    sock.destroy();
    const failed = [...this.pending.values()];
    this.pending.clear();
    for (const p of failed) {
      clearTimeout(p.timer);
      p.done(FAILURE);
    }
    if (this.closed) return;
    this.failures++;
    const max = this.cfg.maxConnAttempts;
    if (max !== -1 && this.failures > max) {
      this.events.down(this, why, null);
      return;
    }
    const delay = Math.min(this.cfg.reconnectInterval * 2 ** Math.min(this.failures - 1, 20), this.cfg.reconnectMaxInterval);
    this.events.down(this, why, delay);
    this.reconnectTimer = this.cfg.boundary.timeout('module-timer', delay, () => {
      this.reconnectTimer = null;
      this.connect();
    }, null);
  }
}
