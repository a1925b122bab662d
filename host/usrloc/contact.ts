/**
 * One registered contact (Kamailio's ucontact_t): what a REGISTER's Contact brought and what the
 * registrar knew about the request, keyed in its record by the contact URI (and, depending on
 * `matching_mode`, the Call-ID or the Path). Times are Unix seconds, as in the `location` table.
 */

/** usrloc's contact flags (the `flags` column): FL_MEM = saved in memory only (save flag 0x01). */
export const FL_MEM = 1;

/** Kamailio's ALL_METHODS: no Allow header and no `methods` param; the column stays NULL. */
export const ALL_METHODS = 0xffffffff;

/** Kamailio's METHOD_* bits (parse_methods): what `methods` holds and method_filtering tests. */
const METHOD_BITS: Readonly<Record<string, number>> = {
  INVITE: 1, CANCEL: 2, ACK: 4, BYE: 8, INFO: 16, REGISTER: 32, SUBSCRIBE: 64, NOTIFY: 128,
  MESSAGE: 256, OPTIONS: 512, PRACK: 1024, UPDATE: 2048, REFER: 4096, PUBLISH: 8192, KDMQ: 16384,
  GET: 32768, POST: 65536, PUT: 131072, DELETE: 262144,
};
const METHOD_OTHER = 524288;

/** The bit of a method (case-sensitive, as SIP methods are); METHOD_OTHER for any other. */
export function methodBit(method: string): number {
  return METHOD_BITS[method] ?? METHOD_OTHER;
}

/** The bits of an Allow header value or a `methods` contact parameter ("INVITE, ACK, BYE"). */
export function methodsOf(list: string): number {
  let bits = 0;
  for (const m of list.replace(/^"|"$/g, '').split(',')) {
    const name = m.trim();
    if (name !== '') bits |= methodBit(name);
  }
  return bits >>> 0;
}

/** Where a contact stands against the database (db_mode 2 flushes NEW and DIRTY ones). */
export type ContactState = 'new' | 'sync' | 'dirty';

/** What a REGISTER (or ul.add, or a database row) gives a contact. */
export interface ContactInfo {
  /** absolute expiry, 0 = permanent */
  expires: number;
  /** q × 1000, or -1 (unspecified) */
  q: number;
  callid: string;
  cseq: number;
  flags: number;
  /** branch flags of the REGISTER (nat_bflag marks a NATed contact) */
  cflags: number;
  path: string | null;
  received: string | null;
  userAgent: string;
  /** "udp:192.0.2.1:5060": the socket the REGISTER came in on */
  socket: string | null;
  methods: number;
  instance: string | null;
  regId: number;
  serverId: number;
  /** the TCP connection it came on, -1 for UDP (Kamailio's tcpconn id) */
  connectionId: number;
  keepalive: number;
  lastModified: number;
}

export class UlContact implements ContactInfo {
  expires: number;
  q: number;
  callid: string;
  cseq: number;
  flags: number;
  cflags: number;
  path: string | null;
  received: string | null;
  userAgent: string;
  socket: string | null;
  methods: number;
  instance: string | null;
  regId: number;
  serverId: number;
  connectionId: number;
  keepalive: number;
  lastModified: number;
  state: ContactState = 'new';

  constructor(
    /** the record's key: `user` or `user@domain` (use_domain), as the registrar made it */
    readonly aor: string,
    /** the Contact URI as written in the REGISTER */
    readonly contact: string,
    /** record unique id: the row's key in the database */
    readonly ruid: string,
    info: ContactInfo,
  ) {
    this.expires = info.expires;
    this.q = info.q;
    this.callid = info.callid;
    this.cseq = info.cseq;
    this.flags = info.flags;
    this.cflags = info.cflags;
    this.path = info.path;
    this.received = info.received;
    this.userAgent = info.userAgent;
    this.socket = info.socket;
    this.methods = info.methods;
    this.instance = info.instance;
    this.regId = info.regId;
    this.serverId = info.serverId;
    this.connectionId = info.connectionId;
    this.keepalive = info.keepalive;
    this.lastModified = info.lastModified;
  }

  /** Take what a re-REGISTER brought (the contact URI and ruid stay). */
  update(info: ContactInfo): void {
    this.expires = info.expires;
    this.q = info.q;
    this.callid = info.callid;
    this.cseq = info.cseq;
    // usrloc keeps its own flags but takes FL_MEM from each save, as Kamailio's update does
    this.flags = info.flags;
    this.cflags = info.cflags;
    this.path = info.path;
    this.received = info.received;
    this.userAgent = info.userAgent;
    this.socket = info.socket;
    this.methods = info.methods;
    this.instance = info.instance;
    this.regId = info.regId;
    this.serverId = info.serverId;
    this.connectionId = info.connectionId;
    this.keepalive = info.keepalive;
    this.lastModified = info.lastModified;
    if (this.state === 'sync') this.state = 'dirty';
  }

  /** Kamailio's VALID_CONTACT: not expired at `now` (0 = permanent). */
  valid(now: number): boolean {
    return this.expires === 0 || this.expires > now;
  }

  /** saved with save flag 0x01: never written to the database */
  get memoryOnly(): boolean {
    return (this.flags & FL_MEM) !== 0;
  }
}

/**
 * Kamailio's core_hash of an AoR (the "HashID" of ul.dump, the hash part of a temp GRUU):
 * four bytes at a time, big-endian, `h += v ^ (v >> 3)`, then the final mix, all in 32 bits.
 */
export function aorHash(aor: string): number {
  const b = Buffer.from(aor, 'utf8');
  let h = 0;
  let p = 0;
  const mix = (v: number): void => {
    h = (h + ((v ^ (v >>> 3)) >>> 0)) >>> 0;
  };
  for (; p + 4 <= b.length; p += 4) {
    mix((((b[p] ?? 0) << 24) | ((b[p + 1] ?? 0) << 16) | ((b[p + 2] ?? 0) << 8) | (b[p + 3] ?? 0)) >>> 0);
  }
  let v = 0;
  for (; p < b.length; p++) v = ((v << 8) + (b[p] ?? 0)) >>> 0;
  mix(v);
  return (h + (h >>> 11) + ((h >>> 13) + (h >>> 23))) >>> 0;
}
