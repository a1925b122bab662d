/**
 * The subscriber store auth_db reads: Kamailio's `subscriber` table (or another table of the
 * same shape a script names), looked up by username and, with use_domain, domain.
 *
 * A script call cannot wait for a database (docs/store.md), so `find` answers synchronously:
 * - SQLite: straight from the file with db.sync (a few µs), so `kemihost ctl add` counts at once;
 * - MySQL/PostgreSQL: from a copy in memory, loaded at start and by `reload()` (the
 *   auth_db.reload RPC, the refresh timer, `kemihost ctl` after a change).
 * Both behind this interface, so the binding does not know which (and a Redis- or
 * worker-shared store could take their place).
 */
import { KemiError } from '../errors.js';
import type { Database } from '../db/database.js';

/** A value from a column: text as a string, a number, or null (SQL NULL). */
export type ColumnValue = string | number | null;
export type SubscriberRow = Readonly<Record<string, ColumnValue>>;

export interface SubscriberColumns {
  readonly user: string;
  readonly domain: string;
  /** the other columns read: the password columns, load_credentials' */
  readonly values: readonly string[];
}

export interface ReloadReport {
  /** table → rows now in memory (empty for a store that keeps no copy) */
  readonly rows: Readonly<Record<string, number>>;
  readonly ms: number;
}

export interface SubscriberStore {
  /** 'direct': reads the database on each call; 'copy': answers from memory */
  readonly mode: 'direct' | 'copy';
  /**
   * The row of `user` (and `domain`, when not null) in `table`, the first the database gives
   * when several match (use_domain off); null when there is none. Throws KemiError when it
   * cannot tell: a table that is not loaded, a database error.
   */
  find(table: string, user: string, domain: string | null): SubscriberRow | null;
  /** Reload the copy (a no-op for a direct store); on failure the old copy stays and it rejects. */
  reload(): Promise<ReloadReport>;
}

const IDENT = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;

/** A table or column name as the parameters and scripts give it; refused unless a plain identifier. */
export function checkIdentifier(name: string, what: string): string {
  if (!IDENT.test(name)) throw new KemiError('KEMI_ERR_CONFIG', `${what} "${name}" is not a plain SQL name (letters, digits, _)`);
  return name;
}

/** SELECT list for the columns: "col" AS "col", …, user and domain first. */
export function selectList(c: SubscriberColumns): string {
  const all = [c.user, c.domain, ...c.values.filter((v) => v !== c.user && v !== c.domain)];
  return [...new Set(all)].map((n) => `"${n}" AS "${n}"`).join(', ');
}

/** A database value as a column value: text, a number, or null. */
export function columnValue(v: unknown): ColumnValue {
  if (v === null || v === undefined) return null;
  if (typeof v === 'string' || typeof v === 'number') return v;
  if (typeof v === 'bigint') return v.toString();
  if (Buffer.isBuffer(v)) return v.toString('utf8');
  if (typeof v === 'boolean') return v ? 1 : 0;
  return typeof v === 'object' ? JSON.stringify(v) : null;
}

/** Keep only the wanted columns of a row, as ColumnValues. */
export function pickRow(row: Readonly<Record<string, unknown>>, c: SubscriberColumns): SubscriberRow {
  const out: Record<string, ColumnValue> = {};
  for (const n of [c.user, c.domain, ...c.values]) out[n] = columnValue(row[n]);
  return out;
}

/** The store for a database: direct reads on SQLite, a memory copy of `tables` otherwise. */
export async function openSubscriberStore(
  db: Database,
  columns: SubscriberColumns,
  tables: readonly string[],
  maxRows: number,
): Promise<SubscriberStore> {
  if (db.sync !== null) {
    const { SqliteSubscribers } = await import('./sqlite-subscribers.js');
    return new SqliteSubscribers(db, columns);
  }
  const { MemorySubscribers } = await import('./memory-subscribers.js');
  const store = new MemorySubscribers(db, columns, tables, maxRows);
  await store.reload();
  return store;
}
