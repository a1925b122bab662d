/**
 * SIP messages in and out, by request method and by reply class, as "core:" statistics with
 * Kamailio's names where Kamailio has them (core:rcv_requests_invite, core:rcv_replies_2xx …)
 * and the same shape for what leaves (core:snt_requests_invite, core:snt_replies_2xx).
 *
 * Incoming messages are counted by the router from the parsed message; outgoing ones by the
 * transports from the first bytes of the buffer, so every path that sends (stateless replies,
 * transactions, retransmissions, forwarding) is counted in one place. Methods outside the list
 * share "other": a peer cannot grow the number of counters.
 */
import type { Counter, Stats } from '../kemi/stats.js';

/** The methods Kamailio keeps a core:rcv_requests_<method> counter for. */
export const COUNTED_METHODS = [
  'INVITE', 'CANCEL', 'ACK', 'BYE', 'INFO', 'REGISTER', 'SUBSCRIBE', 'NOTIFY', 'MESSAGE', 'OPTIONS',
  'PRACK', 'UPDATE', 'REFER', 'PUBLISH',
] as const;

const SIP_VERSION = Buffer.from('SIP/2.0 ');
const SPACE = 0x20;
const ZERO = 0x30;

interface Direction {
  readonly requests: ReadonlyMap<string, Counter>;
  readonly otherRequests: Counter;
  /** index 1..6 = 1xx..6xx; 0 = anything else */
  readonly replies: readonly Counter[];
}

function direction(stats: Stats, prefix: 'rcv' | 'snt'): Direction {
  const requests = new Map<string, Counter>();
  for (const m of COUNTED_METHODS) requests.set(m, stats.counter('core', `${prefix}_requests_${m.toLowerCase()}`));
  const replies = [stats.counter('core', `${prefix}_replies_other`)];
  for (let c = 1; c <= 6; c++) replies.push(stats.counter('core', `${prefix}_replies_${String(c)}xx`));
  return { requests, otherRequests: stats.counter('core', `${prefix}_requests_other`), replies };
}

function countReply(d: Direction, status: number): void {
  const cls = Math.floor(status / 100);
  const c = cls >= 1 && cls <= 6 ? d.replies[cls] : d.replies[0];
  if (c !== undefined) c.value++;
}

/** What a statistic of this file counts, from its key; null for any other statistic. */
export interface TrafficKey {
  readonly direction: 'in' | 'out';
  readonly kind: 'requests' | 'replies';
  /** the method in upper case ("INVITE", "OTHER"), or the reply class ("2xx", "other") */
  readonly what: string;
}

const KEY = /^core:(rcv|snt)_(requests|replies)_([a-z0-9]+)$/;

export function trafficKey(key: string): TrafficKey | null {
  const m = KEY.exec(key);
  if (m === null) return null;
  const [, dir, kind, what = ''] = m;
  return {
    direction: dir === 'rcv' ? 'in' : 'out',
    kind: kind === 'requests' ? 'requests' : 'replies',
    what: kind === 'requests' ? what.toUpperCase() : what,
  };
}

export class SipTraffic {
  private readonly rcv: Direction;
  private readonly snt: Direction;

  constructor(stats: Stats) {
    this.rcv = direction(stats, 'rcv');
    this.snt = direction(stats, 'snt');
  }

  requestIn(method: string): void {
    (this.rcv.requests.get(method) ?? this.rcv.otherRequests).value++;
  }

  replyIn(status: number): void {
    countReply(this.rcv, status);
  }

  /** A message about to be written: "SIP/2.0 200 …" or "INVITE sip:… SIP/2.0". */
  readonly out = (data: Buffer): void => {
    if (data.length > 11 && data.compare(SIP_VERSION, 0, 8, 0, 8) === 0) {
      const cls = (data[8] ?? 0) - ZERO;
      countReply(this.snt, cls >= 1 && cls <= 6 ? cls * 100 : 0);
      return;
    }
    const sp = data.indexOf(SPACE, 0);
    if (sp <= 0 || sp > 16) {
      this.snt.otherRequests.value++;
      return;
    }
    (this.snt.requests.get(data.toString('latin1', 0, sp)) ?? this.snt.otherRequests).value++;
  };
}
