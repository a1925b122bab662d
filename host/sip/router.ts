/**
 * The SIP message path: parse → Context → ksr_request_route / ksr_reply_route → act.
 * Implements the SipActions the bindings use (stateless replies and forwarding), so bindings
 * never see a socket. The transaction layer (host/sip/transaction) is asked first about every
 * message: what belongs to a transaction never reaches the script a second time.
 */
import dns from 'node:dns/promises';
import { isIP } from 'node:net';
import type { Logger } from 'pino';
import type { ErrorBoundary } from '../boundary.js';
import type { ScriptRunner } from '../script-runner.js';
import { Context } from '../kemi/context.js';
import { SEND_CLOSE, type SocketAddress, type Source } from './types.js';
import type { Counter, Stats } from '../kemi/stats.js';
import { fnv1a, hex8 } from './hash.js';
import { hostPort, type SipProto } from './listen.js';
import { parseSipMessage, SipParseError, type SipMessage } from './message.js';
import type { Myself } from './myself.js';
import { rebuildMessage } from './rebuild.js';
import { recordRouteFor } from './record-route.js';
import { BadInput } from './bad-input.js';
import { buildReply, stampVia, udpReplyTarget } from './reply.js';
import type { SipConnection, SipSocket } from './socket.js';
import { SocketSet } from './socket-set.js';
import { SipTraffic } from './traffic.js';
import { timersFrom, type TransactionTimers } from './transaction/config.js';
import type { Origin } from './transaction/transaction-host.js';
import type { StatelessSip } from './transaction/sip-owner.js';
import { TransactionLayer, transactionOf } from './transaction/transaction-layer.js';
import { notifyWire } from './transaction/tm-settings.js';
import { parseUri } from './uri.js';
import type { Via } from './via.js';

export interface RouterOptions {
  readonly log: Logger;
  /** where every message, timer and DNS answer of the SIP layer runs (host/boundary.ts) */
  readonly boundary: ErrorBoundary;
  readonly stats: Stats;
  readonly myself: Myself;
  /** runs callbacks of the current script version, logging and counting failures */
  readonly script: ScriptRunner;
  readonly maxMessageBytes: number;
  /** Server header on our replies; null for none */
  readonly serverHeader: string | null;
  /** the tm module's timers (defaults when absent) */
  readonly tm?: TransactionTimers;
  /** modules' reply filters (host/sip/sip-port.ts): a reply no transaction took, before the script sees it */
  readonly takeReply?: (msg: SipMessage, src: Source) => boolean;
}

const REQUEST_ROUTE = 'ksr_request_route';
const REPLY_ROUTE = 'ksr_reply_route';
const ONSEND_ROUTE = 'ksr_onsend_route';

export class SipRouter implements StatelessSip {
  private readonly sockets = new SocketSet();
  private readonly tagPrefix = hex8((Math.random() * 0xffffffff) >>> 0);
  private readonly c: Record<
    'rcvRequests' | 'rcvReplies' | 'fwdRequests' | 'fwdReplies' | 'dropRequests' | 'dropReplies' | 'sentReplies' | 'sendErrors',
    Counter
  >;
  /** messages in and out by method and reply class */
  private readonly traffic: SipTraffic;
  /** the socket a Context's message came in on, and its connection for stream transports */
  private readonly origin = new WeakMap<Context, Origin>();
  /** server and client transactions; the owner of every request Context (host/kemi/owner.ts) */
  readonly tm: TransactionLayer;

  /** counts, logs and answers what does not parse */
  private readonly bad: BadInput;

  constructor(private readonly opts: RouterOptions) {
    const s = opts.stats;
    this.bad = new BadInput({
      log: opts.log,
      stats: s,
      maxMessageBytes: opts.maxMessageBytes,
      tagPrefix: this.tagPrefix,
      serverHeader: opts.serverHeader,
      buildReply: (msg, src, code, reason) => buildReply(msg, src, this.replySpec(new Context('sip', msg, src), code, reason)),
    });
    this.traffic = new SipTraffic(s);
    this.c = {
      rcvRequests: s.counter('core', 'rcv_requests'),
      rcvReplies: s.counter('core', 'rcv_replies'),
      fwdRequests: s.counter('core', 'fwd_requests'),
      fwdReplies: s.counter('core', 'fwd_replies'),
      dropRequests: s.counter('core', 'drop_requests'),
      dropReplies: s.counter('core', 'drop_replies'),
      sentReplies: s.counter('core', 'sent_replies'),
      sendErrors: s.counter('core', 'send_errors'),
    };
    this.tm = new TransactionLayer(
      {
        log: opts.log,
        boundary: opts.boundary,
        script: opts.script,
        maxMessageBytes: opts.maxMessageBytes,
        originOf: (ctx) => this.origin.get(ctx),
        pickSocket: (proto, ip, prefer) => this.sockets.pick(proto, ip, prefer),
        buildLocalReply: (ctx, code, reason, scriptHeaders) => {
          const spec = this.replySpec(ctx, code, reason);
          return buildReply(ctx.msg as SipMessage, ctx.src, scriptHeaders ? spec : { ...spec, extraHeaders: [] });
        },
        stateless: this,
        runOnSend: (ctx) => this.runOnSend(ctx),
        runCoreReplyRoute: (msg, src, conn, socket) => this.runCoreReplyRoute(msg, src, conn, socket),
        replyStateless: (msg, src, origin, code, reason) => {
          const data = buildReply(msg, src, this.replySpec(new Context('sip', msg, src), code, reason));
          this.sendBack(origin, msg, src, false, data);
        },
      },
      opts.tm ?? timersFrom({}),
      s,
    );
  }

  /** Stop the transaction timers (the runtime closes the sockets next). */
  close(): void {
    this.tm.close();
  }

  addSocket(sock: SipSocket): void {
    sock.onSend = this.traffic.out;
    this.sockets.add(sock);
  }

  /**
   * Entry point for every message from every transport, inside the error boundary: a fault
   * while handling one message is counted and logged there, and a stream that carried it is
   * closed (its framing can no longer be trusted); everyone else is served on.
   */
  readonly receive = (data: Buffer, src: Source, conn: SipConnection | null, socket: SipSocket): void => {
    if (!this.opts.boundary.run('sip-receive', () => { this.handle(data, src, conn, socket); })) conn?.end();
  };

  private handle(data: Buffer, src: Source, conn: SipConnection | null, socket: SipSocket): void {
    let msg: SipMessage;
    try {
      msg = parseSipMessage(data, { maxMessageBytes: this.opts.maxMessageBytes });
    } catch (e) {
      this.bad.unparsable(e, data, src, conn);
      return;
    }
    msg.rcv = src;
    if (msg.isRequest) this.onRequest(msg, src, conn, socket);
    else this.onReply(msg, src, conn, socket);
  }

  /** A framing error on a stream: answered when the start line is readable (host/sip/bad-input.ts). */
  readonly onFrameError = (conn: SipConnection, src: Source, code: 400 | 413 | 513, reason: string, head: Buffer | null): void => {
    this.opts.boundary.run('sip-frame-error', () => { this.bad.frameError(conn, src, code, reason, head); });
  };

  private onRequest(msg: SipMessage, src: Source, conn: SipConnection | null, socket: SipSocket): void {
    this.c.rcvRequests.value++;
    this.traffic.requestIn(msg.method);
    // a retransmission, the ACK of a reply of ours, a CANCEL of a held INVITE: the transaction's
    if (this.tm.absorb(msg, src, conn, socket)) return;
    const ctx = new Context('sip', msg, src);
    ctx.owner = this.tm;
    this.origin.set(ctx, { socket, conn });
    try {
      const result = this.opts.script.run(REQUEST_ROUTE, ctx);
      if (ctx.owner !== this.tm) {
        // the script made a transaction: it answers errors, holds suspended requests, times out
        this.tm.afterRequestRoute(ctx, result);
      } else if (!result.ok) {
        this.answerFailed(ctx);
      }
      if (result.ok && ctx.dropped) this.c.dropRequests.value++;
    } catch (e) {
      // a fault of ours while handling it: counted at the boundary; the request still gets its 500
      this.opts.boundary.caught('sip-receive', e);
      this.answerFailed(ctx);
    }
  }

  /** 500 to a request that nobody answered because its handling failed (not an ACK, not dropped). */
  private answerFailed(ctx: Context): void {
    if (ctx.replied || ctx.dropped || ctx.msg?.method === 'ACK') return;
    const t = transactionOf(ctx);
    if (t !== null) t.respond(500, 'Server Internal Error');
    else this.sendReply(ctx, 500, 'Server Internal Error');
  }

  private onReply(msg: SipMessage, src: Source, conn: SipConnection | null, socket: SipSocket): void {
    this.c.rcvReplies.value++;
    this.traffic.replyIn(msg.status);
    // a reply to a branch of a transaction: relayed (or absorbed) by it
    if (this.tm.receiveReply(msg, src, conn, socket)) return;
    if (this.opts.takeReply?.(msg, src) === true) return;
    const top = msg.topVia;
    if (!this.opts.myself.isMyself(top.host, top.port)) {
      this.c.dropReplies.value++;
      this.bad.warn(src, { via: top.raw }, 'reply whose top Via is not ours dropped');
      return;
    }
    const ctx = this.runCoreReplyRoute(msg, src, conn, socket);
    if (ctx !== null) this.relayReply(ctx, msg);
  }

  /** ksr_reply_route on a received reply; its Context, or null when the script dropped it. */
  private runCoreReplyRoute(msg: SipMessage, src: Source, conn: SipConnection | null, socket: SipSocket): Context | null {
    // a reply has no owner: nothing answers it or holds it
    const ctx = new Context('sip', msg, src);
    this.origin.set(ctx, { socket, conn });
    const script = this.opts.script;
    if (script.has(REPLY_ROUTE)) script.run(REPLY_ROUTE, ctx);
    if (ctx.dropped) {
      this.c.dropReplies.value++;
      return null;
    }
    return ctx;
  }

  /** Stateless reply relay: drop our Via, send to the next one (received/rport honoured). */
  private relayReply(ctx: Context, msg: SipMessage): void {
    let vias: readonly Via[];
    try {
      vias = msg.vias;
    } catch (e) {
      if (!(e instanceof SipParseError)) throw e;
      // only now is the second Via read: the reply cannot be routed back
      this.bad.badMsg.value++;
      this.c.dropReplies.value++;
      this.bad.warn(ctx.src, { reason: e.message }, 'reply with a malformed Via below ours dropped');
      return;
    }
    const next = vias[1];
    if (next === undefined) {
      this.c.dropReplies.value++;
      return;
    }
    const proto = next.transport.toLowerCase();
    const ip = next.received !== '' ? next.received : next.host.replace(/^\[|\]$/g, '');
    const rport = next.rport !== null && next.rport !== '' ? Number(next.rport) : 0;
    const port = rport > 0 ? rport : next.port > 0 ? next.port : 5060;
    const out = rebuildMessage(msg, {
      startLine: `SIP/2.0 ${String(msg.status)} ${msg.reason}`,
      prepend: '',
      topVia: '',
      edits: ctx.hasHeaderEdits ? ctx.headerEdits : null,
    });
    if (this.sendTo(proto === 'tcp' ? 'tcp' : 'udp', ip, port, out)) this.c.fwdReplies.value++;
  }

  // ---- StatelessSip: what the owners of a request (host/sip/transaction/sip-owner.ts) send through ----

  canReply(ctx: Context): boolean {
    const origin = this.answerable(ctx);
    return origin !== null && (origin.conn === null || !origin.conn.closed);
  }

  sendReply(ctx: Context, code: number, reason: string): boolean {
    const origin = this.answerable(ctx);
    if (origin === null) return false;
    const msg = ctx.msg as SipMessage; // answerable() checked it
    const data = buildReply(msg, ctx.src, this.replySpec(ctx, code, reason));
    if (code >= 200) ctx.replied = true;
    this.c.sentReplies.value++;
    const settings = this.tm.existingSettings(ctx);
    // siptrace's "t": a stateless reply to a traced request is traced too (Kamailio's SLCB_REPLY_READY)
    if (settings?.wire != null) {
      const src = ctx.src;
      const to = origin.conn !== null ? { ip: src.ip, port: src.port } : udpReplyTarget(msg.topVia, src, ctx.forceRport);
      notifyWire(settings, { data, isRequest: false, proto: src.proto, srcIp: src.localIp, srcPort: src.localPort, dstIp: to.ip, dstPort: to.port });
    }
    // set_reply_close: after the final reply (a provisional one would lose the final)
    return this.sendBack(origin, msg, ctx.src, ctx.forceRport, data, code >= 200 ? ctx.replyFlags : 0);
  }

  /** Where the request in ctx came from, when it may be answered (a request, never an ACK); else null. */
  private answerable(ctx: Context): Origin | null {
    const msg = ctx.msg;
    const origin = this.origin.get(ctx);
    if (msg === null || !msg.isRequest || msg.method === 'ACK' || origin === undefined) return null;
    return origin;
  }

  /**
   * A reply to a request, on its connection or to its UDP reply address (§18.2.2). A closed
   * connection is not opened again (what set_reply_no_connect asks; here always); SEND_CLOSE
   * closes it once the reply is written.
   */
  private sendBack(origin: Origin, msg: SipMessage, src: Source, forceRport: boolean, data: Buffer, flags = 0): boolean {
    if (origin.conn !== null) {
      if (origin.conn.closed) {
        this.c.sendErrors.value++;
        return false;
      }
      if ((flags & SEND_CLOSE) !== 0) origin.conn.end(data);
      else origin.conn.write(data);
      return true;
    }
    const t = udpReplyTarget(msg.topVia, src, forceRport);
    origin.socket.send(data, t.ip, t.port);
    return true;
  }

  toTag(ctx: Context): string {
    const msg = ctx.msg;
    if (msg === null) return '';
    return `${this.tagPrefix}-${hex8(fnv1a(msg.callId, msg.from.tag, msg.topVia.branch))}`;
  }

  forward(ctx: Context, uri: string | null): boolean {
    const msg = ctx.msg;
    const origin = this.origin.get(ctx);
    if (msg === null || !msg.isRequest || origin === undefined) return false;
    const target = parseUri(uri ?? ctx.dstUri ?? ctx.ruri);
    if (target === null) return false;
    const tp = (target.params.get('transport') ?? (target.scheme.toLowerCase() === 'sips' ? 'tls' : 'udp')).toLowerCase();
    if (tp !== 'udp' && tp !== 'tcp') {
      this.bad.warn(ctx.src, { transport: tp }, 'forward: unsupported transport');
      return false;
    }
    const proto: SipProto = tp;
    const host = target.host.replace(/^\[|\]$/g, '');
    const port = target.port > 0 ? target.port : 5060;
    if (isIP(host) !== 0) return this.sendForward(ctx, msg, proto, host, port);
    // DNS A/AAAA lookup (no SRV/NAPTR): the script goes on; a failure is logged and counted.
    this.opts.boundary.then(
      dns.lookup(host),
      'dns-answer',
      (r) => { this.sendForward(ctx, msg, proto, r.address, port); },
      (err: unknown) => {
        this.c.sendErrors.value++;
        this.bad.warn(ctx.src, { err, host }, 'forward: DNS lookup failed');
      },
    );
    return true;
  }

  private sendForward(ctx: Context, msg: SipMessage, proto: SipProto, ip: string, port: number): boolean {
    const sock = this.sockets.pick(proto, ip, ctx.sendSocket);
    if (sock === undefined) {
      this.bad.warn(ctx.src, { proto, ip }, 'forward: no listening socket for this protocol and address family');
      return false;
    }
    if (!sock.reachable(ip, port, ctx.forwardFlags)) {
      this.c.sendErrors.value++;
      return false;
    }
    if (!this.runOnSend(ctx)) return false;
    // only the top Via is read: the ones below go on as received (a malformed one included, as in Kamailio)
    const topVia = msg.topVia;
    const stamped = stampVia(msg.getHeaderElements('via')[0] ?? topVia.raw, topVia, ctx.src, ctx.forceRport);
    const branch = `z9hG4bKkh${hex8(fnv1a(topVia.branch, ctx.ruri, msg.cseq.method === 'ACK' ? 'ACK' : ''))}`;
    const via = `Via: SIP/2.0/${proto.toUpperCase()} ${hostPort(sock.localIp, sock.localPort)};branch=${branch}\r\n`;
    const edits = ctx.hasHeaderEdits ? ctx.headerEdits : null;
    const out = rebuildMessage(msg, {
      startLine: `${msg.method} ${ctx.ruri} SIP/2.0`,
      // a Record-Route names the socket the request leaves on: known only now
      recordRoute: recordRouteFor(edits, ctx.src, sock),
      prepend: via,
      topVia: stamped,
      edits,
    });
    if (out.length > this.opts.maxMessageBytes && proto === 'udp') {
      this.bad.tooLarge.value++;
      this.bad.warn(ctx.src, { bytes: out.length }, 'forward: message too large for UDP');
      return false;
    }
    sock.send(out, ip, port, ctx.forwardFlags);
    this.c.fwdRequests.value++;
    return true;
  }

  /** ksr_onsend_route before a request goes out; false when the script dropped it. */
  private runOnSend(ctx: Context): boolean {
    const script = this.opts.script;
    if (!script.has(ONSEND_ROUTE)) return true;
    const outerStop = ctx.stop;
    script.run(ONSEND_ROUTE, ctx);
    ctx.stop = outerStop;
    if (ctx.dropped) {
      ctx.dropped = false;
      this.c.dropRequests.value++;
      return false;
    }
    return true;
  }

  /** SipSender (host/sip/sip-port.ts): our socket for proto and ip's family, `prefer` when we have it. */
  socketFor(proto: SipProto, ip: string, prefer: SocketAddress | null): SocketAddress | null {
    return this.sockets.addressFor(proto, ip, prefer);
  }

  /** SipSender: a datagram (or a stream write) from that socket, outside any message. */
  sendFrom(proto: SipProto, ip: string, port: number, data: Buffer, prefer: SocketAddress | null): boolean {
    return this.sendTo(proto, ip, port, data, prefer);
  }

  private sendTo(proto: SipProto, ip: string, port: number, data: Buffer, prefer: SocketAddress | null = null): boolean {
    if (this.sockets.send(proto, ip, port, data, prefer)) return true;
    this.c.sendErrors.value++;
    return false;
  }

  private replySpec(ctx: Context, code: number, reason: string): Parameters<typeof buildReply>[2] {
    return {
      code,
      reason,
      toTag: this.toTag(ctx),
      extraHeaders: ctx.replyHeaders,
      server: this.opts.serverHeader,
      forceRport: ctx.forceRport,
      ...(ctx.replyBody === null ? {} : { body: ctx.replyBody.body, contentType: ctx.replyBody.contentType }),
    };
  }
}
