/**
 * What a media relay client needs from the runtime (PoolHost), standalone: an error boundary,
 * a silent logger and counters readable by name — for tests of host/rtpengine and host/rtpproxy
 * without a whole server. Also a UDP relay between a client and an instance that can drop
 * datagrams, to test retransmission against the real daemon.
 */
import { Worker } from 'node:worker_threads';
import { once } from 'node:events';
import { pino } from 'pino';
import { ErrorBoundary } from '../../host/boundary.js';
import type { PoolCounters, PoolHost } from '../../host/media-relay/relay-pool.js';
import { Stats } from '../../host/kemi/stats.js';

export interface TestPoolHost extends PoolHost {
  readonly stats: Stats;
  /** a counter's value by name */
  get(name: string): number;
}

export function testPoolHost(module = 'relay'): TestPoolHost {
  const stats = new Stats();
  const log = pino({ level: process.env.KEMIHOST_TEST_LOG ?? 'silent' });
  return {
    stats,
    log,
    boundary: new ErrorBoundary(log, stats),
    stat: (name) => stats.counter(module, name),
    gauge: (name) => stats.gauge(module, name),
    get: (name) => stats.get(`${module}:${name}`) ?? 0,
  };
}

export function poolCounters(host: PoolHost): PoolCounters {
  return {
    requests: host.stat('requests'),
    retransmissions: host.stat('retransmissions'),
    timeouts: host.stat('timeouts'),
    refused: host.stat('refused'),
    unsent: host.stat('unsent'),
    disabled: host.stat('disabled'),
  };
}

/**
 * A UDP relay on 127.0.0.1 in front of `targetPort`: passes datagrams both ways, except that it
 * drops the first `dropFirst` requests of each distinct payload (what a lossy network does to
 * a request that is then sent again), and every request while `blackhole` is set.
 *
 * It runs in a worker thread of its own: a client waiting in place for an answer blocks this
 * thread, and a relay on it could not pass anything on meanwhile. Its figures and the switch
 * are in shared memory, read and set without the event loop.
 */
const RELAY_CODE = `
const { parentPort, workerData } = require('node:worker_threads');
const dgram = require('node:dgram');
const { shared, targetPort, dropFirst } = workerData;
const state = new Int32Array(shared);
const seen = new Map();
const front = dgram.createSocket('udp4');
const back = dgram.createSocket('udp4');
let client = 0;
front.on('message', (m, rinfo) => {
  client = rinfo.port;
  const key = m.toString('latin1');
  const n = (seen.get(key) || 0) + 1;
  seen.set(key, n);
  Atomics.add(state, 0, 1);
  if (n > dropFirst && Atomics.load(state, 1) === 0) back.send(m, targetPort, '127.0.0.1');
});
back.on('message', (m) => { if (client !== 0) front.send(m, client, '127.0.0.1'); });
let bound = 0;
const ready = () => { if (++bound === 2) parentPort.postMessage(front.address().port); };
front.bind(0, '127.0.0.1', ready);
back.bind(0, '127.0.0.1', ready);
parentPort.on('message', () => { front.close(); back.close(); parentPort.close(); });
`;

export class LossyRelay {
  private readonly state: Int32Array;
  private constructor(
    private readonly worker: Worker,
    shared: SharedArrayBuffer,
    readonly port: number,
  ) {
    this.state = new Int32Array(shared);
  }

  static async open(targetPort: number, dropFirst: number): Promise<LossyRelay> {
    const shared = new SharedArrayBuffer(8);
    const worker = new Worker(RELAY_CODE, { eval: true, workerData: { shared, targetPort, dropFirst } });
    const [port] = (await once(worker, 'message')) as [number];
    return new LossyRelay(worker, shared, port);
  }

  /** requests the relay received, all payloads together */
  get received(): number {
    return Atomics.load(this.state, 0);
  }

  /** drop every request while true (an instance that went silent) */
  set blackhole(on: boolean) {
    Atomics.store(this.state, 1, on ? 1 : 0);
  }

  async close(): Promise<void> {
    this.worker.postMessage('close');
    await this.worker.terminate();
  }
}
