/** What the router sees of a transport: a socket it can send on, and the receive callback. */
import type { Source } from '../kemi/context.js';
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
  /** UDP: a datagram. TCP: over an existing connection to ip:port, or a new one. */
  send(data: Buffer, ip: string, port: number): void;
  /** called with every SIP message this socket sends, whatever the path (statistics) */
  onSend: (data: Buffer) => void;
  close(): Promise<void>;
}

export type ReceiveHandler = (data: Buffer, src: Source, conn: SipConnection | null, socket: SipSocket) => void;
