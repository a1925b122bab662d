/**
 * SQLite through better-sqlite3: one connection, synchronous underneath. `sync` answers at once
 * (a store may read from it inside a script call); the async calls run the same code and
 * resolve with its result, so every store can be written against the async interface.
 *
 * The file is opened in WAL mode, so readers never wait for a writer (the server reads while
 * `kemihost ctl` writes), with synchronous=NORMAL: a crash of kemihost loses nothing, a power
 * cut may lose the last commits. A writer that finds the file locked waits up to
 * query_timeout_ms (busy timeout) and then fails with KEMI_ERR_DB_TIMEOUT; that wait blocks
 * the event loop, which is why writes stay single short statements.
 */
import BetterSqlite3 from 'better-sqlite3';
import type { Logger } from 'pino';
import { isKemiError, type KemiError } from '../errors.js';
import { dbError, newStats, type Database, type DbOptions, type ExecResult, type RawResult, type Row, type SqlParam, type SyncQueryable } from './database.js';
import type { DbUrl } from './url.js';

const STATEMENT_CACHE_MAX = 256;

function classify(url: DbUrl, err: unknown): KemiError {
  if (isKemiError(err)) return err;
  const code = (err as { code?: unknown }).code;
  if (code === 'SQLITE_BUSY' || code === 'SQLITE_LOCKED') return dbError(url, 'KEMI_ERR_DB_TIMEOUT', 'the file stayed locked', err);
  if (code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY') return dbError(url, 'KEMI_ERR_DB_DUPLICATE', 'duplicate key', err);
  if (code === 'SQLITE_CANTOPEN' || code === 'SQLITE_NOTADB' || code === 'SQLITE_READONLY') return dbError(url, 'KEMI_ERR_DB_UNREACHABLE', 'cannot use the file', err);
  return dbError(url, 'KEMI_ERR_DB_QUERY', 'query failed', err);
}

/** The connection, answering synchronously; AsyncSqlite below is the Database around it. */
class SqliteConnection implements SyncQueryable {
  readonly stats = newStats();
  private readonly statements = new Map<string, BetterSqlite3.Statement>();
  private closed = false;

  constructor(
    readonly url: DbUrl,
    private readonly db: BetterSqlite3.Database,
  ) {}

  private statement(sql: string): BetterSqlite3.Statement {
    let st = this.statements.get(sql);
    if (st === undefined) {
      st = this.db.prepare(sql);
      if (this.statements.size >= STATEMENT_CACHE_MAX) this.statements.clear();
      this.statements.set(sql, st);
    }
    return st;
  }

  private run<T>(fn: () => T): T {
    if (this.closed) throw dbError(this.url, 'KEMI_ERR_DB_UNREACHABLE', 'the database is closed');
    this.stats.queries++;
    try {
      return fn();
    } catch (e) {
      this.stats.failures++;
      const err = classify(this.url, e);
      if (err.code === 'KEMI_ERR_DB_TIMEOUT') this.stats.timeouts++;
      throw err;
    }
  }

  query<R extends Row = Row>(sql: string, params: readonly SqlParam[] = []): R[] {
    return this.run(() => {
      const st = this.statement(sql);
      if (st.reader) return st.all(...params) as R[];
      st.run(...params);
      return [];
    });
  }

  exec(sql: string, params: readonly SqlParam[] = []): ExecResult {
    return this.run(() => {
      const st = this.statement(sql);
      if (st.reader) {
        st.all(...params);
        return { changes: 0 };
      }
      return { changes: st.run(...params).changes };
    });
  }

  /** not cached: a script's SQL often carries its values inline, so each text is new */
  raw(sql: string): RawResult {
    return this.run(() => {
      const st = this.db.prepare(sql);
      if (!st.reader) return { columns: [], rows: [], changes: st.run().changes };
      const columns = st.columns().map((c) => c.name);
      // bigints, so a 64-bit value keeps its digits (the caller decides how to show it)
      return { columns, rows: st.raw(true).safeIntegers(true).all() as unknown[][], changes: 0 };
    });
  }

  close(): Promise<void> {
    if (!this.closed) {
      this.closed = true;
      this.statements.clear();
      this.db.close();
    }
    return Promise.resolve();
  }
}

/** The async face of SqliteConnection: same calls, results as promises. */
class AsyncSqlite implements Database {
  readonly dialect = 'sqlite';

  constructor(private readonly inner: SqliteConnection) {}

  get url(): DbUrl {
    return this.inner.url;
  }

  get sync(): SyncQueryable {
    return this.inner;
  }

  get stats(): Database['stats'] {
    return this.inner.stats;
  }

  // an executor that throws rejects the promise: the error arrives as the pooled drivers' do
  query<R extends Row = Row>(sql: string, params?: readonly SqlParam[]): Promise<R[]> {
    return new Promise((resolve) => {
      resolve(this.inner.query<R>(sql, params));
    });
  }

  exec(sql: string, params?: readonly SqlParam[]): Promise<ExecResult> {
    return new Promise((resolve) => {
      resolve(this.inner.exec(sql, params));
    });
  }

  raw(sql: string): Promise<RawResult> {
    return new Promise((resolve) => {
      resolve(this.inner.raw(sql));
    });
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}

export function openSqlite(url: DbUrl, log: Logger, opts: DbOptions): Database {
  let db: BetterSqlite3.Database;
  try {
    db = new BetterSqlite3(url.path, { timeout: opts.queryTimeoutMs });
  } catch (e) {
    throw dbError(url, 'KEMI_ERR_DB_UNREACHABLE', 'cannot open the file', e);
  }
  try {
    if (url.path !== ':memory:') db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
  } catch (e) {
    db.close();
    throw classify(url, e);
  }
  log.debug('sqlite database open');
  return new AsyncSqlite(new SqliteConnection(url, db));
}
