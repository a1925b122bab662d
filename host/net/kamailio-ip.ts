/**
 * IP addresses as Kamailio's core reads them from text (src/core/resolve.c `str2ip`,
 * `str2ip6`), so that the permissions and pike modules take and refuse the same strings:
 *
 *   str2ip("10.0.0.1")      IPv4: only digits and exactly three dots; an octet over 255 wraps
 *                            (Kamailio adds into an unsigned char), an empty octet is 0
 *   str2ip6("[2001:db8::1]") IPv6: hex groups, one "::", brackets allowed; no embedded IPv4
 *                            ("::ffff:1.2.3.4" is not an address to Kamailio)
 *   strtoipx(s)              IPv6 when s starts with "[" or holds a ":", else IPv4 (permissions)
 *
 * and Node's own form of a peer's address (`sourceIp`), where an IPv4 peer on a dual-stack
 * socket shows as "::ffff:a.b.c.d": that peer is IPv4, as Kamailio (IPV6_V6ONLY sockets) sees it.
 */
import { SocketAddress } from 'node:net';

/** struct ip_addr: the family and the address bytes in network order (4 or 16 of them). */
export interface IpBytes {
  readonly v6: boolean;
  readonly bytes: Uint8Array;
}

export function str2ip(s: string): IpBytes | null {
  if (s.length === 0) return null;
  const b = new Uint8Array(4);
  let i = 0;
  for (let k = 0; k < s.length; k++) {
    const c = s.charCodeAt(k);
    if (c === 0x2e) {
      if (++i > 3) return null;
    } else if (c >= 0x30 && c <= 0x39) {
      b[i] = ((b[i] ?? 0) * 10 + c - 0x30) & 0xff;
    } else {
      return null;
    }
  }
  return i < 3 ? null : { v6: false, bytes: b };
}

function hexValue(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  const l = c | 0x20;
  return l >= 0x61 && l <= 0x66 ? l - 0x61 + 10 : -1;
}

/**
 * Kamailio's algorithm: groups before "::" fill the start, groups after it are collected apart
 * and moved to the end. Its leniencies are kept (a leading single ":" reads as an empty first
 * group, a group of more than four digits wraps at 16 bits).
 */
export function str2ip6(text: string): IpBytes | null {
  let s = text;
  if (s.length === 0) return null;
  if (s.startsWith('[')) {
    if (!s.endsWith(']')) return null;
    s = s.slice(1, -1);
  }
  const start = new Uint16Array(8);
  const end = new Uint16Array(8);
  let addr = start;
  let i = 0;
  let before = 0;
  let afterColon = false;
  let colons = 0;
  for (let k = 0; k < s.length; k++) {
    const c = s.charCodeAt(k);
    if (c === 0x3a) {
      if (++colons > 7) return null;
      if (afterColon) {
        if (addr === end) return null;
        before = i;
        i = 0;
        addr = end;
      } else {
        afterColon = true;
        i++;
      }
    } else {
      const h = hexValue(c);
      if (h < 0 || i > 7) return null;
      addr[i] = ((addr[i] ?? 0) * 16 + h) & 0xffff;
      afterColon = false;
    }
  }
  if (!afterColon) i++;
  const words = new Uint16Array(8);
  if (addr === end) {
    words.set(start.subarray(0, before), 0);
    words.set(end.subarray(0, i), 8 - i);
  } else {
    if (colons < 7) return null;
    words.set(start, 0);
  }
  const bytes = new Uint8Array(16);
  for (let w = 0; w < 8; w++) {
    const v = words[w] ?? 0;
    bytes[w * 2] = v >>> 8;
    bytes[w * 2 + 1] = v & 0xff;
  }
  return { v6: true, bytes };
}

/** permissions' strtoipX: the family is guessed from the text, then that parser alone decides. */
export function strtoipx(s: string): IpBytes | null {
  return s.startsWith('[') || s.includes(':') ? str2ip6(s) : str2ip(s);
}

const V4_MAPPED = /^::ffff:(\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3})$/i;

/** The address of a peer as Node reports it ("198.51.100.7", "2001:db8::1", "::ffff:10.0.0.1"). */
export function sourceIp(nodeAddress: string): IpBytes | null {
  const mapped = V4_MAPPED.exec(nodeAddress);
  if (mapped !== null) return str2ip(mapped[1] ?? '');
  return strtoipx(nodeAddress);
}

/** Kamailio's ip_addr2a with its default ipv6_hex_style "c": inet_ntop's text. */
export function ipText(ip: IpBytes): string {
  if (!ip.v6) return ip.bytes.join('.');
  const groups: string[] = [];
  for (let w = 0; w < 8; w++) groups.push((((ip.bytes[w * 2] ?? 0) << 8) | (ip.bytes[w * 2 + 1] ?? 0)).toString(16));
  return new SocketAddress({ address: groups.join(':'), family: 'ipv6' }).address;
}
