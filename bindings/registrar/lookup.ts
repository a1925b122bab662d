/**
 * lookup() and friends, after Kamailio's registrar lookup.c. lookup puts the AoR's best contact
 * in the R-URI (the record's order: highest q, then the one saved first), sets $du to the first
 * Path hop or else to the contact's received address (a NATed contact), ORs the contact's
 * branch flags into the R-URI's, and — with append_branches — puts the other valid contacts in
 * the destination set, in order, so t_relay forks to all of them in parallel.
 *
 * Return codes: 1 found; -1 no (valid) contact, or an unknown table; -2 contacts exist but none
 * accepts the method (method_filtering, a request without To-tag); -3 the URI has no AoR.
 */
import type { Context } from '../../host/kemi/context.js';
import type { DsetBranch } from '../../host/sip/dset.js';
import { parseNameAddr } from '../../host/sip/name-addr.js';
import { splitElements } from '../../host/sip/split.js';
import { parseUri } from '../../host/sip/uri.js';
import { methodBit, type UlContact } from '../../host/usrloc/contact.js';
import type { LocationTable } from '../../host/usrloc/location-table.js';
import { nowSeconds, type UsrlocStore } from '../../host/usrloc/store.js';
import { extractAor } from './aor.js';
import { tableFor, type RegState } from './state.js';

/** The R-URI now, or '' for a reply (no R-URI). */
function ruriOf(ctx: Context): string {
  return ctx.msg?.isRequest === true ? ctx.ruri : '';
}

/** The first Path hop's URI (where the request goes), with path_check_local skipping ourselves. */
function pathDestination(s: RegState, path: string | null): { dst: string | null; path: string | null } {
  if (path === null || path === '') return { dst: null, path: null };
  let hops = splitElements(path);
  if (s.p.path_check_local === 1) {
    const first = parseNameAddr(hops[0] ?? '');
    const u = first === null ? null : parseUri(first.uri);
    if (u !== null && s.host.myself.isMyself(u.host, u.port)) hops = hops.slice(1);
  }
  if (hops.length === 0) return { dst: null, path };
  const first = parseNameAddr(hops[0] ?? '');
  return { dst: first?.uri ?? null, path: hops.join(',') };
}

function allowed(s: RegState, ctx: Context, c: UlContact): boolean {
  const msg = ctx.msg;
  if (s.p.method_filtering === 0 || msg === null) return true;
  if (msg.to.tag !== '') return true;
  return (methodBit(msg.method) & c.methods) !== 0;
}

function usable(s: RegState, c: UlContact, now: number): boolean {
  return c.valid(now) || s.p.use_expired_contacts === 1;
}

/**
 * lookup (toDset false) and lookup_to_dset (true: the R-URI stays, every contact becomes a
 * branch).
 */
export function lookup(s: RegState, ctx: Context, tableName: string, uri: string | null, toDset: boolean): number {
  const t = tableFor(s, toDset ? 'lookup_to_dset' : 'lookup', tableName);
  if (t === null) return -1;
  return lookupIn(s, ctx, t.store, t.table, uri ?? ruriOf(ctx), toDset);
}

function lookupIn(s: RegState, ctx: Context, store: UsrlocStore, table: LocationTable, uri: string, toDset: boolean): number {
  const a = extractAor(uri, s.aorOptions);
  if ('error' in a) {
    s.host.complain('lookup: cannot take an AoR from the URI', { uri });
    return -3;
  }
  const rec = store.record(table, a.aor);
  if (rec === undefined) return -1;
  const now = nowSeconds();
  let ret = -1;
  let i = 0;
  const list = rec.contacts;
  for (; i < list.length; i++) {
    const c = list[i] as UlContact;
    if (!usable(s, c, now)) continue;
    if (allowed(s, ctx, c)) break;
    ret = -2;
  }
  if (i >= list.length) return ret;
  const d = ctx.dset;
  if (!toDset) {
    const best = list[i] as UlContact;
    ctx.newRuri = best.contact;
    d.resetRuriAttributes();
    const p = pathDestination(s, best.path);
    ctx.dstUri = p.dst ?? best.received;
    d.ruriPath = p.dst === null ? null : p.path;
    d.ruriQ = best.q;
    d.ruriSocket = best.socket;
    ctx.bflags = (ctx.bflags | best.cflags) >>> 0;
    i++;
  }
  if (s.p.append_branches === 0 && !toDset) return 1;
  for (; i < list.length; i++) {
    const c = list[i] as UlContact;
    if (!usable(s, c, now) || !allowed(s, ctx, c)) continue;
    const p = pathDestination(s, c.path);
    const b: DsetBranch = { uri: c.contact, dstUri: p.dst ?? c.received, path: p.dst === null ? null : p.path, q: c.q, bflags: c.cflags, socket: c.socket };
    if (!d.append(b)) {
      s.host.complain('lookup: too many branches; the other contacts are left out', { aor: a.aor });
      break;
    }
  }
  return 1;
}

/**
 * lookup_branches: lookup on the R-URI and on every appended branch that has only a URI
 * (no $du, Path, socket or flags), each such branch replaced by its best contact.
 */
export function lookupBranches(s: RegState, ctx: Context, tableName: string): number {
  const t = tableFor(s, 'lookup_branches', tableName);
  if (t === null) return -1;
  const d = ctx.dset;
  const start = [...d.branches];
  let ret = lookupIn(s, ctx, t.store, t.table, ruriOf(ctx), false);
  if (start.length === 0) return ret;
  let found = ret > 0;
  const saved = { ruri: ctx.newRuri, dst: ctx.dstUri, bflags: ctx.bflags, q: d.ruriQ, path: d.ruriPath, socket: d.ruriSocket };
  start.forEach((b, i) => {
    if (b.dstUri !== null || b.path !== null || b.socket !== null || b.bflags !== 0) return;
    ctx.dstUri = null;
    ctx.bflags = 0;
    d.resetRuriAttributes();
    const r = lookupIn(s, ctx, t.store, t.table, b.uri, false);
    if (r > 0) {
      found = true;
      d.replace(i, { uri: ctx.ruri, dstUri: ctx.dstUri, path: d.ruriPath, q: d.ruriQ, bflags: ctx.bflags, socket: d.ruriSocket });
    }
    ret = r;
  });
  ctx.newRuri = saved.ruri;
  ctx.dstUri = saved.dst;
  ctx.bflags = saved.bflags;
  d.ruriQ = saved.q;
  d.ruriPath = saved.path;
  d.ruriSocket = saved.socket;
  return found ? 1 : ret;
}

/** registered*: 1 when the AoR (R-URI, or To for a reply, or `uri`) has a valid contact. */
export function registered(s: RegState, ctx: Context, tableName: string, uri: string | null): number {
  const t = tableFor(s, 'registered', tableName);
  const msg = ctx.msg;
  if (t === null || msg === null) return -1;
  const a = extractAor(uri ?? (msg.isRequest ? ctx.ruri : msg.to.uri), s.aorOptions);
  if ('error' in a) return -1;
  const now = nowSeconds();
  const rec = t.store.record(t.table, a.aor);
  return rec?.contacts.some((c) => usable(s, c, now)) === true ? 1 : -1;
}

/**
 * unregister: every contact of the AoR (1), or the one with this ruid (1; -3 when the AoR has
 * none such). -1: no table or no AoR in the URI.
 */
export function unregister(s: RegState, ctx: Context, tableName: string, uri: string, ruid: string | null): number {
  if (uri === '') {
    s.host.complain('unregister: the URI is empty');
    return -1;
  }
  const t = tableFor(s, 'unregister', tableName);
  if (t === null) return -1;
  const a = extractAor(uri, s.aorOptions);
  if ('error' in a) {
    s.host.complain('unregister: cannot take an AoR from the URI', { uri });
    return -1;
  }
  if (ruid === null) {
    t.store.removeRecord(t.table, a.aor);
    return 1;
  }
  const c = t.store.record(t.table, a.aor)?.byRuid(ruid);
  if (c === undefined) return -3;
  t.store.remove(t.table, c);
  return 1;
}
