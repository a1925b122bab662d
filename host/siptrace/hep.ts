/**
 * HEPv3 (Homer Encapsulation Protocol) packets as Kamailio's siptrace writes them
 * (siptrace_hep.c with sipcapture/hep.h's HEP3_PACK_* macros): "HEP3", the total length, then
 * chunks of vendor id 0, type id, length (the 6-byte chunk header included), all big-endian.
 * Chunk order is Kamailio's, so a capture server sees the same bytes from either.
 */
import { isIPv4, isIPv6 } from 'node:net';

/** Linux values, as Kamailio writes them (sa_family and IPPROTO_*) */
export const AF_INET = 2;
export const AF_INET6 = 10;
export const IPPROTO_UDP = 17;
export const IPPROTO_TCP = 6;
/** Kamailio's "fake proto type" for tls, ws and wss */
export const IPPROTO_IDP = 22;
export const HEP_PROTO_SIP = 0x01;
export const HEP_PROTO_LOG = 0x64;

export interface HepPacket {
  /** the IP protocol (IPPROTO_*) of the traced message's transport */
  readonly ipProto: number;
  readonly srcIp: string;
  readonly srcPort: number;
  readonly dstIp: string;
  readonly dstPort: number;
  /** ms since the epoch with µs precision */
  readonly timeMs: number;
  /** HEP_PROTO_SIP or HEP_PROTO_LOG */
  readonly protoType: number;
  readonly captureId: number;
  /** chunk 0x0011, left out when empty */
  readonly correlationId: string;
  /** chunk 0x000e, left out when empty */
  readonly authKey: string;
  readonly payload: Buffer;
  /** hlog's order: Kamailio's hlog() writes the destination port (0x0008) before the source port */
  readonly dstPortFirst?: boolean;
}

/** The IPPROTO_* number Kamailio writes for a transport name. */
export function ipProtoOf(proto: string): number {
  if (proto === 'tcp') return IPPROTO_TCP;
  if (proto === 'udp') return IPPROTO_UDP;
  return IPPROTO_IDP;
}

/** A chunk holding an unsigned integer of `size` bytes (1, 2 or 4). */
function uint(type: number, size: 1 | 2 | 4, v: number): Buffer {
  const b = Buffer.alloc(6 + size);
  b.writeUInt16BE(type, 2);
  b.writeUInt16BE(6 + size, 4);
  b.writeUIntBE(size === 4 ? v >>> 0 : v & (size === 2 ? 0xffff : 0xff), 6, size);
  return b;
}

function data(type: number, v: Buffer): Buffer {
  const h = Buffer.alloc(6);
  h.writeUInt16BE(type, 2);
  h.writeUInt16BE(6 + v.length, 4);
  return Buffer.concat([h, v]);
}

function ip4(ip: string): Buffer {
  return Buffer.from(ip.split('.').map(Number));
}

/** 16 bytes of an IPv6 literal (with "::" and an embedded IPv4 tail) */
function ip6(ip: string): Buffer {
  let s = ip;
  const tail: number[] = [];
  const v4 = /:(\d+\.\d+\.\d+\.\d+)$/.exec(s);
  if (v4?.[1] !== undefined) {
    const q = v4[1].split('.').map(Number);
    tail.push(((q[0] ?? 0) << 8) | (q[1] ?? 0), ((q[2] ?? 0) << 8) | (q[3] ?? 0));
    s = s.slice(0, s.length - v4[1].length) + '0:0';
  }
  const [head = '', rest] = s.split('::');
  const hs = head === '' ? [] : head.split(':');
  const rs = rest === undefined || rest === '' ? [] : rest.split(':');
  const groups = rest === undefined ? hs : [...hs, ...Array<string>(8 - hs.length - rs.length).fill('0'), ...rs];
  const b = Buffer.alloc(16);
  groups.forEach((g, i) => { b.writeUInt16BE(parseInt(g, 16) & 0xffff, i * 2); });
  if (tail.length === 2) { b.writeUInt16BE(tail[0] ?? 0, 12); b.writeUInt16BE(tail[1] ?? 0, 14); }
  return b;
}

/**
 * The packet, or null when the two addresses are not IP literals of one family (Kamailio:
 * "interworking detected ?", nothing sent) or it would be over 64 KiB. Never throws.
 */
export function encodeHep3(p: HepPacket): Buffer | null {
  const v6 = isIPv6(p.srcIp);
  if (v6 ? !isIPv6(p.dstIp) : !(isIPv4(p.srcIp) && isIPv4(p.dstIp))) return null;
  const cid = Buffer.from(p.correlationId);
  const key = Buffer.from(p.authKey);
  // the length field is 16 bits: Kamailio refuses a packet over its BUF_SIZE (65535) as well
  const total = 6 + 7 + 7 + (v6 ? 44 : 20) + 8 + 8 + 10 + 10 + 7 + 10 + 6 + p.payload.length
    + (cid.length > 0 ? 6 + cid.length : 0) + (key.length > 0 ? 6 + key.length : 0);
  if (total > 0xffff) return null;
  const sec = Math.floor(p.timeMs / 1000);
  const usec = Math.floor((p.timeMs - sec * 1000) * 1000);
  const chunks = [
    uint(0x0001, 1, v6 ? AF_INET6 : AF_INET),
    uint(0x0002, 1, p.ipProto),
    ...(v6 ? [data(0x0005, ip6(p.srcIp)), data(0x0006, ip6(p.dstIp))] : [data(0x0003, ip4(p.srcIp)), data(0x0004, ip4(p.dstIp))]),
    ...(p.dstPortFirst === true ? [uint(0x0008, 2, p.dstPort), uint(0x0007, 2, p.srcPort)] : [uint(0x0007, 2, p.srcPort), uint(0x0008, 2, p.dstPort)]),
    uint(0x0009, 4, sec),
    uint(0x000a, 4, Math.min(usec, 999_999)),
    uint(0x000b, 1, p.protoType),
    uint(0x000c, 4, p.captureId),
  ];
  // Kamailio's order: correlation id, then the auth key, then the payload
  if (cid.length > 0) chunks.push(data(0x0011, cid));
  if (key.length > 0) chunks.push(data(0x000e, key));
  chunks.push(data(0x000f, p.payload));
  const head = Buffer.alloc(6);
  head.write('HEP3', 0, 'latin1');
  head.writeUInt16BE(total, 4);
  return Buffer.concat([head, ...chunks]);
}
