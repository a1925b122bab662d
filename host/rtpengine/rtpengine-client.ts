/**
 * The rtpengine NG client (Kamailio's rtpengine module, the part after the request is built):
 * chooses the instance — the one that has the call, else one of the set by Call-ID and weight —
 * sends the bencoded request and waits in place for the answer (host/media-relay), tries the
 * next instance when one does not answer (it is disabled), reports "load limit", "Parallel
 * session limit reached" or "Ran out of ports", and remembers which instance has the call.
 */
import bencode from 'bencode';
import { RelayPool, type PoolCounters, type PoolHost, type PoolParams } from '../media-relay/relay-pool.js';
import type { RelayNode } from '../media-relay/relay-set.js';
import type { RelaySetSpec } from '../media-relay/relay-url.js';
import { bdecode, BencodeError, bstr, isDict, type BDict } from './bdecode.js';
import { CallTable } from './call-table.js';
import type { NgDict, NgRequest } from './ng-request.js';

export interface NgClientParams extends PoolParams {
  /** hash_table_tout: seconds a call stays bound to its instance */
  readonly callTtlSec: number;
  /** the most calls remembered */
  readonly maxCalls: number;
  /** queried_nodes_limit: instances tried for one request */
  readonly queriedNodesLimit: number;
  /** aggressive_redetection: a set found with no usable instance has every disabled one pinged */
  readonly aggressiveRedetection: boolean;
}

export interface NgClientCounters extends PoolCounters {
  readonly answers: Counter;
  readonly errorAnswers: Counter;
  readonly badAnswers: Counter;
  readonly noInstance: Counter;
}
type Counter = PoolCounters['requests'];

export type NgResult =
  | { readonly ok: true; readonly answer: BDict; readonly node: RelayNode }
  /** why, for the log; `node` when an instance answered (with an error) */
  | { readonly ok: false; readonly why: string; readonly node: RelayNode | null };

const RETRY_ELSEWHERE = new Set(['Parallel session limit reached', 'Ran out of ports']);

export class RtpengineClient {
  readonly calls: CallTable;

  private constructor(
    readonly pool: RelayPool,
    private readonly params: NgClientParams,
    private readonly counters: NgClientCounters,
  ) {
    this.calls = new CallTable(params.callTtlSec * 1000, params.maxCalls);
  }

  static async start(specs: readonly RelaySetSpec[], params: NgClientParams, host: PoolHost, counters: NgClientCounters): Promise<RtpengineClient> {
    const pool = await RelayPool.start(specs, params, host, counters, (p, node) => ping(p, node));
    return new RtpengineClient(pool, params, counters);
  }

  /** Send `req` to an instance of set `setId`, waiting in place. */
  send(req: NgRequest, setId: number): NgResult {
    const tried = new Set<RelayNode>();
    const body = Buffer.from(bencode.encode(req.dict as Parameters<typeof bencode.encode>[0]));
    let lastNode: RelayNode | null = null;
    for (;;) {
      if (tried.size >= this.params.queriedNodesLimit) return { ok: false, why: 'queried nodes limit reached', node: lastNode };
      const node = this.choose(req, setId, tried);
      if (node === null) {
        this.counters.noInstance.value++;
        if (tried.size === 0 && this.params.aggressiveRedetection) this.pool.redetect(setId);
        return { ok: false, why: tried.size === 0 ? 'no available proxies' : 'no instance of the set answered', node: lastNode };
      }
      tried.add(node);
      lastNode = node;
      const r = this.pool.exchange(node, body);
      if (r.outcome !== 'answer' || r.data === null) {
        if (r.outcome === 'unsent') return { ok: false, why: `not sent: ${r.message}`, node };
        continue; // the pool disabled it; a call bound to it is not moved (Kamailio neither)
      }
      const answer = decode(r.data);
      if (answer === null) {
        this.counters.badAnswers.value++;
        node.counters.errors.value++;
        return { ok: false, why: 'the answer is not a bencoded dictionary', node };
      }
      const result = bstr(answer, 'result');
      if (result === null) {
        this.counters.badAnswers.value++;
        return { ok: false, why: "no 'result' in the answer", node };
      }
      if (result === 'load limit') continue;
      if (result === 'error') {
        this.counters.errorAnswers.value++;
        node.counters.errors.value++;
        const reason = bstr(answer, 'error-reason') ?? '(no error-reason)';
        if (RETRY_ELSEWHERE.has(reason)) continue;
        return { ok: false, why: `rtpengine error: ${reason}`, node };
      }
      this.counters.answers.value++;
      this.calls.insert(req.callId, req.viaBranch, node);
      if (req.op === 'delete') this.calls.remove(req.callId, req.viaBranch);
      return { ok: true, answer, node };
    }
  }

  /**
   * The instance for this request: the call's own when it has one in this set (none when that
   * one is disabled: the call is not moved), else a new choice.
   */
  private choose(req: NgRequest, setId: number, tried: ReadonlySet<RelayNode>): RelayNode | null {
    const bound = this.calls.lookup(req.callId, req.viaBranch, req.op === 'delete');
    if (bound?.setId === setId) return bound.usable() && !tried.has(bound) ? bound : null;
    return this.pool.sets.select(setId, req.callId, tried);
  }

  /** A command outside any call (RPC), waited for in place. */
  command(node: RelayNode, dict: NgDict): BDict | null {
    const r = this.pool.exchange(node, Buffer.from(bencode.encode(dict as Parameters<typeof bencode.encode>[0])));
    return r.outcome === 'answer' && r.data !== null ? decode(r.data) : null;
  }

  close(): Promise<void> {
    return this.pool.close();
  }
}

function decode(data: Buffer): BDict | null {
  try {
    const v = bdecode(data);
    return isDict(v) ? v : null;
  } catch (e) {
    if (e instanceof BencodeError || e instanceof RangeError) return null;
    throw e;
  }
}

/** rtpengine's ping: "pong" back (Kamailio's rtpp_test) */
async function ping(pool: RelayPool, node: RelayNode): Promise<boolean> {
  const r = await pool.exchangeAsync(node, Buffer.from(bencode.encode({ command: 'ping' })));
  if (r.outcome !== 'answer' || r.data === null) return false;
  const d = decode(r.data);
  return d !== null && bstr(d, 'result') === 'pong';
}
