/**
 * The peer a proxied request goes on to, as a UAS: over UDP or TCP on 127.0.0.1 port 0, it
 * keeps every request it receives and answers each (not an ACK) with `answer`, copying Via,
 * Record-Route, From, Call-ID and CSeq and adding a To-tag (RFC 3261 §8.2.6, §12.1.1).
 */
import dgram from 'node:dgram';
import { once } from 'node:events';
import net from 'node:net';
import { parseSipMessage, type SipMessage } from '../../host/sip/message.js';
import { until } from './until.js';

export function answerTo(req: SipMessage, code: number, reason = 'OK'): string {
  const lines = [`SIP/2.0 ${String(code)} ${reason}`];
  for (const v of req.getHeaders('via')) lines.push(`Via: ${v}`);
  for (const v of req.getHeaders('record-route')) lines.push(`Record-Route: ${v}`);
  lines.push(`From: ${req.getHeader('from') ?? ''}`);
  const to = req.getHeader('to') ?? '';
  lines.push(`To: ${to}${req.to.tag === '' && code > 100 ? ';tag=nexthop' : ''}`);
  lines.push(`Call-ID: ${req.callId}`, `CSeq: ${req.getHeader('cseq') ?? ''}`, 'Content-Length: 0', '', '');
  return lines.join('\r\n');
}

export class NextHop {
  /** TCP connections the other side closed (set_forward_close) */
  closedByPeer = 0;

  private constructor(
    readonly port: number,
    /** every message received, in order */
    readonly received: readonly SipMessage[],
    private readonly stop: () => void,
  ) {}

  /** Start one; `answer` 0 keeps quiet. */
  static async start(transport: 'udp' | 'tcp', answer = 200): Promise<NextHop> {
    const received: SipMessage[] = [];
    const take = (data: Buffer, send: (text: string) => void): void => {
      let m: SipMessage;
      try {
        m = parseSipMessage(data);
      } catch {
        return;
      }
      received.push(m);
      if (m.isRequest && m.method !== 'ACK' && answer > 0) send(answerTo(m, answer));
    };
    if (transport === 'udp') {
      const sock = dgram.createSocket('udp4');
      sock.on('message', (d, ri) => { take(d, (t) => sock.send(t, ri.port, ri.address)); });
      sock.bind(0, '127.0.0.1');
      await once(sock, 'listening');
      return new NextHop(sock.address().port, received, () => { sock.close(); });
    }
    const conns = new Set<net.Socket>();
    let hop: NextHop | null = null;
    const server = net.createServer((c) => {
      conns.add(c);
      let buf = Buffer.alloc(0);
      c.on('error', () => undefined);
      c.on('end', () => { if (hop !== null) hop.closedByPeer++; });
      c.on('close', () => conns.delete(c));
      c.on('data', (chunk: Buffer) => {
        buf = Buffer.concat([buf, chunk]);
        for (;;) {
          const end = buf.indexOf('\r\n\r\n');
          if (end < 0) return;
          const len = Number(/\r\ncontent-length\s*:\s*(\d+)/i.exec(buf.subarray(0, end).toString('latin1'))?.[1] ?? 0);
          if (buf.length < end + 4 + len) return;
          const one = buf.subarray(0, end + 4 + len);
          buf = buf.subarray(end + 4 + len);
          take(Buffer.from(one), (t) => c.write(t));
        }
      });
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const addr = server.address() as net.AddressInfo;
    hop = new NextHop(addr.port, received, () => {
      for (const c of conns) c.destroy();
      server.close();
    });
    return hop;
  }

  /** The n-th request received (1-based), waiting up to `ms` for it; null when it did not come. */
  async request(n = 1, ms = 2000): Promise<SipMessage | null> {
    const pick = (): SipMessage | undefined => this.received.filter((m) => m.isRequest)[n - 1];
    await until(() => pick() !== undefined, ms).catch(() => undefined);
    return pick() ?? null;
  }

  close(): void {
    this.stop();
  }
}
