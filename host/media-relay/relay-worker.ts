/**
 * The relay worker thread: owns the control sockets of one module's media relay instances and
 * runs its exchanges (udp-exchange.ts) on its own event loop, so the main thread can wait for an
 * answer in place (relay-transport.ts) while the sockets and timers keep working here.
 *
 * A request the main thread waits for ("sync") goes both ways through the shared buffer. The
 * main thread writes it into the request area and its id into SLOT_REQ, and wakes this thread,
 * which waits for that slot with Atomics.waitAsync between its other work. The answer goes back
 * the same way: the outcome and the answer are written first, then SLOT_STATE is switched from
 * the request's id to minus its id and the main thread is woken. A request the main thread has
 * given up on no longer matches SLOT_STATE, so its late result is dropped. Why not postMessage:
 * it cost the main thread twice as much per request (structured clone, a message queue) for the
 * same wake-up (docs/decisions.md, "Media relays: the script waits in place"). Other requests
 * (pings, RPC) go by message.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { UdpExchanger, type ExchangeLimits, type ExchangeResult, type ExchangeTarget, type Outcome } from './udp-exchange.js';

export const HEADER_INTS = 16;
export const HEADER_BYTES = HEADER_INTS * 4;
/** the largest answer (a UDP datagram is at most 65,507 bytes) */
export const MAX_ANSWER = 65_536;
/** the largest sync request (the exchanger's own limit is 65,507) */
export const MAX_REQUEST = 65_536;
export const SHARED_BYTES = HEADER_BYTES + MAX_ANSWER + MAX_REQUEST;
/** slots of the shared header: the answer to the sync request */
export const SLOT_STATE = 0;
export const SLOT_OUTCOME = 1;
export const SLOT_LENGTH = 2;
export const SLOT_SENDS = 3;
export const SLOT_STALE = 4;
/** the sync request: its id (0 = none waiting to be taken; -1 = the worker is to stop), then its fields */
export const SLOT_REQ = 5;
export const SLOT_REQ_TARGET = 6;
export const SLOT_REQ_LENGTH = 7;
export const SLOT_REQ_COOKIE = 8;
export const SLOT_REQ_TOUT = 9;
export const SLOT_REQ_TRIES = 10;
/** SLOT_REQ's value that ends the worker's wait for requests */
export const REQ_STOP = -1;
export const OUTCOMES: readonly Outcome[] = ['answer', 'timeout', 'refused', 'unsent', 'error'];

export interface WorkerInput {
  readonly targets: readonly ExchangeTarget[];
  readonly limits: ExchangeLimits;
  readonly shared: SharedArrayBuffer;
}

export interface WorkerRequest {
  readonly id: number;
  readonly target: number;
  readonly cookie: string;
  readonly payload: Uint8Array;
  readonly toutMs: number;
  readonly tries: number;
}

export type WorkerMessage =
  | { readonly kind: 'ready' }
  | { readonly kind: 'failed'; readonly message: string }
  | { readonly kind: 'result'; readonly id: number; readonly result: ExchangeResult }
  | { readonly kind: 'fault'; readonly message: string };

function main(): void {
  const port = parentPort;
  if (port === null) return;
  const input = workerData as WorkerInput;
  const header = new Int32Array(input.shared, 0, HEADER_INTS);
  const data = new Uint8Array(input.shared, HEADER_BYTES, MAX_ANSWER);
  const reqArea = new Uint8Array(input.shared, HEADER_BYTES + MAX_ANSWER, MAX_REQUEST);
  const post = (m: WorkerMessage): void => { port.postMessage(m); };
  const guard = {
    run(fn: () => void): void {
      try {
        fn();
      } catch (e) {
        post({ kind: 'fault', message: e instanceof Error ? (e.stack ?? e.message) : String(e) });
      }
    },
  };
  const ex = new UdpExchanger(input.targets, input.limits, guard);

  const answerSync = (id: number, r: ExchangeResult): void => {
    if (Atomics.load(header, SLOT_STATE) !== id) return;
    const body = r.outcome === 'answer' ? (r.data ?? Buffer.alloc(0)) : Buffer.from(r.message);
    const n = Math.min(body.length, data.length);
    data.set(body.subarray(0, n));
    Atomics.store(header, SLOT_OUTCOME, OUTCOMES.indexOf(r.outcome));
    Atomics.store(header, SLOT_LENGTH, r.outcome === 'answer' && n < body.length ? -1 : n);
    Atomics.store(header, SLOT_SENDS, r.sends);
    Atomics.store(header, SLOT_STALE, ex.stale);
    if (Atomics.compareExchange(header, SLOT_STATE, id, -id) === id) Atomics.notify(header, SLOT_STATE);
  };

  /** The sync request in the shared buffer, if the main thread still waits for it. */
  const takeSync = (): void => {
    const id = Atomics.exchange(header, SLOT_REQ, 0);
    if (id <= 0) return;
    const len = Atomics.load(header, SLOT_REQ_LENGTH);
    const payload = Buffer.from(reqArea.subarray(0, Math.min(Math.max(0, len), MAX_REQUEST)));
    // the main thread gave up on it meanwhile and may be writing the next one: drop it
    if (Atomics.load(header, SLOT_STATE) !== id) return;
    const cookie = payload.toString('latin1', 0, Atomics.load(header, SLOT_REQ_COOKIE));
    const target = Atomics.load(header, SLOT_REQ_TARGET);
    void ex.request(target, cookie, payload, Atomics.load(header, SLOT_REQ_TOUT), Atomics.load(header, SLOT_REQ_TRIES)).then((r) => {
      guard.run(() => { answerSync(id, r); });
    });
  };

  /** Wait for sync requests without blocking this thread's event loop, until told to stop. */
  const serveSync = async (): Promise<void> => {
    for (;;) {
      const w = Atomics.waitAsync(header, SLOT_REQ, 0);
      if (w.async) await w.value;
      if (Atomics.load(header, SLOT_REQ) === REQ_STOP) return;
      guard.run(takeSync);
    }
  };

  port.on('message', (m: WorkerRequest | 'close') => {
    guard.run(() => {
      if (m === 'close') {
        Atomics.store(header, SLOT_REQ, REQ_STOP);
        Atomics.notify(header, SLOT_REQ);
        ex.close();
        port.close();
        return;
      }
      const payload = Buffer.from(m.payload.buffer, m.payload.byteOffset, m.payload.byteLength);
      void ex.request(m.target, m.cookie, payload, m.toutMs, m.tries).then((r) => {
        guard.run(() => {
          post({ kind: 'result', id: m.id, result: { ...r, data: r.data === null ? null : Buffer.from(r.data) } });
        });
      });
    });
  });

  ex.open().then(
    () => {
      void serveSync();
      post({ kind: 'ready' });
    },
    (e: unknown) => { post({ kind: 'failed', message: e instanceof Error ? e.message : String(e) }); },
  );
}

main();
