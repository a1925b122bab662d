/**
 * What a module may do with the SIP transport outside any message: send a datagram from one of
 * our UDP sockets (nathelper's keepalives, which must leave from the socket a UA registered on
 * so its NAT binding stays open) and take replies meant for itself before the script sees them
 * (the answers to those keepalives, as Kamailio's sipping_rpl_filter does). The runtime attaches
 * the router once the listeners are open; before that, and in registries without transport
 * (`kemihost api`, unit tests), nothing is sent.
 */
import type { SipMessage } from './message.js';
import type { SipProto } from './listen.js';
import type { LocalDone, LocalRequestSpec, LocalSender } from './transaction/local-request.js';
import type { SocketAddress, Source } from './types.js';

/** The router's side: sockets it can send from. */
export interface SipSender {
  /** our socket for proto and the family of `ip`: the one at `prefer` when we have it, else the first; null when none */
  socketFor(proto: SipProto, ip: string, prefer: SocketAddress | null): SocketAddress | null;
  /** send from that socket; false when there is none */
  sendFrom(proto: SipProto, ip: string, port: number, data: Buffer, prefer: SocketAddress | null): boolean;
  /** the transaction layer, for requests of our own */
  readonly tm: LocalSender;
}

/** A reply filter: true takes the reply (nothing else handles it). */
export type ReplyFilter = (msg: SipMessage, src: Source) => boolean;

export interface ModuleSip {
  /** our UDP socket a datagram to `ip` would leave from (for the Via of a request), null when none */
  udpSocketFor(ip: string, prefer: SocketAddress | null): SocketAddress | null;
  /** send a datagram to ip:port from our UDP socket at `prefer` (else the first of its family); false when not sent */
  sendUdp(data: Buffer, ip: string, port: number, prefer: SocketAddress | null): boolean;
  /** see replies that match no transaction before the core reply route does */
  addReplyFilter(f: ReplyFilter): void;
  /** send a request of our own in a client transaction (uac_req_send); false when not sent (no transport yet, no socket) */
  sendLocal(spec: LocalRequestSpec, done: LocalDone): boolean;
}

export class SipPort implements ModuleSip {
  private sender: SipSender | null = null;
  private readonly filters: ReplyFilter[] = [];

  /** The runtime hands the router over once its sockets are open (null again at close). */
  attach(sender: SipSender | null): void {
    this.sender = sender;
  }

  udpSocketFor(ip: string, prefer: SocketAddress | null): SocketAddress | null {
    return this.sender?.socketFor('udp', ip, prefer) ?? null;
  }

  sendUdp(data: Buffer, ip: string, port: number, prefer: SocketAddress | null): boolean {
    return this.sender?.sendFrom('udp', ip, port, data, prefer) ?? false;
  }

  addReplyFilter(f: ReplyFilter): void {
    this.filters.push(f);
  }

  sendLocal(spec: LocalRequestSpec, done: LocalDone): boolean {
    return this.sender?.tm.sendLocal(spec, done) ?? false;
  }

  /** The router asks: does a module take this reply? */
  readonly takeReply = (msg: SipMessage, src: Source): boolean => {
    for (const f of this.filters) if (f(msg, src)) return true;
    return false;
  };
}
