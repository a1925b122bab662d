/**
 * KSR.rr: record-routing and loose routing (Kamailio's rr module, KEMI names, types and return
 * codes). A Record-Route is asked for here and written by the SIP layer when the request is
 * sent (host/sip/record-route.ts): it names the socket each branch leaves on. loose_route's
 * algorithm is host/sip/loose-route.ts; what it changes is applied in ./rr-dialog.ts.
 */
import type { Context } from '../host/kemi/context.js';
import type { SipMessage } from '../host/sip/message.js';
import { defineModule, fn, type Xval } from '../host/kemi/types.js';
import { RR_PRELOADED } from '../host/sip/loose-route.js';
import { paramValue } from '../host/sip/route-set.js';
import type { RecordRouteEdit } from '../host/sip/record-route.js';
import { routeTypeOf } from '../host/sip/transaction/route-type.js';
import { parseUri } from '../host/sip/uri.js';
import {
  applyLooseRoute, checkRouteParam, isDirection, isUpstream, routedParams, rrMessage, topRouteUri, type RrState,
} from './rr-dialog.js';
import { rrParams } from './rr-params.js';

/** Kamailio's buffer for add_rr_param texts given before the Record-Route. */
const MAX_PENDING = 512;

/** The request a Record-Route may be asked for on (a SIP request, not a reply route's reply). */
function isRequest(ctx: Context): boolean {
  return ctx.msg?.isRequest === true;
}

/** The R-URI's user part, for add_username: as received, else the one the script set (a pre-loaded route put it there). */
function ruriUser(ctx: Context): string {
  const received = parseUri(ctx.msg?.ruri ?? '')?.user ?? '';
  return received !== '' ? received : (parseUri(ctx.ruri)?.user ?? '');
}

/**
 * Ask for a Record-Route of this form, with what add_rr_param gave before it. The ftag is the
 * From-tag, or the To-tag of a request going upstream (for a preset one always the From-tag).
 * In a branch route it is that branch's: the request route may still ask for one.
 */
function ask(s: RrState, ctx: Context, kind: RecordRouteEdit['kind'], addrs: readonly string[], params: string, inBranch: boolean): number {
  const msg = ctx.msg as SipMessage; // refuse() checked it is a request
  const m = s.messages.get(ctx);
  let ftag = '';
  if (s.p.append_fromtag === 1) ftag = kind !== 'preset' && isUpstream(s, ctx) ? msg.to.tag : msg.from.tag;
  const edits = ctx.headerEdits;
  edits.recordRoute = {
    kind,
    addrs,
    sips: s.p.ignore_sips === 0 && /^sips:/i.test(ctx.ruri),
    user: s.p.add_username === 1 ? ruriUser(ctx) : '',
    ftag,
    fullLr: s.p.enable_full_lr === 1,
    double: s.p.enable_double_rr as 0 | 1 | 2,
    params: params + (m?.pending ?? ''),
    added: '',
    at: edits.insert.length,
  };
  if (m !== undefined) m.pending = '';
  if (!inBranch) rrMessage(s, ctx).added = true;
  return 1;
}

/** A request only, and once (Kamailio's "double attempt to record-route"). */
function refuse(s: RrState, ctx: Context, fname: string): boolean {
  if (!isRequest(ctx)) return true;
  if (s.messages.get(ctx)?.added !== true) return false;
  s.host.complain(`${fname}: double attempt to record-route`);
  return true;
}

function recordRoute(s: RrState, ctx: Context, params: string): number {
  if (refuse(s, ctx, 'record_route')) return -1;
  return ask(s, ctx, 'socket', [], params, routeTypeOf(ctx) === 'branch');
}

function advertised(s: RrState, ctx: Context, addr: string): number {
  if (refuse(s, ctx, 'record_route_advertised_address') || addr === '') return -1;
  return ask(s, ctx, 'advertised', [addr], '', false);
}

function preset(s: RrState, ctx: Context, a1: string, a2: string): number {
  if (refuse(s, ctx, 'record_route_preset') || a1 === '') return -1;
  if (a2 !== '' && s.p.enable_double_rr === 0) {
    s.host.complain('record_route_preset: two addresses need the rr parameter enable_double_rr');
    return -1;
  }
  return ask(s, ctx, 'preset', a2 === '' ? [a1] : [a1, a2], '', false);
}

/**
 * add_rr_param: to the Record-Route already asked for (every header of it), else kept for the
 * one asked for next. Kamailio looks for a second Record-Route whenever double routing is on:
 * with a single preset one it adds the parameter and still answers -1, and so does this.
 */
function addRrParam(s: RrState, ctx: Context, param: string): number {
  if (ctx.msg === null) return -1;
  const rr = ctx.hasHeaderEdits ? ctx.headerEdits.recordRoute : null;
  if (rr !== null) {
    ctx.headerEdits.recordRoute = { ...rr, added: rr.added + param };
    return rr.kind === 'preset' && rr.addrs.length === 1 && rr.double !== 0 ? -1 : 1;
  }
  const m = rrMessage(s, ctx);
  if (m.pending.length + param.length > MAX_PENDING) {
    s.host.complain('add_rr_param: the parameters exceed 512 bytes', { bytes: m.pending.length + param.length });
    return -1;
  }
  m.pending += param;
  return 1;
}

function removeRecordRoute(ctx: Context): number {
  if (ctx.hasHeaderEdits) ctx.headerEdits.recordRoute = null;
  return 1;
}

function tagPv(s: RrState, ctx: Context, initialFrom: boolean): Xval {
  const msg = ctx.msg;
  if (msg === null) return null;
  // the From-tag of the dialog's initial request is the To-tag of a request going upstream
  const fromSide = initialFrom !== isUpstream(s, ctx);
  const tag = fromSide ? msg.from.tag : msg.to.tag;
  return tag === '' ? null : tag;
}

/** What other modules get of rr (ModuleHost.api('rr')): Kamailio's rr API (add_rr_param, register_rrcb). */
export interface RrApi {
  addRrParam(ctx: Context, param: string): number;
  /** Run cb after loose_route routed a request by our Route, with that Route's parameters (";lr;ftag=…"). */
  onLooseRoute(cb: (ctx: Context, params: string) => void): void;
  /** the append_fromtag parameter: without it the direction of an in-dialog request is unknown */
  readonly appendFromtag: boolean;
  /** A parameter of our Route (get_route_param): '' for a flag, null when absent or no Route of ours. */
  routeParam(ctx: Context, name: string): string | null;
  /** The in-dialog request goes from callee to caller (is_direction("upstream")). */
  isUpstream(ctx: Context): boolean;
}

/** KSR.rr: Record-Route, Route and dialog direction (RFC 3261 §16.6, §16.12). */
export default defineModule({
  name: 'rr',
  doc: 'Record-routing and loose routing (Kamailio rr): Record-Route written per outgoing socket, Route sets, dialog direction.',
  params: rrParams,
  init: (host, p): RrState => ({ host, myself: host.myself, p, messages: new WeakMap(), patterns: new Map(), callbacks: [] }),
  api: (s: RrState): RrApi => ({
    addRrParam: (ctx, param) => addRrParam(s, ctx, param),
    onLooseRoute: (cb) => { s.callbacks.push(cb); },
    appendFromtag: s.p.append_fromtag === 1,
    routeParam: (ctx, name) => {
      const params = routedParams(s, ctx);
      return params === null ? null : paramValue(params, name.toLowerCase());
    },
    isUpstream: (ctx) => isUpstream(s, ctx),
  }),
  functions: {
    record_route: fn([], 'int', (s: RrState, ctx) => recordRoute(s, ctx, ''),
      'Add a Record-Route naming the socket the request leaves on (two when it came in on another one); 1 ok, -1 when already asked for or not a request.'),
    record_route_params: fn(['str'], 'int', (s: RrState, ctx, params) => recordRoute(s, ctx, params),
      'record_route with URI parameters (";name=value…") added to it.'),
    record_route_preset: fn(['str', 'str'], 'int', (s: RrState, ctx, a1, a2) => preset(s, ctx, a1, a2),
      'Add a Record-Route with this address ("host[:port][;params]", no scheme); a second non-empty address adds a second header (needs enable_double_rr); 1 ok, -1 failed.'),
    record_route_preset_one: fn(['str'], 'int', (s: RrState, ctx, a1) => preset(s, ctx, a1, ''),
      'Add a Record-Route with this address ("host[:port][;params]", no scheme); 1 ok, -1 failed.'),
    record_route_advertised_address: fn(['str'], 'int', (s: RrState, ctx, addr) => advertised(s, ctx, addr),
      'Add a Record-Route with this address instead of the socket\'s (two, with ;transport, when the request changes transport); 1 ok, -1 failed.'),
    add_rr_param: fn(['str'], 'int', (s: RrState, ctx, p) => addRrParam(s, ctx, p),
      'Add ";name=value" to the Record-Route, before or after it was asked for; 1 ok, -1 failed (also after a single preset one while enable_double_rr is on, as Kamailio).'),
    remove_record_route: fn([], 'int', (_s, ctx) => removeRecordRoute(ctx),
      'Take back the Record-Route asked for (another one still cannot be asked for, as in Kamailio); 1.'),
    loose_route: fn([], 'int', (s: RrState, ctx) => applyLooseRoute(s, ctx, false),
      'Route by the Route set (RFC 3261 §16.12): our Route removed, $du = next hop, strict routers repaired; 1 routed, -1 no Route set (or malformed, or the R-URI is ours with nothing after our Route), -3 only our Route in an initial request (removed).'),
    loose_route_preloaded: fn([], 'int', (s: RrState, ctx) => (applyLooseRoute(s, ctx, false) === RR_PRELOADED ? 1 : -1),
      'loose_route; 1 when the Route set was pre-loaded and only our Route was in it (an initial request), else -1.'),
    loose_route_mode: fn(['int'], 'int', (s: RrState, ctx, mode) => applyLooseRoute(s, ctx, mode !== 0),
      'loose_route; mode 1 skips the strict-router repair when the R-URI is ours.'),
    check_route_param: fn(['str'], 'int', (s: RrState, ctx, re) => checkRouteParam(s, ctx, re),
      'Positive when the parameters of our Route (";lr;ftag=…") match the regular expression (case-insensitive); -1 otherwise.'),
    is_direction: fn(['str'], 'int', (s: RrState, ctx, dir) => isDirection(s, ctx, dir),
      '1 when an in-dialog request goes this way: "downstream" (caller to callee) or "upstream", by the ftag of our Route; -1 otherwise; -6 without append_fromtag or for another word.'),
    next_hop_route: fn([], 'int', (s: RrState, ctx) => (rrMessage(s, ctx).nextHop ? 1 : -1),
      '1 when loose_route took the next hop from a Route header, else -1.'),
  },
  pvs: {
    route_uri: { get: (_s, ctx) => topRouteUri(ctx), stable: true, doc: 'URI of the top Route header as received; $null without one' },
    fti: { get: (s: RrState, ctx) => tagPv(s, ctx, true), doc: 'From-tag of the dialog\'s initial request (the To-tag of an upstream request)' },
    tti: { get: (s: RrState, ctx) => tagPv(s, ctx, false), doc: 'To-tag of the reply to the dialog\'s initial request' },
    rdir: {
      get: (s: RrState, ctx, name) => {
        const up = isUpstream(s, ctx);
        if (name === 'name') return up ? 'upstream' : 'downstream';
        return name === 'id' ? (up ? 2 : 1) : null;
      },
      param: true,
      doc: 'direction of an in-dialog request by our Route\'s ftag: $rdir(id) 1 downstream / 2 upstream, $rdir(name) the word',
    },
  },
});
