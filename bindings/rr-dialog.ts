/**
 * The in-dialog half of KSR.rr: loose_route applied to the Context, and what reads our Route
 * afterwards (check_route_param, is_direction, next_hop_route, $route_uri, $rdir…). Per-message
 * facts Kamailio keeps in message flags and statics live in RrMessage, one per Context.
 */
import { RE2JS } from 're2js';
import type { Context } from '../host/kemi/context.js';
import type { ModuleHost, MyselfMatcher } from '../host/kemi/types.js';
import { looseRoute, type LooseRouteResult } from '../host/sip/loose-route.js';
import { paramValue, routeEntries, uriParamsText } from '../host/sip/route-set.js';
import type { RrParams } from './rr-params.js';

/** What rr remembers about one message. */
export interface RrMessage {
  /** a Record-Route was asked for outside a branch route (Kamailio's FL_RR_ADDED) */
  added: boolean;
  /** add_rr_param texts given before the Record-Route was asked for */
  pending: string;
  /** the parameters loose_route found for us (a strict router's R-URI of ours); undefined: read the top Route */
  routed: string | undefined;
  /** the next hop came from a Route header (FL_ROUTE_ADDR) */
  nextHop: boolean;
}

export interface RrState {
  readonly host: ModuleHost;
  readonly myself: MyselfMatcher;
  readonly p: RrParams;
  readonly messages: WeakMap<Context, RrMessage>;
  /** check_route_param patterns: scripts pass constants, so a few compiled ones serve every message */
  readonly patterns: Map<string, RE2JS | null>;
  /** other modules' loose_route callbacks (RrApi.onLooseRoute) */
  readonly callbacks: ((ctx: Context, params: string) => void)[];
}

const PATTERN_CACHE = 64;

export function rrMessage(s: RrState, ctx: Context): RrMessage {
  let m = s.messages.get(ctx);
  if (m === undefined) {
    m = { added: false, pending: '', routed: undefined, nextHop: false };
    s.messages.set(ctx, m);
  }
  return m;
}

/** loose_route / loose_route_mode: route the request by its Route set, as the result says. */
export function applyLooseRoute(s: RrState, ctx: Context, looseOnly: boolean): number {
  const msg = ctx.msg;
  if (msg === null || !msg.isRequest) return -1;
  const r: LooseRouteResult = looseRoute(msg, ctx.ruri, {
    myself: s.myself,
    doubleRr: s.p.enable_double_rr !== 0,
    forceSocket: s.p.force_send_socket === 1,
    looseOnly,
  });
  const m = rrMessage(s, ctx);
  if (r.drop.size > 0) ctx.headerEdits.dropRoutes = r.drop;
  if (r.appendRoute !== null) ctx.headerEdits.append.push(r.appendRoute);
  if (r.du !== undefined) ctx.dstUri = r.du;
  if (r.ruri !== undefined) ctx.newRuri = r.ruri;
  if (r.sendSocket !== null) ctx.sendSocket = r.sendSocket;
  if (r.routedParams !== null) m.routed = r.routedParams;
  if (r.nextHopRoute) m.nextHop = true;
  if (r.code > 0 && s.callbacks.length > 0) {
    // Kamailio runs its rr callbacks once loose_route processed a Route of ours
    const params = routedParams(s, ctx);
    if (params !== null) for (const cb of s.callbacks) cb(ctx, params);
  }
  return r.code;
}

/**
 * The URI parameters of our Route (`;lr;ftag=…`): what loose_route found, else the top Route's
 * when it is ours (Kamailio reads it again for a message loose_route did not see). null: none.
 */
export function routedParams(s: RrState, ctx: Context): string | null {
  const routed = s.messages.get(ctx)?.routed;
  if (routed !== undefined) return routed;
  const msg = ctx.msg;
  if (msg === null || !msg.isRequest) return null;
  const top = routeEntries(msg)?.[0];
  const u = top?.uri ?? null;
  if (top === undefined || u === null || u.host === '' || u.params.has('gr') || !s.myself.isMyself(u.host, u.port)) return null;
  return uriParamsText(top.uriText);
}

/** The request goes from callee to caller: our Route's ftag is not the From-tag. */
export function isUpstream(s: RrState, ctx: Context): boolean {
  const params = routedParams(s, ctx);
  const ftag = params === null ? null : paramValue(params, 'ftag');
  const from = ctx.msg?.from.tag ?? '';
  if (ftag === null || ftag === '' || from === '') return false;
  return ftag !== from;
}

/** check_route_param: a POSIX-like extended regex, case-insensitive, against our Route's parameters. */
export function checkRouteParam(s: RrState, ctx: Context, re: string): number {
  const params = routedParams(s, ctx);
  if (params === null || params === '') return -1;
  const p = pattern(s, re);
  if (p === null) return -1;
  return p.test(params) ? 1 : -1;
}

function pattern(s: RrState, re: string): RE2JS | null {
  let p = s.patterns.get(re);
  if (p !== undefined) return p;
  try {
    p = RE2JS.compile(re, RE2JS.CASE_INSENSITIVE | RE2JS.MULTILINE);
  } catch {
    s.host.complain('check_route_param: bad regular expression', { re });
    p = null;
  }
  if (s.patterns.size >= PATTERN_CACHE) s.patterns.clear();
  s.patterns.set(re, p);
  return p;
}

/** Kamailio's E_CFG: what is_direction returns when it cannot be asked (no ftag, unknown direction). */
const E_CFG = -6;

export function isDirection(s: RrState, ctx: Context, dir: string): number {
  if (s.p.append_fromtag !== 1) {
    s.host.complain('is_direction needs the rr parameter append_fromtag enabled');
    return E_CFG;
  }
  const d = dir.toLowerCase();
  if (d !== 'downstream' && d !== 'upstream') {
    s.host.complain('is_direction: unknown direction (use "downstream" or "upstream")', { dir });
    return E_CFG;
  }
  return (d === 'upstream') === isUpstream(s, ctx) ? 1 : -1;
}

/** $route_uri: the URI of the top Route as written, null when there is none. */
export function topRouteUri(ctx: Context): string | null {
  const msg = ctx.msg;
  if (msg === null) return null;
  return routeEntries(msg)?.[0]?.uriText ?? null;
}
