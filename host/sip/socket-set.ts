/**
 * Our SIP sockets, and which one sends what: by protocol and the address family of the
 * destination, the one at a preferred local address when we have it (rr's double routing and
 * `set_send_socket` name one), else the first listed. The router, the transaction layer and
 * modules' own sends (host/sip/sip-port.ts) all choose here, so they choose alike.
 */
import type { SipProto } from './listen.js';
import type { SipSocket } from './socket.js';
import type { SocketAddress } from './types.js';

export class SocketSet {
  private readonly sockets: SipSocket[] = [];

  add(sock: SipSocket): void {
    this.sockets.push(sock);
  }

  /** A socket of ours for this protocol and the address family of `ip`, `prefer`'s when there is one. */
  pick(proto: SipProto, ip: string, prefer: SocketAddress | null = null): SipSocket | undefined {
    const family = ip.includes(':') ? 6 : 4;
    if (prefer !== null) {
      const s = this.sockets.find((k) => k.proto === proto && k.family === family && k.localPort === prefer.port && k.localIp === prefer.ip);
      if (s !== undefined) return s;
    }
    return this.sockets.find((s) => s.proto === proto && s.family === family);
  }

  /** The local address pick() would send from, or null when no socket fits. */
  addressFor(proto: SipProto, ip: string, prefer: SocketAddress | null): SocketAddress | null {
    const s = this.pick(proto, ip, prefer);
    return s === undefined ? null : { proto: s.proto, ip: s.localIp, port: s.localPort };
  }

  /** Send from pick()'s socket; false when no socket fits (the caller counts the error). */
  send(proto: SipProto, ip: string, port: number, data: Buffer, prefer: SocketAddress | null = null): boolean {
    const sock = this.pick(proto, ip, prefer);
    if (sock === undefined) return false;
    sock.send(data, ip, port);
    return true;
  }
}
