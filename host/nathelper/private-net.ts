/**
 * The private and shared address ranges nathelper's tests look for (is1918addr in Kamailio's
 * nathelper): RFC 1918, RFC 6598 (carrier-grade NAT) and RFC 7335's prefixes. IPv4 only, as
 * Kamailio: an IPv6 address is never "private" here.
 */
import { isIP } from 'node:net';

const NETS: readonly (readonly [number, number])[] = [
  [0x0a000000, 8], // 10.0.0.0/8
  [0xac100000, 12], // 172.16.0.0/12
  [0xc0a80000, 16], // 192.168.0.0/16
  [0x64400000, 10], // 100.64.0.0/10, RFC 6598
  [0xc0000000, 29], // 192.0.0.0/29, RFC 7335 service continuity prefix
];
/** with nat_addr_mode 1: 192.0.0.0/24, RFC 7335 IETF protocol assignments */
const EXTRA: readonly (readonly [number, number])[] = [[0xc0000000, 24]];

function v4(s: string): number | null {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(s);
  if (m === null) return null;
  let n = 0;
  for (let i = 1; i <= 4; i++) {
    const b = Number(m[i]);
    if (b > 255) return null;
    n = n * 256 + b;
  }
  return n;
}

function inNets(n: number, nets: readonly (readonly [number, number])[]): boolean {
  return nets.some(([net, bits]) => Math.floor(n / 2 ** (32 - bits)) === Math.floor(net / 2 ** (32 - bits)));
}

/** 1 private, 0 public, -1 not an IPv4 address (Kamailio's is1918addr). */
export function isPrivate(addr: string, extra: boolean): 1 | 0 | -1 {
  const n = v4(addr);
  if (n === null) return -1;
  return inNets(n, NETS) || (extra && inNets(n, EXTRA)) ? 1 : 0;
}

/** An IP literal (IPv6 with or without brackets) in one spelling, or null when it is not one. */
export function normalIp(s: string): string | null {
  const t = s.startsWith('[') && s.endsWith(']') ? s.slice(1, -1) : s;
  const kind = isIP(t);
  if (kind === 4) return t;
  if (kind !== 6) return null;
  try {
    return new URL(`http://[${t}]/`).hostname.slice(1, -1);
  } catch {
    return null;
  }
}

/** Two hosts are the same address: equal IPs, or (both names) equal text. */
export function sameHost(a: string, b: string): boolean {
  const x = normalIp(a);
  const y = normalIp(b);
  if (x === null && y === null) return a === b;
  return x !== null && x === y;
}
