/**
 * Keepalive probes (dispatch.c ds_ping_set / ds_options_callback): every ds_ping_interval
 * seconds an OPTIONS (ds_ping_method) to each destination the probing mode selects; a final
 * reply in 2xx or ds_ping_reply_codes counts as up, anything else — a timeout is 408, as tm
 * makes one — as a failure, and the store's thresholds turn those into state changes.
 *
 * kemihost's transaction layer has no locally originated client transactions yet (its client
 * side exists only as branches of a relayed request), so a probe is sent here from its own UDP
 * socket (port 0, connected to the destination, so the Via names the address the route
 * chose), retransmitted as RFC 3261 §17.1.2.2 Timer E does and given up after the timeout.
 * Destinations over TCP/TLS are not probed (docs/dispatcher.md).
 */
import dgram from 'node:dgram';
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { randomBytes } from 'node:crypto';
import { parseSipMessage } from '../sip/message.js';
import { DS_DISABLED, DS_INACTIVE, DS_PROBING, DS_TRYING, type Destination } from './destination.js';
import type { DsStore } from './store.js';

export interface ProberOptions {
  readonly intervalS: number;
  readonly mode: number;
  readonly method: string;
  readonly from: string;
  /** accepted besides 2xx (ds_ping_reply_codes) */
  readonly accepts: (code: number) => boolean;
  /** ms until a probe without a final reply counts as 408 */
  readonly timeoutMs: number;
  /** boundary for timer and socket callbacks */
  readonly guard: <A extends unknown[]>(fn: (...a: A) => void) => (...a: A) => void;
  readonly note: (text: string, fields: Record<string, unknown>) => void;
  readonly sent: { value: number };
  /** dispatcher.ping_active: false stops the rounds */
  readonly switch: { active: boolean };
}

/** "class=2;code=403;code=488": the codes a probe may answer with, besides 2xx. */
export function replyCodes(spec: string): (code: number) => boolean {
  const classes = new Set<number>();
  const codes = new Set<number>();
  for (const part of spec.split(/[;:]/)) {
    const [k, v] = part.split('=').map((x) => x.trim().toLowerCase());
    const n = Number(v);
    if (!Number.isInteger(n)) continue;
    if (k === 'class') classes.add(n);
    else if (k === 'code') codes.add(n);
  }
  return (code) => codes.has(code) || classes.has(Math.floor(code / 100));
}

const T1 = 500;
const T2 = 4000;

export class Prober {
  private timer: NodeJS.Timeout | null = null;
  private readonly inFlight = new Set<Destination>();
  private readonly sockets = new Set<dgram.Socket>();
  private closed = false;

  constructor(
    private readonly store: DsStore,
    private readonly o: ProberOptions,
  ) {}

  start(): void {
    if (this.o.intervalS <= 0) return;
    this.timer = setInterval(this.o.guard(() => { this.round(); }), this.o.intervalS * 1000);
    this.timer.unref();
  }

  close(): void {
    this.closed = true;
    if (this.timer !== null) clearInterval(this.timer);
    for (const s of this.sockets) s.close();
    this.sockets.clear();
  }

  /** ds_ping_result_helper: whether this destination is probed in this mode. */
  private wanted(d: Destination): boolean {
    if ((d.flags & DS_DISABLED) !== 0) return false;
    if (this.o.mode === 1) return true;
    if (this.o.mode !== 2 && (d.flags & DS_PROBING) !== 0) return true;
    return this.o.mode === 2 && (d.flags & DS_PROBING) !== 0 && (d.flags & DS_INACTIVE) !== 0;
  }

  round(): void {
    if (!this.o.switch.active || this.closed) return;
    for (const set of this.store.all()) {
      for (const d of set.dests) {
        if (!this.wanted(d) || this.inFlight.has(d)) continue;
        if (d.proto !== 'udp' && d.proto !== 'none') continue;
        this.inFlight.add(d);
        this.probe(d).then((code) => { this.result(set.id, d, code); }, (e: unknown) => {
          this.o.note('dispatcher: probe could not be sent', { uri: d.uri, err: e instanceof Error ? e.message : String(e) });
          this.result(set.id, d, 500);
        }).finally(() => this.inFlight.delete(d));
      }
    }
  }

  /** ds_options_callback */
  private result(group: number, d: Destination, code: number): void {
    if (this.closed) return;
    const cur = this.store.find(group, d.uri);
    if (cur === null) return; // reloaded meanwhile
    if (this.o.mode === 3 && (cur.flags & DS_PROBING) === 0) return;
    if ((cur.flags & DS_DISABLED) !== 0) return;
    let state: number;
    if ((code >= 200 && code <= 299) || this.o.accepts(code)) {
      state = this.o.mode === 1 || (this.o.mode === 3 && (cur.flags & DS_PROBING) !== 0) ? DS_PROBING : 0;
    } else {
      state = DS_TRYING | (this.o.mode !== 0 ? DS_PROBING : 0);
    }
    this.store.updateState(group, d.uri, state);
  }

  /** One probe: the final reply's code, or 408 when none came in time. */
  private async probe(d: Destination): Promise<number> {
    // the address resolved at load when there is one; a destination flagged 16 (no DNS at load) is resolved per probe
    const ip = d.ip ?? (isIP(d.host) !== 0 ? d.host : (await lookup(d.host)).address);
    const port = d.port !== 0 ? d.port : 5060;
    const sock = dgram.createSocket(isIP(ip) === 6 ? 'udp6' : 'udp4');
    this.sockets.add(sock);
    try {
      return await new Promise<number>((resolve, reject) => {
        let interval = T1;
        let retransmit: NodeJS.Timeout | null = null;
        let deadline: NodeJS.Timeout | null = null;
        const done = (code: number): void => {
          if (retransmit !== null) clearTimeout(retransmit);
          if (deadline !== null) clearTimeout(deadline);
          resolve(code);
        };
        const branch = `z9hG4bK${randomBytes(8).toString('hex')}`;
        let request: Buffer | null = null;
        const send = (): void => {
          if (request === null) return;
          sock.send(request);
          this.o.sent.value++;
          retransmit = setTimeout(this.o.guard(() => { interval = Math.min(interval * 2, T2); send(); }), interval);
          retransmit.unref();
        };
        sock.on('error', (e) => { reject(e); });
        sock.on('message', this.o.guard((data: Buffer) => {
          let m;
          try {
            m = parseSipMessage(data);
          } catch {
            return;
          }
          if (m.isRequest || m.topVia.branch !== branch) return;
          if (m.status >= 200) done(m.status);
          else if (retransmit !== null) clearTimeout(retransmit); // §17.1.2.2: provisional, keep waiting at T2
        }));
        sock.connect(port, ip, this.o.guard(() => {
          const local = sock.address();
          request = this.build(d, local.address, local.port, branch);
          deadline = setTimeout(this.o.guard(() => { done(408); }), this.o.timeoutMs);
          deadline.unref();
          send();
        }));
      });
    } finally {
      this.sockets.delete(sock);
      sock.close();
    }
  }

  private build(d: Destination, ip: string, port: number, branch: string): Buffer {
    const host = ip.includes(':') ? `[${ip}]` : ip;
    const from = d.attrs.pingFrom !== '' ? d.attrs.pingFrom : this.o.from;
    const lines = [
      `${this.o.method} ${d.uri} SIP/2.0`,
      `Via: SIP/2.0/UDP ${host}:${String(port)};branch=${branch};rport`,
      'Max-Forwards: 70',
      `From: <${from}>;tag=${randomBytes(8).toString('hex')}`,
      `To: <${d.uri}>`,
      `Call-ID: ${randomBytes(12).toString('hex')}@${host}`,
      `CSeq: 10 ${this.o.method}`,
      'Content-Length: 0',
      '',
      '',
    ];
    return Buffer.from(lines.join('\r\n'));
  }
}
