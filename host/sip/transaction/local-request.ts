/**
 * A non-INVITE request this server originates itself (the dialog module's BYE, uac_req_send): an RFC 3261
 * §17.1.2 client transaction with no server transaction above it. Timer E retransmits over UDP
 * (T1 doubling up to T2), Timer F (64*T1) ends it as 408; the first final reply ends it. The
 * layer finds it by its Via branch, as it finds a relayed branch (§17.1.3).
 */
import { isIP } from 'node:net';
import type { SipProto } from '../listen.js';
import type { SipMessage } from '../message.js';
import type { SipSocket } from '../socket.js';
import type { SocketAddress } from '../types.js';
import { parseUri } from '../uri.js';
import type { TransactionLayer } from './transaction-layer.js';

/** What a local request is, before the Via: the layer adds the Via (our socket, a new branch). */
export interface LocalRequestSpec {
  readonly method: string;
  readonly ruri: string;
  /** header lines without Via, each ending in CRLF; Content-Length is added */
  readonly headers: readonly string[];
  /** the body (its Content-Type among `headers`); none when absent */
  readonly body?: string;
  /** where it goes: an IP address (no DNS here) */
  readonly proto: SipProto;
  readonly ip: string;
  readonly port: number;
  /** our socket to send from when we have it (else the first for the protocol and family) */
  readonly sendSocket?: SocketAddress | null;
}

/** Where a request of ours to `uri` goes: its host, which must be an IP address, port and transport; or why not. */
export function localTarget(uri: string): { proto: SipProto; ip: string; port: number } | string {
  const u = parseUri(uri);
  if (u === null || u.host === '') return `not a SIP URI: ${uri}`;
  const host = u.host.replace(/^\[|\]$/g, '');
  if (isIP(host) === 0) return `not an IP address (no DNS for a request of ours): ${u.host}`;
  const tp = (u.params.get('transport') ?? 'udp').toLowerCase();
  if (tp !== 'udp' && tp !== 'tcp') return `transport ${tp} is not served here`;
  return { proto: tp, ip: host, port: u.port > 0 ? u.port : 5060 };
}

/** The outcome: the final reply's code (408 when none came in time). */
export type LocalDone = (code: number, reply: SipMessage | null) => void;

/** What sends requests of our own: the transaction layer (TransactionLayer.sendLocal). */
export interface LocalSender {
  sendLocal(spec: LocalRequestSpec, done: LocalDone): boolean;
}

function onLocalTimer(r: LocalRequest): void {
  r.onTimer();
}

export class LocalRequest {
  private timer: NodeJS.Timeout | null = null;
  private interval: number;
  private readonly deadline: number;
  private done = false;

  constructor(
    private readonly layer: TransactionLayer,
    readonly branch: string,
    private readonly buf: Buffer,
    private readonly socket: SipSocket,
    private readonly ip: string,
    private readonly port: number,
    private readonly onDone: LocalDone,
  ) {
    const t = layer.timers;
    this.interval = socket.proto === 'udp' ? t.t1 : 0;
    this.deadline = Date.now() + 64 * t.t1;
  }

  start(): void {
    this.socket.send(this.buf, this.ip, this.port);
    this.schedule();
  }

  /** A reply with our branch: provisionals stop nothing but retransmissions at T2 (§17.1.2.2). */
  receive(msg: SipMessage): void {
    if (this.done) return;
    if (msg.status < 200) {
      if (this.interval > 0) this.interval = this.layer.timers.t2;
      return;
    }
    this.finish(msg.status, msg);
  }

  onTimer(): void {
    this.timer = null;
    if (this.done) return;
    if (Date.now() + 1 >= this.deadline) {
      this.finish(408, null);
      return;
    }
    if (this.interval > 0) {
      this.socket.send(this.buf, this.ip, this.port);
      this.layer.c.retransmissions.value++;
      this.interval = Math.min(this.interval * 2, this.layer.timers.t2);
    }
    this.schedule();
  }

  /** The runtime is closing: stop without an outcome. */
  terminate(): void {
    this.done = true;
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
  }

  private schedule(): void {
    const wait = this.interval > 0 ? this.interval : this.deadline - Date.now();
    this.timer = this.layer.host.boundary.timeout('tm-timer', Math.min(wait, Math.max(0, this.deadline - Date.now())), onLocalTimer, this);
  }

  private finish(code: number, reply: SipMessage | null): void {
    this.terminate();
    this.layer.removeLocal(this);
    this.onDone(code, reply);
  }
}

/** The request's bytes with our Via first (RFC 3261 §8.1.1.7). */
export function buildLocalRequest(spec: LocalRequestSpec, socket: SipSocket, branch: string): Buffer {
  const host = socket.family === 6 ? `[${socket.localIp}]` : socket.localIp;
  const via = `Via: SIP/2.0/${spec.proto.toUpperCase()} ${host}:${String(socket.localPort)};branch=${branch}\r\n`;
  const body = Buffer.from(spec.body ?? '', 'utf8');
  const head = `${spec.method} ${spec.ruri} SIP/2.0\r\n${via}${spec.headers.join('')}Content-Length: ${String(body.length)}\r\n\r\n`;
  return Buffer.concat([Buffer.from(head, 'utf8'), body]);
}
