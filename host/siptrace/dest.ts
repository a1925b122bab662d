/**
 * Where siptrace sends: Kamailio parses duplicate_uri and sip_trace_dst's argument as a SIP URI
 * (port 5060 when left out, transport UDP unless the URI says otherwise). Here the host must be
 * an IP literal and the transport UDP: a host name would need a resolver on the message path.
 */
import { isIP } from 'node:net';
import type { SocketAddress } from '../sip/types.js';

export interface TraceDest {
  readonly ip: string;
  readonly port: number;
}

/** The destination, or why not (a sentence for a config error or a complaint). */
export function parseTraceUri(s: string): TraceDest | string {
  const m = /^sips?:(?:[^@;]*@)?(\[[0-9a-fA-F:.]+\]|[^:;\]]+)(?::(\d{1,5}))?((?:;[^;]*)*)$/i.exec(s.trim());
  if (m === null) return 'expected a SIP URI "sip:IP:port"';
  const host = (m[1] ?? '').replace(/^\[|\]$/g, '');
  if (isIP(host) === 0) return 'the host must be an IP address (names are not resolved here)';
  const port = m[2] === undefined ? 5060 : Number(m[2]);
  if (port < 1 || port > 65535) return 'the port must be 1-65535';
  const transport = /;transport=([a-z]+)/i.exec(m[3] ?? '')?.[1]?.toLowerCase() ?? 'udp';
  if (transport !== 'udp') return 'only UDP is sent here (transport=' + transport + ')';
  return { ip: host, port };
}

/** send_sock_addr: "udp:IP:port" (or "IP:port"), IPv6 in brackets; null when it is not that. */
export function parseSockAddr(s: string): SocketAddress | null {
  const m = /^(?:(udp):)?(\[[0-9a-fA-F:.]+\]|[0-9.]+):(\d{1,5})$/i.exec(s.trim());
  if (m === null) return null;
  const ip = (m[2] ?? '').replace(/^\[|\]$/g, '');
  return isIP(ip) === 0 ? null : { proto: 'udp', ip, port: Number(m[3]) };
}
