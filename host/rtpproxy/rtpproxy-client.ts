/**
 * The rtpproxy control protocol client (Kamailio's rtpproxy module): text commands over UDP
 * ("<cookie> <command>", answered "<cookie> <answer>"), an instance checked with V (protocol
 * 20040107) and VF 20050322 before it is used, its optional capabilities asked with VF 20071116
 * (re-packetizing) and VF 20081102 (payload types). A command goes to the instance the Call-ID
 * chooses in the set; one that does not answer is disabled and the next one is tried.
 */
import { RelayPool, type PoolCounters, type PoolHost, type PoolParams } from '../media-relay/relay-pool.js';
import type { RelayNode } from '../media-relay/relay-set.js';
import type { RelaySetSpec } from '../media-relay/relay-url.js';
import type { RtppCaps } from './force-rtp-proxy.js';

const PROTOCOL = '20040107';
const REQUIRED = '20050322';
const REPACKETIZE = '20071116';
const PAYLOAD_TYPES = '20081102';

export class RtpproxyClient {
  private constructor(
    readonly pool: RelayPool,
    private readonly caps: Map<RelayNode, RtppCaps>,
  ) {}

  static async start(specs: readonly RelaySetSpec[], params: PoolParams, host: PoolHost, counters: PoolCounters): Promise<RtpproxyClient> {
    const caps = new Map<RelayNode, RtppCaps>();
    const pool = await RelayPool.start(specs, params, host, counters, async (p, node) => {
      const c = await probe(p, node);
      if (c !== null) caps.set(node, c);
      return c !== null;
    });
    return new RtpproxyClient(pool, caps);
  }

  capsOf(node: RelayNode): RtppCaps {
    return this.caps.get(node) ?? { repacketize: false, payloadTypes: false };
  }

  /**
   * Send a command (built for the instance chosen) to set `setId`, waiting in place; the next
   * instance when one does not answer. The answer text, or null when no instance is left.
   */
  send(setId: number, callId: string, build: (caps: RtppCaps) => string): { answer: string; node: RelayNode } | null {
    const tried = new Set<RelayNode>();
    for (;;) {
      const node = this.pool.sets.select(setId, callId, tried);
      if (node === null) return null;
      tried.add(node);
      const r = this.pool.exchange(node, build(this.capsOf(node)));
      if (r.outcome === 'answer' && r.data !== null) return { answer: r.data.toString('latin1'), node };
      // not sent for a reason of ours: another instance would fare no better
      if (r.outcome === 'unsent') return null;
    }
  }

  close(): Promise<void> {
    return this.pool.close();
  }
}

/** V, then VF for the required and the optional capabilities; null when it is not a usable rtpproxy. */
async function probe(pool: RelayPool, node: RelayNode): Promise<RtppCaps | null> {
  const ask = async (cmd: string): Promise<string | null> => {
    const r = await pool.exchangeAsync(node, cmd);
    return r.outcome === 'answer' && r.data !== null ? r.data.toString('latin1').trim() : null;
  };
  const version = await ask('V');
  if (version === null || Number.parseInt(version, 10) !== Number(PROTOCOL)) return null;
  const yes = (a: string | null): boolean => a !== null && !a.startsWith('E') && Number.parseInt(a, 10) === 1;
  if (!yes(await ask(`VF ${REQUIRED}`))) return null;
  return { repacketize: yes(await ask(`VF ${REPACKETIZE}`)), payloadTypes: yes(await ask(`VF ${PAYLOAD_TYPES}`)) };
}
