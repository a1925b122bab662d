/**
 * A module's media relay instances at work: their sets, the worker that talks to them, the
 * cookies, disabling an instance that does not answer and enabling it again once it answers a
 * ping. The protocol (rtpengine NG, rtpproxy) is the caller's: it hands in the request bytes
 * after the cookie and gets the answer bytes back, and says how to ping (`probe`).
 *
 * Kamailio re-tests a disabled instance inside the request that finds its time is up, which
 * makes that request wait on a ping. Here a timer pings it as soon as its time is up, off the
 * message path, and it is used again once it answered.
 */
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import type { ErrorBoundary } from '../boundary.js';
import type { Counter } from '../kemi/stats.js';
import { LogLimiter } from '../log-limiter.js';
import { RelaySets, RelayNode } from './relay-set.js';
import { RelayTransport } from './relay-transport.js';
import type { RelaySetSpec } from './relay-url.js';
import type { ExchangeResult } from './udp-exchange.js';

export interface PoolParams {
  /** seconds an instance that did not answer is skipped */
  readonly disableToutSec: number;
  /** ms to wait for an answer before sending again */
  readonly toutMs: number;
  /** sends before giving up (at least 1) */
  readonly tries: number;
  /** requests waiting for an answer at once (pings and RPC included) */
  readonly maxInFlight: number;
}

export interface PoolHost {
  readonly boundary: ErrorBoundary;
  readonly log: Logger;
  stat(name: string): Counter;
  gauge(name: string): Counter;
}

export interface PoolCounters {
  readonly requests: Counter;
  readonly retransmissions: Counter;
  readonly timeouts: Counter;
  readonly refused: Counter;
  /** requests not sent for a reason of ours (too many in flight, too large, no worker) */
  readonly unsent: Counter;
  readonly disabled: Counter;
}

/** How the protocol pings an instance: true when it answered as it should. */
export type Probe = (pool: RelayPool, node: RelayNode) => Promise<boolean>;

/** how often disabled instances are looked at */
const SWEEP_MS = 1000;

async function resolve(host: string, family: 4 | 6): Promise<string> {
  if (isIP(host) !== 0) return host;
  return (await lookup(host, { family })).address;
}

/** "instance_<set>_<host>_<port>_" for an instance's counters */
function counterPrefix(setId: number, host: string, port: number): string {
  return `instance_${String(setId)}_${host}_${String(port)}_`;
}

export class RelayPool {
  private readonly limiter = new LogLimiter(10_000);
  private readonly nonce = randomBytes(3).toString('hex');
  private seq = 0;
  private sweeper: NodeJS.Timeout | null = null;

  private constructor(
    readonly sets: RelaySets,
    readonly transport: RelayTransport,
    private readonly params: PoolParams,
    private readonly host: PoolHost,
    private readonly counters: PoolCounters,
    private readonly probe: Probe,
  ) {}

  /**
   * Resolve the instances, start the worker, ping every instance once (one that does not
   * answer starts disabled) and start the re-check timer. Rejects on a name that does not
   * resolve or sockets that cannot be opened.
   */
  static async start(specs: readonly RelaySetSpec[], params: PoolParams, host: PoolHost, counters: PoolCounters, probe: Probe): Promise<RelayPool> {
    const nodes: RelayNode[] = [];
    for (const set of specs) {
      for (const url of set.urls) {
        const ip = await resolve(url.host, url.family);
        const p = counterPrefix(set.id, url.host, url.port);
        nodes.push(new RelayNode(nodes.length, set.id, url, ip, url.weight, {
          requests: host.stat(`${p}requests`),
          timeouts: host.stat(`${p}timeouts`),
          errors: host.stat(`${p}errors`),
          disabled: host.gauge(`${p}disabled`),
        }));
      }
    }
    const targets = nodes.map((n) => ({ family: n.url.family, ip: n.ip, port: n.url.port }));
    const transport = await RelayTransport.start(targets, { maxInFlight: params.maxInFlight, maxRequestBytes: 65_507 }, host);
    const pool = new RelayPool(new RelaySets(nodes), transport, params, host, counters, probe);
    await Promise.all(nodes.map((n) => pool.recheck(n)));
    pool.sweeper = host.boundary.interval('module-timer', SWEEP_MS, () => { pool.sweep(); });
    return pool;
  }

  get stale(): number {
    return this.transport.stale;
  }

  private cookie(): string {
    this.seq = (this.seq + 1) % 0x7fffffff;
    return `${String(process.pid)}_${this.nonce}_${String(this.seq)}`;
  }

  private frame(cookie: string, body: Buffer | string): Buffer {
    const b = typeof body === 'string' ? Buffer.from(body) : body;
    return Buffer.concat([Buffer.from(`${cookie} `), b]);
  }

  /**
   * One request to `node`, waited for in place. A node that does not answer (timeout, refused,
   * an error sending) is disabled for disable_tout; `unsent` (ours: too many in flight, too large,
   * no worker) is not its fault.
   */
  exchange(node: RelayNode, body: Buffer | string): ExchangeResult {
    const cookie = this.cookie();
    node.counters.requests.value++;
    this.counters.requests.value++;
    const r = this.transport.request(node.index, cookie, this.frame(cookie, body), this.params.toutMs, this.params.tries);
    this.account(node, r);
    return r;
  }

  /** The same without waiting here (pings, RPC). */
  async exchangeAsync(node: RelayNode, body: Buffer | string): Promise<ExchangeResult> {
    const cookie = this.cookie();
    node.counters.requests.value++;
    this.counters.requests.value++;
    const r = await this.transport.requestAsync(node.index, cookie, this.frame(cookie, body), this.params.toutMs, this.params.tries);
    this.account(node, r);
    return r;
  }

  private account(node: RelayNode, r: ExchangeResult): void {
    if (r.sends > 1) this.counters.retransmissions.value += r.sends - 1;
    if (r.outcome === 'answer') return;
    if (r.outcome === 'unsent') {
      this.counters.unsent.value++;
      this.warn('unsent', `media relay: request to ${node.name} not sent: ${r.message}`, {});
      return;
    }
    if (r.outcome === 'timeout') {
      this.counters.timeouts.value++;
      node.counters.timeouts.value++;
    } else if (r.outcome === 'refused') {
      this.counters.refused.value++;
      node.counters.errors.value++;
    } else {
      node.counters.errors.value++;
    }
    this.markDown(node, r.outcome === 'timeout' ? `no answer after ${String(r.sends)} sends` : r.message);
  }

  /** Disable `node` for disable_tout (not one the RPC disabled: that stays as it is). */
  markDown(node: RelayNode, why: string): void {
    if (node.disabledUntil === Infinity) return;
    if (node.usable()) this.counters.disabled.value++;
    node.disable(Date.now() + this.params.disableToutSec * 1000);
    this.warn(`down ${node.name}`, `media relay instance ${node.name} disabled for ${String(this.params.disableToutSec)} s`, { why });
  }

  /** Ping `node` now; it is usable afterwards exactly when it answered. */
  async recheck(node: RelayNode): Promise<boolean> {
    if (node.probing) return node.usable();
    node.probing = true;
    let ok = false;
    try {
      ok = await this.probe(this, node);
    } finally {
      node.probing = false;
    }
    if (ok && node.disabledUntil !== Infinity) {
      if (!node.usable()) this.host.log.info({ instance: node.name }, 'media relay instance answers: enabled');
      node.enable();
    } else if (!ok) {
      // disabled again for a whole disable_tout, so a dead instance is pinged once per period
      this.markDown(node, 'ping not answered as expected');
    }
    return ok;
  }

  /** Ping every disabled instance of a set now (not those the RPC disabled), off the message path. */
  redetect(setId: number): void {
    for (const n of this.sets.members(setId)) {
      if (!n.usable() && n.disabledUntil !== Infinity && !n.probing) this.host.boundary.then(this.recheck(n), 'module-promise', () => undefined, () => undefined);
    }
  }

  /** Disabled instances whose time is up are pinged. */
  private sweep(): void {
    const now = Date.now();
    for (const n of this.sets.nodes) {
      if (n.dueForRecheck(now)) this.host.boundary.then(this.recheck(n), 'module-promise', () => undefined, () => undefined);
    }
  }

  private warn(key: string, text: string, fields: Record<string, unknown>): void {
    if (!this.limiter.allow(key)) return;
    const suppressed = this.limiter.suppressed(key);
    this.host.log.warn(suppressed > 0 ? { ...fields, suppressed } : fields, text);
  }

  async close(): Promise<void> {
    if (this.sweeper !== null) clearInterval(this.sweeper);
    this.sweeper = null;
    await this.transport.close();
  }
}
