/**
 * Request/answer over UDP with a media relay's control protocol (rtpengine's NG protocol and
 * the rtpproxy protocol share the framing): a request is "<cookie> <payload>", its answer
 * "<cookie> <answer>". One connected socket per instance, answers matched by cookie, a request
 * sent again every `toutMs` until `tries` sends went unanswered (Kamailio's rtpengine_tout_ms
 * and rtpengine_retr), a limit on requests in flight. An ICMP port-unreachable (ECONNREFUSED on
 * the connected socket) fails that instance's pending requests at once: nothing listens there.
 *
 * It runs in the relay worker (relay-worker.ts) and knows nothing of threads; `guard` is where
 * its socket handlers and timers run, so a fault is reported instead of ending the thread.
 */
import dgram from 'node:dgram';

export interface ExchangeTarget {
  readonly family: 4 | 6;
  /** an IP literal */
  readonly ip: string;
  readonly port: number;
}

/** `unsent`: not sent for a reason of ours (too many in flight, too large, no worker): not the instance's fault */
export type Outcome = 'answer' | 'timeout' | 'refused' | 'unsent' | 'error';

export interface ExchangeResult {
  readonly outcome: Outcome;
  /** the answer after "<cookie> " ('answer' only) */
  readonly data: Buffer | null;
  /** how many times the request went out */
  readonly sends: number;
  /** what went wrong ('error', 'unsent') */
  readonly message: string;
}

export interface ExchangeLimits {
  /** requests waiting for an answer, all instances together: beyond it a request fails at once ('unsent') */
  readonly maxInFlight: number;
  /** the largest request sent */
  readonly maxRequestBytes: number;
}

export interface Guard {
  run(fn: () => void): void;
}

interface Pending {
  readonly target: number;
  readonly payload: Buffer;
  readonly toutMs: number;
  readonly tries: number;
  sends: number;
  timer: NodeJS.Timeout | null;
  readonly done: (r: ExchangeResult) => void;
}

const SPACE = 0x20;
const LF = 0x0a;

function result(outcome: Outcome, sends: number, message = '', data: Buffer | null = null): ExchangeResult {
  return { outcome, data, sends, message };
}

export class UdpExchanger {
  private readonly sockets: dgram.Socket[] = [];
  private readonly pending = new Map<string, Pending>();
  private closed = false;
  /** answers that matched no pending request (late, duplicated, or not ours) */
  stale = 0;

  constructor(
    private readonly targets: readonly ExchangeTarget[],
    private readonly limits: ExchangeLimits,
    private readonly guard: Guard,
  ) {}

  /** Open and connect one socket per instance. */
  async open(): Promise<void> {
    await Promise.all(this.targets.map((t, i) => new Promise<void>((resolve, reject) => {
      const sock = dgram.createSocket(t.family === 6 ? 'udp6' : 'udp4');
      this.sockets[i] = sock;
      sock.on('message', (data) => { this.guard.run(() => { this.onMessage(i, data); }); });
      sock.on('error', (err: NodeJS.ErrnoException) => { this.guard.run(() => { this.onError(i, err); }); });
      sock.once('connect', () => { resolve(); });
      try {
        sock.connect(t.port, t.ip);
      } catch (e) {
        reject(e instanceof Error ? e : new Error(String(e)));
      }
    })));
  }

  get inFlight(): number {
    return this.pending.size;
  }

  /** Send `payload` (which starts with "<cookie> ") to instance `target`; the promise never rejects. */
  request(target: number, cookie: string, payload: Buffer, toutMs: number, tries: number): Promise<ExchangeResult> {
    return new Promise((resolve) => {
      if (this.closed) return resolve(result('error', 0, 'closed'));
      if (this.sockets[target] === undefined) return resolve(result('error', 0, `no instance #${String(target)}`));
      if (payload.length > this.limits.maxRequestBytes) return resolve(result('unsent', 0, `request of ${String(payload.length)} bytes is over the limit`));
      if (this.pending.size >= this.limits.maxInFlight) return resolve(result('unsent', 0, `${String(this.pending.size)} requests in flight`));
      if (this.pending.has(cookie)) return resolve(result('error', 0, 'cookie in use'));
      const p: Pending = { target, payload, toutMs, tries: Math.max(1, tries), sends: 0, timer: null, done: resolve };
      this.pending.set(cookie, p);
      this.send(cookie, p);
    });
  }

  close(): void {
    this.closed = true;
    for (const [cookie, p] of this.pending) this.finish(cookie, p, result('error', p.sends, 'closed'));
    for (const s of this.sockets) s.close();
  }

  private send(cookie: string, p: Pending): void {
    p.sends++;
    this.sockets[p.target]?.send(p.payload, (err) => {
      if (err !== null) this.guard.run(() => { this.finish(cookie, p, result('error', p.sends, err.message)); });
    });
    p.timer = setTimeout(() => { this.guard.run(() => { this.onTimeout(cookie, p); }); }, p.toutMs);
  }

  private onTimeout(cookie: string, p: Pending): void {
    p.timer = null;
    if (this.pending.get(cookie) !== p) return;
    if (p.sends >= p.tries) this.finish(cookie, p, result('timeout', p.sends));
    else this.send(cookie, p);
  }

  private onMessage(target: number, data: Buffer): void {
    let end = 0;
    while (end < data.length && data[end] !== SPACE && data[end] !== LF) end++;
    const cookie = data.toString('latin1', 0, end);
    const p = this.pending.get(cookie);
    if (p?.target !== target) {
      this.stale++;
      return;
    }
    const start = end < data.length && data[end] === SPACE ? end + 1 : end;
    this.finish(cookie, p, result('answer', p.sends, '', data.subarray(start)));
  }

  private onError(target: number, err: NodeJS.ErrnoException): void {
    const outcome: Outcome = err.code === 'ECONNREFUSED' ? 'refused' : 'error';
    for (const [cookie, p] of this.pending) {
      if (p.target === target) this.finish(cookie, p, result(outcome, p.sends, err.message));
    }
  }

  private finish(cookie: string, p: Pending, r: ExchangeResult): void {
    if (this.pending.get(cookie) !== p) return;
    this.pending.delete(cookie);
    if (p.timer !== null) clearTimeout(p.timer);
    p.done(r);
  }
}
