/**
 * KSR.dispatcher: Kamailio's dispatcher — destination sets from a list file or the
 * `dispatcher` table (host/dispatcher), kept in memory; selection by the hash, round robin,
 * random, priority and weight algorithms; failover through the `_dsdst_` XAVP; OPTIONS
 * keepalives that mark destinations inactive and back; the dispatcher.* RPC commands.
 * The sets are loaded at start when the config has a `modules.dispatcher` section (Kamailio:
 * loadmodule "dispatcher.so"). docs/dispatcher.md.
 */
import { lookup } from 'node:dns/promises';
import { z } from 'zod';
import { moduleDbUrlParam } from '../host/db/config.js';
import { CallLoad } from '../host/dispatcher/call-load.js';
import { canonicalIp, DestinationError } from '../host/dispatcher/destination.js';
import { Prober, replyCodes } from '../host/dispatcher/prober.js';
import { ListFileError, prepareDispatcherTable, readDispatcherRows, readListFile, type DsColumns } from '../host/dispatcher/sources.js';
import { DsStore, parseMarkState, ReloadRefused } from '../host/dispatcher/store.js';
import { KemiError } from '../host/errors.js';
import { Context } from '../host/kemi/context.js';
import { defineModule, fn, type ModuleHost } from '../host/kemi/types.js';
import { dsIsActive, dsIsFrom, dsLoadUnset, dsLoadUpdate, dsMark, dsSelect, dsSelectRoutes, dsUpdate, MATCH_NOPROTO, type DsState } from './dispatcher-route.js';
import { rpcAdd, rpcHash, rpcList, rpcPingActive, rpcReload, rpcRemove, rpcSetState, type DsRpcState } from './dispatcher-rpc.js';

const sqlName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]{0,63}$/, { message: 'expected an SQL name: letters, digits and _' });
const pvName = z.string().regex(/^(\$[A-Za-z_]\w*(\([^()]*\))?)?$/, { message: 'expected a pseudo-variable, e.g. $var(setid)' });

const params = z
  .object({
    list_file: z.string().min(1).optional()
      .describe('read the sets from this file (Kamailio\'s format: "setid uri [flags [priority [attrs]]]" per line, # comments); relative to the config file\'s directory. Without it the sets come from the dispatcher table of db_url'),
    db_url: moduleDbUrlParam,
    table_name: sqlName.default('dispatcher').describe('the table with the destinations'),
    setid_col: sqlName.default('setid').describe('its column with the set id'),
    destination_col: sqlName.default('destination').describe('its column with the SIP URI'),
    flags_col: sqlName.default('flags').describe('its column with the state flags (1 inactive, 2 trying, 4 disabled, 8 probing, 16 no DNS)'),
    priority_col: sqlName.default('priority').describe('its column with the priority (higher first)'),
    attrs_col: sqlName.default('attrs').describe('its column with the attributes (name=value;…)'),
    force_dst: z.number().int().min(0).max(1).default(1).describe('1: ds_select_dst replaces a $du already set; 0: it fails (-1) then'),
    flags: z.number().int().min(0).max(3).default(0).describe('bit 1: hash only the URI user; bit 2: failover — keep the other destinations in the xavp_dst XAVP for ds_next_dst/ds_next_domain'),
    use_default: z.number().int().min(0).max(1).default(0).describe('1: the last destination of a set is only used when no other is active (the default route)'),
    xavp_dst: z.string().regex(/^\w*$/).default('_dsdst_').describe('the XAVP with the failover list (fields uri, grp, attrs, dstid)'),
    xavp_dst_mode: z.number().int().min(0).default(0).describe('bit 1: leave attrs out of the xavp_dst records'),
    xavp_ctx: z.string().regex(/^\w*$/).default('_dsctx_').describe('the XAVP with the selection context (field cnt: destinations selected)'),
    xavp_ctx_mode: z.number().int().min(0).default(0).describe('bit 1: no cnt field'),
    hash_pvar: z.string().default('').describe('the text with pseudo-variables that algorithm 7 hashes, e.g. "$fU@$ci"'),
    setid_pvname: pvName.default('').describe('the PV that gets the matching set id from ds_is_from_list() over every set'),
    attrs_pvname: pvName.default('').describe('the PV that gets the matching destination\'s attrs from ds_is_from_list()'),
    ds_ping_method: z.string().regex(/^[A-Za-z]+$/).default('OPTIONS').describe('the method of keepalive requests'),
    ds_ping_from: z.string().default('sip:dispatcher@localhost').describe('the From URI of keepalive requests (a destination\'s ping_from attribute overrides it)'),
    ds_ping_interval: z.number().int().min(0).default(0).describe('seconds between keepalive rounds; 0: no keepalives'),
    ds_probing_threshold: z.number().int().min(1).default(1).describe('failed requests (trying state) before a destination becomes inactive'),
    ds_inactive_threshold: z.number().int().min(1).default(1).describe('successful keepalives before an inactive destination becomes active'),
    ds_ping_reply_codes: z.string().default('').describe('replies that count as up besides 2xx: "class=2;code=403;code=488"'),
    ds_probing_mode: z.number().int().min(0).max(3).default(0).describe('0: probe destinations flagged probing (cleared once up); 1: probe all; 2: probe only inactive probing ones; 3: probe those flagged probing, keeping the flag'),
    ds_attrs_none: z.number().int().min(0).max(1).default(0).describe('1: "none=yes" as the attrs of destinations without any'),
    ds_load_mode: z.number().int().min(0).max(1).default(0).describe('1: a bad destination fails the load; 0: it is skipped (logged)'),
    reload_delta: z.number().int().min(0).default(5).describe('seconds a reload must wait after the previous one (refused meanwhile); 0: no limit'),
    event_callback: z.string().default('').describe('the script function run with "dispatcher:dst-down" / "dispatcher:dst-up" when a destination becomes unusable or usable again'),
    ds_hash_size: z.number().int().min(0).max(30).default(0)
      .describe('above 0: algorithm 10 counts calls per destination by Call-ID (Kamailio: 2^size slots of its table; here only on/off, the table grows as needed)'),
    ds_hash_expire: z.number().int().min(1).default(7200).describe('seconds a confirmed call (2xx seen by ds_load_update) counts without a BYE'),
    ds_hash_initexpire: z.number().int().min(1).default(7200).describe('seconds an unconfirmed call counts'),
    ds_hash_check_interval: z.number().int().min(1).default(30).describe('seconds between sweeps of expired calls'),
    ds_timer_mode: z.number().int().min(0).max(1).default(0).describe('Kamailio: which timer process runs the keepalives; one event loop runs them here, so it changes nothing'),
  })
  .strict();

type Params = z.infer<typeof params>;

interface State extends DsState, DsRpcState {
  readonly prober: Prober | null;
  readonly sweeper: { timer: NodeJS.Timeout | null; every: number };
  readonly attrsNone: boolean;
  readonly ping: { active: boolean };
  readonly prepare: (() => Promise<void>) | null;
}

function columns(p: Params): DsColumns {
  return { table: p.table_name, setid: p.setid_col, destination: p.destination_col, flags: p.flags_col, priority: p.priority_col, attrs: p.attrs_col };
}

async function resolveHost(host: string): Promise<string | null> {
  try {
    return canonicalIp((await lookup(host)).address);
  } catch {
    return null;
  }
}

function fireEvent(host: ModuleHost, callback: string, uri: string, up: boolean): void {
  if (callback === '' || !host.script.has(callback)) return;
  const ev = up ? 'dispatcher:dst-up' : 'dispatcher:dst-down';
  host.log.info({ uri }, ev);
  host.script.run(callback, new Context('event', null, { proto: 'udp', ip: '', port: 0, localIp: '', localPort: 0 }), ev);
}

function init(host: ModuleHost, p: Params): State {
  const rand = Math.random;
  const cols = columns(p);
  const file = p.list_file;
  let store: DsStore | null = null;
  let prepare: (() => Promise<void>) | null = null;
  if (host.configured) {
    store = new DsStore({
      read: file === undefined ? async () => readDispatcherRows(await host.database(), cols) : () => readListFile(file),
      strict: p.ds_load_mode === 1,
      attrsNone: p.ds_attrs_none === 1,
      reloadDeltaS: p.reload_delta,
      rand,
      resolve: resolveHost,
      skippedRow: (row, why) => { host.log.warn({ set: row.setid, uri: row.uri, why }, 'dispatcher: destination skipped'); },
      probingThreshold: p.ds_probing_threshold,
      inactiveThreshold: p.ds_inactive_threshold,
      changed: (uri, up) => { fireEvent(host, p.event_callback, uri, up); },
    });
    prepare = file === undefined ? async () => { await prepareDispatcherTable(await host.database(), cols); } : null;
  }
  const pings = host.stat('pings_sent');
  const ping = { active: true };
  const prober = store === null || p.ds_ping_interval <= 0 ? null : new Prober(store, {
    intervalS: p.ds_ping_interval,
    mode: p.ds_probing_mode,
    method: p.ds_ping_method.toUpperCase(),
    from: p.ds_ping_from,
    accepts: replyCodes(p.ds_ping_reply_codes),
    timeoutMs: Math.min(p.ds_ping_interval * 1000, 5000),
    guard: (f) => (...a) => { host.boundary.run('module-timer', () => { f(...a); }); },
    note: (text, fields) => { host.complain(text, fields, 'warn'); },
    sent: pings,
    switch: ping,
  });
  const calls = store === null || p.ds_hash_size === 0 ? null : new CallLoad(store, p.ds_hash_initexpire, p.ds_hash_expire);
  return {
    host, store, rand, prober, ping, prepare, pvCache: new Map(), calls, sweeper: { timer: null, every: p.ds_hash_check_interval }, attrsNone: p.ds_attrs_none === 1,
    reloads: host.stat('reloads'), failures: host.stat('reload_failures'),
    c: {
      forceDst: p.force_dst === 1, hashUserOnly: (p.flags & 1) !== 0, failover: (p.flags & 2) !== 0, useDefault: p.use_default === 1,
      xavpDst: p.xavp_dst, xavpDstMode: p.xavp_dst_mode, xavpCtx: p.xavp_ctx, xavpCtxMode: p.xavp_ctx_mode,
      hashPvar: p.hash_pvar, setidPv: p.setid_pvname, attrsPv: p.attrs_pvname, probingMode: p.ds_probing_mode,
    },
  };
}

async function start(s: State): Promise<void> {
  if (s.store === null) return;
  try {
    await s.prepare?.();
    const rows = await s.store.load();
    s.host.log.info({ rows, sets: s.store.all().length }, 'dispatcher: destination sets loaded');
  } catch (e) {
    if (e instanceof ListFileError || e instanceof DestinationError) throw new KemiError('KEMI_ERR_CONFIG', `dispatcher: ${e.message}`);
    throw e;
  }
  s.prober?.start();
  const calls = s.calls;
  if (calls !== null) s.sweeper.timer = s.host.boundary.interval('module-timer', s.sweeper.every * 1000, () => { calls.sweep(); });
}

/** ds_reload from a script: the reload starts now and the new sets serve once read (the call cannot wait for it). */
function scriptReload(s: State): number {
  if (s.store === null) return -1;
  let p: Promise<number>;
  try {
    p = s.store.reload(Math.floor(Date.now() / 1000));
  } catch (e) {
    if (!(e instanceof ReloadRefused)) throw e;
    s.host.complain('dispatcher: ongoing reload (reload_delta)', {});
    return -1;
  }
  s.host.boundary.then(p, 'module-promise', () => { s.reloads.value++; }, (e: unknown) => {
    s.failures.value++;
    s.host.complain('dispatcher: reload failed; the sets in use stay', { err: e instanceof Error ? e.message : String(e) }, 'error');
  });
  return 1;
}

export default defineModule({
  name: 'dispatcher',
  doc: 'Load balancing and failover over destination sets (docs/dispatcher.md).',
  params,
  stats: ['reloads', 'reload_failures', 'pings_sent'],
  init,
  start,
  close: (s: State) => {
    s.prober?.close();
    if (s.sweeper.timer !== null) clearInterval(s.sweeper.timer);
  },
  functions: {
    ds_select_dst: fn(['int', 'int'], 'int', (s: State, ctx, set, alg) => dsSelect(s, ctx, set, alg, 0, 'dst'),
      'Select a destination of the set with the algorithm and set it as $du; with flags bit 2 the others go to the xavp_dst XAVP for ds_next_dst. 1, or -1 when none is usable.'),
    ds_select_dst_limit: fn(['int', 'int', 'int'], 'int', (s: State, ctx, set, alg, limit) => dsSelect(s, ctx, set, alg, limit, 'dst'),
      'ds_select_dst keeping at most `limit` destinations (the selected one included) in the XAVP; 0 = no limit.'),
    ds_select_domain: fn(['int', 'int'], 'int', (s: State, ctx, set, alg) => dsSelect(s, ctx, set, alg, 0, 'ruri'),
      'Select as ds_select_dst, but rewrite the host part (host, port, parameters) of the R-URI.'),
    ds_select_domain_limit: fn(['int', 'int', 'int'], 'int', (s: State, ctx, set, alg, limit) => dsSelect(s, ctx, set, alg, limit, 'ruri'),
      'ds_select_domain with a limit on the XAVP list.'),
    ds_select: fn(['int', 'int'], 'int', (s: State, ctx, set, alg) => dsSelect(s, ctx, set, alg, 0, 'xavp'),
      'Select into the XAVP only; neither $du nor the R-URI changes (then ds_set_dst, ds_next_dst…).'),
    ds_select_limit: fn(['int', 'int', 'int'], 'int', (s: State, ctx, set, alg, limit) => dsSelect(s, ctx, set, alg, limit, 'xavp'),
      'ds_select with a limit on the XAVP list.'),
    ds_select_routes: fn(['str', 'str'], 'int', (s: State, ctx, rules, mode) => dsSelectRoutes(s, ctx, rules, mode, 0),
      'Select from several groups, "1=4;2=8" (group=algorithm;…): the first destination goes where mode says (d: $du, r: R-URI host part, x: the XAVP only), all of them to the XAVP in order. 1 when a group gave one.'),
    ds_select_routes_limit: fn(['str', 'str', 'int'], 'int', (s: State, ctx, rules, mode, limit) => dsSelectRoutes(s, ctx, rules, mode, limit),
      'ds_select_routes keeping at most `limit` destinations in the XAVP over all groups; 0 = no limit.'),
    ds_next_dst: fn([], 'int', (s: State, ctx) => dsUpdate(s, ctx, true, 'dst'),
      'Drop the current destination from the XAVP and set the next one as $du: 1, or -1 when none is left.'),
    ds_next_domain: fn([], 'int', (s: State, ctx) => dsUpdate(s, ctx, true, 'ruri'),
      'Drop the current destination from the XAVP and put the next one in the R-URI\'s host part.'),
    ds_set_dst: fn([], 'int', (s: State, ctx) => dsUpdate(s, ctx, false, 'dst'),
      'Set the current destination of the XAVP as $du.'),
    ds_set_domain: fn([], 'int', (s: State, ctx) => dsUpdate(s, ctx, false, 'ruri'),
      'Put the current destination of the XAVP in the R-URI\'s host part.'),
    ds_mark_dst: fn([], 'int', (s: State, ctx) => dsMark(s, ctx, null),
      'Mark the destination last used inactive (and probing with ds_probing_mode 1).'),
    ds_mark_dst_state: fn(['str'], 'int', (s: State, ctx, st) => {
      if (st === '') return dsMark(s, ctx, null);
      const v = parseMarkState(st);
      if (v < 0) {
        s.host.complain('dispatcher: bad state for ds_mark_dst (letters a, i, t, d, p)', { state: st });
        return -1;
      }
      return dsMark(s, ctx, v);
    }, 'Mark the destination last used: "a" active, "i" inactive, "t" trying (counts toward ds_probing_threshold), "d" disabled, with "p" for probing.'),
    ds_is_from_list: fn(['int'], 'int', (s: State, ctx, g) => dsIsFrom(s, ctx, g, MATCH_NOPROTO, ''),
      'The source IP and port are a destination of the group (-1: any group, setting setid_pvname): 1, else -1.'),
    ds_is_from_lists: fn([], 'int', (s: State, ctx) => dsIsFrom(s, ctx, -1, MATCH_NOPROTO, ''),
      'The source IP and port are a destination of any group: 1, else -1.'),
    ds_is_from_list_mode: fn(['int', 'int'], 'int', (s: State, ctx, g, mode) => dsIsFrom(s, ctx, g, mode, ''),
      'ds_is_from_list with a mode: bit 1 ignore the port, bit 2 ignore the transport, bit 4 only active destinations.'),
    ds_is_from_list_uri: fn(['int', 'int', 'str'], 'int', (s: State, ctx, g, mode, uri) => dsIsFrom(s, ctx, g, mode, uri),
      'The URI\'s address, port and transport (instead of the source) match a destination of the group.'),
    ds_is_active: fn(['int'], 'int', (s: State, _ctx, g) => dsIsActive(s, g, ''),
      'The group has an active destination: 1, else -1.'),
    ds_is_active_uri: fn(['int', 'str'], 'int', (s: State, _ctx, g, uri) => dsIsActive(s, g, uri),
      'The destination with this URI in the group is active: 1, else -1.'),
    ds_list_exists: fn(['int'], 'int', (s: State, _ctx, g) => (s.store?.get(g) === undefined ? -1 : 1),
      'The group exists: 1, else -1.'),
    ds_load_update: fn([], 'int', (s: State, ctx) => dsLoadUpdate(s, ctx),
      'Algorithm 10: a BYE or CANCEL ends the call\'s load on its destination; a 2xx reply to the INVITE (in a reply route) confirms it (it then counts for ds_hash_expire s).'),
    ds_load_unset: fn([], 'int', (s: State, ctx) => dsLoadUnset(s, ctx),
      'Algorithm 10: the call no longer counts on its destination (a failed INVITE, say): 1, or -1 when it was not counted.'),
    ds_reload: fn([], 'int', (s: State) => scriptReload(s),
      'Re-read the list file or table: 1 when the reload started (the new sets serve once read), -1 within reload_delta of the previous one.'),
  },
  rpc: {
    'dispatcher.list': { doc: 'The sets with their destinations: URI, FLAGS (A/I/T/D then P/X), PRIORITY, ATTRS; "short" leaves ATTRS out', run: (s: State, p) => rpcList(s, p) },
    'dispatcher.reload': { doc: 'Re-read the list file or table (refused within reload_delta s of the previous reload)', run: (s: State, p) => rpcReload(s, p) },
    'dispatcher.set_state': { doc: 'Set a destination\'s state: state (a, i, t, d; "p" after it for probing), group, address or "all"', run: (s: State, p) => rpcSetState(s, p) },
    'dispatcher.set_duid_state': { doc: 'dispatcher.set_state by the duid attribute: state, group, duid or "all"', run: (s: State, p) => rpcSetState(s, p, true) },
    'dispatcher.add': { doc: 'Add a destination in memory until the next reload: group, address[, flags[, priority[, attrs]]]', run: (s: State, p) => rpcAdd(s, p) },
    'dispatcher.remove': { doc: 'Remove every destination of the group with this address, in memory until the next reload: group, address', run: (s: State, p) => rpcRemove(s, p) },
    'dispatcher.hash': { doc: 'Kamailio\'s dispatcher hash of val1 (and val2): {hashid, slot}; slot = hashid % nslots when nslots > 0', run: (_s: State, p) => rpcHash(p) },
    'dispatcher.ping_active': { doc: 'Keepalives on (1) or off (0); without a parameter the current setting', run: (s: State, p) => rpcPingActive(s, p) },
  },
});
