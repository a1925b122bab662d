/**
 * What the MySQL and PostgreSQL drivers share: a pool behind the Database interface, with SQL
 * translation, a deadline on every call, statistics, one error classification per driver, and
 * the listener for connection errors nobody waits on (logged once per 10 s, counted).
 */
import type { Logger } from 'pino';
import { isKemiError, type KemiError, type KemiErrorCode } from '../errors.js';
import { LogLimiter } from '../log-limiter.js';
import { dbError, newStats, withDeadline, type Database, type DbOptions, type ExecResult, type RawResult, type Row, type SqlParam } from './database.js';
import { SqlTranslator } from './sql.js';
import type { DbUrl, Dialect } from './url.js';

export interface DriverResult {
  readonly rows: Row[];
  readonly changes: number;
}

export interface Classified {
  readonly code: KemiErrorCode;
  /** e.g. 'cannot connect', 'query failed' */
  readonly what: string;
}

export interface PoolDriver {
  run(sql: string, params: readonly SqlParam[]): Promise<DriverResult>;
  /** the statement as written, rows as arrays (Database.raw) */
  raw(sql: string): Promise<RawResult>;
  end(): Promise<void>;
  classify(err: unknown): Classified;
}

export class PooledDatabase implements Database {
  readonly dialect: Dialect;
  readonly sync = null;
  readonly stats = newStats();
  private readonly translator: SqlTranslator;
  private readonly limiter = new LogLimiter(10_000);
  private readonly deadlineMs: number;
  private readonly driver: PoolDriver;
  private closing: Promise<void> | null = null;

  /** `makeDriver` gets the listener for its pools' and connections' 'error' events. */
  constructor(
    readonly url: DbUrl,
    private readonly log: Logger,
    opts: DbOptions,
    makeDriver: (connectionError: (err: unknown) => void) => PoolDriver,
  ) {
    this.dialect = url.dialect;
    this.translator = new SqlTranslator(url.dialect);
    this.deadlineMs = opts.connectTimeoutMs + opts.queryTimeoutMs;
    this.driver = makeDriver((err) => { this.connectionError(err); });
  }

  /** An 'error' event nobody else listens to would end the process: count it and log it. */
  private connectionError(err: unknown): void {
    this.stats.connectionErrors++;
    if (this.limiter.allow('conn')) {
      const suppressed = this.limiter.suppressed('conn');
      this.log.warn({ err: err instanceof Error ? err.message : String(err), suppressed }, 'database connection error (the pool reconnects on the next call)');
    }
  }

  async query<R extends Row = Row>(sql: string, params: readonly SqlParam[] = []): Promise<R[]> {
    return (await this.run(sql, params)).rows as R[];
  }

  async exec(sql: string, params: readonly SqlParam[] = []): Promise<ExecResult> {
    return { changes: (await this.run(sql, params)).changes };
  }

  raw(sql: string): Promise<RawResult> {
    return this.guarded(() => this.driver.raw(sql));
  }

  private run(sql: string, params: readonly SqlParam[]): Promise<DriverResult> {
    return this.guarded(() => this.driver.run(this.translator.sql(sql), params));
  }

  private async guarded<T>(work: () => Promise<T>): Promise<T> {
    if (this.closing !== null) throw dbError(this.url, 'KEMI_ERR_DB_UNREACHABLE', 'the database is closed');
    this.stats.queries++;
    try {
      return await withDeadline(this.url, this.deadlineMs, work());
    } catch (e) {
      this.stats.failures++;
      const err = isKemiError(e) ? e : this.describe(e);
      if (err.code === 'KEMI_ERR_DB_TIMEOUT') this.stats.timeouts++;
      throw err;
    }
  }

  private describe(e: unknown): KemiError {
    const c = this.driver.classify(e);
    return dbError(this.url, c.code, c.what, e);
  }

  close(): Promise<void> {
    this.closing ??= this.driver.end().catch((e: unknown) => {
      this.log.warn({ err: e instanceof Error ? e.message : String(e) }, 'error while closing the database pool');
    });
    return this.closing;
  }
}
