/**
 * What the SIP layer does with input it cannot route (DESIGN.md §9): a datagram or stream frame
 * that does not parse, or is too large. It is counted (core:bad_msg, core:too_large), logged at a
 * limited rate per source, and — over a stream, when the start line was readable — answered with
 * 400/413/513 before the connection closes. Nothing here throws for a peer's bytes.
 */
import type { Logger } from 'pino';
import type { Counter, Stats } from '../kemi/stats.js';
import { LogLimiter } from '../log-limiter.js';
import { hostPort } from './listen.js';
import { parseSipMessage, SipParseError, type SipMessage } from './message.js';
import { buildRawReply } from './reply.js';
import type { SipConnection } from './socket.js';
import type { Source } from './types.js';

export interface BadInputOptions {
  readonly log: Logger;
  readonly stats: Stats;
  readonly maxMessageBytes: number;
  /** the To-tag prefix of our replies */
  readonly tagPrefix: string;
  /** Server header on our replies; null for none */
  readonly serverHeader: string | null;
  /** a reply to a (partly) parsed request, as the router builds every stateless reply */
  readonly buildReply: (msg: SipMessage, src: Source, code: number, reason: string) => Buffer;
}

export class BadInput {
  private readonly limiter = new LogLimiter(10_000);
  /** messages that did not parse */
  readonly badMsg: Counter;
  /** messages over the size limit (or over UDP's, when forwarded) */
  readonly tooLarge: Counter;

  constructor(private readonly opts: BadInputOptions) {
    this.badMsg = opts.stats.counter('core', 'bad_msg');
    this.tooLarge = opts.stats.counter('core', 'too_large');
  }

  /** A message that failed to parse: counted, logged, and answered over a stream. */
  unparsable(e: unknown, data: Buffer, src: Source, conn: SipConnection | null): void {
    if (!(e instanceof SipParseError)) throw e;
    if (e.status === 513) this.tooLarge.value++;
    else this.badMsg.value++;
    this.warn(src, { reason: e.message, bytes: data.length }, 'malformed SIP message dropped');
    // Over a stream the peer is told (the start line was readable), then the connection closes.
    if (conn !== null) this.answer(conn, src, e.partial, e, e.status, e.status === 513 ? 'Message Too Large' : 'Bad Request', true);
  }

  /** A framing error on a stream (the framer closes it): answered when the start line is readable. */
  frameError(conn: SipConnection, src: Source, code: 400 | 413 | 513, reason: string, head: Buffer | null): void {
    if (code === 513 || code === 413) this.tooLarge.value++;
    else this.badMsg.value++;
    this.warn(src, { code, reason }, 'bad SIP message on a TCP connection');
    if (head === null) return;
    try {
      const msg = parseSipMessage(head, { maxMessageBytes: Math.max(head.length, this.opts.maxMessageBytes) });
      this.answer(conn, src, msg, null, code, reason, false);
    } catch (e) {
      if (!(e instanceof SipParseError)) throw e;
      this.answer(conn, src, e.partial, e, code, reason, false);
    }
  }

  /** A warning about a peer's input, at most one per message kind and source every 10 s. */
  warn(src: Source, fields: Record<string, unknown>, msg: string): void {
    const key = `${msg}|${src.ip}`;
    if (this.limiter.allow(key)) this.opts.log.warn({ ...fields, from: hostPort(src.ip, src.port), proto: src.proto, suppressed: this.limiter.suppressed(key) }, msg);
  }

  /**
   * Answer a request refused on a stream: built from the message as far as it was read, or from
   * its raw header values when only the start line could be trusted; then close the connection
   * (`close`) or leave that to the framer. Nothing is sent to an ACK or a reply.
   */
  private answer(conn: SipConnection, src: Source, msg: SipMessage | null, e: SipParseError | null, code: number, reason: string, close: boolean): void {
    let out: Buffer | null = null;
    if (msg !== null) {
      if (msg.isRequest && msg.method !== 'ACK') out = this.opts.buildReply(msg, src, code, reason);
    } else if (e?.head != null && e.head.method !== 'ACK') {
      out = buildRawReply(e.head, code, reason, this.opts.tagPrefix, this.opts.serverHeader);
    }
    if (close) conn.end(out ?? undefined);
    else if (out !== null) conn.write(out);
  }
}
