/**
 * KSR.permissions: Kamailio's address permissions (allow_address and its variants) from the
 * `address` table, kept in memory (host/permissions) and reloaded by `permissions.addressReload`.
 * The table is loaded at start when the config has a `modules.permissions` section (Kamailio:
 * loadmodule "permissions.so"); without one every call answers -1, as Kamailio's do without a
 * db_url. docs/permissions.md.
 */
import { z } from 'zod';
import { moduleDbUrlParam } from '../host/db/config.js';
import { KemiError } from '../host/errors.js';
import type { Context } from '../host/kemi/context.js';
import type { ResolvedPv } from '../host/kemi/pv.js';
import { defineModule, fn, type ModuleHost } from '../host/kemi/types.js';
import { sourceIp, strtoipx } from '../host/net/kamailio-ip.js';
import { AddressFileError, readAddressFile } from '../host/permissions/address-file.js';
import { AddressStore, prepareAddressTable, readAddressRows, ReloadRefused, type AddressColumns } from '../host/permissions/address-store.js';
import { AddressRowError, type AddressTable, type Entry } from '../host/permissions/address-table.js';
import { RpcError } from '../host/rpc/jsonrpc.js';

const name = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]{0,63}$/, { message: 'expected an SQL name: letters, digits and _' });

const params = z
  .object({
    db_url: moduleDbUrlParam,
    db_mode: z.number().int().min(0).max(1).default(0)
      .describe('Kamailio: caching of the trusted table for allow_trusted (0 = query per call, 1 = cached). allow_trusted is not here, so it changes nothing; the address table is always cached, in Kamailio too'),
    address_table: name.default('address').describe('the table holding the addresses, subnets and DNS names of allow_address()'),
    grp_col: name.default('grp').describe('its column with the group (1 or more)'),
    ip_addr_col: name.default('ip_addr').describe('its column with the IP address or DNS name'),
    mask_col: name.default('mask').describe('its column with the prefix length (IPv4 0..32, IPv6 0..128; 0 = the whole address)'),
    port_col: name.default('port').describe('its column with the port (0 = any port)'),
    tag_col: name.default('tag').describe('its column with the tag set in peer_tag_avp on a match (NULL = none)'),
    address_file: z.string().min(1).optional()
      .describe('read the records from this file instead of the table (Kamailio\'s format: "group address [mask [port [tag]]]" per line, # comments); relative to the config file\'s directory; re-read by permissions.addressReload'),
    peer_tag_avp: z.string().regex(/^\$avp\([^()]+\)$/, { message: 'expected an AVP, e.g. $avp(peer_tag)' }).optional()
      .describe('the AVP that receives the tag of the matching row (a value added on top, as Kamailio adds it); unset: no tag is set'),
    peer_tag_mode: z.number().int().min(0).max(1).default(0).describe('Kamailio: for allow_trusted only; changes nothing here'),
    max_subnets: z.number().int().min(0).max(10_000_000).default(512)
      .describe('subnet rows kept at most; those after are left out of the table (logged and counted in subnets_dropped), as in Kamailio'),
    load_backends: z.number().int().min(1).max(0xffff).default(0xffff)
      .describe('Kamailio\'s bit set of what to load: 1 = the address table (the only one here); without bit 1 nothing is loaded and every call answers -1'),
    reload_delta: z.number().int().min(0).default(5)
      .describe('seconds an RPC reload must wait after the previous one (refused meanwhile with "ongoing reload"); 0 = no limit'),
  })
  .strict();

type Params = z.infer<typeof params>;

interface PermState {
  readonly host: ModuleHost;
  readonly store: AddressStore | null;
  readonly tagAvp: string | null;
  /** the peer_tag_avp PV, resolved at the first match (every module's PVs exist by then) */
  tagPv: ResolvedPv | null;
  readonly prepare: (() => Promise<void>) | null;
  readonly reloads: { value: number };
  readonly failures: { value: number };
  readonly rows: { value: number };
  readonly dropped: { value: number };
}

function columns(p: Params): AddressColumns {
  return { table: p.address_table, grp: p.grp_col, ip_addr: p.ip_addr_col, mask: p.mask_col, port: p.port_col, tag: p.tag_col };
}

function init(host: ModuleHost, p: Params): PermState {
  const enabled = host.configured && (p.load_backends & 1) !== 0;
  const cols = columns(p);
  let store: AddressStore | null = null;
  let prepare: (() => Promise<void>) | null = null;
  if (enabled) {
    const file = p.address_file;
    store = new AddressStore({
      read: file === undefined ? async () => readAddressRows(await host.database(), cols) : () => readAddressFile(file),
      maxSubnets: p.max_subnets,
      reloadDeltaS: p.reload_delta,
    });
    prepare = file === undefined ? async () => { await prepareAddressTable(await host.database(), cols); } : null;
  }
  const tagAvp = p.peer_tag_avp ?? null;
  return {
    host, store, tagAvp, tagPv: null, prepare,
    reloads: host.stat('address_reloads'), failures: host.stat('address_reload_failures'),
    rows: host.gauge('address_rows'), dropped: host.gauge('subnets_dropped'),
  };
}

/** What went wrong with a load, as one line (the row, the file, or the database's error). */
function why(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

function loaded(s: PermState, t: AddressTable): void {
  s.rows.value = t.rows;
  s.dropped.value = t.droppedSubnets;
  if (t.droppedSubnets > 0) {
    s.host.log.warn({ dropped: t.droppedSubnets, max_subnets: t.subnetCount }, 'permissions: subnet table is full (max_subnets): rows left out');
  }
}

async function start(s: PermState): Promise<void> {
  if (s.store === null) return;
  try {
    await s.prepare?.();
    const t = await s.store.load();
    loaded(s, t);
    s.host.log.info({ rows: t.rows, subnets: t.subnetCount }, 'permissions: address table loaded');
  } catch (e) {
    if (e instanceof AddressRowError) throw new KemiError('KEMI_ERR_DB_DATA', `permissions: ${e.message} (Kamailio refuses to start on it too)`);
    if (e instanceof AddressFileError) throw new KemiError('KEMI_ERR_CONFIG', `permissions: ${e.message}`);
    throw e;
  }
}

function table(s: PermState): AddressTable | null {
  const t = s.store?.current ?? null;
  if (t === null) s.host.complain('permissions: no address table (add a modules.permissions section to load it)', {}, 'warn');
  return t;
}

function setTag(s: PermState, ctx: Context, e: Entry): void {
  if (s.tagAvp === null || e.tag === null) return;
  s.tagPv ??= s.host.pvs.resolve(s.tagAvp);
  s.tagPv?.set?.(ctx, e.tag);
}

/** allow_address and allow_address_group: an IP goes to the exact and subnet tables, anything else to the DNS names. */
function matchText(s: PermState, ctx: Context, text: string, port: number, grp: number | null): number {
  const t = table(s);
  if (t === null) return -1;
  const ip = strtoipx(text);
  const e = ip === null ? t.matchDomain(text, port, grp) : t.matchIp(ip, port, grp);
  if (e === null) return -1;
  // Kamailio's group lookup among DNS names does not set the tag; every other match does
  if (ip !== null || grp !== null) setTag(s, ctx, e);
  return grp === null ? e.grp : 1;
}

function matchSource(s: PermState, ctx: Context, grp: number | null): number {
  const t = table(s);
  if (t === null) return -1;
  const ip = sourceIp(ctx.src.ip);
  const e = ip === null ? null : t.matchIp(ip, ctx.src.port, grp);
  if (e === null) return -1;
  setTag(s, ctx, e);
  return grp === null ? e.grp : 1;
}

function dump<T>(s: PermState, what: (t: AddressTable) => T): T {
  const t = s.store?.current ?? null;
  if (t === null) throw new RpcError(500, 'No address table');
  return what(t);
}

async function reload(s: PermState): Promise<string> {
  if (s.store === null) throw new RpcError(500, 'Reload failed.', { reason: 'the address table is not loaded here: no modules.permissions section, or load_backends without 1' });
  try {
    const t = await s.store.reload();
    s.reloads.value++;
    loaded(s, t);
    s.host.log.info({ rows: t.rows, subnets: t.subnetCount }, 'permissions: address table reloaded');
    return 'Reload OK';
  } catch (e) {
    if (e instanceof ReloadRefused) throw new RpcError(500, 'ongoing reload', { reason: 'reload_delta: the previous reload was too recent' });
    s.failures.value++;
    s.host.log.error({ err: why(e) }, 'permissions: address table reload failed; the table in use stays');
    throw new RpcError(500, 'Reload failed.', { reason: why(e) });
  }
}

const noParams = (method: string, p: readonly unknown[]): void => {
  if (p.length > 0) throw new RpcError(-32602, `${method} takes no parameters`);
};

export default defineModule({
  name: 'permissions',
  doc: 'IP address permissions: allow_address and its variants against the address table, kept in memory (docs/permissions.md).',
  params,
  stats: ['address_reloads', 'address_reload_failures', 'address_rows', 'subnets_dropped'],
  init,
  start,
  functions: {
    allow_source_address: fn(['int'], 'int', (s: PermState, ctx, grp) => matchSource(s, ctx, grp),
      'The source IP and port of the message are in the group (an exact address, a subnet; port 0 = any): 1, else -1. The matching row\'s tag goes to peer_tag_avp.'),
    allow_source_address_group: fn([], 'int', (s: PermState, ctx) => matchSource(s, ctx, null),
      'The group of the first row the source IP and port match (exact addresses first, then subnets by group), else -1.'),
    allow_address: fn(['int', 'str', 'int'], 'int', (s: PermState, ctx, grp, addr, port) => matchText(s, ctx, addr, port, grp),
      'The address (an IP, or a DNS name matched as written) and port are in the group: 1, else -1.'),
    allow_address_group: fn(['str', 'int'], 'int', (s: PermState, ctx, addr, port) => matchText(s, ctx, addr, port, null),
      'The group of the first row the address and port match, else -1.'),
  },
  rpc: {
    'permissions.addressReload': { doc: 'Re-read the address table (or address_file) into memory: "Reload OK"; refused within reload_delta s of the previous one', run: (s, p) => { noParams('permissions.addressReload', p); return reload(s); } },
    'permissions.addressDump': { doc: 'The exact addresses in memory: group, ip, port, tag', run: (s, p) => { noParams('permissions.addressDump', p); return dump(s, (t) => t.addressDump()); } },
    'permissions.subnetDump': { doc: 'The subnets in memory, by group: group, ip, mask, port, tag', run: (s, p) => { noParams('permissions.subnetDump', p); return dump(s, (t) => t.subnetDump()); } },
    'permissions.domainDump': { doc: 'The DNS names in memory: group, domain_name, port, tag', run: (s, p) => { noParams('permissions.domainDump', p); return dump(s, (t) => t.domainDump()); } },
  },
});
