/** Listen addresses as operators write them: "udp:127.0.0.1:5060", "tcp:[::1]:5060". */
import { isIP } from 'node:net';

export type SipProto = 'udp' | 'tcp';

export interface ListenAddress {
  readonly proto: SipProto;
  /** IP literal without brackets */
  readonly host: string;
  readonly port: number;
}

/** Parse one listen address; throws an Error whose message says the expected form. */
export function parseListen(spec: string): ListenAddress {
  const m = /^(udp|tcp):(\[[^\]]+\]|[^:[\]]+):(\d{1,5})$/i.exec(spec.trim());
  const form = 'expected proto:host:port with proto udp or tcp, e.g. udp:127.0.0.1:5060 or tcp:[::1]:5060';
  if (m === null) throw new Error(`"${spec}": ${form}`);
  const host = (m[2] ?? '').replace(/^\[|\]$/g, '');
  const port = Number(m[3]);
  if (isIP(host) === 0) throw new Error(`"${spec}": host must be an IP address (${form})`);
  if (port > 65535) throw new Error(`"${spec}": port must be 0..65535`);
  return { proto: (m[1] ?? 'udp').toLowerCase() as SipProto, host, port };
}

/** "udp:127.0.0.1:5060" / "tcp:[::1]:5060" */
export function formatListen(proto: string, host: string, port: number): string {
  return `${proto}:${host.includes(':') ? `[${host}]` : host}:${String(port)}`;
}

/** host:port for a Via or a URI, with brackets around IPv6 */
export function hostPort(host: string, port: number): string {
  return `${host.includes(':') && !host.startsWith('[') ? `[${host}]` : host}:${String(port)}`;
}
