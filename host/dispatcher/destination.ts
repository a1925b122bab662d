/**
 * One dispatcher destination and a set of them, as Kamailio's dispatcher keeps them
 * (dispatch.c pack_dest / add_dest2list / reindex_dests): the URI, the state flags, the
 * priority and the attributes with their special names (duid, maxload, weight, rweight,
 * socket, sockname, ping_from, obproxy).
 */
import { ipText, strtoipx } from '../net/kamailio-ip.js';
import { parseUri } from '../sip/uri.js';

/** An IP address in one spelling (so "::1" and "0::1" compare equal); null for a host name. */
export function canonicalIp(text: string): string | null {
  const ip = strtoipx(text);
  return ip === null ? null : ipText(ip);
}

/** state bits (dispatch.h) */
export const DS_INACTIVE = 1;
export const DS_TRYING = 2;
export const DS_DISABLED = 4;
export const DS_PROBING = 8;
export const DS_NODNSARES = 16;
export const DS_STATES_ALL = 31;

/** Kamailio's ds_skip_dst: an inactive or disabled destination is not selected. */
export function skipped(flags: number): boolean {
  return (flags & (DS_INACTIVE | DS_DISABLED)) !== 0;
}

export interface DsAttrs {
  /** the attrs string as given */
  readonly body: string;
  readonly duid: string;
  readonly maxload: number;
  readonly weight: number;
  readonly rweight: number;
  readonly socket: string;
  readonly sockname: string;
  readonly pingFrom: string;
  readonly obproxy: string;
}

export interface Destination {
  readonly uri: string;
  /** state and probing bits; changed by ds_mark_dst, probing and dispatcher.set_state */
  flags: number;
  readonly priority: number;
  readonly attrs: DsAttrs;
  /** host of the URI as written (an IPv6 reference without brackets), port (0 = none given), transport */
  readonly host: string;
  readonly port: number;
  readonly proto: 'udp' | 'tcp' | 'tls' | 'sctp' | 'ws' | 'wss' | 'none';
  /** the address ds_is_from_list matches (canonical text), resolved at load for a host name; null when not resolved (flag 16) */
  ip: string | null;
  /** failed probes while trying, or successful ones while inactive (the thresholds count them) */
  messageCount: number;
  /** active calls routed here by algorithm 10 */
  dload: number;
}

export class DestinationError extends Error {}

function weightOf(v: string | undefined): number {
  const n = Number(v);
  return Number.isInteger(n) && n >= 1 && n <= 100 ? n : 0;
}

/** Kamailio's ds_set_attrs: name=value pairs split on ';'; the special names are kept apart. */
export function parseAttrs(body: string, attrsNone: boolean): DsAttrs {
  const text = body === '' && attrsNone ? 'none=yes' : body;
  const m = new Map<string, string>();
  for (const part of text.split(';')) {
    const eq = part.indexOf('=');
    if (eq <= 0) continue;
    const k = part.slice(0, eq).trim().toLowerCase();
    if (!m.has(k)) m.set(k, part.slice(eq + 1).trim());
  }
  const maxload = Number(m.get('maxload') ?? 0);
  return {
    body: text,
    duid: m.get('duid') ?? '',
    maxload: Number.isInteger(maxload) && maxload > 0 ? maxload : 0,
    weight: weightOf(m.get('weight')),
    rweight: weightOf(m.get('rweight')),
    socket: m.get('socket') ?? '',
    sockname: m.get('sockname') ?? '',
    pingFrom: m.get('ping_from') ?? '',
    obproxy: m.get('obproxy') ?? '',
  };
}

const PROTOS = new Set(['udp', 'tcp', 'tls', 'sctp', 'ws', 'wss']);

/** A destination from one list line or table row; DestinationError when its URI is not a SIP URI. */
export function makeDestination(uri: string, flags: number, priority: number, attrs: string, attrsNone: boolean): Destination {
  const u = parseUri(uri);
  if (u === null || (u.scheme !== 'sip' && u.scheme !== 'sips') || u.host === '') throw new DestinationError(`bad dispatcher uri: ${uri}`);
  const t = (u.params.get('transport') ?? '').toLowerCase();
  // Kamailio keeps the URI's transport parameter, PROTO_NONE without one (even for sips:)
  const proto = PROTOS.has(t) ? (t as Destination['proto']) : 'none';
  const host = u.host.startsWith('[') ? u.host.slice(1, -1) : u.host;
  return { uri, flags: flags & DS_STATES_ALL, priority, attrs: parseAttrs(attrs, attrsNone), host, port: u.port, proto, ip: canonicalIp(host), messageCount: 0, dload: 0 };
}

/** A group (setid) of destinations in Kamailio's order, with its selection counters. */
export class DsSet {
  /** round robin position (algorithms 4 and 5) */
  last = 0;
  /** weight slots (algorithm 9), 100 destination indexes, and the next one to use */
  wlist: number[] = [];
  wlast = 0;
  /** relative weight slots (algorithm 11) */
  rwlist: number[] = [];
  rwlast = 0;

  constructor(
    readonly id: number,
    readonly dests: Destination[],
    private readonly rand: () => number,
  ) {
    this.initWeights();
    this.initRelativeWeights();
  }

  private shuffle(arr: number[]): void {
    for (let j = 0; j < arr.length; j++) {
      const k = j + Math.floor(this.rand() * (arr.length - j));
      const t = arr[j] ?? 0;
      arr[j] = arr[k] ?? 0;
      arr[k] = t;
    }
  }

  /** dp_init_weights: each destination gets `weight` of 100 slots; the last fills what is left. */
  private initWeights(): void {
    const d = this.dests;
    if (d.length === 0 || d[0]?.attrs.weight === 0) return;
    const w: number[] = [];
    for (let j = 0; j < d.length && w.length < 100; j++) {
      for (let k = 0; k < (d[j]?.attrs.weight ?? 0) && w.length < 100; k++) w.push(j);
    }
    while (w.length < 100) w.push(d.length - 1);
    this.shuffle(w);
    this.wlist = w;
  }

  /** dp_init_relative_weights: slots shared by the active destinations' rweight; again on every state change. */
  initRelativeWeights(): void {
    const d = this.dests;
    if (d.length < 2) return;
    let sum = 0;
    for (const x of d) if (!skipped(x.flags)) sum += x.attrs.rweight;
    if (sum === 0) return;
    const w: number[] = [];
    d.forEach((x, j) => {
      if (skipped(x.flags)) return;
      const slice = Math.trunc((x.attrs.rweight * 100) / sum);
      for (let k = 0; k < slice; k++) w.push(j);
    });
    const fill = w.length > 0 ? (w[w.length - 1] ?? 0) : d.length - 1;
    while (w.length < 100) w.push(fill);
    this.shuffle(w);
    this.rwlist = w;
  }
}

/**
 * Kamailio's order inside a set: by priority, highest first; among equal priorities the one
 * loaded last comes first (add_dest2list inserts after its equals, reindex_dests reverses).
 */
export function orderSet(loaded: readonly Destination[]): Destination[] {
  const asc: Destination[] = [];
  for (const d of loaded) {
    let i = 0;
    while (i < asc.length && (asc[i]?.priority ?? 0) <= d.priority) i++;
    asc.splice(i, 0, d);
  }
  return asc.reverse();
}
