/**
 * One loaded copy of the permissions module's `address` table, answering allow_address() and
 * its variants as Kamailio 5.6 does (src/modules/permissions/address.c, hash.c), in O(1) for an
 * exact address and O(distinct prefix lengths) for subnets, whatever the number of rows.
 *
 * Kamailio keeps three tables, and so does this:
 *  - exact addresses (mask 32, IPv6 128; a mask of 0 means that too): a hash where each new row
 *    goes in front, so among rows of one address the one loaded last is seen first;
 *  - subnets: one array sorted by group (stable), scanned in order, so the first match is the
 *    lowest group, then the first loaded. Here a Map per (family, prefix length) keyed by the
 *    masked address, each entry carrying its position in that order (`ord`): the answer is the
 *    matching entry with the smallest `ord`. At most `max_subnets` are kept; later ones are
 *    left out, as Kamailio does ("subnet table is full"), and counted;
 *  - DNS names (a row whose ip_addr is not an address): matched as written, never resolved.
 *
 * A row Kamailio refuses (group ≤ 0, NULL address, mask or port, a mask too long for the
 * family) makes the whole load fail, as it makes Kamailio's: AddressRowError says which row.
 */
import { ipText, strtoipx, type IpBytes } from '../net/kamailio-ip.js';

/** A row as read from the table, by meaning (the column names are parameters). */
export interface AddressRow {
  readonly grp: unknown;
  readonly ip: unknown;
  readonly mask: unknown;
  readonly port: unknown;
  readonly tag: unknown;
}

export interface Entry {
  readonly grp: number;
  readonly port: number;
  readonly tag: string | null;
  /** where the entry stands in Kamailio's scan order (subnets: sorted by group) */
  readonly ord: number;
}

interface SubnetEntry extends Entry {
  readonly ip: IpBytes;
  readonly mask: number;
}

interface DomainEntry extends Entry {
  readonly name: string;
}

/** A group of subnets with one prefix length, keyed by the masked address. */
interface PrefixBucket {
  readonly len: number;
  readonly nets: Map<string, SubnetEntry[]>;
}

export class AddressRowError extends Error {
  constructor(
    readonly row: number,
    readonly why: string,
  ) {
    super(`row ${String(row + 1)} of the address table: ${why}`);
  }
}

/** The key of an address masked to `len` bits: its bytes as a latin1 string. */
function maskedKey(bytes: Uint8Array, len: number): string {
  let s = '';
  const full = len >>> 3;
  for (let i = 0; i < full; i++) s += String.fromCharCode(bytes[i] ?? 0);
  const rest = len & 7;
  if (rest !== 0) s += String.fromCharCode((bytes[full] ?? 0) & (0xff << (8 - rest)) & 0xff);
  return s;
}

function exactKey(ip: IpBytes): string {
  return maskedKey(ip.bytes, ip.v6 ? 128 : 32);
}

function intOf(v: unknown): number | null {
  if (typeof v === 'number' && Number.isInteger(v)) return v;
  if (typeof v === 'bigint') return Number(v);
  if (typeof v === 'string' && /^-?\d+$/.test(v.trim())) return Number(v.trim());
  return null;
}

function firstMatch<E extends Entry>(list: readonly E[] | undefined, grp: number | null, port: number): E | null {
  if (list === undefined) return null;
  for (const e of list) if ((grp === null || e.grp === grp) && (e.port === 0 || e.port === port)) return e;
  return null;
}

export interface AddressDumpItem {
  table: number;
  group: number;
  item: { ip: string; port: number; tag: string };
}
export interface SubnetDumpItem {
  id: number;
  group: number;
  item: { ip: string; mask: number; port: number; tag: string };
}
export interface DomainDumpItem {
  table: number;
  group: number;
  item: { domain_name: string; port: number; tag: string };
}

export class AddressTable {
  private readonly exact = new Map<string, (Entry & { ip: IpBytes })[]>();
  private readonly prefixes: { v4: PrefixBucket[]; v6: PrefixBucket[] } = { v4: [], v6: [] };
  private readonly subnets: SubnetEntry[] = [];
  private readonly domains = new Map<string, DomainEntry[]>();
  /** rows left out because max_subnets subnets were already loaded */
  readonly droppedSubnets: number;
  readonly rows: number;

  static readonly EMPTY = new AddressTable([], 0);

  /** Build from the rows in the order the database returned them; throws AddressRowError. */
  constructor(rows: readonly AddressRow[], maxSubnets: number) {
    const subnetRows: Omit<SubnetEntry, 'ord'>[] = [];
    let dropped = 0;
    let ord = 0;
    rows.forEach((r, n) => {
      const grp = intOf(r.grp);
      if (grp === null || grp <= 0) throw new AddressRowError(n, `the group must be a number of 1 or more (got ${String(r.grp)})`);
      if (typeof r.ip !== 'string') throw new AddressRowError(n, 'the address must be a string, not NULL');
      let mask = intOf(r.mask);
      if (mask === null) throw new AddressRowError(n, 'the mask must be a number, not NULL');
      const port = intOf(r.port);
      if (port === null) throw new AddressRowError(n, 'the port must be a number, not NULL');
      const tag = typeof r.tag === 'string' ? r.tag : null;
      const ip = strtoipx(r.ip);
      if (ip === null) {
        const list = this.domains.get(r.ip) ?? [];
        list.unshift({ grp, port, tag, ord: ord++, name: r.ip });
        this.domains.set(r.ip, list);
        return;
      }
      const max = ip.v6 ? 128 : 32;
      if (mask < 0 || mask > max) throw new AddressRowError(n, `mask ${String(mask)} does not fit ${ip.v6 ? 'an IPv6' : 'an IPv4'} address (0..${String(max)}, 0 = ${String(max)})`);
      if (mask === 0) mask = max;
      if (mask === max) {
        const key = exactKey(ip);
        const list = this.exact.get(key) ?? [];
        list.unshift({ grp, port, tag, ord: ord++, ip });
        this.exact.set(key, list);
      } else if (subnetRows.length >= maxSubnets) {
        dropped++;
      } else {
        subnetRows.push({ grp, port, tag, ip, mask });
      }
    });
    // Kamailio inserts each subnet after those of its group and before higher groups: a stable sort
    subnetRows.sort((a, b) => a.grp - b.grp);
    subnetRows.forEach((s, i) => {
      const e: SubnetEntry = { ...s, ord: i };
      this.subnets.push(e);
      const buckets = s.ip.v6 ? this.prefixes.v6 : this.prefixes.v4;
      let b = buckets.find((x) => x.len === s.mask);
      if (b === undefined) {
        b = { len: s.mask, nets: new Map() };
        buckets.push(b);
      }
      const key = maskedKey(s.ip.bytes, s.mask);
      const list = b.nets.get(key);
      if (list === undefined) b.nets.set(key, [e]);
      else list.push(e);
    });
    this.droppedSubnets = dropped;
    this.rows = rows.length;
  }

  /**
   * allow_address / allow_source_address for an IP: the exact table first, then the subnets.
   * `grp` null: any group (allow_address_group). The entry that matched, or null.
   */
  matchIp(ip: IpBytes, port: number, grp: number | null): Entry | null {
    const hit = firstMatch(this.exact.get(exactKey(ip)), grp, port);
    if (hit !== null) return hit;
    let best: SubnetEntry | null = null;
    for (const b of ip.v6 ? this.prefixes.v6 : this.prefixes.v4) {
      const e = firstMatch(b.nets.get(maskedKey(ip.bytes, b.len)), grp, port);
      if (e !== null && (best === null || e.ord < best.ord)) best = e;
    }
    return best;
  }

  /** allow_address(_group) for a name that is not an IP: the DNS-name rows, compared as written. */
  matchDomain(name: string, port: number, grp: number | null): Entry | null {
    return firstMatch(this.domains.get(name), grp, port);
  }

  /** permissions.addressDump: the exact addresses (`table` is the row's place here, not Kamailio's hash bucket). */
  addressDump(): AddressDumpItem[] {
    const out: AddressDumpItem[] = [];
    let i = 0;
    for (const list of this.exact.values()) {
      for (const e of list) out.push({ table: i, group: e.grp, item: { ip: ipText(e.ip), port: e.port, tag: e.tag ?? 'NULL' } });
      i++;
    }
    return out;
  }

  /** permissions.subnetDump: in Kamailio's order (by group, then as loaded); the address as written, unmasked. */
  subnetDump(): SubnetDumpItem[] {
    return this.subnets.map((s, id) => ({ id, group: s.grp, item: { ip: ipText(s.ip), mask: s.mask, port: s.port, tag: s.tag ?? '' } }));
  }

  domainDump(): DomainDumpItem[] {
    const out: DomainDumpItem[] = [];
    let i = 0;
    for (const list of this.domains.values()) {
      for (const e of list) out.push({ table: i, group: e.grp, item: { domain_name: e.name, port: e.port, tag: e.tag ?? 'NULL' } });
      i++;
    }
    return out;
  }

  get subnetCount(): number {
    return this.subnets.length;
  }
}
