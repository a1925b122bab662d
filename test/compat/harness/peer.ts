/**
 * A UDP peer for compat flows that records everything it receives with the sender's port. One
 * peer serves both runs of a case (Kamailio's, then kemihost's): `begin()` starts a run, and
 * from then on only what that server sends counts, so a late retransmission from the other
 * server never leaks into the comparison. Branches, tags and Call-IDs the peer writes are
 * derived from the case's label, the same in both runs, and all start with "peer" so that the
 * views can tell them from the ones a server generated.
 */
import dgram from 'node:dgram';
import { once } from 'node:events';
import { parseSipMessage, type SipMessage } from '../../../host/sip/message.js';
import { buildRequest, type RequestSpec } from '../../helpers/sip-client.js';
import { until } from '../../helpers/until.js';
import type { SipTarget } from './servers.js';

interface Received {
  readonly msg: SipMessage;
  readonly raw: Buffer;
  readonly fromPort: number;
}

export interface ReplyOptions {
  /** the To tag of a reply > 100 to a request without one; default "peer-<peer name>" */
  toTag?: string;
  /** extra header lines without CRLF */
  headers?: string[];
  /** a body (its Content-Type goes in `headers`) */
  body?: string;
}

const MAX_RECORDED = 10_000;

export class Peer {
  private readonly received: Received[] = [];
  private readonly taken = new Set<Received>();
  private server: SipTarget | null = null;
  private mark = 0;
  private label = 'none';
  private seq = 0;

  private constructor(readonly name: string, private readonly sock: dgram.Socket, readonly port: number) {
    sock.on('message', (raw, rinfo) => {
      if (this.received.length >= MAX_RECORDED) return;
      try {
        this.received.push({ msg: parseSipMessage(raw), raw, fromPort: rinfo.port });
      } catch {
        // not SIP: a server under test never sends that, and the flow times out on what it waits for
      }
    });
  }

  static async open(name: string): Promise<Peer> {
    const sock = dgram.createSocket('udp4');
    sock.bind(0, '127.0.0.1');
    await once(sock, 'listening');
    return new Peer(name, sock, sock.address().port);
  }

  /** A run against `server` starts: earlier messages no longer count. */
  begin(server: SipTarget, label: string): void {
    this.server = server;
    this.mark = this.received.length;
    this.label = label;
    this.seq = 0;
  }

  private get target(): SipTarget {
    if (this.server === null) throw new Error(`compat: peer ${this.name} used before begin()`);
    return this.server;
  }

  /** The Call-ID this run's requests carry unless the spec names one. */
  get callId(): string {
    return `peer-${this.label}@compat`;
  }

  send(data: string): void {
    this.sock.send(Buffer.from(data, 'latin1'), this.target.port, '127.0.0.1');
  }

  /**
   * Send a request to the server. Defaults: this run's Call-ID, From tag "peer-from", a branch
   * numbered per run ("z9hG4bK-peer-<label>-<n>"), rport. `edit` rewrites the text before it
   * goes (a malformed header). Returns the spec sent, for a CANCEL or ACK.
   */
  request(spec: RequestSpec, edit: (text: string) => string = (t) => t): RequestSpec {
    const full: RequestSpec = {
      callId: this.callId,
      fromTag: 'peer-from',
      branch: `z9hG4bK-peer-${this.label}-${String(++this.seq)}`,
      rport: true,
      ...spec,
    };
    this.send(edit(buildRequest(full, 'UDP', '127.0.0.1', this.port)));
    return full;
  }

  /** The ACK for a non-2xx final reply to `invite` (RFC 3261 §17.1.1.3: same branch, the reply's To tag). */
  ack(invite: RequestSpec, reply: SipMessage): void {
    this.request({ ...invite, method: 'ACK', cseqMethod: 'ACK', toTag: reply.to.tag, body: '' });
  }

  /** The CANCEL of `invite` (RFC 3261 §9.1: same branch, Call-ID, From, To and CSeq number). */
  cancel(invite: RequestSpec): void {
    this.request({ ...invite, method: 'CANCEL', cseqMethod: 'CANCEL', body: '' });
  }

  /** Answer a request this peer received, back to the server it came from. */
  reply(req: SipMessage, code: number, reason: string, o: ReplyOptions = {}): void {
    const lines = [`SIP/2.0 ${String(code)} ${reason}`];
    for (const v of req.getHeaders('via')) lines.push(`Via: ${v}`);
    lines.push(`From: ${req.getHeader('from') ?? ''}`);
    const to = req.getHeader('to') ?? '';
    lines.push(code > 100 && req.to.tag === '' ? `To: ${to};tag=${o.toTag ?? `peer-${this.name}`}` : `To: ${to}`);
    lines.push(`Call-ID: ${req.callId}`, `CSeq: ${req.getHeader('cseq') ?? ''}`);
    if (code >= 200 && code < 300 && req.method === 'INVITE') lines.push(`Contact: <sip:${this.name}@127.0.0.1:${String(this.port)}>`);
    const body = o.body ?? '';
    lines.push(...(o.headers ?? []), `Content-Length: ${String(Buffer.byteLength(body, 'latin1'))}`, '', body);
    this.send(lines.join('\r\n'));
  }

  /** This run's messages from its server, in arrival order, retransmissions (the same bytes) once. */
  log(): SipMessage[] {
    const seen = new Set<string>();
    const out: SipMessage[] = [];
    for (const r of this.fromServer()) {
      const key = r.raw.toString('latin1');
      if (seen.has(key)) continue;
      seen.add(key);
      out.push(r.msg);
    }
    return out;
  }

  /** How many messages this run has received so far (for waiting until things are quiet). */
  get count(): number {
    return this.fromServer().length;
  }

  /** The first message of this run, not returned before, that passes `pred`. */
  async waitFor(pred: (m: SipMessage) => boolean, what: string, timeoutMs = 4000): Promise<SipMessage> {
    let found: Received | undefined;
    await until(() => {
      found = this.fromServer().find((r) => !this.taken.has(r) && pred(r.msg));
      return found !== undefined;
    }, timeoutMs, `${what} at ${this.name} from ${this.target.name}`);
    this.taken.add(found!);
    return found!.msg;
  }

  private fromServer(): Received[] {
    const port = this.target.port;
    return this.received.slice(this.mark).filter((r) => r.fromPort === port);
  }

  close(): void {
    this.sock.close();
  }
}

export const isRequest = (method: string) => (m: SipMessage): boolean => m.isRequest && m.method === method;
export const isReply = (status: number, method?: string) => (m: SipMessage): boolean =>
  !m.isRequest && m.status === status && (method === undefined || m.cseq.method === method);
