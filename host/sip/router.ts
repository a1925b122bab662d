/**
 * The SIP message path: parse → Context → ksr_request_route / ksr_reply_route → act.
 * Implements the SipActions the bindings use (stateless replies and forwarding), so bindings
 * never see a socket. The transaction layer (host/sip/transaction) is asked first about every
 * message: what belongs to a transaction never reaches the script a second time.
 */
import dns from 'node:dns/promises';
import { isIP } from 'node:net';
import type { Logger } from 'pino';
import type { ScriptRunner } from '../script-runner.js';
import { Context, type SipActions, type Source } from '../kemi/context.js';
import type { Counter, Stats } from '../kemi/stats.js';
import { LogLimiter } from '../log-limiter.js';
import { fnv1a, hex8 } from './hash.js';
import { hostPort, type SipProto } from './listen.js';
import { parseSipMessage, SipParseError, type SipMessage } from './message.js';
import type { Myself } from './myself.js';
import { rebuildMessage } from './rebuild.js';
import { buildReply, stampVia, udpReplyTarget } from './reply.js';
import type { SipConnection, SipSocket } from './socket.js';
import { SipTraffic } from './traffic.js';
import { timersFrom, type TransactionTimers } from './transaction/config.js';
import type { Origin } from './transaction/transaction-host.js';
import { TransactionLayer } from './transaction/transaction-layer.js';
import { parseUri } from './uri.js';

export interface RouterOptions {
  readonly log: Logger;
  readonly stats: Stats;
  readonly myself: Myself;
  /** runs callbacks of the current script version, logging and counting failures */
  readonly script: ScriptRunner;
  readonly maxMessageBytes: number;
  /** Server header on our replies; null for none */
  readonly serverHeader: string | null;
  /** the tm module's timers (defaults when absent) */
  readonly tm?: TransactionTimers;
}

const REQUEST_ROUTE = 'ksr_request_route';
const REPLY_ROUTE = 'ksr_reply_route';
const ONSEND_ROUTE = 'ksr_onsend_route';

export class SipRouter implements SipActions {
  private readonly sockets: SipSocket[] = [];
  private readonly tagPrefix = hex8((Math.random() * 0xffffffff) >>> 0);
  private readonly limiter = new LogLimiter(10_000);
  private readonly c: Record<
    'rcvRequests' | 'rcvReplies' | 'fwdRequests' | 'fwdReplies' | 'dropRequests' | 'dropReplies' | 'badMsg' | 'sentReplies' | 'sendErrors' | 'tooLarge',
    Counter
  >;
  /** messages in and out by method and reply class */
  private readonly traffic: SipTraffic;
  /** the socket a Context's message came in on, and its connection for stream transports */
  private readonly origin = new WeakMap<Context, Origin>();
  /** server and client transactions; the Suspender of every request Context */
  readonly tm: TransactionLayer;

  constructor(private readonly opts: RouterOptions) {
    const s = opts.stats;
    this.traffic = new SipTraffic(s);
    this.c = {
      rcvRequests: s.counter('core', 'rcv_requests'),
      rcvReplies: s.counter('core', 'rcv_replies'),
      fwdRequests: s.counter('core', 'fwd_requests'),
      fwdReplies: s.counter('core', 'fwd_replies'),
      dropRequests: s.counter('core', 'drop_requests'),
      dropReplies: s.counter('core', 'drop_replies'),
      badMsg: s.counter('core', 'bad_msg'),
      tooLarge: s.counter('core', 'too_large'),
      sentReplies: s.counter('core', 'sent_replies'),
      sendErrors: s.counter('core', 'send_errors'),
    };
    this.tm = new TransactionLayer(
      {
        log: opts.log,
        script: opts.script,
        maxMessageBytes: opts.maxMessageBytes,
        originOf: (ctx) => this.origin.get(ctx),
        pickSocket: (proto, ip) => this.pickSocket(proto, ip),
        buildLocalReply: (ctx, code, reason, scriptHeaders) => {
          const spec = this.replySpec(ctx, code, reason);
          return buildReply(ctx.msg as SipMessage, ctx.src, scriptHeaders ? spec : { ...spec, extraHeaders: [] });
        },
        toTag: (ctx) => this.toTag(ctx),
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
    this.sockets.push(sock);
  }

  /** Entry point for every message from every transport. */
  readonly receive = (data: Buffer, src: Source, conn: SipConnection | null, socket: SipSocket): void => {
    let msg: SipMessage;
    try {
      msg = parseSipMessage(data, { maxMessageBytes: this.opts.maxMessageBytes });
    } catch (e) {
      this.onBadMessage(e, data, src, conn);
      return;
    }
    if (msg.isRequest) this.onRequest(msg, src, conn, socket);
    else this.onReply(msg, src, conn, socket);
  };

  /** A framing error on a stream: answer it when the header section is readable. */
  readonly onFrameError = (conn: SipConnection, src: Source, code: 400 | 413 | 513, reason: string, head: Buffer | null): void => {
    if (code === 513 || code === 413) this.c.tooLarge.value++;
    else this.c.badMsg.value++;
    this.logLimited(src, { code, reason }, 'bad SIP message on a TCP connection');
    if (head === null) return;
    let msg: SipMessage | null = null;
    try {
      msg = parseSipMessage(head, { maxMessageBytes: Math.max(head.length, this.opts.maxMessageBytes) });
    } catch (e) {
      if (e instanceof SipParseError && e.replyable) msg = e.partial;
    }
    if (msg?.isRequest !== true || msg.method === 'ACK') return;
    const ctx = new Context('sip', msg, src);
    conn.write(buildReply(msg, src, this.replySpec(ctx, code, reason)));
  };

  private onBadMessage(e: unknown, data: Buffer, src: Source, conn: SipConnection | null): void {
    if (!(e instanceof SipParseError)) throw e;
    if (e.status === 513) this.c.tooLarge.value++;
    else this.c.badMsg.value++;
    this.logLimited(src, { reason: e.message, bytes: data.length }, 'malformed SIP message dropped');
    // Over a stream the peer is told (the start line was readable), then the connection closes.
    if (conn !== null) {
      const partial = e.partial;
      if (e.replyable && partial?.isRequest === true && partial.method !== 'ACK') {
        const ctx = new Context('sip', partial, src);
        conn.end(buildReply(partial, src, this.replySpec(ctx, e.status, e.status === 513 ? 'Message Too Large' : 'Bad Request')));
      } else {
        conn.end();
      }
    }
  }

  private onRequest(msg: SipMessage, src: Source, conn: SipConnection | null, socket: SipSocket): void {
    this.c.rcvRequests.value++;
    this.traffic.requestIn(msg.method);
    // a retransmission, the ACK of a reply of ours, a CANCEL of a held INVITE: the transaction's
    if (this.tm.absorb(msg, src, conn, socket)) return;
    const ctx = new Context('sip', msg, src);
    ctx.sip = this;
    ctx.suspender = this.tm;
    this.origin.set(ctx, { socket, conn });
    const result = this.opts.script.run(REQUEST_ROUTE, ctx);
    if (ctx.suspender !== this.tm) {
      // the script made a transaction: it answers errors, holds suspended requests, times out
      this.tm.afterRequestRoute(ctx, result);
    } else if (!result.ok) {
      if (!ctx.replied && !ctx.dropped && msg.method !== 'ACK') this.sendReply(ctx, 500, 'Server Internal Error');
    }
    if (result.ok && ctx.dropped) this.c.dropRequests.value++;
  }

  private onReply(msg: SipMessage, src: Source, conn: SipConnection | null, socket: SipSocket): void {
    this.c.rcvReplies.value++;
    this.traffic.replyIn(msg.status);
    // a reply to a branch of a transaction: relayed (or absorbed) by it
    if (this.tm.receiveReply(msg, src, conn, socket)) return;
    const top = msg.topVia;
    if (!this.opts.myself.isMyself(top.host, top.port)) {
      this.c.dropReplies.value++;
      this.logLimited(src, { via: top.raw }, 'reply whose top Via is not ours dropped');
      return;
    }
    const ctx = this.runCoreReplyRoute(msg, src, conn, socket);
    if (ctx !== null) this.relayReply(ctx, msg);
  }

  /** ksr_reply_route on a received reply; its Context, or null when the script dropped it. */
  private runCoreReplyRoute(msg: SipMessage, src: Source, conn: SipConnection | null, socket: SipSocket): Context | null {
    const ctx = new Context('sip', msg, src);
    ctx.sip = this;
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
    const vias = msg.vias;
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

  // ---- SipActions ----

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
    return this.sendBack(origin, msg, ctx.src, ctx.forceRport, data);
  }

  /** Where the request in ctx came from, when it may be answered (a request, never an ACK); else null. */
  private answerable(ctx: Context): Origin | null {
    const msg = ctx.msg;
    const origin = this.origin.get(ctx);
    if (msg === null || !msg.isRequest || msg.method === 'ACK' || origin === undefined) return null;
    return origin;
  }

  /** A reply to a request, on its connection or to its UDP reply address (§18.2.2). */
  private sendBack(origin: Origin, msg: SipMessage, src: Source, forceRport: boolean, data: Buffer): boolean {
    if (origin.conn !== null) {
      if (origin.conn.closed) {
        this.c.sendErrors.value++;
        return false;
      }
      origin.conn.write(data);
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
      this.logLimited(ctx.src, { transport: tp }, 'forward: unsupported transport');
      return false;
    }
    const proto: SipProto = tp;
    const host = target.host.replace(/^\[|\]$/g, '');
    const port = target.port > 0 ? target.port : 5060;
    if (isIP(host) !== 0) return this.sendForward(ctx, msg, proto, host, port);
    // DNS A/AAAA lookup (no SRV/NAPTR): the script goes on; a failure is logged and counted.
    dns.lookup(host).then(
      (r) => { this.sendForward(ctx, msg, proto, r.address, port); },
      (err: unknown) => {
        this.c.sendErrors.value++;
        this.logLimited(ctx.src, { err, host }, 'forward: DNS lookup failed');
      },
    );
    return true;
  }

  private sendForward(ctx: Context, msg: SipMessage, proto: SipProto, ip: string, port: number): boolean {
    const sock = this.pickSocket(proto, ip);
    if (sock === undefined) {
      this.logLimited(ctx.src, { proto, ip }, 'forward: no listening socket for this protocol and address family');
      return false;
    }
    if (!this.runOnSend(ctx)) return false;
    const topVia = msg.vias[0];
    const stamped = topVia === undefined ? null : stampVia(msg.getHeaderElements('via')[0] ?? topVia.raw, topVia, ctx.src, ctx.forceRport);
    const branch = `z9hG4bKkh${hex8(fnv1a(topVia?.branch ?? msg.callId, ctx.ruri, msg.cseq.method === 'ACK' ? 'ACK' : ''))}`;
    const via = `Via: SIP/2.0/${proto.toUpperCase()} ${hostPort(sock.localIp, sock.localPort)};branch=${branch}\r\n`;
    const out = rebuildMessage(msg, {
      startLine: `${msg.method} ${ctx.ruri} SIP/2.0`,
      prepend: via,
      topVia: stamped,
      edits: ctx.hasHeaderEdits ? ctx.headerEdits : null,
    });
    if (out.length > this.opts.maxMessageBytes && proto === 'udp') {
      this.c.tooLarge.value++;
      this.logLimited(ctx.src, { bytes: out.length }, 'forward: message too large for UDP');
      return false;
    }
    sock.send(out, ip, port);
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

  private sendTo(proto: SipProto, ip: string, port: number, data: Buffer): boolean {
    const sock = this.pickSocket(proto, ip);
    if (sock === undefined) {
      this.c.sendErrors.value++;
      return false;
    }
    sock.send(data, ip, port);
    return true;
  }

  private pickSocket(proto: SipProto, ip: string): SipSocket | undefined {
    const family = ip.includes(':') ? 6 : 4;
    return this.sockets.find((s) => s.proto === proto && s.family === family);
  }

  private replySpec(ctx: Context, code: number, reason: string): Parameters<typeof buildReply>[2] {
    return {
      code,
      reason,
      toTag: this.toTag(ctx),
      extraHeaders: ctx.replyHeaders,
      server: this.opts.serverHeader,
      forceRport: ctx.forceRport,
    };
  }

  private logLimited(src: Source, fields: Record<string, unknown>, msg: string): void {
    const key = `${msg}|${src.ip}`;
    if (this.limiter.allow(key)) this.opts.log.warn({ ...fields, from: hostPort(src.ip, src.port), proto: src.proto, suppressed: this.limiter.suppressed(key) }, msg);
  }
}
