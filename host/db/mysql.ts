/**
 * MySQL / MariaDB through mysql2's promise pool. `query` (text protocol, client-side escaping)
 * rather than `execute`: no prepare round trip, no per-connection statement cache to bound, and
 * the same results for every statement our stores send.
 *
 * Bounds: `connectionLimit` = pool_size, a bounded wait queue, `connectTimeout`, and mysql2's
 * per-query `timeout`, which destroys the connection of a statement that runs too long (the pool
 * opens a new one). Every connection gets an 'error' listener when the pool makes it.
 */
import mysql from 'mysql2/promise';
import type { Logger } from 'pino';
import type { Database, DbOptions, RawResult, SqlParam } from './database.js';
import { PooledDatabase, type Classified, type DriverResult, type PoolDriver } from './pooled.js';
import type { DbUrl } from './url.js';

/** calls waiting for a free connection at most; more fail at once */
const QUEUE_LIMIT = 1000;

const UNREACHABLE = new Set([
  'ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN', 'EPIPE',
  'PROTOCOL_CONNECTION_LOST', 'ER_ACCESS_DENIED_ERROR', 'ER_DBACCESS_DENIED_ERROR', 'ER_BAD_DB_ERROR',
  'ER_CON_COUNT_ERROR', 'ER_SERVER_SHUTDOWN', 'ER_CONNECTION_KILLED', 'PROTOCOL_ENQUEUE_AFTER_FATAL_ERROR',
]);

function classify(err: unknown, opts: DbOptions): Classified {
  const e = err as { code?: unknown; fatal?: unknown; message?: unknown };
  const code = typeof e.code === 'string' ? e.code : '';
  if (code === 'PROTOCOL_SEQUENCE_TIMEOUT') return { code: 'KEMI_ERR_DB_TIMEOUT', what: `no answer within ${String(opts.queryTimeoutMs)} ms` };
  if (code === 'ER_DUP_ENTRY') return { code: 'KEMI_ERR_DB_DUPLICATE', what: 'duplicate key' };
  if (code === 'ETIMEDOUT') return { code: 'KEMI_ERR_DB_UNREACHABLE', what: `cannot connect within ${String(opts.connectTimeoutMs)} ms` };
  if (UNREACHABLE.has(code) || e.fatal === true) return { code: 'KEMI_ERR_DB_UNREACHABLE', what: 'cannot connect' };
  if (e.message === 'Queue limit reached.') return { code: 'KEMI_ERR_DB_TIMEOUT', what: `all ${String(opts.poolSize)} connections busy and ${String(QUEUE_LIMIT)} calls waiting` };
  return { code: 'KEMI_ERR_DB_QUERY', what: 'query failed' };
}

function sslOption(url: DbUrl): mysql.PoolOptions['ssl'] {
  if (url.sslmode === 'disable') return undefined;
  return { rejectUnauthorized: url.sslmode === 'verify-full' };
}

export function openMysql(url: DbUrl, log: Logger, opts: DbOptions): Database {
  return new PooledDatabase(url, log, opts, (connectionError): PoolDriver => {
    const ssl = sslOption(url);
    const pool = mysql.createPool({
      host: url.host,
      port: url.port,
      user: url.user,
      password: url.password,
      database: url.database,
      ...(ssl === undefined ? {} : { ssl }),
      ...(url.options.charset === undefined ? {} : { charset: url.options.charset }),
      connectionLimit: opts.poolSize,
      maxIdle: opts.poolSize,
      idleTimeout: 60_000,
      queueLimit: QUEUE_LIMIT,
      waitForConnections: true,
      connectTimeout: opts.connectTimeoutMs,
      enableKeepAlive: true,
      keepAliveInitialDelay: 10_000,
      dateStrings: true,
      supportBigNumbers: true,
      bigNumberStrings: false,
      multipleStatements: false,
    });
    pool.pool.on('connection', (conn) => {
      conn.on('error', connectionError);
    });
    return {
      async run(sql: string, params: readonly SqlParam[]): Promise<DriverResult> {
        const [result] = await pool.query({ sql, timeout: opts.queryTimeoutMs }, params as SqlParam[]);
        if (Array.isArray(result)) return { rows: result as DriverResult['rows'], changes: 0 };
        return { rows: [], changes: (result as mysql.ResultSetHeader).affectedRows };
      },
      async raw(sql: string): Promise<RawResult> {
        const [result, fields] = await pool.query({ sql, timeout: opts.queryTimeoutMs, rowsAsArray: true });
        if (!Array.isArray(result)) return { columns: [], rows: [], changes: (result as mysql.ResultSetHeader).affectedRows };
        return { columns: fields.map((f) => f.name), rows: result as unknown[][], changes: 0 };
      },
      end: () => pool.end(),
      classify: (e) => classify(e, opts),
    };
  });
}
