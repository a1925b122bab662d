/**
 * The main thread's side of a module's media relay exchanges (docs/decisions.md, "Media relays:
 * the script waits in place"). A KSR call like rtpengine_offer must return the relay's answer —
 * the new SDP, or -1 — before the script goes on, and neither engine can suspend a callback in
 * the middle. So `request` blocks the main thread (Atomics.wait) while the relay worker
 * (relay-worker.ts) sends, retransmits and matches the answer; request and answer cross in a
 * SharedArrayBuffer, not by message (the cheaper wake-up); the wait is bounded by
 * toutMs × tries plus a margin, even if the worker stalls. `requestAsync` is for what need not
 * wait (pings at start and while an instance is disabled, RPC).
 *
 * The worker loads TypeScript through tsx, which Node 20 does not register in workers by itself:
 * it is started from a one-line module that registers tsx first.
 */
import { Worker } from 'node:worker_threads';
import type { Logger } from 'pino';
import type { ErrorBoundary } from '../boundary.js';
import type { ExchangeLimits, ExchangeResult, ExchangeTarget } from './udp-exchange.js';
import {
  HEADER_BYTES, HEADER_INTS, MAX_ANSWER, MAX_REQUEST, OUTCOMES, SHARED_BYTES, SLOT_LENGTH, SLOT_OUTCOME, SLOT_REQ,
  SLOT_REQ_COOKIE, SLOT_REQ_LENGTH, SLOT_REQ_TARGET, SLOT_REQ_TOUT, SLOT_REQ_TRIES, SLOT_SENDS, SLOT_STALE, SLOT_STATE,
  type WorkerInput, type WorkerMessage, type WorkerRequest,
} from './relay-worker.js';
/** beyond toutMs × tries: how much longer the main thread waits for a stalled worker */
const WAIT_MARGIN_MS = 200;
/** how long the worker may take to start */
const START_TIMEOUT_MS = 10_000;
/** a worker that stopped is started again after this long */
const RESTART_MS = 1000;

export interface TransportHost {
  readonly boundary: ErrorBoundary;
  readonly log: Logger;
}

function unsent(message: string): ExchangeResult {
  return { outcome: 'unsent', data: null, sends: 0, message };
}

function workerUrl(): URL {
  const tsx = import.meta.resolve('tsx/esm/api');
  const entry = new URL('./relay-worker.ts', import.meta.url).href;
  const boot = `import { register } from ${JSON.stringify(tsx)}; register(); await import(${JSON.stringify(entry)});`;
  return new URL(`data:text/javascript,${encodeURIComponent(boot)}`);
}

export class RelayTransport {
  private readonly header: Int32Array;
  private readonly data: Uint8Array;
  private readonly reqArea: Uint8Array;
  private readonly waiting = new Map<number, (r: ExchangeResult) => void>();
  private nextId = 1;
  private worker: Worker | null = null;
  private closed = false;
  /** sync waits the worker did not answer in time (it stalled or died) */
  stalls = 0;
  /** times the worker stopped and was started again */
  restarts = 0;

  private constructor(
    private readonly input: WorkerInput,
    private readonly host: TransportHost,
  ) {
    this.header = new Int32Array(input.shared, 0, HEADER_INTS);
    this.data = new Uint8Array(input.shared, HEADER_BYTES, MAX_ANSWER);
    this.reqArea = new Uint8Array(input.shared, HEADER_BYTES + MAX_ANSWER, MAX_REQUEST);
  }

  /** Start the worker and open one socket per target; rejects when it cannot. */
  static async start(targets: readonly ExchangeTarget[], limits: ExchangeLimits, host: TransportHost): Promise<RelayTransport> {
    const shared = new SharedArrayBuffer(SHARED_BYTES);
    const t = new RelayTransport({ targets, limits, shared }, host);
    await t.spawn();
    return t;
  }

  /** A new worker, once it has opened its sockets. */
  private async spawn(): Promise<void> {
    // a request left by a worker that stopped is not the new one's (its waiter gave up)
    Atomics.store(this.header, SLOT_REQ, 0);
    const worker = new Worker(workerUrl(), { workerData: this.input, name: 'media-relay' });
    worker.unref();
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => { reject(new Error('the relay worker did not start in time')); }, START_TIMEOUT_MS);
      const first = (m: WorkerMessage): void => {
        if (m.kind !== 'ready' && m.kind !== 'failed') return;
        clearTimeout(timer);
        worker.off('message', first);
        if (m.kind === 'ready') resolve();
        else reject(new Error(`the relay worker could not open its sockets: ${m.message}`));
      };
      worker.on('message', first);
      worker.once('error', (e) => { clearTimeout(timer); reject(e); });
    }).catch(async (e: unknown) => {
      await worker.terminate();
      throw e;
    });
    if (this.closed) {
      await worker.terminate();
      return;
    }
    const b = this.host.boundary;
    worker.on('message', (m: WorkerMessage) => { b.run('peer-data', () => { this.onMessage(m); }); });
    worker.on('error', (e) => { b.run('peer-data', () => { this.onExit(worker, e.message); }); });
    worker.on('exit', (code) => { b.run('peer-data', () => { this.onExit(worker, `exit code ${String(code)}`); }); });
    this.worker = worker;
  }

  /** answers the worker received that matched no request */
  get stale(): number {
    return Atomics.load(this.header, SLOT_STALE);
  }

  /**
   * Send and wait here for the answer (the main thread does nothing else meanwhile): at most
   * toutMs × tries, plus a margin should the worker stall.
   */
  request(target: number, cookie: string, payload: Buffer, toutMs: number, tries: number): ExchangeResult {
    const worker = this.worker;
    if (worker === null) return unsent('the relay worker is not running');
    if (payload.length > MAX_REQUEST) return unsent(`request of ${String(payload.length)} bytes is over the limit`);
    const id = this.newId();
    const h = this.header;
    Atomics.store(h, SLOT_STATE, id);
    this.reqArea.set(payload);
    Atomics.store(h, SLOT_REQ_LENGTH, payload.length);
    Atomics.store(h, SLOT_REQ_COOKIE, Buffer.byteLength(cookie, 'latin1'));
    Atomics.store(h, SLOT_REQ_TARGET, target);
    Atomics.store(h, SLOT_REQ_TOUT, toutMs);
    Atomics.store(h, SLOT_REQ_TRIES, tries);
    // the id last: the worker takes the request when it sees it (relay-worker.ts)
    Atomics.store(h, SLOT_REQ, id);
    Atomics.notify(h, SLOT_REQ);
    const budget = toutMs * Math.max(1, tries) + WAIT_MARGIN_MS;
    const deadline = performance.now() + budget;
    // a spurious wake-up is possible in principle: wait again for what is left
    while (Atomics.load(this.header, SLOT_STATE) === id) {
      const left = deadline - performance.now();
      if (left <= 0) break;
      Atomics.wait(this.header, SLOT_STATE, id, left);
    }
    // give up on it: a late answer no longer matches the state slot
    if (Atomics.compareExchange(this.header, SLOT_STATE, id, 0) === id) {
      this.stalls++;
      return unsent('the relay worker did not answer in time');
    }
    const outcome = OUTCOMES[Atomics.load(this.header, SLOT_OUTCOME)] ?? 'error';
    const len = Atomics.load(this.header, SLOT_LENGTH);
    const sends = Atomics.load(this.header, SLOT_SENDS);
    if (len < 0) return { outcome: 'error', data: null, sends, message: 'answer too large' };
    const bytes = Buffer.from(this.data.subarray(0, len));
    return outcome === 'answer'
      ? { outcome, data: bytes, sends, message: '' }
      : { outcome, data: null, sends, message: bytes.toString() };
  }

  /** Send without waiting here; never rejects. */
  requestAsync(target: number, cookie: string, payload: Buffer, toutMs: number, tries: number): Promise<ExchangeResult> {
    const worker = this.worker;
    if (worker === null) return Promise.resolve(unsent('the relay worker is not running'));
    const id = this.newId();
    return new Promise((resolve) => {
      this.waiting.set(id, resolve);
      const req: WorkerRequest = { id, target, cookie, payload, toutMs, tries };
      worker.postMessage(req);
    });
  }

  /** End the worker as a crash would (the RPC and tests): it is started again after RESTART_MS. */
  async crash(): Promise<void> {
    await this.worker?.terminate();
  }

  async close(): Promise<void> {
    this.closed = true;
    const worker = this.worker;
    this.worker = null;
    for (const done of this.waiting.values()) done(unsent('closed'));
    this.waiting.clear();
    if (worker === null) return;
    worker.postMessage('close');
    await worker.terminate();
  }

  private newId(): number {
    const id = this.nextId;
    this.nextId = id >= 0x3fffffff ? 1 : id + 1;
    return id;
  }

  private onMessage(m: WorkerMessage): void {
    if (m.kind === 'result') {
      const done = this.waiting.get(m.id);
      this.waiting.delete(m.id);
      done?.({ ...m.result, data: m.result.data === null ? null : Buffer.from(m.result.data) });
    } else if (m.kind === 'fault') {
      this.host.boundary.caught('peer-data', new Error(`media relay worker: ${m.message}`));
    }
  }

  private onExit(worker: Worker, why: string): void {
    if (this.worker !== worker || this.closed) return;
    this.worker = null;
    this.host.log.error({ why }, `media relay worker stopped: relay requests fail until it is started again (in ${String(RESTART_MS)} ms)`);
    for (const done of this.waiting.values()) done(unsent('the relay worker stopped'));
    this.waiting.clear();
    void worker.terminate();
    this.host.boundary.timeout('module-timer', RESTART_MS, () => { this.restart(); }, undefined);
  }

  private restart(): void {
    if (this.closed || this.worker !== null) return;
    this.restarts++;
    this.host.boundary.then(this.spawn(), 'module-promise', () => {
      this.host.log.info('media relay worker started again');
    }, (e: unknown) => {
      this.host.log.error({ err: e }, 'media relay worker could not be started again; trying later');
      this.host.boundary.timeout('module-timer', RESTART_MS, () => { this.restart(); }, undefined);
    });
  }
}
