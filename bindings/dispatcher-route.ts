/**
 * What KSR.dispatcher's functions do to a message (dispatch.c ds_manage_routes, ds_push_dst,
 * ds_add_branches, ds_update_dst, ds_mark_dst, ds_is_addr_from_list): select from a set, set
 * $du or the R-URI's host part, keep the failover list in the `_dsdst_` XAVP, move along it.
 */
import { parseDigestCredentials } from '../host/auth/credentials.js';
import { canonicalIp, DS_INACTIVE, DS_PROBING, skipped, type Destination, type DsSet } from '../host/dispatcher/destination.js';
import { dsHash, uriHash } from '../host/dispatcher/hash.js';
import { ALG, select, type HashKeys } from '../host/dispatcher/select.js';
import type { CallLoad } from '../host/dispatcher/call-load.js';
import type { DsStore } from '../host/dispatcher/store.js';
import type { Context } from '../host/kemi/context.js';
import type { ResolvedPv } from '../host/kemi/pv.js';
import type { ModuleHost, Xval } from '../host/kemi/types.js';
import type { XavpRecord } from '../host/kemi/xavp.js';
import { ipText, sourceIp } from '../host/net/kamailio-ip.js';
import { parseUri } from '../host/sip/uri.js';

/** where a selection goes: $du, the R-URI's host part, or only the XAVP (DS_SETOP_*) */
export type SetOp = 'dst' | 'ruri' | 'xavp';

export interface DsConfig {
  readonly forceDst: boolean;
  readonly hashUserOnly: boolean;
  readonly failover: boolean;
  readonly useDefault: boolean;
  readonly xavpDst: string;
  readonly xavpDstMode: number;
  readonly xavpCtx: string;
  readonly xavpCtxMode: number;
  readonly hashPvar: string;
  readonly setidPv: string;
  readonly attrsPv: string;
  readonly probingMode: number;
}

export interface DsState {
  readonly host: ModuleHost;
  readonly store: DsStore | null;
  readonly c: DsConfig;
  readonly rand: () => number;
  /** algorithm 10's call table; null without ds_hash_size (then 10 counts no calls) */
  readonly calls: CallLoad | null;
  /** PVs named by parameters, resolved at first use (every module's PVs exist by then) */
  readonly pvCache: Map<string, ResolvedPv | null>;
}

function pv(s: DsState, name: string): ResolvedPv | null {
  let r = s.pvCache.get(name);
  if (r === undefined) {
    r = s.host.pvs.resolve(name);
    s.pvCache.set(name, r);
  }
  return r;
}

/** pv_printf for hash_pvar: every $name / $name(param) / $(…) replaced by its value ("<null>" for $null). */
function printPvs(s: DsState, ctx: Context, text: string): string {
  return text.replace(/\$(?:\([^()]*(?:\([^()]*\))?[^()]*\)|[A-Za-z_]\w*(?:\([^()]*\))?)/g, (tok) => {
    const r = pv(s, tok);
    if (r === null) return tok;
    const v = r.get(ctx);
    return v === null ? '<null>' : String(v);
  });
}

function keysOf(s: DsState, ctx: Context): HashKeys {
  const msg = ctx.msg;
  const userOnly = s.c.hashUserOnly;
  return {
    isInvite: msg?.isRequest === true && msg.method === 'INVITE',
    callId: () => (msg === null ? null : dsHash(msg.callId.trim())),
    from: () => (msg === null ? null : uriHash(msg.from.uri, userOnly)),
    to: () => (msg === null ? null : uriHash(msg.to.uri, userOnly)),
    ruri: () => (msg === null || !msg.isRequest ? null : uriHash(ctx.ruri, userOnly)),
    authUser: () => {
      if (msg === null) return null;
      for (const h of ['proxy-authorization', 'authorization']) {
        const v = msg.getHeader(h);
        if (v === undefined) continue;
        const p = parseDigestCredentials(v);
        if (p.kind !== 'digest') continue;
        return p.cred.user === '' ? undefined : dsHash(p.cred.user.trim());
      }
      return undefined;
    },
    pv: () => {
      if (s.c.hashPvar === '') return null;
      const text = printPvs(s, ctx, s.c.hashPvar).trim();
      return text === '' ? null : dsHash(text);
    },
  };
}

/** SET_HOSTALL_T: the R-URI keeps its scheme and user, the rest is the destination's host part. */
function rewriteHostAll(ruri: string, dest: string): string | null {
  const u = parseUri(ruri);
  if (u === null || u.scheme === 'tel') return null;
  const rest = dest.replace(/^sips?:/i, '');
  const user = u.user === '' ? '' : `${u.user}${u.password === '' ? '' : `:${u.password}`}@`;
  return `${u.scheme}:${user}${rest}`;
}

/** ds_push_dst */
function push(ctx: Context, uri: string, op: SetOp): boolean {
  if (op === 'xavp') return true;
  if (op === 'dst') {
    ctx.dstUri = uri;
    return true;
  }
  const next = rewriteHostAll(ctx.ruri, uri);
  if (next === null) return false;
  ctx.newRuri = next;
  return true;
}

function xavpRecord(s: DsState, set: DsSet, i: number, alg: number): XavpRecord | null {
  const d = set.dests[i];
  if (d === undefined) return null;
  const rec: XavpRecord = [{ name: 'uri', value: d.uri }, { name: 'grp', value: set.id }];
  if ((s.c.xavpDstMode & 1) === 0 && d.attrs.body !== '') rec.push({ name: 'attrs', value: d.attrs.body });
  if (alg === ALG.CALLLOAD) {
    if (d.attrs.duid === '') return null;
    rec.push({ name: 'dstid', value: d.attrs.duid });
  }
  return rec;
}

/** ds_add_branches (algorithm 12): every other destination of the set as a branch. */
function addBranches(ctx: Context, set: DsSet, first: number, op: SetOp): void {
  const from = op === 'xavp' ? first : first + 1;
  const user = op === 'ruri' ? (parseUri(ctx.ruri)?.user ?? '') : '';
  for (let i = from; i < set.dests.length; i++) {
    const d = set.dests[i];
    if (d === undefined) continue;
    let uri = ctx.ruri;
    let dst: string | null = d.uri;
    if (op === 'ruri') {
      dst = null;
      uri = user === '' ? d.uri : d.uri.replace(/^(sips?:)/i, `$1${user}@`);
    }
    if (!ctx.dset.append({ uri, dstUri: dst, path: null, q: -1, bflags: 0, socket: null })) return;
  }
}

/** What one ds_select* call collects over its groups (Kamailio's ds_select_state_t). */
interface RouteState {
  /** records for the failover XAVP, in order */
  readonly records: XavpRecord[];
  readonly limit: number;
  /** the first destination went to $du / the R-URI already (later groups only add records) */
  pushed: boolean;
}

/** ds_manage_routes: select from one group; 1, or -1 when nothing could be selected. */
function manage(s: DsState, ctx: Context, setid: number, wanted: number, op: SetOp, st: RouteState): number {
  const store = s.store;
  if (store === null || !store.loaded || store.all().length === 0) {
    s.host.complain('dispatcher: no destination sets', {});
    return -1;
  }
  if (op === 'dst' && !s.c.forceDst && ctx.dstUri !== null && ctx.dstUri !== '') {
    s.host.complain('dispatcher: destination already set (force_dst is 0)', { du: ctx.dstUri });
    return -1;
  }
  const set = store.get(setid);
  if (set === undefined) {
    s.host.complain('dispatcher: destination set not found', { set: setid });
    return -1;
  }
  const wantXavp = s.c.failover && s.c.xavpDst !== '';
  const sel = select(set, wanted, keysOf(s, ctx), { useDefault: s.c.useDefault, failover: wantXavp, limit: st.limit, already: st.records.length, rand: s.rand });
  if (sel === null) return -1;
  const d = set.dests[sel.first];
  if (d === undefined || !push(ctx, d.uri, op)) return -1;
  if (op !== 'xavp') st.pushed = true;
  let alg = sel.alg;
  if (alg === ALG.CALLLOAD && (s.c.xavpDst === '' || s.calls === null || ctx.msg === null || !s.calls.add(ctx.msg.callId, setid, d))) {
    s.host.complain('dispatcher: unable to update destination load (ds_hash_size 0, no duid, or the call is counted already) - classic dispatching', { set: setid });
    alg = ALG.CALLID;
  }
  if (wanted === ALG.PARALLEL) {
    addBranches(ctx, set, sel.first, op);
    return 1;
  }
  for (const i of sel.order) {
    const r = xavpRecord(s, set, i, alg);
    if (r === null) {
      s.host.complain('dispatcher: no duid attribute for call load distribution', { set: setid, uri: set.dests[i]?.uri });
      return -1;
    }
    st.records.push(r);
  }
  return 1;
}

/** The records in front of earlier ones, and the count in xavp_ctx (unless xavp_ctx_mode bit 1). */
function finish(s: DsState, ctx: Context, st: RouteState): void {
  ctx.xavps.prepend(s.c.xavpDst, st.records);
  if ((s.c.xavpCtxMode & 1) === 0 && s.c.xavpCtx !== '') ctx.xavps.prepend(s.c.xavpCtx, [[{ name: 'cnt', value: st.records.length }]]);
}

const limitOf = (n: number): number => (n <= 0 ? Infinity : n);

/** ds_select_dst_limit & co.: 1 when a destination was set, -1 when none could be. */
export function dsSelect(s: DsState, ctx: Context, setid: number, wanted: number, limit: number, op: SetOp): number {
  const st: RouteState = { records: [], limit: limitOf(limit), pushed: false };
  const rc = manage(s, ctx, setid, wanted, op, st);
  if (rc < 0) return rc;
  finish(s, ctx, st);
  return rc;
}

/**
 * ds_select_routes("1=4;2=8", mode, limit): each group with its algorithm in turn; the first
 * selection goes where `mode` says (d: $du, r: R-URI, x: XAVP only), every one to the XAVP.
 * 1 when any group gave a destination, else the last failure.
 */
export function dsSelectRoutes(s: DsState, ctx: Context, rules: string, mode: string, limit: number): number {
  const m = mode.charAt(0).toLowerCase();
  const op: SetOp | null = m === '0' || m === 'd' ? 'dst' : m === '1' || m === 'r' ? 'ruri' : m === '2' || m === 'x' ? 'xavp' : null;
  if (op === null) {
    s.host.complain('dispatcher: invalid routing mode parameter', { mode });
    return -1;
  }
  const groups: [number, number][] = [];
  for (const rule of rules.split(';')) {
    if (rule === '') continue;
    const r = /^(\d*)=(\d*)$/.exec(rule);
    if (r === null) {
      s.host.complain('dispatcher: invalid rules (grp=alg;grp=alg…)', { rules });
      return -1;
    }
    groups.push([Number(r[1] === '' ? 0 : r[1]), Number(r[2] === '' ? 0 : r[2])]);
  }
  const st: RouteState = { records: [], limit: limitOf(limit), pushed: false };
  let last = -1;
  let any = false;
  for (const [setid, alg] of groups) {
    last = manage(s, ctx, setid, alg, st.pushed ? 'xavp' : op, st);
    if (last > 0) any = true;
  }
  if (!any) return last;
  finish(s, ctx, st);
  return 1;
}

/** ds_update_dst: the current (next: after dropping the current) record of _dsdst_ as $du or R-URI host. */
export function dsUpdate(s: DsState, ctx: Context, next: boolean, op: SetOp): number {
  if (next && (!s.c.failover || s.c.xavpDst === '')) {
    s.host.complain('dispatcher: failover support disabled (flags without 2)', {}, 'warn');
    return -1;
  }
  const x = ctx.xavps;
  for (;;) {
    if (x.record(s.c.xavpDst, 0) === null) return -1;
    if (next) {
      x.shift(s.c.xavpDst);
      if (x.record(s.c.xavpDst, 0) === null) return -1;
    }
    const uri = x.field(s.c.xavpDst, 0, 'uri');
    if (typeof uri !== 'string' || !push(ctx, uri, op)) return -1;
    const dstid = x.field(s.c.xavpDst, 0, 'dstid');
    if (!next || typeof dstid !== 'string') return 1;
    // algorithm 10: the call's load moves to the next destination; one gone meanwhile is skipped
    const r = s.calls === null || ctx.msg === null ? -1 : s.calls.replace(ctx.msg.callId, dstid);
    if (r === 0) return 1;
    if (r !== -2) return -1;
  }
}

/** ds_load_update: a BYE or CANCEL ends the call's load; a 2xx to the INVITE confirms it. */
export function dsLoadUpdate(s: DsState, ctx: Context): number {
  const msg = ctx.msg;
  if (msg === null) return -1;
  if (msg.isRequest) {
    if (msg.method === 'BYE' || msg.method === 'CANCEL') s.calls?.remove(msg.callId);
    return 1;
  }
  if (msg.cseq.method === 'INVITE' && msg.status >= 200 && msg.status < 300) s.calls?.confirm(msg.callId);
  return 1;
}

/** ds_load_unset: the call no longer counts (an INVITE only when its selection counted it). */
export function dsLoadUnset(s: DsState, ctx: Context): number {
  const msg = ctx.msg;
  if (s.c.xavpDst === '' || msg === null) return 1;
  if (msg.isRequest && msg.method === 'INVITE' && typeof ctx.xavps.field(s.c.xavpDst, 0, 'dstid') !== 'string') return 1;
  return s.calls?.remove(msg.callId) === true ? 1 : -1;
}

/** ds_mark_dst: the state of the destination last used (the first _dsdst_ record). */
export function dsMark(s: DsState, ctx: Context, state: number | null): number {
  if (!s.c.failover || s.c.xavpDst === '') {
    s.host.complain('dispatcher: failover support disabled (flags without 2)', {}, 'warn');
    return -1;
  }
  const st = state ?? (DS_INACTIVE | (s.c.probingMode === 1 ? DS_PROBING : 0));
  const grp = ctx.xavps.field(s.c.xavpDst, 0, 'grp');
  const uri = ctx.xavps.field(s.c.xavpDst, 0, 'uri');
  if (typeof grp !== 'number' || typeof uri !== 'string' || s.store === null) return -1;
  return s.store.updateState(grp, uri, st) ? 1 : -1;
}

const MATCH_NOPORT = 1;
export const MATCH_NOPROTO = 2;
const MATCH_ACTIVE = 4;

function matches(d: Destination, ip: string, port: number, proto: string, mode: number): boolean {
  if (d.ip === null || d.ip !== ip) return false;
  if ((mode & MATCH_NOPORT) === 0 && d.port !== 0 && d.port !== port) return false;
  if ((mode & MATCH_NOPROTO) === 0 && d.proto !== proto) return false;
  return (mode & MATCH_ACTIVE) === 0 || !skipped(d.flags);
}

function setPv(s: DsState, ctx: Context, name: string, v: Xval): void {
  if (name === '') return;
  pv(s, name)?.set?.(ctx, v);
}

/** ds_is_addr_from_list: the source (or `uri`'s host, port and transport) is a destination of the group (-1: any group). */
export function dsIsFrom(s: DsState, ctx: Context, group: number, mode: number, uri: string): number {
  if (s.store === null) return -1;
  const src = sourceIp(ctx.src.ip);
  let ip = src === null ? '' : ipText(src);
  let port = ctx.src.port;
  let proto: string = ctx.src.proto;
  if (uri !== '') {
    const u = parseUri(uri);
    const host = u === null ? null : canonicalIp(u.host.replace(/^\[|\]$/g, ''));
    if (u === null || host === null) {
      // a host name would need a DNS answer in the middle of a script call
      s.host.complain('dispatcher: ds_is_from_list needs an IP address in the URI here', { uri });
      return -1;
    }
    ip = host;
    port = u.port;
    const t = (u.params.get('transport') ?? '').toLowerCase();
    proto = t === '' ? 'none' : t;
  }
  const sets = group === -1 ? s.store.all() : [s.store.get(group)].filter((x) => x !== undefined);
  for (const set of sets) {
    for (const d of set.dests) {
      if (!matches(d, ip, port, proto, mode)) continue;
      if (group === -1) setPv(s, ctx, s.c.setidPv, set.id);
      if (d.attrs.body !== '') setPv(s, ctx, s.c.attrsPv, d.attrs.body);
      return 1;
    }
  }
  return -1;
}

/** ds_is_active_uri: an active destination in the group (with exactly this URI when given). */
export function dsIsActive(s: DsState, group: number, uri: string): number {
  const set = s.store?.get(group);
  if (set === undefined) return -1;
  return set.dests.some((d) => !skipped(d.flags) && (uri === '' || d.uri === uri)) ? 1 : -1;
}
