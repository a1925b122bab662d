/**
 * `pike.top` (and its alias `pike.list`): the IP leaves of the pike tree, as Kamailio's
 * pike_rpc.c lists them. The parameter is searched, case-insensitively, for ALL, then HOT, then
 * WARM (default HOT). Kamailio's WARM selects nothing (its walk only knows HOT and ALL); that is
 * kept, so tools see the same answers.
 */
import { ipText } from '../net/kamailio-ip.js';
import { RpcError } from '../rpc/jsonrpc.js';
import type { PikeTree } from './ip-tree.js';

const STATUS = ['', 'WARM', 'HOT'] as const;

export interface PikeTopRow {
  ip_addr: string;
  leaf_hits_prev: number;
  leaf_hits_curr: number;
  /** seconds until the address is removed (0 when it is not waiting in the timer list) */
  expires: number;
  status: string;
}

export interface PikeTop {
  max_hits: number;
  list: PikeTopRow[];
  number_of_rows: number;
}

/** An address of 4 or 16 bytes as text; any other length (never an IP leaf) as 16-bit hex groups. */
export function addressText(bytes: readonly number[]): string {
  if (bytes.length === 4 || bytes.length === 16) return ipText({ v6: bytes.length === 16, bytes: Uint8Array.from(bytes) });
  const padded = [...bytes, ...new Array<number>(16 - Math.min(16, bytes.length)).fill(0)];
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push((((padded[i] ?? 0) << 8) | (padded[i + 1] ?? 0)).toString(16).padStart(4, '0'));
  return groups.join(':');
}

function selection(params: readonly unknown[]): 'ALL' | 'HOT' | 'WARM' {
  const p = params[0];
  if (p === undefined) return 'HOT';
  const text = typeof p === 'string' ? p.toUpperCase() : '';
  if (text.includes('ALL')) return 'ALL';
  if (text.includes('HOT')) return 'HOT';
  if (text.includes('WARM')) return 'WARM';
  throw new RpcError(500, 'Bad argument. Select: ALL, HOT or WARM');
}

export function pikeTop(tree: PikeTree, params: readonly unknown[], now: number): PikeTop {
  const which = selection(params);
  const list: PikeTopRow[] = [];
  for (const { node, bytes } of tree.leaves()) {
    const status = tree.isHotLeaf(node) ? 2 : tree.isWarm(node) ? 1 : 0;
    if (which === 'WARM' || (which === 'HOT' && status !== 2)) continue;
    list.push({
      ip_addr: addressText(bytes),
      leaf_hits_prev: node.leafPrev,
      leaf_hits_curr: node.leafCurr,
      expires: node.expires === 0 ? 0 : Math.max(0, Math.round((node.expires - now) / 1000)),
      status: STATUS[status],
    });
  }
  // Kamailio builds its answer by putting each leaf in front
  list.reverse();
  return { max_hits: tree.maxHits, list, number_of_rows: list.length };
}
