/**
 * nathelper's keepalives (Kamailio's nh_timer): every natping_interval seconds, each registered
 * UDP contact (only those saved with usrloc's nat_bflag, with ping_nated_only) gets a 4-byte
 * UDP packet or, when it was saved with sipping_bflag and sipping_from is set, a stateless
 * sipping_method request — sent to its received address when it has one, from the socket it
 * registered on, so the NAT binding that carried the REGISTER stays open. A round sends at most
 * natping_max_per_tick and goes on where the last one stopped. Replies to the requests are
 * taken here (the script never sees them) and, with keepalive_timeout, refresh the contact;
 * a contact silent for longer is removed.
 */
import { randomBytes } from 'node:crypto';
import type { Counter } from '../../host/kemi/stats.js';
import type { ModuleHost } from '../../host/kemi/types.js';
import type { SipMessage } from '../../host/sip/message.js';
import type { SocketAddress } from '../../host/sip/types.js';
import { parseUri } from '../../host/sip/uri.js';
import type { UlContact } from '../../host/usrloc/contact.js';
import type { LocationTable } from '../../host/usrloc/location-table.js';
import { nowSeconds, type UsrlocStore } from '../../host/usrloc/store.js';
import { normalIp } from '../../host/nathelper/private-net.js';
import type { NathelperParams } from './params.js';

/** Kamailio's UDP ping: four zero bytes. */
const UDP_PING = Buffer.alloc(4);
const SIP_PORT = 5060;

interface Outstanding {
  readonly table: LocationTable;
  readonly aor: string;
  readonly ruid: string;
}

/** "udp:1.2.3.4:5060" / "udp:[::1]:5060" / "1.2.3.4:5060" → a socket address, or null. */
export function socketAddress(s: string | null): SocketAddress | null {
  if (s === null || s === '') return null;
  const m = /^(?:([a-z]+):)?\[?([0-9a-fA-F:.]+?)\]?:(\d+)$/.exec(s);
  return m === null ? null : { proto: m[1] ?? 'udp', ip: m[2] ?? '', port: Number(m[3]) };
}

export class NatPinger {
  private timer: NodeJS.Timeout | null = null;
  /** where the next round starts in the list of contacts */
  private cursor = 0;
  private counter = randomBytes(4).readUInt32BE(0);
  private readonly callIdPrefix = randomBytes(4).toString('hex');
  /** Call-ID → the contact its request went to (this round's and the previous round's) */
  private outstanding = new Map<string, Outstanding>();
  private previous = new Map<string, Outstanding>();
  private readonly sipFlag: number;
  private readonly disableFlag: number;
  private readonly forceSocket: SocketAddress | null;
  private readonly sent: Counter;
  private readonly replies: Counter;
  private readonly removed: Counter;
  /** natping can be switched off and on again (RPC nathelper.enable_ping) */
  enabled = true;

  constructor(
    private readonly host: ModuleHost,
    private readonly p: NathelperParams,
    private readonly store: () => UsrlocStore | null,
  ) {
    this.sipFlag = p.sipping_bflag < 0 ? 0 : 1 << p.sipping_bflag;
    this.disableFlag = p.natping_disable_bflag < 0 ? 0 : 1 << p.natping_disable_bflag;
    this.forceSocket = socketAddress(p.force_socket);
    this.sent = host.stat('natping_sent');
    this.replies = host.stat('natping_replies');
    this.removed = host.stat('natping_removed');
  }

  start(): Promise<void> {
    if (this.p.natping_interval > 0) {
      if (this.store() === null) this.host.log.warn('nathelper: natping_interval is set but usrloc is not loaded; no keepalives');
      this.host.sip.addReplyFilter((msg) => this.takeReply(msg));
      this.timer = this.host.boundary.interval('module-timer', this.p.natping_interval * 1000, () => { this.tick(); });
    }
    return Promise.resolve();
  }

  close(): void {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
  }

  /** One round: the next natping_max_per_tick contacts that get a keepalive. */
  tick(): void {
    const store = this.store();
    if (store === null || !this.enabled) return;
    this.previous = this.outstanding;
    this.outstanding = new Map();
    const now = nowSeconds();
    const all: [LocationTable, UlContact][] = [];
    for (const name of store.tableNames()) {
      const t = store.table(name);
      if (t === null) continue;
      for (const r of store.records(t)) for (const c of r.contacts) if (this.wanted(store, c, now)) all.push([t, c]);
    }
    if (all.length === 0) return;
    if (this.cursor >= all.length) this.cursor = 0;
    const n = Math.min(all.length, this.p.natping_max_per_tick);
    for (let i = 0; i < n; i++) {
      const [t, c] = all[(this.cursor + i) % all.length] as [LocationTable, UlContact];
      this.ping(store, t, c, now);
    }
    this.cursor = (this.cursor + n) % all.length;
  }

  private wanted(store: UsrlocStore, c: UlContact, now: number): boolean {
    if (!c.valid(now)) return false;
    if ((c.cflags & this.disableFlag) !== 0) return false;
    // as get_all_ucontacts: without a nat_bflag there is nothing to filter on
    return this.p.ping_nated_only === 0 || store.natFlag === 0 || (c.cflags & store.natFlag) !== 0;
  }

  private sipPing(c: UlContact): boolean {
    const flagged = (c.cflags & this.sipFlag) !== 0 || (this.p.ping_nated_only === 0 && this.sipFlag !== 0);
    return flagged && this.p.sipping_from !== '';
  }

  private ping(store: UsrlocStore, t: LocationTable, c: UlContact, now: number): void {
    const dst = parseUri(c.received ?? c.contact);
    if (dst === null) return;
    const transport = dst.params.get('transport')?.toLowerCase() ?? 'udp';
    if (transport !== 'udp') return;
    const ip = normalIp(dst.host);
    // Kamailio resolves a host name here; kemihost pings addresses only (no DNS on a timer)
    if (ip === null) return;
    const port = dst.port || SIP_PORT;
    const prefer = this.forceSocket ?? socketAddress(c.socket);
    if (!this.sipPing(c)) {
      if (this.host.sip.sendUdp(UDP_PING, ip, port, prefer)) this.sent.value++;
      return;
    }
    if (this.p.keepalive_timeout > 0) {
      if (c.keepalive === 0) c.keepalive = c.lastModified > 0 ? c.lastModified : now;
      if (now - c.keepalive > this.p.keepalive_timeout) {
        store.remove(t, c);
        this.removed.value++;
        this.host.log.info({ aor: c.aor, contact: c.contact }, 'nathelper: contact removed, no reply to keepalives');
        return;
      }
    }
    const sock = this.host.sip.udpSocketFor(ip, prefer);
    if (sock === null) return;
    const callId = `${this.callIdPrefix}-${(this.counter++ >>> 0).toString(16)}-${now.toString(16)}@${sock.ip}`;
    if (this.host.sip.sendUdp(this.request(c, sock, callId), ip, port, prefer)) {
      this.sent.value++;
      this.outstanding.set(callId, { table: t, aor: c.aor, ruid: c.ruid });
    }
  }

  /** The keepalive request (Kamailio's build_sipping): no Max-Forwards, From and To as bare URIs. */
  private request(c: UlContact, sock: SocketAddress, callId: string): Buffer {
    const host = sock.ip.includes(':') ? `[${sock.ip}]` : sock.ip;
    const branch = String(1000000 + Math.floor(Math.random() * 8999999));
    const method = this.p.sipping_method;
    const lines = [
      `${method} ${c.contact} SIP/2.0`,
      `Via: SIP/2.0/UDP ${host}:${String(sock.port)};branch=z9hG4bK${branch}`,
      ...(c.path !== null && c.path !== '' ? [`Route: ${c.path}`] : []),
      `From: ${this.p.sipping_from};tag=${c.ruid}-${(this.counter >>> 0).toString(16)}`,
      `To: ${c.contact}`,
      `Call-ID: ${callId}`,
      `CSeq: 1 ${method}`,
      'Content-Length: 0',
      '',
      '',
    ];
    return Buffer.from(lines.join('\r\n'));
  }

  /** A reply to one of our keepalives (one Via, our method, our Call-ID): taken, and it refreshes the contact. */
  private takeReply(msg: SipMessage): boolean {
    if (msg.cseq.method !== this.p.sipping_method || !msg.callId.startsWith(`${this.callIdPrefix}-`)) return false;
    if (msg.getHeaderElements('via').length !== 1) return false;
    this.replies.value++;
    const o = this.outstanding.get(msg.callId) ?? this.previous.get(msg.callId);
    if (o !== undefined) {
      const c = o.table.get(o.aor)?.contacts.find((k) => k.ruid === o.ruid);
      if (c !== undefined) c.keepalive = nowSeconds();
    }
    return true;
  }
}
