/**
 * The permissions module's address store: the `address` table (or `address_file`) loaded into
 * memory as an AddressTable, at start and on `permissions.addressReload`, and answered from
 * memory by the script's calls (docs/store.md, the contract: load asynchronously, answer
 * synchronously). A load builds the new table beside the one in use and swaps it in only when
 * it is complete; a failed load leaves the old one serving.
 *
 * Reloads are serialised (one reads the table at a time; one asked for meanwhile runs after it,
 * so it reads the newest rows) and, as in Kamailio, an RPC reload within `reload_delta` seconds
 * of the previous one is refused.
 */
import type { Database } from '../db/database.js';
import { checkSchema, ensureSchema } from '../db/ensure-schema.js';
import { ADDRESS_TABLE } from '../db/schema/permissions.js';
import { KemiError } from '../errors.js';
import { AddressTable, type AddressRow } from './address-table.js';

/** The table and column names (module parameters address_table, grp_col…). */
export interface AddressColumns {
  readonly table: string;
  readonly grp: string;
  readonly ip_addr: string;
  readonly mask: string;
  readonly port: string;
  readonly tag: string;
}

export const DEFAULT_COLUMNS: AddressColumns = { table: 'address', grp: 'grp', ip_addr: 'ip_addr', mask: 'mask', port: 'port', tag: 'tag' };

function isDefault(c: AddressColumns): boolean {
  return (Object.keys(DEFAULT_COLUMNS) as (keyof AddressColumns)[]).every((k) => c[k] === DEFAULT_COLUMNS[k]);
}

/**
 * Make sure the table is there as Kamailio would check it. With Kamailio's names: created on
 * SQLite when missing (the embedded store just works), checked on a server. With names of the
 * operator's own: only the table_version in `version` is checked (Kamailio's check), nothing
 * is created.
 */
export async function prepareAddressTable(db: Database, c: AddressColumns): Promise<void> {
  if (isDefault(c)) {
    if (db.dialect === 'sqlite') await ensureSchema(db, [ADDRESS_TABLE]);
    else await checkSchema(db, [ADDRESS_TABLE]);
    return;
  }
  const rows = await db.query<{ v: unknown }>('SELECT table_version AS "v" FROM version WHERE table_name = ?', [c.table]);
  const v = rows[0]?.v;
  if (v === undefined || Number(v) !== ADDRESS_TABLE.version) {
    const got = v === undefined ? 'no row in version' : `table_version ${String(Number(v))}`;
    throw new KemiError('KEMI_ERR_DB_SCHEMA', `${db.url.redacted}: table ${c.table} has ${got}, the permissions module needs ${String(ADDRESS_TABLE.version)} (Kamailio 5.6's)`);
  }
}

/** Every row, in the order the database returns them (Kamailio asks for no order either). */
export async function readAddressRows(db: Database, c: AddressColumns): Promise<AddressRow[]> {
  const q = (name: string): string => `"${name}"`;
  const rows = await db.query(`SELECT ${q(c.grp)} AS "g", ${q(c.ip_addr)} AS "i", ${q(c.mask)} AS "m", ${q(c.port)} AS "p", ${q(c.tag)} AS "t" FROM ${q(c.table)}`);
  return rows.map((r) => ({ grp: r.g, ip: r.i, mask: r.m, port: r.p, tag: r.t }));
}

export interface AddressStoreOptions {
  /** where the rows come from: the database table or the address file */
  readonly read: () => Promise<AddressRow[]>;
  readonly maxSubnets: number;
  /** seconds between two RPC reloads (0 = no limit) */
  readonly reloadDeltaS: number;
  readonly now?: () => number;
}

/** An RPC reload refused because the previous one was less than reload_delta ago. */
export class ReloadRefused extends Error {}

export class AddressStore {
  private table: AddressTable | null = null;
  private lastRpcReload = -Infinity;
  private queue: Promise<unknown> = Promise.resolve();
  private readonly now: () => number;

  constructor(private readonly opts: AddressStoreOptions) {
    this.now = opts.now ?? Date.now;
  }

  /** The table in use; null before the first load succeeded (Kamailio: "No address table"). */
  get current(): AddressTable | null {
    return this.table;
  }

  /** Read and swap in a new table; rejects (leaving the old one) on a database or row error. */
  load(): Promise<AddressTable> {
    const run = this.queue.then(async () => {
      const next = new AddressTable(await this.opts.read(), this.opts.maxSubnets);
      this.table = next;
      return next;
    });
    this.queue = run.catch(() => undefined);
    return run;
  }

  /** `permissions.addressReload`: load(), unless the previous RPC reload was less than reload_delta ago. */
  reload(): Promise<AddressTable> {
    const t = this.now();
    if (this.opts.reloadDeltaS > 0 && t - this.lastRpcReload < this.opts.reloadDeltaS * 1000) {
      return Promise.reject(new ReloadRefused('ongoing reload'));
    }
    this.lastRpcReload = t;
    return this.load();
  }
}
