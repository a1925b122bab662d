/**
 * KSR.pike: flood detection per source IP with Kamailio's tree of address prefixes
 * (host/pike/ip-tree.ts). The module only says whether an address sends too much; what to do
 * (drop, ban in an htable) is the script's. docs/pike.md.
 */
import { z } from 'zod';
import type { Context } from '../host/kemi/context.js';
import { defineModule, fn, type ModuleHost } from '../host/kemi/types.js';
import { sourceIp, str2ip } from '../host/net/kamailio-ip.js';
import { PikeTree, type PikeResult } from '../host/pike/ip-tree.js';
import { addressText, pikeTop } from '../host/pike/top.js';

const params = z
  .object({
    sampling_time_unit: z.number().int().min(1).max(86_400).default(2)
      .describe('seconds of one sampling unit: the counts restart every unit, and a blocked address is let go at the end of a unit in which it stayed under the density'),
    reqs_density_per_unit: z.number().int().min(0).max(65_535).default(30)
      .describe('requests from one address allowed per unit before it is blocked; the address is blocked after between this many and about 3 times as many (IPv4; IPv6: 9 times), fewer when it shares a busy prefix with another'),
    remove_latency: z.number().int().min(1).max(86_400).default(120)
      .describe('seconds an address is kept after its last counted request (not how long it stays blocked)'),
    pike_log_level: z.number().int().min(-5).max(3).default(0)
      .describe('Kamailio\'s log level for the "BLOCKing ip" (first detection) and "UNBLOCKing" lines: -1 or less error, 0 warn, 1-2 info, 3 debug'),
    max_nodes: z.number().int().min(256).max(10_000_000).default(500_000)
      .describe('kemihost: the most nodes the tree holds (one per address byte seen, about 170 bytes each); when full, the leaves hit least recently are removed early to make room, so a flood of spoofed sources cannot grow memory without bound'),
  })
  .strict();

type Params = z.infer<typeof params>;

interface PikeState {
  readonly host: ModuleHost;
  readonly tree: PikeTree;
  readonly level: 'error' | 'warn' | 'info' | 'debug';
  readonly blocked: { value: number };
  readonly nodes: { value: number };
  readonly evicted: { value: number };
  readonly timers: NodeJS.Timeout[];
}

function levelOf(n: number): PikeState['level'] {
  if (n < 0) return 'error';
  if (n === 0) return 'warn';
  return n < 3 ? 'info' : 'debug';
}

function init(host: ModuleHost, p: Params): PikeState {
  const tree = new PikeTree({ density: p.reqs_density_per_unit, removeLatencyMs: p.remove_latency * 1000, maxNodes: p.max_nodes });
  const s: PikeState = {
    host, tree, level: levelOf(p.pike_log_level),
    blocked: host.stat('blocked_ips'), nodes: host.gauge('nodes'), evicted: host.stat('evicted_nodes'), timers: [],
  };
  const sync = (): void => {
    s.nodes.value = tree.nodes;
    s.evicted.value = tree.evicted;
  };
  s.timers.push(
    host.boundary.interval('module-timer', 1000, () => {
      tree.clean(Date.now());
      sync();
    }),
    host.boundary.interval('module-timer', p.sampling_time_unit * 1000, () => {
      for (const n of tree.swap()) host.log[s.level]({ ip: addressText(PikeTree.addressOf(n)) }, 'PIKE - UNBLOCKing node');
    }),
  );
  return s;
}

function check(s: PikeState, ip: Uint8Array, text: string): PikeResult {
  const r = s.tree.check(ip, Date.now());
  s.nodes.value = s.tree.nodes;
  s.evicted.value = s.tree.evicted;
  if (r === -2) {
    s.blocked.value++;
    s.host.log[s.level]({ ip: text }, 'PIKE - BLOCKing ip');
  }
  return r;
}

function checkReq(s: PikeState, ctx: Context): number {
  const ip = sourceIp(ctx.src.ip);
  // Kamailio always has the source address; a form we cannot read is an internal error: 1
  if (ip === null) return 1;
  return check(s, ip.bytes, ctx.src.ip);
}

/** Kamailio reads the parameter with its IPv4 parser only: an IPv6 address is refused (-1). */
function checkIp(s: PikeState, text: string): number {
  if (text === '') return -1;
  const ip = str2ip(text);
  if (ip === null) {
    s.host.complain('pike_check_ip: failed to parse ip address (IPv4 only, as in Kamailio)', { ip: text.slice(0, 64) });
    return -1;
  }
  return check(s, ip.bytes, text);
}

export default defineModule({
  name: 'pike',
  doc: 'Flood detection per source IP (Kamailio pike): the tree of address prefixes, counted per sampling unit (docs/pike.md).',
  params,
  stats: ['blocked_ips', 'nodes', 'evicted_nodes'],
  init,
  close: (s: PikeState) => { for (const t of s.timers) clearInterval(t); },
  functions: {
    pike_check_req: fn([], 'int', (s: PikeState, ctx) => checkReq(s, ctx),
      'Count this request against its source IP: 1 when not blocked, -2 when the address is detected as a flood source now (the first time), -1 while it stays blocked.'),
    pike_check_ip: fn(['str'], 'int', (s: PikeState, _ctx, ip) => checkIp(s, ip),
      'The same for an IPv4 address given as text (Kamailio reads it with its IPv4 parser: an IPv6 address or an empty string gives -1).'),
  },
  rpc: {
    'pike.top': { doc: 'The addresses in the tree: HOT (default), ALL or WARM; max_hits, list of ip_addr, leaf_hits_prev, leaf_hits_curr, expires (s), status', run: (s, p) => pikeTop(s.tree, p, Date.now()) },
    'pike.list': { doc: 'Alias of pike.top', run: (s, p) => pikeTop(s.tree, p, Date.now()) },
  },
});
