/**
 * What the transaction layer needs from the SIP message path (the router implements it): the
 * sockets, how replies are built, and the script callbacks the core runs around sending and
 * receiving. The layer never sees a transport listener or the router itself.
 */
import type { Logger } from 'pino';
import type { ErrorBoundary } from '../../boundary.js';
import type { Context } from '../../kemi/context.js';
import type { SocketAddress, Source } from '../types.js';
import type { ScriptHandle } from '../../kemi/types.js';
import type { SipProto } from '../listen.js';
import type { SipMessage } from '../message.js';
import type { SipConnection, SipSocket } from '../socket.js';
import type { StatelessSip } from './sip-owner.js';

/** The socket a request came in on, and its connection for a stream transport. */
export interface Origin {
  readonly socket: SipSocket;
  readonly conn: SipConnection | null;
}

export interface TransactionHost {
  readonly log: Logger;
  /** every timer and DNS answer of a transaction runs inside it */
  readonly boundary: ErrorBoundary;
  readonly script: ScriptHandle;
  readonly maxMessageBytes: number;
  originOf(ctx: Context): Origin | undefined;
  /** a socket of ours for this protocol and the address family of ip; `prefer`'s address when it is one */
  pickSocket(proto: SipProto, ip: string, prefer: SocketAddress | null): SipSocket | undefined;
  /**
   * A reply built by this server for the request in ctx (RFC 3261 §8.2.6), with the To-tag
   * `stateless.toTag(ctx)`; `scriptHeaders` adds what the script gave to append_to_reply.
   */
  buildLocalReply(ctx: Context, code: number, reason: string, scriptHeaders: boolean): Buffer;
  /** stateless replies and forwarding, for a request with or without a transaction */
  readonly stateless: StatelessSip;
  /** Run ksr_onsend_route on ctx before a request goes out; false when the script dropped it. */
  runOnSend(ctx: Context): boolean;
  /** Run ksr_reply_route on a received reply; its Context, or null when the script dropped it. */
  runCoreReplyRoute(msg: SipMessage, src: Source, conn: SipConnection | null, socket: SipSocket): Context | null;
  /** A stateless reply to a request that has no Context (the 200 to a CANCEL). */
  replyStateless(msg: SipMessage, src: Source, origin: Origin, code: number, reason: string): void;
}
