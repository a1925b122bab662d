/** is_myself: does a host[:port] name one of our sockets or a configured alias? */
import { isIP } from 'node:net';
import type { MyselfMatcher } from '../kemi/types.js';

export interface MyselfEntry {
  readonly host: string;
  /** 0 = any port */
  readonly port: number;
}

function norm(host: string): string {
  return host.replace(/^\[|\]$/g, '').toLowerCase();
}

export class Myself implements MyselfMatcher {
  private readonly entries: MyselfEntry[] = [];
  private readonly ips = new Set<string>();

  add(host: string, port: number): void {
    const h = norm(host);
    this.entries.push({ host: h, port });
    if (isIP(h) !== 0) this.ips.add(h);
  }

  isMyself(host: string, port: number): boolean {
    const h = norm(host);
    for (const e of this.entries) {
      if (e.host !== h && !(isWildcard(e.host) && this.ips.has(h))) continue;
      // A URI without a port (0) matches a socket on any port, as Kamailio's check_self does
      // (grep_sock_info compares ports only when one is given); an alias without one, any port.
      if (e.port === 0 || port === 0 || e.port === port) return true;
    }
    return false;
  }

  isMyselfIp(ip: string): boolean {
    return this.ips.has(norm(ip));
  }
}

function isWildcard(h: string): boolean {
  return h === '0.0.0.0' || h === '::';
}
