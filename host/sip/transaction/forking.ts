/**
 * The branches of a server transaction (RFC 3261 §16.6) and how t_relay makes them: the R-URI
 * branch and every branch of the destination set (append_branch, lookup) go out in parallel,
 * each a client transaction of its own with its own $T_branch_idx, its branch route run once
 * for it (its header, $ru and $du changes apply to it only) and its own branch flags. The best
 * reply over all of them (§16.7) is the transaction's business (server-transaction.ts).
 *
 * A branch whose host is a name waits for its A/AAAA answer; one that cannot be resolved ends
 * as 478. Kamailio's serial forking (a failure route that relays again) starts a new set: the
 * best-reply choice then looks only at the branches from `firstOfSet` on.
 */
import dns from 'node:dns/promises';
import { isIP } from 'node:net';
import type { CallResult } from '../../engines/engine.js';
import type { Context } from '../../kemi/context.js';
import type { SipProto } from '../listen.js';
import type { SipMessage } from '../message.js';
import type { SocketAddress } from '../types.js';
import { parseUri } from '../uri.js';
import { ClientTransaction } from './client-transaction.js';
import { buildBranchRequest, type BranchPlan } from './messages.js';
import { copyEdits, RouteScope } from './route-scope.js';
import type { ServerTransaction } from './server-transaction.js';

/** Where t_relay sends a branch. */
export interface RelayTarget {
  readonly proto: SipProto;
  /** IP literal (IPv6 without brackets) or a host name (A/AAAA lookup) */
  readonly host: string;
  readonly port: number;
}

/** One branch to make: the R-URI's or one from the destination set. */
interface BranchSource {
  readonly uri: string;
  readonly dstUri: string | null;
  readonly path: string | null;
  readonly bflags: number;
  /** the socket of ours to leave on when it can (the contact's, or the script's), null: any */
  readonly sendSocket: SocketAddress | null;
}

/** What a branch needs from its transaction (ServerTransaction implements it). */
export interface ForkOwner {
  readonly ctx: Context;
  readonly req: SipMessage;
  readonly layer: ServerTransaction['layer'];
  /** $T_branch_idx while a branch route runs */
  branchIdx: number;
  /** still without a final reply */
  waiting(): boolean;
  /** the armed branch route (t_on_branch), null when none */
  branchRoute(): string | null;
  /** run a callback as the tm branch route */
  runBranchRoute(name: string): CallResult;
  /** a branch went out or waits for DNS: no idle timer now */
  clearTimer(): void;
  frMs(): number;
  onBranchFinal(ct: ClientTransaction, coreEdits: null): void;
  /** for the client transactions' back reference */
  readonly self: ServerTransaction;
}

export class Fork {
  /** every branch made so far, in order of $T_branch_idx */
  readonly list: ClientTransaction[] = [];
  /** serial forking: the branches the next best-reply choice looks at start here */
  firstOfSet = 0;
  private nextIndex = 0;
  /** branches waiting for a DNS answer */
  private lookups = 0;

  constructor(private readonly owner: ForkOwner) {}

  /**
   * t_relay: a branch for the R-URI (when it is new, or when a target is given and nothing was
   * appended) and one for each appended branch, all now; the destination set is emptied and
   * the R-URI consumed. `target` replaces each branch's destination (t_relay_to_proto_addr).
   * true when at least one branch went out or waits for its DNS answer.
   */
  relay(target: RelayTarget | null): boolean {
    const o = this.owner;
    const ctx = o.ctx;
    if (!o.waiting() || ctx.msg !== o.req) return false;
    // every branch so far has its answer: this is serial forking, a new set to choose from
    if (!this.hasPending()) this.firstOfSet = this.list.length;
    const sources = branchSources(ctx, target);
    if (sources.length === 0) {
      o.layer.warn('t_relay: no branch to relay to (the R-URI was already relayed and nothing was appended)', { uri: ctx.ruri });
      return false;
    }
    let started = 0;
    for (const src of sources) {
      if (!o.waiting()) break;
      if (this.relayOne(src, target)) started++;
    }
    return started > 0;
  }

  /** Whether any branch still waits for its outcome (or for its DNS answer). */
  hasPending(): boolean {
    if (this.lookups > 0) return true;
    for (const b of this.list) if (b.pending) return true;
    return false;
  }

  /** CANCEL every pending branch (§16.10; a 2xx or 6xx came, or the UAC cancelled). */
  cancelPending(): void {
    for (const b of this.list) b.cancel();
  }

  /** no branch exists and none waits for DNS (a suspended request may be compacted) */
  get idle(): boolean {
    return this.list.length === 0 && this.lookups === 0;
  }

  private relayOne(src: BranchSource, target: RelayTarget | null): boolean {
    const o = this.owner;
    const ctx = o.ctx;
    const index = this.nextIndex++;
    const scope = new RouteScope(ctx);
    ctx.newRuri = src.uri;
    ctx.dstUri = src.dstUri;
    ctx.bflags = src.bflags;
    ctx.sendSocket = src.sendSocket;
    const branchRoute = o.branchRoute();
    if (branchRoute !== null) {
      o.branchIdx = index;
      const r = o.runBranchRoute(branchRoute);
      o.branchIdx = 0;
      if (!r.ok || scope.droppedInScope) {
        scope.leave();
        return false;
      }
    }
    const dest = target ?? destinationOf(ctx.dstUri ?? ctx.ruri);
    const plan: BranchPlan = {
      ruri: ctx.ruri, edits: withPath(copyEdits(ctx), src.path), forceRport: ctx.forceRport, sendSocket: ctx.sendSocket, sendFlags: ctx.forwardFlags,
    };
    const bflags = ctx.bflags;
    const where = ctx.dstUri ?? ctx.ruri;
    scope.leave();
    if (dest === null) {
      o.layer.warn('t_relay: no usable destination (sip/sips URI with transport udp or tcp expected)', { uri: where });
      return false;
    }
    const host = dest.host.replace(/^\[|\]$/g, '');
    if (isIP(host) !== 0) return this.sendBranch(index, plan, bflags, dest.proto, host, dest.port);
    // A/AAAA only (no NAPTR/SRV); the branch goes out when the answer comes
    this.lookups++;
    o.clearTimer();
    o.layer.host.boundary.then(
      dns.lookup(host),
      'dns-answer',
      (r) => {
        this.lookups--;
        if (o.self.state === 'terminated') return;
        if (!o.waiting() || !this.sendBranch(index, plan, bflags, dest.proto, r.address, dest.port)) {
          this.addFailed(index, bflags, 478, 'Unresolvable destination');
        }
      },
      (err: unknown) => {
        this.lookups--;
        o.layer.warn('t_relay: DNS lookup failed', { host, err });
        if (o.self.state !== 'terminated') this.addFailed(index, bflags, 478, 'Unresolvable destination');
      },
    );
    return true;
  }

  private sendBranch(index: number, plan: BranchPlan, bflags: number, proto: SipProto, ip: string, port: number): boolean {
    const o = this.owner;
    const host = o.layer.host;
    const sock = host.pickSocket(proto, ip, plan.sendSocket);
    if (sock === undefined) {
      o.layer.warn('t_relay: no listening socket for this protocol and address family', { proto, ip });
      return false;
    }
    if (!sock.reachable(ip, port, plan.sendFlags)) {
      o.layer.warn('t_relay: no connection to the destination and no new one allowed (set_forward_no_connect)', { proto, ip, port });
      return false;
    }
    if (!host.runOnSend(o.ctx)) return false;
    const branch = o.layer.newBranchId();
    const buf = buildBranchRequest(o.req, o.ctx.src, plan, sock, branch);
    if (proto === 'udp' && buf.length > host.maxMessageBytes) {
      o.layer.warn('t_relay: message too large for UDP', { bytes: buf.length });
      return false;
    }
    const ct = new ClientTransaction(o.self, index, branch, buf, sock, ip, port, plan.sendFlags);
    ct.bflags = bflags;
    this.list.push(ct);
    o.layer.addClient(ct);
    o.layer.c.uac_branches.value++;
    o.clearTimer();
    ct.start(o.frMs());
    return true;
  }

  private addFailed(index: number, bflags: number, code: number, reason: string): void {
    const ct = ClientTransaction.failed(this.owner.self, index, code, reason);
    ct.bflags = bflags;
    this.list.push(ct);
    this.owner.onBranchFinal(ct, null);
  }
}

/**
 * The branches t_relay makes now: the R-URI's when it may fork (or when the script named a
 * target and appended nothing, so t_relay_to_proto_addr in a failure route still relays), then
 * the destination set's. The set is emptied and the R-URI consumed, as Kamailio's
 * t_forward_nonack does.
 */
function branchSources(ctx: Context, target: RelayTarget | null): BranchSource[] {
  const out: BranchSource[] = [];
  const d = ctx.hasDset ? ctx.dset : null;
  const appended = d?.branches ?? [];
  if (d === null || d.ruriIsNew(ctx.ruri, ctx.dstUri) || (target !== null && appended.length === 0)) {
    out.push({ uri: ctx.ruri, dstUri: ctx.dstUri, path: d?.ruriPath ?? null, bflags: ctx.bflags, sendSocket: ctx.sendSocket ?? socketOf(d?.ruriSocket ?? null) });
  }
  for (const b of appended) out.push({ uri: b.uri, dstUri: b.dstUri, path: b.path, bflags: b.bflags, sendSocket: socketOf(b.socket) });
  ctx.dset.consume(ctx.ruri, ctx.dstUri);
  d?.clear();
  return out;
}

/** A branch with a Path vector is routed through it: the path goes first as Route (RFC 3327 §5.2). */
function withPath(edits: BranchPlan['edits'], path: string | null): BranchPlan['edits'] {
  if (path === null || path === '') return edits;
  const route = `Route: ${path}\r\n`;
  if (edits === null) return { insert: [route], append: [], remove: new Set(), maxForwards: null, recordRoute: null, dropRoutes: null, body: null };
  edits.insert.unshift(route);
  return edits;
}

/** "udp:192.0.2.1:5060" / "tcp:[2001:db8::1]:5060" (usrloc's socket column) → a socket address. */
function socketOf(s: string | null): SocketAddress | null {
  if (s === null) return null;
  const m = /^([a-z]+):\[?([0-9a-fA-F:.]+?)\]?:(\d+)$/.exec(s);
  return m === null ? null : { proto: m[1] ?? '', ip: m[2] ?? '', port: Number(m[3]) };
}

/** $du / R-URI → where a branch goes: sip/sips URIs with transport udp (default) or tcp. */
export function destinationOf(uri: string): RelayTarget | null {
  const u = parseUri(uri);
  if (u === null || u.host === '') return null;
  const scheme = u.scheme.toLowerCase();
  if (scheme !== 'sip' && scheme !== 'sips') return null;
  const tp = (u.params.get('transport') ?? (scheme === 'sips' ? 'tls' : 'udp')).toLowerCase();
  if (tp !== 'udp' && tp !== 'tcp') return null;
  return { proto: tp, host: u.host, port: u.port > 0 ? u.port : 5060 };
}
