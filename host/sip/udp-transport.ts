/** SIP over UDP: one socket per listen address; a datagram is one message. */
import dgram from 'node:dgram';
import dns from 'node:dns';
import { isIP } from 'node:net';
import type { Logger } from 'pino';
import type { Source } from './types.js';
import type { SipSocket, ReceiveHandler } from './socket.js';

/** Large kernel buffers: the overload symptom of a SIP server is receive-buffer drops. */
const SOCKET_BUFFER_BYTES = 4 * 1024 * 1024;

export class UdpListener implements SipSocket {
  readonly proto = 'udp' as const;
  localIp: string;
  localPort: number;
  readonly family: 4 | 6;
  private readonly sock: dgram.Socket;
  /** sees every message sent (statistics by method and status) */
  onSend: (data: Buffer) => void = () => undefined;

  constructor(host: string, port: number, private readonly log: Logger) {
    this.family = host.includes(':') ? 6 : 4;
    this.localIp = host;
    this.localPort = port;
    this.sock = dgram.createSocket({ type: this.family === 6 ? 'udp6' : 'udp4', ipv6Only: this.family === 6, lookup: addressLookup });
  }

  async listen(onReceive: ReceiveHandler): Promise<void> {
    const sock = this.sock;
    await new Promise<void>((resolve, reject) => {
      sock.once('error', reject);
      sock.bind(this.localPort, this.localIp, () => {
        sock.off('error', reject);
        resolve();
      });
    });
    try {
      sock.setRecvBufferSize(SOCKET_BUFFER_BYTES);
      sock.setSendBufferSize(SOCKET_BUFFER_BYTES);
    } catch (e) {
      this.log.warn({ err: e }, 'could not enlarge UDP socket buffers');
    }
    this.localPort = sock.address().port;
    sock.on('error', (err) => {
      this.log.error({ err, listen: `udp:${this.localIp}:${String(this.localPort)}` }, 'UDP socket error');
    });
    sock.on('message', (data, rinfo) => {
      const src: Source = { proto: 'udp', ip: rinfo.address, port: rinfo.port, localIp: this.localIp, localPort: this.localPort };
      onReceive(data, src, null, this);
    });
  }

  /** A datagram: a connection flag means nothing here (Kamailio accepts them for UDP too). */
  reachable(): boolean {
    return true;
  }

  send(data: Buffer, ip: string, port: number): void {
    this.onSend(data);
    this.sock.send(data, port, ip, (err) => {
      if (err) this.log.warn({ err, to: `${ip}:${String(port)}` }, 'UDP send failed');
    });
  }

  async close(): Promise<void> {
    await new Promise<void>((resolve) => {
      this.sock.close(() => { resolve(); });
    });
  }
}

/**
 * dgram resolves the destination of every send, even an IP address, and node's default
 * answers one a tick later (a process.nextTick per message, bench: 0.4 µs of 5 per send). We
 * only send to addresses (forward() resolves names first): answer those at once.
 */
function addressLookup(
  hostname: string,
  options: dns.LookupOneOptions,
  callback: (err: NodeJS.ErrnoException | null, address: string, family: number) => void,
): void {
  const family = isIP(hostname);
  if (family !== 0) callback(null, hostname, family);
  else dns.lookup(hostname, options, callback);
}
