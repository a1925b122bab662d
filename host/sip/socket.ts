/** What the router sees of a transport: a socket it can send on, and the receive callback. */
import type { Source } from './types.js';
import type { SipProto } from './listen.js';

/** A stream connection (TCP): replies go back on it. */
export interface SipConnection {
  readonly key: string;
  readonly closed: boolean;
  write(data: Buffer): void;
  /** write, then close (after a protocol error) */
  end(data?: Buffer): void;
}

export interface SipSocket {
  readonly proto: SipProto;
  readonly localIp: string;
  readonly localPort: number;
  readonly family: 4 | 6;
  /**
   * UDP: a datagram. TCP: over an existing connection to ip:port, or a new one; `flags`
   * (SEND_NO_CONNECT, SEND_CLOSE from ./types.js) may forbid the new one or close it after.
   */
  send(data: Buffer, ip: string, port: number, flags?: number): void;
  /** false when send() with these flags would not send (TCP, no connection, SEND_NO_CONNECT) */
  reachable(ip: string, port: number, flags: number): boolean;
  /** called with every SIP message this socket sends, whatever the path (statistics) */
  onSend: (data: Buffer) => void;
  close(): Promise<void>;
}

export type ReceiveHandler = (data: Buffer, src: Source, conn: SipConnection | null, socket: SipSocket) => void;
