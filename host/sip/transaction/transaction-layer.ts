/**
 * The transaction layer of one runtime (RFC 3261 §17): the tables that match incoming requests
 * to server transactions (§17.2.3) and replies to client transactions (§17.1.3), and the ACKs
 * of our own 2xx replies to their INVITE (by dialog, §13.3.1.4). The router asks it first about
 * every message; when nothing is held the answer costs a Map size check, so stateless traffic
 * stays as cheap as before.
 *
 * It is also the owner of every SIP request Context until a transaction exists (stateless
 * replies and forwarding go through the router); an async module that holds such a request
 * creates its transaction here (Kamailio's t_suspend needs one too), and from then on the
 * transaction itself is `ctx.owner` (sip-owner.ts).
 */
import type { CallResult } from '../../engines/engine.js';
import type { Context } from '../../kemi/context.js';
import type { Hold } from '../../kemi/owner.js';
import type { Source } from '../types.js';
import { sipOwnerOf, type SipOwner } from './sip-owner.js';
import type { Stats } from '../../kemi/stats.js';
import { LogLimiter } from '../../log-limiter.js';
import { hex8 } from '../hash.js';
import type { SipMessage } from '../message.js';
import type { SipConnection, SipSocket } from '../socket.js';
import type { Via } from '../via.js';
import type { ClientTransaction } from './client-transaction.js';
import type { TransactionTimers } from './config.js';
import { buildLocalRequest, LocalRequest, type LocalDone, type LocalRequestSpec } from './local-request.js';
import { ServerTransaction } from './server-transaction.js';
import { tmCounters, type TmCounters } from './stats.js';
import { TmSettings } from './tm-settings.js';
import type { TransactionHost } from './transaction-host.js';

const MAGIC_COOKIE = 'z9hG4bK';

/**
 * §17.2.3: the branch when it has the magic cookie; else (RFC 2543 peers) Call-ID, CSeq number,
 * From-tag and the top Via's sent-by — enough to match a retransmission and the ACK of a
 * negative reply, not the full RFC 2543 procedure (To-tag and R-URI are not compared).
 */
function keyOf(msg: SipMessage): string {
  const branch = msg.topVia.branch;
  if (branch.startsWith(MAGIC_COOKIE)) return branch;
  return `${msg.callId}\n${String(msg.cseq.seq)}\n${msg.from.tag}\n${msg.topVia.host}:${String(msg.topVia.port)}`;
}

/**
 * A copy of a string that does not point into the message text it was cut from: a held
 * transaction's key must not keep the whole (compacted-away) header text alive.
 */
function ownCopy(s: string): string {
  return Buffer.from(s, 'utf8').toString('utf8');
}

export class TransactionLayer implements SipOwner {
  readonly kind = 'sip' as const;
  readonly transaction = null;
  readonly c: TmCounters;
  /** key → server transaction (a chain when several share a key: INVITE and CANCEL methods differ) */
  private readonly servers = new Map<string, ServerTransaction>();
  /** Call-ID → INVITE transactions whose 2xx of ours awaits its ACK */
  private readonly acks = new Map<string, ServerTransaction>();
  /** our Via branch → client transaction */
  private readonly clients = new Map<string, ClientTransaction>();
  /** our Via branch → a request this server originated (local-request.ts) */
  private readonly locals = new Map<string, LocalRequest>();
  /** t_on_* / t_set_fr given before the transaction exists */
  private readonly pending = new WeakMap<Context, TmSettings>();
  private readonly limiter = new LogLimiter(10_000);
  private readonly branchPrefix = hex8((Math.random() * 0xffffffff) >>> 0);
  private branchSeq = 0;
  private labelSeq = 0;
  private closed = false;

  constructor(
    readonly host: TransactionHost,
    readonly timers: TransactionTimers,
    stats: Stats,
  ) {
    this.c = tmCounters(stats);
  }

  // ---- the router asks first ----

  /**
   * A request that belongs to a transaction: a retransmission (the last reply re-sent), the ACK
   * of a reply of ours, or a CANCEL of a held INVITE. true when it was taken: the script does
   * not see it.
   */
  absorb(msg: SipMessage, src: Source, conn: SipConnection | null, socket: SipSocket): boolean {
    if (this.servers.size === 0) return false;
    const method = msg.method;
    const key = keyOf(msg);
    if (method === 'ACK') {
      const t = this.find(key, msg.topVia, 'INVITE');
      if (t?.takesAck() === true) {
        t.onAck();
        return true;
      }
      return this.absorbAck2xx(msg);
    }
    if (method === 'CANCEL') {
      const t = this.find(key, msg.topVia, 'INVITE');
      if (t === null) return false;
      t.onCancel(msg, src, { socket, conn });
      return true;
    }
    const t = this.find(key, msg.topVia, method);
    if (t === null) return false;
    t.onRetransmission();
    return true;
  }

  /** A reply to one of our branches (top Via branch and CSeq method, §17.1.3). true when taken. */
  receiveReply(msg: SipMessage, src: Source, conn: SipConnection | null, socket: SipSocket): boolean {
    if (this.locals.size > 0) {
      const lr = this.locals.get(msg.topVia.branch);
      if (lr !== undefined) {
        this.c.rpl_received.value++;
        lr.receive(msg);
        return true;
      }
    }
    if (this.clients.size === 0) return false;
    const ct = this.clients.get(msg.topVia.branch);
    if (ct === undefined) return false;
    const method = msg.cseq.method;
    if (method === 'CANCEL') {
      ct.onCancelReply(msg);
      return true;
    }
    if (method !== ct.method) return false;
    this.c.rpl_received.value++;
    ct.receive(msg, src, conn, socket);
    return true;
  }

  get layer(): this {
    return this;
  }

  /** After the request route: the transaction (if the script made one) takes it from here. */
  afterRequestRoute(ctx: Context, result: CallResult): void {
    sipOwnerOf(ctx)?.transaction?.after(result, null);
  }

  // ---- what the tm binding and the async modules ask ----

  /**
   * The transaction of ctx, created now if it has none (t_newtran, t_relay, an async
   * suspension). null for what cannot have one: an ACK, a reply, a message not received here.
   */
  ensure(ctx: Context): ServerTransaction | null {
    const o = sipOwnerOf(ctx);
    if (o?.layer !== this) return null;
    if (o.transaction !== null) return o.transaction;
    const msg = ctx.msg;
    if (this.closed || msg === null || !msg.isRequest || msg.method === 'ACK') return null;
    const origin = this.host.originOf(ctx);
    if (origin === undefined) return null;
    const settings = this.pending.get(ctx) ?? null;
    if (settings !== null) this.pending.delete(ctx);
    const t = new ServerTransaction(this, ctx, msg, ownCopy(keyOf(msg)), origin, ++this.labelSeq, settings);
    this.register(t);
    this.c.created.value++;
    this.c.active.value++;
    ctx.owner = t;
    if (t.isInvite && this.timers.auto100) t.sendTrying();
    return t;
  }

  /** The settings of ctx's transaction, or the ones held for it before one exists; null when none (none made here). */
  existingSettings(ctx: Context): TmSettings | null {
    const o = sipOwnerOf(ctx);
    if (o?.layer !== this) return null;
    return o.transaction?.settings ?? this.pending.get(ctx) ?? null;
  }

  /** t_on_* and t_set_fr: on the transaction, or kept for it until it exists. */
  settingsFor(ctx: Context): TmSettings | null {
    const o = sipOwnerOf(ctx);
    if (o?.layer !== this) return null;
    const t = o.transaction;
    if (t !== null) return (t.settings ??= new TmSettings());
    let p = this.pending.get(ctx);
    if (p === undefined) {
      p = new TmSettings();
      this.pending.set(ctx, p);
    }
    return p;
  }

  peekSettings(ctx: Context): TmSettings | null {
    const t = sipOwnerOf(ctx)?.transaction ?? null;
    if (t !== null) return t.settings;
    return this.pending.get(ctx) ?? null;
  }

  /** A server transaction other than ctx's own that this request belongs to (t_precheck_trans). */
  lookup(msg: SipMessage): ServerTransaction | null {
    if (this.servers.size === 0) return null;
    return this.find(keyOf(msg), msg.topVia, msg.method === 'ACK' || msg.method === 'CANCEL' ? 'INVITE' : msg.method);
  }

  /**
   * The INVITE transaction an end-to-end ACK belongs to (t_check_trans on an ACK): one that sent
   * a 2xx, with this ACK's Call-ID, CSeq number and From-tag.
   */
  lookupInviteOf(ack: SipMessage): ServerTransaction | null {
    for (let t = this.acks.get(ack.callId) ?? null; t !== null; t = t.ackNext) {
      if (t.req.cseq.seq === ack.cseq.seq && t.req.from.tag === ack.from.tag) return t;
    }
    return null;
  }

  // ---- MessageOwner, for a request without a transaction yet ----

  canReply(ctx: Context): boolean {
    return this.host.stateless.canReply(ctx);
  }

  sendReply(ctx: Context, code: number, reason: string): boolean {
    return this.host.stateless.sendReply(ctx, code, reason);
  }

  /** No transaction: the reply is stateless (Kamailio's send_reply without one). */
  reply(ctx: Context, code: number, reason: string): boolean {
    return this.host.stateless.sendReply(ctx, code, reason);
  }

  forward(ctx: Context, uri: string | null): boolean {
    return this.host.stateless.forward(ctx, uri);
  }

  toTag(ctx: Context): string {
    return this.host.stateless.toTag(ctx);
  }

  /** Holding a request needs its transaction: made now (Kamailio's t_suspend needs one too). */
  hold(ctx: Context, lightly = false): Hold | string {
    const made = sipOwnerOf(ctx)?.transaction === null;
    const t = this.ensure(ctx);
    if (t === null) return 'the message cannot be held (an ACK, a reply, or the server is closing)';
    // made only to hold a call waiting in place: it goes again unless the script uses it
    if (made && lightly) t.provisional = true;
    return t.hold(ctx);
  }

  /**
   * Send a request of our own (the dialog module's BYE, uac_req_send) from a socket of ours for its protocol;
   * `done` gets the final reply's code, or 408 when none came within 64*T1. false when it
   * could not be sent (no socket for that protocol, closing).
   */
  sendLocal(spec: LocalRequestSpec, done: LocalDone): boolean {
    if (this.closed) return false;
    const sock = this.host.pickSocket(spec.proto, spec.ip, spec.sendSocket ?? null);
    if (sock === undefined || !sock.reachable(spec.ip, spec.port, 0)) return false;
    const branch = this.newBranchId();
    const lr = new LocalRequest(this, branch, buildLocalRequest(spec, sock, branch), sock, spec.ip, spec.port, done);
    this.locals.set(branch, lr);
    this.c.uac_branches.value++;
    lr.start();
    return true;
  }

  removeLocal(lr: LocalRequest): void {
    if (this.locals.get(lr.branch) === lr) this.locals.delete(lr.branch);
  }

  // ---- bookkeeping for the transactions ----

  newBranchId(): string {
    return `${MAGIC_COOKIE}kt${this.branchPrefix}.${(this.branchSeq++).toString(36)}`;
  }

  addClient(ct: ClientTransaction): void {
    this.clients.set(ct.branch, ct);
  }

  removeClient(ct: ClientTransaction): void {
    if (this.clients.get(ct.branch) === ct) this.clients.delete(ct.branch);
  }

  /** An INVITE transaction sent a 2xx (its own or relayed): its ACK is matched by dialog. */
  indexAck(t: ServerTransaction): void {
    if (t.ackIndexed) return;
    t.ackIndexed = true;
    const id = t.req.callId;
    t.ackNext = this.acks.get(id) ?? null;
    this.acks.set(id, t);
  }

  unregister(t: ServerTransaction): void {
    this.c.active.value--;
    this.c.freed.value++;
    unlink(this.servers, t.key, t, (x) => x.next, (x, n) => { x.next = n; });
    if (t.ackIndexed) unlink(this.acks, t.req.callId, t, (x) => x.ackNext, (x, n) => { x.ackNext = n; });
  }

  /** A warning about what a script asked for, at most once per 10 s per text. */
  warn(text: string, fields: Record<string, unknown>): void {
    if (this.limiter.allow(text)) this.host.log.warn({ ...fields, suppressed: this.limiter.suppressed(text) }, text);
  }

  get serverCount(): number {
    return this.servers.size;
  }

  get clientCount(): number {
    return this.clients.size;
  }

  /** Stop every timer; transactions are forgotten without a reply (the sockets are closing). */
  close(): void {
    this.closed = true;
    const all: ServerTransaction[] = [];
    for (let t of this.servers.values()) {
      for (;;) {
        all.push(t);
        if (t.next === null) break;
        t = t.next;
      }
    }
    for (const t of all) t.terminate();
    for (const ct of [...this.clients.values()]) ct.terminate();
    for (const lr of this.locals.values()) lr.terminate();
    this.locals.clear();
    this.acks.clear();
  }

  // ---- internals ----

  private register(t: ServerTransaction): void {
    t.next = this.servers.get(t.key) ?? null;
    this.servers.set(t.key, t);
  }

  private find(key: string, via: Via, method: string): ServerTransaction | null {
    for (let t = this.servers.get(key) ?? null; t !== null; t = t.next) {
      if (t.method === method && t.viaPort === via.port && t.viaHost === via.host) return t;
    }
    return null;
  }

  /** The ACK of a 2xx of ours: a new transaction, matched by dialog (§13.3.1.4, §17.2.3 note). */
  private absorbAck2xx(ack: SipMessage): boolean {
    if (this.acks.size === 0) return false;
    for (let t = this.acks.get(ack.callId) ?? null; t !== null; t = t.ackNext) {
      if (t.localAccepted && t.req.cseq.seq === ack.cseq.seq && t.req.from.tag === ack.from.tag && t.replyToTag === ack.to.tag) {
        t.onAck();
        return true;
      }
    }
    return false;
  }
}

/** Remove t from the chain stored under key. */
function unlink(
  map: Map<string, ServerTransaction>,
  key: string,
  t: ServerTransaction,
  next: (x: ServerTransaction) => ServerTransaction | null,
  setNext: (x: ServerTransaction, n: ServerTransaction | null) => void,
): void {
  let prev: ServerTransaction | null = null;
  for (let x = map.get(key) ?? null; x !== null; prev = x, x = next(x)) {
    if (x !== t) continue;
    const n = next(x);
    if (prev === null) {
      if (n === null) map.delete(key);
      else map.set(key, n);
    } else {
      setNext(prev, n);
    }
    setNext(t, null);
    return;
  }
}

export { layerOf, transactionOf } from './sip-owner.js';
