/**
 * PostgreSQL through pg's Pool. Bounds: `max` = pool_size, `connectionTimeoutMillis` (to connect,
 * and to wait for a free connection), `query_timeout` on the client and `statement_timeout` on
 * the server (the server stops the statement too). pg-pool destroys a client whose query failed,
 * so a timed-out or broken connection is never reused.
 *
 * pg emits 'error' on the pool when an idle client's connection drops (server restart,
 * pg_terminate_backend, a proxy in between closing it): without a listener Node ends the
 * process. The pool gets one, and so does every client it makes.
 *
 * Types are set per pool, not globally: timestamps stay strings (as MySQL's with dateStrings),
 * int8 (COUNT(*)) becomes a number when it is a safe integer.
 */
import pg from 'pg';
import type { Logger } from 'pino';
import type { Database, DbOptions, RawResult, SqlParam } from './database.js';
import { PooledDatabase, type Classified, type DriverResult, type PoolDriver } from './pooled.js';
import type { DbUrl } from './url.js';

const OID_INT8 = 20;
const OID_DATE = 1082;
const OID_TIMESTAMP = 1114;
const OID_TIMESTAMPTZ = 1184;

const asText = (v: string): string => v;
const asNumber = (v: string): number | string => {
  const n = Number(v);
  return Number.isSafeInteger(n) ? n : v;
};

type Parser = (value: string) => unknown;
const builtin = pg.types.getTypeParser as unknown as (oid: number, format: string) => Parser;

const TYPES: pg.CustomTypesConfig = {
  getTypeParser: ((oid: number, format?: string): Parser => {
    if (oid === OID_TIMESTAMP || oid === OID_TIMESTAMPTZ || oid === OID_DATE) return asText;
    if (oid === OID_INT8) return asNumber;
    return builtin(oid, format ?? 'text');
  }) as pg.CustomTypesConfig['getTypeParser'],
};

const UNREACHABLE_NODE = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN', 'EPIPE']);

function classify(err: unknown, opts: DbOptions): Classified {
  const e = err as { code?: unknown; message?: unknown };
  const code = typeof e.code === 'string' ? e.code : '';
  const message = typeof e.message === 'string' ? e.message : '';
  if (code === '23505') return { code: 'KEMI_ERR_DB_DUPLICATE', what: 'duplicate key' };
  // duplicate_table, duplicate_object: CREATE … IF NOT EXISTS racing another session
  if (code === '42P07' || code === '42710') return { code: 'KEMI_ERR_DB_DUPLICATE', what: 'already exists' };
  if (code === '57014' || message === 'Query read timeout') return { code: 'KEMI_ERR_DB_TIMEOUT', what: `no answer within ${String(opts.queryTimeoutMs)} ms` };
  if (message.includes('timeout exceeded when trying to connect') || message.includes('connection timeout')) {
    return { code: 'KEMI_ERR_DB_UNREACHABLE', what: `no connection within ${String(opts.connectTimeoutMs)} ms (server unreachable, or all ${String(opts.poolSize)} connections busy)` };
  }
  // 08xxx connection exceptions, 28xxx authentication, 3D000 unknown database, 57P0x shutdown/terminated, 53300 too many connections
  if (UNREACHABLE_NODE.has(code) || /^(08|28|57P0)/.test(code) || code === '3D000' || code === '53300' || message.startsWith('Connection terminated')) {
    return { code: 'KEMI_ERR_DB_UNREACHABLE', what: 'cannot connect' };
  }
  return { code: 'KEMI_ERR_DB_QUERY', what: 'query failed' };
}

function sslOption(url: DbUrl): pg.PoolConfig['ssl'] {
  if (url.sslmode === 'disable') return false;
  return { rejectUnauthorized: url.sslmode === 'verify-full' };
}

export function openPostgres(url: DbUrl, log: Logger, opts: DbOptions): Database {
  return new PooledDatabase(url, log, opts, (connectionError): PoolDriver => {
    const pool = new pg.Pool({
      host: url.host,
      port: url.port,
      user: url.user,
      password: url.password,
      database: url.database,
      ssl: sslOption(url),
      application_name: url.options.application_name ?? 'kemihost',
      max: opts.poolSize,
      idleTimeoutMillis: 60_000,
      connectionTimeoutMillis: opts.connectTimeoutMs,
      query_timeout: opts.queryTimeoutMs,
      statement_timeout: opts.queryTimeoutMs,
      keepAlive: true,
      keepAliveInitialDelayMillis: 10_000,
      types: TYPES,
    });
    pool.on('error', connectionError);
    // pg-pool hands a client's errors to the waiting query or, when idle, to the pool's 'error';
    // this listener only makes sure no gap between the two can reach Node's unhandled path.
    pool.on('connect', (client) => {
      client.on('error', () => undefined);
    });
    return {
      async run(sql: string, params: readonly SqlParam[]): Promise<DriverResult> {
        const r = await pool.query(sql, params as SqlParam[]);
        return { rows: r.rows as DriverResult['rows'], changes: r.rowCount ?? 0 };
      },
      async raw(sql: string): Promise<RawResult> {
        // the extended protocol: one statement only, as mysql2 without multipleStatements
        // (pg knows queryMode; its types do not yet)
        const config: pg.QueryArrayConfig = { text: sql, rowMode: 'array', ...({ queryMode: 'extended' } as object) };
        const r = await pool.query(config);
        // a statement without a result set (INSERT…) has no fields; a SELECT of no rows has them
        if (r.fields.length === 0) return { columns: [], rows: [], changes: r.rowCount ?? 0 };
        return { columns: r.fields.map((f) => f.name), rows: r.rows as unknown[][], changes: 0 };
      },
      end: () => pool.end(),
      classify: (e) => classify(e, opts),
    };
  });
}
