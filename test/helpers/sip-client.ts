/** A real SIP peer for tests: raw messages over UDP or TCP on 127.0.0.1, replies collected. */
import dgram from 'node:dgram';
import net from 'node:net';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { parseSipMessage, type SipMessage } from '../../host/sip/message.js';

export interface RequestSpec {
  method?: string;
  ruri?: string;
  /** extra header lines without CRLF, e.g. 'X-Foo: bar' */
  headers?: string[];
  body?: string;
  callId?: string;
  fromTag?: string;
  toTag?: string;
  branch?: string;
  cseq?: number;
  /** CSeq method when it must differ from the request method */
  cseqMethod?: string;
  maxForwards?: number | null;
  /** put ;rport in the Via */
  rport?: boolean;
  /** From and To URIs (default sip:alice@example.com, sip:bob@example.com) */
  fromUri?: string;
  toUri?: string;
  /** the To header's whole name-addr, instead of <toUri> (toTag is added) */
  to?: string;
}

export function randomToken(): string {
  return randomBytes(6).toString('hex');
}

/** A well-formed request as a UAC at viaHost:viaPort over proto would send it. */
export function buildRequest(spec: RequestSpec, proto: 'UDP' | 'TCP', viaHost: string, viaPort: number): string {
  const method = spec.method ?? 'OPTIONS';
  const body = spec.body ?? '';
  const lines = [
    `${method} ${spec.ruri ?? 'sip:service@127.0.0.1'} SIP/2.0`,
    `Via: SIP/2.0/${proto} ${viaHost}:${String(viaPort)};branch=${spec.branch ?? `z9hG4bK${randomToken()}`}${spec.rport === true ? ';rport' : ''}`,
    ...(spec.maxForwards === null ? [] : [`Max-Forwards: ${String(spec.maxForwards ?? 70)}`]),
    `From: "Alice" <${spec.fromUri ?? 'sip:alice@example.com'}>;tag=${spec.fromTag ?? randomToken()}`,
    `To: ${spec.to ?? `<${spec.toUri ?? 'sip:bob@example.com'}>`}${spec.toTag === undefined ? '' : `;tag=${spec.toTag}`}`,
    `Call-ID: ${spec.callId ?? `${randomToken()}@test`}`,
    `CSeq: ${String(spec.cseq ?? 1)} ${spec.cseqMethod ?? method}`,
    'User-Agent: kemihost-test',
    ...(spec.headers ?? []),
    `Content-Length: ${String(Buffer.byteLength(body))}`,
    '',
    body,
  ];
  return lines.join('\r\n');
}

/** Collects parsed SIP messages and hands them out in order. */
class Inbox {
  private readonly queue: SipMessage[] = [];
  private waiter: ((m: SipMessage | null) => void) | null = null;

  push(m: SipMessage): void {
    if (this.waiter !== null) {
      const w = this.waiter;
      this.waiter = null;
      w(m);
    } else {
      this.queue.push(m);
    }
  }

  /** the next message, or null after timeoutMs */
  next(timeoutMs = 2000): Promise<SipMessage | null> {
    const m = this.queue.shift();
    if (m !== undefined) return Promise.resolve(m);
    return new Promise((resolve) => {
      const t = setTimeout(() => {
        this.waiter = null;
        resolve(null);
      }, timeoutMs);
      this.waiter = (msg) => {
        clearTimeout(t);
        resolve(msg);
      };
    });
  }
}

export class UdpPeer {
  readonly inbox = new Inbox();
  readonly raw: Buffer[] = [];
  private constructor(private readonly sock: dgram.Socket, readonly port: number) {
    sock.on('message', (data) => {
      this.raw.push(data);
      try {
        this.inbox.push(parseSipMessage(data));
      } catch {
        // tests that care look at `raw`
      }
    });
  }

  static async open(host = '127.0.0.1'): Promise<UdpPeer> {
    const sock = dgram.createSocket(host.includes(':') ? 'udp6' : 'udp4');
    sock.bind(0, host);
    await once(sock, 'listening');
    return new UdpPeer(sock, sock.address().port);
  }

  send(data: string | Buffer, port: number, host = '127.0.0.1'): void {
    this.sock.send(typeof data === 'string' ? Buffer.from(data) : data, port, host);
  }

  request(spec: RequestSpec, port: number, host = '127.0.0.1'): void {
    this.send(buildRequest(spec, 'UDP', host.includes(':') ? `[${host}]` : host, this.port), port, host);
  }

  next(timeoutMs?: number): Promise<SipMessage | null> {
    return this.inbox.next(timeoutMs);
  }

  close(): void {
    this.sock.close();
  }
}

export class TcpPeer {
  readonly inbox = new Inbox();
  /** every complete message received, parsed or not */
  readonly raw: Buffer[] = [];
  private buf = Buffer.alloc(0);
  readonly closed: Promise<void>;
  private constructor(readonly sock: net.Socket) {
    sock.on('data', (chunk: Buffer) => {
      this.buf = Buffer.concat([this.buf, chunk]);
      this.drain();
    });
    this.closed = new Promise((resolve) => sock.once('close', () => { resolve(); }));
    sock.on('error', () => undefined);
  }

  static async connect(port: number, host = '127.0.0.1'): Promise<TcpPeer> {
    const sock = net.connect({ port, host });
    await once(sock, 'connect');
    return new TcpPeer(sock);
  }

  get localPort(): number {
    return this.sock.localPort ?? 0;
  }

  write(data: string | Buffer): void {
    this.sock.write(data);
  }

  request(spec: RequestSpec): void {
    this.write(buildRequest(spec, 'TCP', '127.0.0.1', this.localPort));
  }

  next(timeoutMs?: number): Promise<SipMessage | null> {
    return this.inbox.next(timeoutMs);
  }

  /** bytes received that were not a complete SIP message (e.g. a CRLF keepalive answer) */
  get pending(): Buffer {
    return this.buf;
  }

  private drain(): void {
    for (;;) {
      while (this.buf.length >= 2 && this.buf[0] === 0x0d && this.buf[1] === 0x0a && this.buf.indexOf('\r\n\r\n') !== 0) {
        if (this.buf.indexOf('SIP/2.0') < 0) return; // keep a bare CRLF pong visible in `pending`
        this.buf = this.buf.subarray(2);
      }
      const end = this.buf.indexOf('\r\n\r\n');
      if (end < 0) return;
      const head = this.buf.subarray(0, end).toString('latin1');
      const m = /\r\ncontent-length\s*:\s*(\d+)/i.exec(head);
      const total = end + 4 + Number(m?.[1] ?? 0);
      if (this.buf.length < total) return;
      const one = Buffer.from(this.buf.subarray(0, total));
      this.buf = this.buf.subarray(total);
      this.raw.push(one);
      try {
        this.inbox.push(parseSipMessage(one));
      } catch {
        // tests that care look at `raw` (a 400 to a request without Call-ID has none either)
      }
    }
  }

  close(): void {
    this.sock.destroy();
  }
}
