/**
 * The SQL store layer: one small `Database` interface, three drivers behind it.
 *
 *   const db = await openDatabase('mysql://kamailio:pw@db1/kamailio', log);
 *   const rows = await db.query('SELECT ha1 FROM subscriber WHERE username = ? AND domain = ?', [u, d]);
 *   await db.exec('DELETE FROM location WHERE expires < ?', [now]);
 *   await db.close();
 *
 * SQL is written once, in our style (host/db/sql.ts: `?` placeholders, "double-quoted"
 * identifiers) and translated per dialect. Rows are plain objects keyed by column name; integers
 * are numbers, DATETIME/TIMESTAMP values are strings 'YYYY-MM-DD HH:MM:SS' on every dialect.
 *
 * Every call has a deadline (connect_timeout_ms + query_timeout_ms) and fails with a KemiError:
 *   KEMI_ERR_DB_UNREACHABLE  cannot connect (refused, no answer, auth, unknown database) or the
 *                            connection was lost; pools reconnect on the next call by themselves
 *   KEMI_ERR_DB_TIMEOUT      the statement ran out of time (or SQLite stayed locked)
 *   KEMI_ERR_DB_DUPLICATE    a unique key refused the row
 *   KEMI_ERR_DB_QUERY        anything else the server refused (syntax, missing table)
 * Messages start with the redacted URL and are one line. Connection errors that happen while
 * nobody waits (an idle pooled connection dropped by the server) are logged (once per 10 s),
 * counted in `stats.connectionErrors`, and never reach the process's unhandled-'error' path.
 * There is no automatic retry: a write sent twice could apply twice (docs/decisions.md).
 *
 * `sync` is the SQLite driver itself, for a store that must read in the middle of a script call
 * (better-sqlite3 is synchronous); it is null on MySQL and PostgreSQL, so a store that uses it
 * must also work without it (from its in-memory copy): see docs/store.md.
 */
import type { Logger } from 'pino';
import { KemiError, type KemiErrorCode } from '../errors.js';
import { parseDbUrl, type DbUrl, type Dialect } from './url.js';

export type SqlParam = string | number | bigint | null;
export type Row = Record<string, unknown>;

export interface ExecResult {
  /** rows inserted, deleted or matched by an UPDATE */
  readonly changes: number;
}

/**
 * A statement a script wrote (sqlops): its columns in order, duplicates and unnamed ones kept,
 * rows as arrays. Values are as `query` gives them.
 */
export interface RawResult {
  readonly columns: readonly string[];
  readonly rows: readonly (readonly unknown[])[];
  /** rows inserted, deleted or matched by an UPDATE; 0 for a statement that returns rows */
  readonly changes: number;
}

/** The calls every dialect answers. */
export interface Queryable {
  query<R extends Row = Row>(sql: string, params?: readonly SqlParam[]): Promise<R[]>;
  exec(sql: string, params?: readonly SqlParam[]): Promise<ExecResult>;
  /**
   * Run SQL exactly as written: no `?` placeholders, no identifier translation (the script's
   * SQL is in its server's dialect, as in Kamailio's raw_query). One statement.
   */
  raw(sql: string): Promise<RawResult>;
}

/** SQLite only: the same calls, answered before they return. */
export interface SyncQueryable {
  query<R extends Row = Row>(sql: string, params?: readonly SqlParam[]): R[];
  exec(sql: string, params?: readonly SqlParam[]): ExecResult;
  raw(sql: string): RawResult;
}

export interface DbStats {
  queries: number;
  failures: number;
  timeouts: number;
  /** errors the pool's connections reported as events: dropped while idle (a server restart,
   *  pg_terminate_backend, KILL), or broken under a call (mysql2 reports those too) */
  connectionErrors: number;
}

export interface Database extends Queryable {
  readonly url: DbUrl;
  readonly dialect: Dialect;
  readonly sync: SyncQueryable | null;
  readonly stats: DbStats;
  /** ends the pool (waits for calls in flight); later calls fail with KEMI_ERR_DB_UNREACHABLE */
  close(): Promise<void>;
}

export interface DbOptions {
  /** connections per pool (MySQL, PostgreSQL) */
  readonly poolSize: number;
  /** to open a connection (and, for a pool that is all busy, to wait for one) */
  readonly connectTimeoutMs: number;
  /** for one statement; also SQLite's busy timeout */
  readonly queryTimeoutMs: number;
}

export const DEFAULT_DB_OPTIONS: DbOptions = { poolSize: 4, connectTimeoutMs: 3000, queryTimeoutMs: 5000 };

export function newStats(): DbStats {
  return { queries: 0, failures: 0, timeouts: 0, connectionErrors: 0 };
}

/** A driver error as a one-line KemiError naming the (redacted) URL. */
export function dbError(url: DbUrl, code: KemiErrorCode, what: string, cause?: unknown): KemiError {
  const detail = cause instanceof Error ? `: ${cause.message}` : '';
  const line = `${url.redacted}: ${what}${detail}`.replace(/\s*\n\s*/g, ' ');
  return new KemiError(code, line, cause === undefined ? undefined : { cause });
}

/** Settle within `ms` or fail with KEMI_ERR_DB_TIMEOUT; the driver's own timeouts end the work. */
export async function withDeadline<T>(url: DbUrl, ms: number, work: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      reject(dbError(url, 'KEMI_ERR_DB_TIMEOUT', `no answer within ${String(ms)} ms`));
    }, ms);
  });
  try {
    return await Promise.race([work, late]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Open a database. SQLite opens the file now (it must be in an existing directory); MySQL and
 * PostgreSQL make a pool that connects on the first call, so a server that is down at start
 * shows up as KEMI_ERR_DB_UNREACHABLE on that call, not here. `url` is a db_url string (relative
 * sqlite paths against the cwd) or one parsed by parseDbUrl.
 */
export async function openDatabase(url: string | DbUrl, log: Logger, options: Partial<DbOptions> = {}): Promise<Database> {
  const parsed = typeof url === 'string' ? parseDbUrl(url) : url;
  const opts: DbOptions = { ...DEFAULT_DB_OPTIONS, ...options };
  const dbLog = log.child({ db: parsed.redacted });
  switch (parsed.dialect) {
    case 'sqlite': {
      const { openSqlite } = await import('./sqlite.js');
      return openSqlite(parsed, dbLog, opts);
    }
    case 'mysql': {
      const { openMysql } = await import('./mysql.js');
      return openMysql(parsed, dbLog, opts);
    }
    case 'postgres': {
      const { openPostgres } = await import('./postgres.js');
      return openPostgres(parsed, dbLog, opts);
    }
  }
}
