/**
 * An RFC 3261 §17.2 server transaction, with the proxy behaviour of §16 on top (Kamailio's tm
 * "UAS side"): created only when the script asks (t_newtran, t_relay, t_send_reply, an async
 * suspension), keyed as §17.2.3 says, and the message's owner from then on.
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
 * The branches and how t_relay makes them are in forking.ts, what their replies do (§16.7) in
 * branch-replies.ts, the timers after a final reply in server-timers.ts.
 *
 * When many requests are suspended at once, each keeps the request as received (the datagram)
 * instead of the parsed message, which is several times larger; the next event that needs it
 * (resume, retransmission, CANCEL, timeout) parses it again. A few hundred short suspensions
 * (the usual async pattern) skip that: the second parse would cost more than the memory.
 */
import type { CallResult } from '../../engines/engine.js';
import type { Context } from '../../kemi/context.js';
import { Hold, type ResumeStep } from '../../kemi/owner.js';
import { SEND_CLOSE, type HeaderEdits, type Source } from '../types.js';
import { parseSipMessage, type SipMessage } from '../message.js';
import { udpReplyTarget } from '../reply.js';
import type { ClientTransaction } from './client-transaction.js';
import { Fork, type ForkOwner, type RelayTarget } from './forking.js';
import { branchFinal, branchProvisional, relay2xx, runFailure, select } from './branch-replies.js';
import { enterFinal, onServerTimer } from './server-timers.js';
import type { Origin } from './transaction-host.js';
import type { TransactionLayer } from './transaction-layer.js';
import { notifyWire, type TmSettings } from './tm-settings.js';
import type { SipOwner } from './sip-owner.js';

type ServerState = 'proceeding' | 'completed' | 'confirmed' | 'accepted' | 'terminated';

/** The tm route running on the transaction's Context (tmx's t_is_branch_route & co.). */
export type TmRouteKind = 'branch' | 'failure' | 'onreply' | 'branch-failure';

function serverTimer(t: ServerTransaction): void {
  t.onTimer();
}

/** Suspended transactions above which a suspended request is held as bytes only. */
const COMPACT_ABOVE = 1000;

export class ServerTransaction implements SipOwner, ForkOwner {
  readonly kind = 'sip' as const;
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
  /** the branch a failure (the winner) or branch-failure / reply route runs for: t_branch_timeout, t_branch_replied */
  routeBranch: ClientTransaction | null = null;
  /** the tm route running now, null in the request route (and a route resumed from it) */
  routeKind: TmRouteKind | null = null;
  /** the branches t_relay made (forking.ts) */
  readonly fork: Fork = new Fork(this);
  /** the reply re-sent for retransmissions (branch-replies.ts sets it for a relayed provisional) */
  lastReply: Buffer | null = null;
  /** server-timers.ts: the armed timer, the retransmission interval and when retransmitting stops */
  timer: NodeJS.Timeout | null = null;
  interval = 0;
  deadline = 0;
  private readonly createdAt = Date.now();
  /**
   * Made only to hold a call waiting in place (TransactionLayer.hold, lightly): when the script
   * ends without a relay, a reply or t_newtran, it is released without an answer, as the
   * stateless handling Kamailio's blocking call would have left (a stateless forward, a drop).
   */
  provisional = false;
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

  get reliable(): boolean {
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
    if (this.layer.c.suspended.value <= COMPACT_ABOVE || !this.fork.idle || this.ctx.msg !== this.parsed) return;
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
      this.sendTrying(true);
    } else if (this.lastReply !== null && (this.state === 'proceeding' || this.state === 'completed' || this.localAccepted)) {
      this.sendUpstream(this.lastReply, this.state !== 'proceeding', true);
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
    if (downstream) select(this);
    else this.respond(487, 'Request Terminated');
  }

  // ---- MessageOwner: the request has a transaction now ----

  get transaction(): this {
    return this;
  }

  canReply(ctx: Context): boolean {
    return this.layer.host.stateless.canReply(ctx);
  }

  /** sl_send_reply: stateless even with a transaction, as in Kamailio. */
  sendReply(ctx: Context, code: number, reason: string): boolean {
    return this.layer.host.stateless.sendReply(ctx, code, reason);
  }

  /** send_reply (sl), registrar, auth: through the transaction. */
  reply(ctx: Context, code: number, reason: string): boolean {
    return ctx === this.ctx && this.respond(code, reason);
  }

  forward(ctx: Context, uri: string | null): boolean {
    return this.layer.host.stateless.forward(ctx, uri);
  }

  toTag(ctx: Context): string {
    return this.layer.host.stateless.toTag(ctx);
  }

  hold(ctx: Context): Hold | string {
    const req = this.req;
    if (ctx !== this.ctx || ctx.msg !== req || this.state !== 'proceeding' || this.suspended) {
      return 'the message cannot be held (already answered, or held)';
    }
    this.suspended = true;
    ctx.suspended = true;
    this.layer.c.suspended.value++;
    return new Hold(ctx, (c, route, arg) => this.resume(c, route, arg));
  }

  /** A held request goes on in `route`; false when it is gone (answered, cancelled, timed out). */
  resume(ctx: Context, step: ResumeStep, arg?: string): boolean {
    if (ctx !== this.ctx || !this.suspended || this.state !== 'proceeding') return false;
    this.expand();
    this.unsuspend();
    this.clearTimer();
    this.after(typeof step === 'string' ? this.run(step, arg) : step(), null);
    return true;
  }

  // ---- what the script asks for ----

  /** t_reply: a reply of ours. false when a final was already sent or it cannot be built here. */
  respond(code: number, reason: string): boolean {
    const req = this.req;
    if (this.state !== 'proceeding' || code < 100 || code > 699 || this.ctx.msg !== req) return false;
    const host = this.layer.host;
    const buf = host.buildLocalReply(this.ctx, code, reason, true);
    this.layer.c.local_replies.value++;
    if (code < 200) {
      this.lastCode = code;
      this.lastReason = reason;
      this.lastReply = buf;
      this.sendUpstream(buf, false);
      return true;
    }
    this.ctx.replied = true;
    this.replyToTag = this.req.to.tag !== '' ? this.req.to.tag : host.stateless.toTag(this.ctx);
    this.cancelPending();
    this.sendUpstream(buf);
    this.finalSent(code, reason, buf, true);
    return true;
  }

  /** t_relay: the R-URI branch and the appended ones, to the target or each one's $du / URI (§16.6). */
  relay(target: RelayTarget | null): boolean {
    return this.fork.relay(target);
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
      if (!this.hasPending() && !ctx.dropped) this.respond(500, 'Server Internal Error');
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
    else if (this.provisional) this.release();
    else this.armIdle();
  }

  // ---- what the branches report (branch-replies.ts) ----

  onBranchProvisional(ct: ClientTransaction, msg: SipMessage, coreEdits: HeaderEdits | null): void {
    branchProvisional(this, ct, msg, coreEdits);
  }

  /** A branch has its outcome: a final reply (ct.finalReply) or one decided here. */
  onBranchFinal(ct: ClientTransaction, coreEdits: HeaderEdits | null): void {
    branchFinal(this, ct, coreEdits);
  }

  /** §16.7 step 10: every 2xx to an INVITE goes upstream, whatever was sent before. */
  forward2xx(reply: SipMessage, edits: HeaderEdits | null): void {
    relay2xx(this, reply, edits);
  }

  // ---- timers (server-timers.ts) ----

  onTimer(): void {
    onServerTimer(this);
  }

  /** A final reply went upstream (ours or relayed): Completed / Accepted with their timers. */
  finalSent(code: number, reason: string, buf: Buffer, local: boolean): void {
    enterFinal(this, code, reason, buf, local);
  }

  /** The final-response timer of a transaction nobody answered (suspended or left alone). */
  onIdleExpired(): void {
    this.expand();
    this.expired = true;
    this.layer.c.timeouts.value++;
    if (this.suspended) {
      this.layer.c.expired_suspended.value++;
      this.unsuspend();
    }
    const reply = (): void => { this.respond(408, 'Request Timeout'); };
    if (!runFailure(this, 408, 'Request Timeout', reply)) reply();
  }

  // ---- internals ----

  sendTrying(retransmission = false): void {
    this.lastCode = 100;
    this.lastReason = this.layer.timers.auto100Reason;
    // not kept: rebuilt for the rare retransmission, so a waiting transaction holds no buffer
    this.sendUpstream(this.layer.host.buildLocalReply(this.ctx, 100, this.lastReason, false), false, retransmission);
  }

  /** Run a callback on the Context; `kind` says which tm route it is while it runs (kept as is when absent). */
  run(name: string, arg?: string, kind?: TmRouteKind): CallResult {
    if (kind === undefined) return this.layer.host.script.run(name, this.ctx, arg);
    const outer = this.routeKind;
    this.routeKind = kind;
    try {
      return this.layer.host.script.run(name, this.ctx, arg);
    } finally {
      this.routeKind = outer;
    }
  }

  // ---- ForkOwner: what forking.ts needs ----

  get self(): this {
    return this;
  }

  branchRoute(): string | null {
    return this.settings?.branch ?? null;
  }

  runBranchRoute(name: string): CallResult {
    return this.run(name, undefined, 'branch');
  }

  /** Still without a final reply (a method, so a check after a script callback is not narrowed away). */
  waiting(): boolean {
    return this.state === 'proceeding';
  }

  hasPending(): boolean {
    return this.fork.hasPending();
  }

  cancelPending(): void {
    this.fork.cancelPending();
  }

  private armIdle(): void {
    this.arm(this.isInvite ? this.frInvMs() : this.frMs());
  }

  arm(ms: number): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = this.layer.host.boundary.timeout('tm-timer', ms, serverTimer, this);
  }

  clearTimer(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
  }

  unsuspend(): void {
    if (!this.suspended) return;
    this.suspended = false;
    this.ctx.suspended = false;
    this.layer.c.suspended.value--;
  }

  /**
   * `final`: a final reply (set_reply_close closes the connection after it), not a provisional
   * one. `retransmission`: the same reply again (not told to the wire observers).
   */
  sendUpstream(buf: Buffer, final = true, retransmission = false): void {
    const o = this.origin;
    if (!retransmission && this.settings?.wire != null) this.tellWire(buf);
    if (o.conn !== null) {
      if (o.conn.closed) this.layer.c.send_errors.value++;
      // set_reply_close: the connection closes after a final reply (a provisional one keeps it for the final)
      else if ((this.ctx.replyFlags & SEND_CLOSE) !== 0 && final) o.conn.end(buf);
      else o.conn.write(buf);
      return;
    }
    const to = udpReplyTarget(this.req.topVia, this.ctx.src, this.ctx.forceRport);
    o.socket.send(buf, to.ip, to.port);
  }

  /** a reply going upstream, for the wire observers (siptrace): from the socket that took the request to where the reply goes */
  private tellWire(buf: Buffer): void {
    const src = this.ctx.src;
    const to = this.origin.conn !== null ? { ip: src.ip, port: src.port } : udpReplyTarget(this.req.topVia, src, this.ctx.forceRport);
    notifyWire(this.settings, { data: buf, isRequest: false, proto: src.proto, srcIp: src.localIp, srcPort: src.localPort, dstIp: to.ip, dstPort: to.port });
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
