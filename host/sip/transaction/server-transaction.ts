/**
 * An RFC 3261 §17.2 server transaction, with the proxy behaviour of §16 on top (Kamailio's tm
 * "UAS side"): created only when the script asks (t_newtran, t_relay, t_send_reply, an async
 * suspension), keyed as §17.2.3 says, and the message's Suspender from then on.
 *
 * INVITE (§17.2.1): Proceeding (100 Trying at once, the last provisional re-sent for each
 * retransmitted INVITE); a 300-699 final moves to Completed, where Timer G re-sends it over UDP
 * (T1 doubling up to T2) until the ACK and Timer H (64*T1) gives up; the ACK moves to Confirmed
 * for `wt_timer` (Timer I). A 2xx of ours is re-sent the same way until its ACK — matched by
 * dialog, since it is a new transaction (§13.3.1.4) — or 64*T1 (RFC 6026's Accepted state); a
 * relayed 2xx ends the transaction once no branch is pending. Non-INVITE (§17.2.2): the final is
 * re-sent for retransmissions for `wt_timer` (Timer J; Kamailio's wait timer, not 64*T1).
 *
 * A transaction nobody answers — suspended by an async module and never resumed, or left by
 * the script without a reply — is ended by its final-response timer (fr_inv_timer / fr_timer):
 * 408, or the failure route when one is armed (Kamailio's blind-branch behaviour of t_suspend).
 *
 * When many requests are suspended at once, each keeps the request as received (the datagram)
 * instead of the parsed message, which is several times larger; the next event that needs it
 * (resume, retransmission, CANCEL, timeout) parses it again. A few hundred short suspensions
 * (the usual async pattern) skip that: the second parse would cost more than the memory.
 */
import dns from 'node:dns/promises';
import { isIP } from 'node:net';
import type { CallResult } from '../../engines/engine.js';
import type { Context, HeaderEdits, Source, Suspender } from '../../kemi/context.js';
import type { SipProto } from '../listen.js';
import { parseSipMessage, type SipMessage } from '../message.js';
import { udpReplyTarget } from '../reply.js';
import { parseUri } from '../uri.js';
import { ClientTransaction } from './client-transaction.js';
import { buildBranchRequest, buildRelayedReply, type BranchPlan } from './messages.js';
import { copyEdits, mergeEdits, RouteScope } from './route-scope.js';
import type { Origin } from './transaction-host.js';
import type { TransactionLayer } from './transaction-layer.js';
import type { TmSettings } from './tm-settings.js';

type ServerState = 'proceeding' | 'completed' | 'confirmed' | 'accepted' | 'terminated';

/** Where t_relay sends a branch. */
export interface RelayTarget {
  readonly proto: SipProto;
  /** IP literal (IPv6 without brackets) or a host name (A/AAAA lookup) */
  readonly host: string;
  readonly port: number;
}

function serverTimer(t: ServerTransaction): void {
  t.onTimer();
}

/** Suspended transactions above which a suspended request is held as bytes only. */
const COMPACT_ABOVE = 1000;

/** Timers may fire a little before the ms they were set for (both clocks round). */
const SLACK_MS = 2;

/** §16.7 step 6: a 6xx wins, else the lowest class (3xx, 4xx, 5xx). */
function rank(code: number): number {
  return code >= 600 ? 0 : Math.floor(code / 100);
}

export class ServerTransaction implements Suspender {
  readonly method: string;
  readonly isInvite: boolean;
  readonly viaHost: string;
  readonly viaPort: number;
  /** next transaction with the same key (an INVITE and a later request reusing its branch) */
  next: ServerTransaction | null = null;
  /** next transaction awaiting a 2xx ACK with the same Call-ID */
  ackNext: ServerTransaction | null = null;
  state: ServerState = 'proceeding';
  suspended = false;
  /** a CANCEL matched it (t_is_canceled) */
  canceled = false;
  /** its final-response timer fired (t_is_expired) */
  expired = false;
  /** a 2xx of ours waits for its ACK */
  localAccepted = false;
  /** in the layer's Call-ID index of INVITEs that sent a 2xx */
  ackIndexed = false;
  lastCode = 0;
  lastReason: string | null = null;
  /** To-tag of our final reply: what the ACK of a 2xx of ours carries */
  replyToTag = '';
  /** $T_reply_code / $T_reply_reason while a tm route runs; $T_branch_idx */
  pvCode = 0;
  pvReason: string | null = null;
  branchIdx = 0;
  branches: ClientTransaction[] | null = null;
  private lastReply: Buffer | null = null;
  /** serial forking: the branches the next best-reply choice looks at start here */
  private firstBranch = 0;
  private nextIndex = 0;
  /** branches waiting for a DNS answer */
  private lookups = 0;
  private timer: NodeJS.Timeout | null = null;
  private interval = 0;
  private deadline = 0;
  private readonly createdAt = Date.now();
  /** the parsed request; null while suspended and compacted (see `req`) */
  private parsed: SipMessage | null;
  private readonly raw: Buffer;

  constructor(
    readonly layer: TransactionLayer,
    readonly ctx: Context,
    req: SipMessage,
    /** §17.2.3: the branch (magic cookie), or the RFC 2543 fallback key */
    readonly key: string,
    private readonly origin: Origin,
    /** $T(id_label) */
    readonly label: number,
    public settings: TmSettings | null,
  ) {
    this.parsed = req;
    this.raw = req.raw;
    this.method = req.method;
    this.isInvite = req.method === 'INVITE';
    this.viaHost = req.topVia.host;
    this.viaPort = req.topVia.port;
  }

  private get reliable(): boolean {
    return this.origin.conn !== null;
  }

  /** The request; parsed again (and given back to the Context) after a compacted suspension. */
  get req(): SipMessage {
    let r = this.parsed;
    if (r === null) {
      r = parseSipMessage(this.raw, { maxMessageBytes: this.raw.length });
      this.parsed = r;
      if (this.ctx.msg === null) this.ctx.msg = r;
    }
    return r;
  }

  /** Parse the request again if it was compacted: something is about to need it. */
  private expand(): SipMessage {
    return this.req;
  }

  /** While suspended nothing reads the message: keep the bytes only. */
  private compact(): void {
    // branches report at any time: a transaction with any stays parsed
    if (this.layer.c.suspended.value <= COMPACT_ABOVE || this.branches !== null || this.lookups > 0 || this.ctx.msg !== this.parsed) return;
    this.parsed = null;
    this.ctx.msg = null;
  }

  frMs(): number {
    return this.settings !== null && this.settings.fr > 0 ? this.settings.fr : this.layer.timers.fr;
  }

  frInvMs(): number {
    return this.settings !== null && this.settings.frInv > 0 ? this.settings.frInv : this.layer.timers.frInv;
  }

  // ---- what arrives for it ----

  /** The request again (§17.2.1, §17.2.2): re-send the last reply, or absorb it. */
  onRetransmission(): void {
    this.expand();
    this.layer.c.absorbed.value++;
    if (this.state === 'proceeding' && this.lastReply === null && this.lastCode === 100) {
      this.sendTrying();
    } else if (this.lastReply !== null && (this.state === 'proceeding' || this.state === 'completed' || this.localAccepted)) {
      this.sendUpstream(this.lastReply);
    }
  }

  /** Whether an ACK with our key belongs here (a 300-699 reply of ours, or a 2xx of ours). */
  takesAck(): boolean {
    return this.state === 'completed' || this.state === 'confirmed' || this.localAccepted;
  }

  /** The ACK for our negative final (Completed → Confirmed, Timer I), or for a 2xx of ours. */
  onAck(): void {
    this.layer.c.absorbed.value++;
    if (this.localAccepted) {
      this.terminate();
    } else if (this.state === 'completed') {
      this.state = 'confirmed';
      this.clearTimer();
      const wait = this.layer.timers.wait;
      if (this.reliable || wait === 0) this.terminate();
      else this.arm(wait);
    }
  }

  /**
   * A CANCEL for this INVITE (§9.2, §16.10): 200 to the CANCEL; CANCEL to every pending branch;
   * 487 to the INVITE when nothing is pending downstream (suspended, or never relayed).
   */
  onCancel(cancel: SipMessage, src: Source, origin: Origin): void {
    this.layer.host.replyStateless(cancel, src, origin, 200, 'OK');
    if (!this.isInvite || this.state !== 'proceeding') return;
    this.expand();
    this.canceled = true;
    this.layer.c.canceled.value++;
    const downstream = this.hasPending();
    this.cancelPending();
    // branches that had no provisional reply are 487 at once; the others bring their 487 later
    if (this.hasPending()) return;
    if (downstream) this.select();
    else this.reply(487, 'Request Terminated');
  }

  // ---- Suspender ----

  suspend(ctx: Context): boolean {
    const req = this.req;
    if (ctx !== this.ctx || ctx.msg !== req || this.state !== 'proceeding' || this.suspended) return false;
    this.suspended = true;
    ctx.suspended = true;
    this.layer.c.suspended.value++;
    return true;
  }

  resume(ctx: Context, route: string, arg?: string): boolean {
    if (ctx !== this.ctx || !this.suspended || this.state !== 'proceeding') return false;
    this.expand();
    this.unsuspend();
    this.clearTimer();
    this.after(this.run(route, arg), null);
    return true;
  }

  // ---- what the script asks for ----

  /** t_reply: a reply of ours. false when a final was already sent or it cannot be built here. */
  reply(code: number, reason: string): boolean {
    const req = this.req;
    if (this.state !== 'proceeding' || code < 100 || code > 699 || this.ctx.msg !== req) return false;
    const host = this.layer.host;
    const buf = host.buildLocalReply(this.ctx, code, reason, true);
    this.layer.c.local_replies.value++;
    if (code < 200) {
      this.lastCode = code;
      this.lastReason = reason;
      this.lastReply = buf;
      this.sendUpstream(buf);
      return true;
    }
    this.ctx.replied = true;
    this.replyToTag = this.req.to.tag !== '' ? this.req.to.tag : host.toTag(this.ctx);
    this.cancelPending();
    this.sendUpstream(buf);
    this.finalSent(code, reason, buf, true);
    return true;
  }

  /** t_relay: a new branch to the target, or to $du / the R-URI (§16.6). */
  relay(target: RelayTarget | null): boolean {
    const ctx = this.ctx;
    const req = this.req;
    if (this.state !== 'proceeding' || ctx.msg !== req) return false;
    // every branch so far has its answer: this is serial forking, a new set to choose from
    if (!this.hasPending()) this.firstBranch = this.branches?.length ?? 0;
    const index = this.nextIndex++;
    const scope = new RouteScope(ctx);
    const branchRoute = this.settings?.branch ?? null;
    if (branchRoute !== null) {
      this.branchIdx = index;
      const r = this.run(branchRoute);
      this.branchIdx = 0;
      if (!r.ok || scope.droppedInScope) {
        scope.leave();
        return false;
      }
    }
    const dest = target ?? destinationOf(ctx.dstUri ?? ctx.ruri);
    const plan: BranchPlan = { ruri: ctx.ruri, edits: copyEdits(ctx), forceRport: ctx.forceRport };
    scope.leave();
    if (dest === null) {
      this.layer.warn('t_relay: no usable destination (sip/sips URI with transport udp or tcp expected)', { uri: ctx.dstUri ?? ctx.ruri });
      return false;
    }
    const host = dest.host.replace(/^\[|\]$/g, '');
    if (isIP(host) !== 0) return this.sendBranch(index, plan, dest.proto, host, dest.port);
    // A/AAAA only (no NAPTR/SRV); the branch goes out when the answer comes
    this.lookups++;
    this.clearTimer();
    dns.lookup(host).then(
      (r) => {
        this.lookups--;
        if (this.state === 'terminated') return;
        if (this.state !== 'proceeding' || !this.sendBranch(index, plan, dest.proto, r.address, dest.port)) {
          this.addFailed(index, 478, 'Unresolvable destination');
        }
      },
      (err: unknown) => {
        this.lookups--;
        this.layer.warn('t_relay: DNS lookup failed', { host, err });
        if (this.state !== 'terminated') this.addFailed(index, 478, 'Unresolvable destination');
      },
    );
    return true;
  }

  /** t_release: forget it now, nothing sent. */
  release(): void {
    this.terminate();
  }

  isExpired(): boolean {
    return this.expired || Date.now() > this.createdAt + (this.isInvite ? this.frInvMs() : this.frMs());
  }

  /** $T_reply_code: in a reply or failure route the reply's code, else the last reply sent. */
  get replyCode(): number {
    return this.pvCode !== 0 ? this.pvCode : this.lastCode;
  }

  get replyReason(): string | null {
    return this.pvCode !== 0 ? this.pvReason : this.lastReason;
  }

  /**
   * After a callback ran on the Context (request route, resumed route, failure route): the
   * transaction goes on unless something still holds it. A script error answers 500; a drop or
   * a stateless final (sl_send_reply) releases it; nobody answering arms the final-response
   * timer — or, after a failure route, `fallback` relays the best reply.
   */
  after(r: CallResult, fallback: (() => void) | null): void {
    if (this.state !== 'proceeding') return;
    const ctx = this.ctx;
    if (!r.ok) {
      if (!this.hasPending() && !ctx.dropped) this.reply(500, 'Server Internal Error');
      return;
    }
    if (this.suspended) {
      this.armIdle();
      this.compact();
      return;
    }
    if (this.hasPending()) return;
    if (ctx.dropped || ctx.replied) {
      this.release();
      return;
    }
    if (fallback !== null) fallback();
    else this.armIdle();
  }

  // ---- what the branches report ----

  onBranchProvisional(ct: ClientTransaction, msg: SipMessage, coreEdits: HeaderEdits | null): void {
    if (this.state !== 'proceeding') return;
    const edits = this.replyRoute(ct, msg, coreEdits);
    // §16.7 step 5: a 100 is not forwarded
    if (edits === false || msg.status === 100) return;
    const buf = buildRelayedReply(msg, edits);
    this.lastCode = msg.status;
    this.lastReason = msg.reason;
    this.lastReply = buf;
    this.sendUpstream(buf);
    this.layer.c.relayed_replies.value++;
  }

  /** A branch has its outcome: a final reply (ct.finalReply) or one decided here. */
  onBranchFinal(ct: ClientTransaction, coreEdits: HeaderEdits | null): void {
    const reply = ct.finalReply;
    if (reply !== null) {
      const edits = this.replyRoute(ct, reply, coreEdits);
      if (edits === false) this.layer.warn('drop of a final reply in the reply route ignored', { code: reply.status });
      ct.finalEdits = edits === false ? coreEdits : edits;
    }
    const code = ct.finalCode;
    if (this.isInvite && code < 300 && reply !== null) {
      this.forward2xx(reply, ct.finalEdits);
      return;
    }
    if (this.state !== 'proceeding') return;
    if (code < 300) {
      this.relayBranch(ct);
      return;
    }
    // §16.7 step 9 / RFC 3261 6xx handling: no other branch can do better
    if (this.isInvite && code >= 600) this.cancelPending();
    const bf = this.settings?.branchFailure ?? null;
    if (bf !== null) {
      this.runForBranch(bf, ct.index, code, ct.finalReason);
    }
    // the branch-failure route may have answered (t_reply) or relayed again
    if (!this.waiting() || this.hasPending() || this.suspended) return;
    this.select();
  }

  /** §16.7 step 10: every 2xx to an INVITE goes upstream, whatever was sent before. */
  forward2xx(reply: SipMessage, edits: HeaderEdits | null): void {
    if (this.state === 'terminated') return;
    const buf = buildRelayedReply(reply, edits);
    this.sendUpstream(buf);
    this.layer.c.relayed_replies.value++;
    if (this.state === 'proceeding') {
      this.ctx.replied = true;
      this.cancelPending();
      this.finalSent(reply.status, reply.reason, buf, false);
    }
  }

  // ---- timers ----

  onTimer(): void {
    this.timer = null;
    const now = Date.now();
    const t = this.layer.timers;
    switch (this.state) {
      case 'proceeding':
        this.onIdleExpired();
        return;
      case 'completed':
      case 'accepted':
        if (this.localAccepted || (this.state === 'completed' && this.isInvite)) {
          // Timer G / 2xx retransmission until the ACK; Timer H / 64*T1 ends it
          if (now + SLACK_MS >= this.deadline) {
            this.terminate();
            return;
          }
          if (this.interval > 0 && this.lastReply !== null) {
            this.sendUpstream(this.lastReply);
            this.layer.c.retransmissions.value++;
            this.interval = Math.min(this.interval * 2, t.t2);
            this.arm(Math.min(this.interval, this.deadline - now));
          } else {
            this.arm(this.deadline - now);
          }
          return;
        }
        // a relayed 2xx: stay while a branch may still bring another 2xx
        if (this.state === 'accepted' && this.hasPending()) {
          this.arm(Math.max(t.wait, t.t1));
          return;
        }
        this.terminate();
        return;
      case 'confirmed':
        this.terminate();
        return;
      case 'terminated':
        return;
    }
  }

  /** The final-response timer of a transaction nobody answered (suspended or left alone). */
  private onIdleExpired(): void {
    this.expand();
    this.expired = true;
    this.layer.c.timeouts.value++;
    if (this.suspended) {
      this.layer.c.expired_suspended.value++;
      this.unsuspend();
    }
    const reply = (): void => { this.reply(408, 'Request Timeout'); };
    if (!this.runFailure(408, 'Request Timeout', reply)) reply();
  }

  // ---- internals ----

  sendTrying(): void {
    this.lastCode = 100;
    this.lastReason = this.layer.timers.auto100Reason;
    // not kept: rebuilt for the rare retransmission, so a waiting transaction holds no buffer
    this.sendUpstream(this.layer.host.buildLocalReply(this.ctx, 100, this.lastReason, false));
  }

  private sendBranch(index: number, plan: BranchPlan, proto: SipProto, ip: string, port: number): boolean {
    const host = this.layer.host;
    const sock = host.pickSocket(proto, ip);
    if (sock === undefined) {
      this.layer.warn('t_relay: no listening socket for this protocol and address family', { proto, ip });
      return false;
    }
    if (!host.runOnSend(this.ctx)) return false;
    const branch = this.layer.newBranchId();
    const buf = buildBranchRequest(this.req, this.ctx.src, plan, sock, branch);
    if (proto === 'udp' && buf.length > host.maxMessageBytes) {
      this.layer.warn('t_relay: message too large for UDP', { bytes: buf.length });
      return false;
    }
    const ct = new ClientTransaction(this, index, branch, buf, sock, ip, port);
    (this.branches ??= []).push(ct);
    this.layer.addClient(ct);
    this.layer.c.uac_branches.value++;
    this.clearTimer();
    ct.start(this.frMs());
    return true;
  }

  private addFailed(index: number, code: number, reason: string): void {
    const ct = ClientTransaction.failed(this, index, code, reason);
    (this.branches ??= []).push(ct);
    this.onBranchFinal(ct, null);
  }

  /** Every branch of the current set has its outcome: the failure route, or the best reply upstream. */
  private select(): void {
    const branches = this.branches ?? [];
    let best: ClientTransaction | null = null;
    for (let i = this.firstBranch; i < branches.length; i++) {
      const b = branches[i] as ClientTransaction;
      if (best === null || rank(b.finalCode) < rank(best.finalCode)) best = b;
    }
    if (best === null) {
      this.reply(500, 'Server Internal Error');
      return;
    }
    const winner = best;
    const relay = (): void => { this.relayBranch(winner); };
    if (!this.runFailure(winner.finalCode, winner.finalReason, relay)) relay();
  }

  private relayBranch(b: ClientTransaction): void {
    const reply = b.finalReply;
    if (reply === null) {
      this.reply(b.finalCode, b.finalReason);
      return;
    }
    const buf = buildRelayedReply(reply, b.finalEdits);
    this.sendUpstream(buf);
    this.layer.c.relayed_replies.value++;
    this.ctx.replied = true;
    this.finalSent(reply.status, reply.reason, buf, false);
  }

  /** Run the armed failure route (one shot, as in Kamailio); false when none is armed. */
  private runFailure(code: number, reason: string, fallback: () => void): boolean {
    const settings = this.settings;
    const name = settings?.failure ?? null;
    if (settings === null || name === null) return false;
    settings.failure = null;
    this.pvCode = code;
    this.pvReason = reason;
    const r = this.run(name);
    if (!this.suspended) {
      this.pvCode = 0;
      this.pvReason = null;
    }
    this.after(r, fallback);
    return true;
  }

  /**
   * The tm reply route (t_on_reply) on the transaction's Context with the reply as its message.
   * The edits for relaying it (the core reply route's and this one's), or false when dropped.
   */
  private replyRoute(ct: ClientTransaction, msg: SipMessage, coreEdits: HeaderEdits | null): HeaderEdits | null | false {
    const name = this.settings?.onReply ?? null;
    if (name === null) return coreEdits;
    const scope = new RouteScope(this.ctx, msg);
    this.runForBranch(name, ct.index, msg.status, msg.reason);
    const dropped = scope.droppedInScope;
    const added = scope.added();
    scope.leave();
    return dropped ? false : mergeEdits(coreEdits, added);
  }

  private run(name: string, arg?: string): CallResult {
    return this.layer.host.script.run(name, this.ctx, arg);
  }

  /** A route about one branch's reply: $T_branch_idx, $T_reply_code and $T_reply_reason set while it runs. */
  private runForBranch(name: string, branch: number, code: number, reason: string | null): void {
    this.branchIdx = branch;
    this.pvCode = code;
    this.pvReason = reason;
    this.run(name);
    this.branchIdx = 0;
    this.pvCode = 0;
    this.pvReason = null;
  }

  /** Still without a final reply (a method, so a check after a script callback is not narrowed away). */
  private waiting(): boolean {
    return this.state === 'proceeding';
  }

  private hasPending(): boolean {
    if (this.lookups > 0) return true;
    const branches = this.branches;
    if (branches === null) return false;
    for (const b of branches) if (b.pending) return true;
    return false;
  }

  private cancelPending(): void {
    const branches = this.branches;
    if (branches === null) return;
    for (const b of branches) b.cancel();
  }

  /** A final reply went upstream (ours or relayed): Completed / Accepted with their timers. */
  private finalSent(code: number, reason: string, buf: Buffer, local: boolean): void {
    this.lastCode = code;
    this.lastReason = reason;
    this.lastReply = buf;
    this.unsuspend();
    this.clearTimer();
    const t = this.layer.timers;
    const now = Date.now();
    if (this.isInvite && code < 300) {
      this.state = 'accepted';
      if (local) {
        this.localAccepted = true;
        this.layer.indexAck(this);
        this.deadline = now + 64 * t.t1;
        this.interval = this.reliable ? 0 : t.t1;
        this.arm(this.reliable ? 64 * t.t1 : t.t1);
      } else {
        // the UAS re-sends its own 2xx; nothing to keep. Indexed so t_check_trans finds the ACK.
        this.lastReply = null;
        this.layer.indexAck(this);
        this.arm(t.wait);
      }
    } else if (this.isInvite) {
      this.state = 'completed';
      this.deadline = now + 64 * t.t1;
      this.interval = this.reliable ? 0 : t.t1;
      this.arm(this.reliable ? 64 * t.t1 : t.t1);
    } else {
      this.state = 'completed';
      if (this.reliable || t.wait === 0) this.terminate();
      else this.arm(t.wait);
    }
  }

  private armIdle(): void {
    this.arm(this.isInvite ? this.frInvMs() : this.frMs());
  }

  private arm(ms: number): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = setTimeout(serverTimer, Math.max(0, ms), this);
    this.timer.unref();
  }

  private clearTimer(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
  }

  private unsuspend(): void {
    if (!this.suspended) return;
    this.suspended = false;
    this.ctx.suspended = false;
    this.layer.c.suspended.value--;
  }

  private sendUpstream(buf: Buffer): void {
    const o = this.origin;
    if (o.conn !== null) {
      if (o.conn.closed) this.layer.c.send_errors.value++;
      else o.conn.write(buf);
      return;
    }
    const to = udpReplyTarget(this.req.topVia, this.ctx.src, this.ctx.forceRport);
    o.socket.send(buf, to.ip, to.port);
  }

  /** End it: timers stopped, forgotten by the layer. A later resume finds it gone. */
  terminate(): void {
    if (this.state === 'terminated') return;
    this.unsuspend();
    this.clearTimer();
    this.state = 'terminated';
    this.lastReply = null;
    this.layer.unregister(this);
  }
}

/** $du / R-URI → where a branch goes: sip/sips URIs with transport udp (default) or tcp. */
function destinationOf(uri: string): RelayTarget | null {
  const u = parseUri(uri);
  if (u === null || u.host === '') return null;
  const scheme = u.scheme.toLowerCase();
  if (scheme !== 'sip' && scheme !== 'sips') return null;
  const tp = (u.params.get('transport') ?? (scheme === 'sips' ? 'tls' : 'udp')).toLowerCase();
  if (tp !== 'udp' && tp !== 'tcp') return null;
  return { proto: tp, host: u.host, port: u.port > 0 ? u.port : 5060 };
}
