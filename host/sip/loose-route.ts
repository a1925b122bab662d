/**
 * Loose routing of a request that carries a Route set (RFC 3261 §16.4 and §16.12), as Kamailio's
 * rr module does it, including its return codes and its repair of strict routing:
 *
 * - the top Route is ours: it is consumed (with the second one when both carry `r2=on`, double
 *   record-routing), and the next Route, if any, is the next hop ($du); a next hop without `lr`
 *   is a strict router, so it goes into the R-URI and the R-URI to the end of the Route set;
 * - the top Route is someone else's (a pre-loaded route set of a UA): it is the next hop;
 * - the R-URI is ours in a dialog (the previous hop was a strict router, §16.4): the next hop is
 *   the first Route and the real target, the last Route, goes back into the R-URI.
 *
 * Pure: it reads the request and says what to change; the rr binding applies it to the Context.
 */
import type { MyselfMatcher } from '../kemi/types.js';
import type { SipMessage } from './message.js';
import { socketOf, type SocketAddress } from './record-route.js';
import { routeEntries, uriParamsText, type RouteEntry } from './route-set.js';
import { parseUri, type SipUri } from './uri.js';

/** Kamailio's loose_route results: RR_DRIVEN, RR_NOT_DRIVEN / RR_ERROR, RR_PRELOADED. */
export const RR_DRIVEN = 1;
export const RR_ERROR = -1;
export const RR_PRELOADED = -3;

export interface LooseRouteOptions {
  readonly myself: MyselfMatcher;
  /** enable_double_rr on: a top Route of ours with `r2=on` is consumed with the one below it */
  readonly doubleRr: boolean;
  /** force_send_socket: send from the socket our Route names even without double routing */
  readonly forceSocket: boolean;
  /** loose_route_mode(1): never the strict-router repair, even when the R-URI is ours */
  readonly looseOnly: boolean;
}

export interface LooseRouteResult {
  readonly code: number;
  /** the next hop ($du); undefined: $du is not changed */
  readonly du?: string;
  /** the new R-URI; undefined: not changed */
  readonly ruri?: string;
  /** Route entries consumed (indices over the whole set) */
  readonly drop: ReadonlySet<number>;
  /** a Route line to add at the end (the R-URI saved for a strict next hop), or null */
  readonly appendRoute: string | null;
  /** the parameters of our Route (`;lr;ftag=…`), or of our R-URI after a strict router; null: none */
  readonly routedParams: string | null;
  /** the next hop came from a Route header (rr_next_hop_route) */
  readonly nextHopRoute: boolean;
  /** the socket of ours to send from (double routing, force_send_socket), null: any */
  readonly sendSocket: SocketAddress | null;
}

const FAILED: LooseRouteResult = { code: RR_ERROR, drop: new Set(), appendRoute: null, routedParams: null, nextHopRoute: false, sendSocket: null };

function isMyself(o: LooseRouteOptions, u: SipUri): boolean {
  // a GRUU of ours names a UA's registration, not this proxy
  return u.host !== '' && !u.params.has('gr') && o.myself.isMyself(u.host, u.port);
}

/** A URI with `maddr` sends to that address instead (Kamailio's get_maddr_uri). */
function target(u: SipUri, text: string): string {
  const maddr = u.params.get('maddr');
  if (maddr === undefined || maddr === '') return text;
  return `sip:${maddr}${u.port > 0 ? `:${String(u.port)}` : ''}`;
}

function socketIn(u: SipUri): SocketAddress {
  const tp = u.params.get('transport')?.toLowerCase();
  return socketOf(tp === undefined || tp === '' ? 'udp' : tp, u.host, u.port > 0 ? u.port : 5060);
}

interface Work {
  drop: Set<number>;
  sendSocket: SocketAddress | null;
}

/** loose_route() on `msg` whose R-URI is now `ruri`. */
export function looseRoute(msg: SipMessage, ruri: string, o: LooseRouteOptions): LooseRouteResult {
  const entries = routeEntries(msg);
  if (entries === null || entries.length === 0) return FAILED;
  const cur = parseUri(ruri);
  if (cur === null) return FAILED;
  const preloaded = msg.to.tag === '';
  if (!preloaded && !o.looseOnly && isMyself(o, cur)) return afterStrict(msg, entries, cur, o);
  return afterLoose(msg, entries, preloaded, o);
}

/** The previous hop was a loose router (or there was none): our Route is on top, if any. */
function afterLoose(msg: SipMessage, entries: readonly RouteEntry[], preloaded: boolean, o: LooseRouteOptions): LooseRouteResult {
  const w: Work = { drop: new Set(), sendSocket: null };
  const top = entries[0] as RouteEntry;
  if (top.uri === null) return FAILED;
  let i = 0;
  let routedParams: string | null = null;
  let nextHopRoute = false;
  if (isMyself(o, top.uri)) {
    routedParams = uriParamsText(top.uriText);
    const double = o.doubleRr && top.uri.params.get('r2') === 'on';
    if (o.forceSocket && !double) w.sendSocket = socketIn(top.uri);
    w.drop.add(0);
    i = 1;
    if (double && i < entries.length) {
      const second = entries[1] as RouteEntry;
      if (second.uri === null) return FAILED;
      // the second Route of ours names the socket that faces the next hop
      w.sendSocket = socketIn(second.uri);
      w.drop.add(1);
      i = 2;
    }
    if (i >= entries.length) return done(w, preloaded ? RR_PRELOADED : RR_DRIVEN, {}, routedParams, false);
    nextHopRoute = true;
  }
  const next = entries[i] as RouteEntry;
  if (next.uri === null) return FAILED;
  if (!next.uri.params.has('lr')) {
    // a strict router next: it wants the target in the R-URI, the R-URI goes last in the set
    w.drop.add(i);
    return { ...done(w, RR_DRIVEN, { ruri: target(next.uri, next.uriText) }, routedParams, nextHopRoute), appendRoute: `Route: <${msg.ruri}>\r\n` };
  }
  return done(w, RR_DRIVEN, { du: target(next.uri, next.uriText) }, routedParams, nextHopRoute);
}

/** The previous hop was a strict router: it put our URI in the R-URI (RFC 3261 §16.4). */
function afterStrict(msg: SipMessage, entries: readonly RouteEntry[], cur: SipUri, o: LooseRouteOptions): LooseRouteResult {
  const w: Work = { drop: new Set(), sendSocket: null };
  let first = entries[0] as RouteEntry;
  if (first.uri === null) return FAILED;
  let i = 0;
  if (o.doubleRr && first.uri.params.get('r2') === 'on' && isMyself(o, first.uri)) {
    w.sendSocket = socketIn(first.uri);
    w.drop.add(0);
    if (entries.length < 2) return done(w, RR_ERROR, {}, null, false);
    i = 1;
    first = entries[1] as RouteEntry;
    if (first.uri === null) return FAILED;
  }
  const routedParams = uriParamsText(cur.raw);
  if (!first.uri.params.has('lr')) {
    // strict on both sides: behave as a strict router, the next hop into the R-URI
    w.drop.add(i);
    return done(w, RR_DRIVEN, { ruri: target(first.uri, first.uriText) }, routedParams, false);
  }
  const lastIndex = entries.length - 1;
  const last = entries[lastIndex] as RouteEntry;
  if (last.uri === null) return FAILED;
  w.drop.add(lastIndex);
  return done(w, RR_DRIVEN, { du: target(first.uri, first.uriText), ruri: target(last.uri, last.uriText) }, routedParams, false);
}

function done(w: Work, code: number, set: { du?: string; ruri?: string }, routedParams: string | null, nextHopRoute: boolean): LooseRouteResult {
  return { code, ...set, drop: w.drop, appendRoute: null, routedParams, nextHopRoute, sendSocket: w.sendSocket };
}
