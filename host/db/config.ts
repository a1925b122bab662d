/**
 * Where a module finds its database in the config file, as in Kamailio: a top-level `db_url`
 * for every module, overridden by a module's own `modules.<name>.db_url` (a module that keeps
 * tables declares that param with `moduleDbUrlParam`). Pool sizes and timeouts are one `db`
 * section for all.
 *
 * A relative `sqlite://file.db` in a config file is relative to that file's directory
 * (loadConfigFile rewrites it with absoluteDbUrls); without a config file, to the working
 * directory. The default, `sqlite://kemihost.db`, therefore sits next to the config file.
 */
import { z } from 'zod';
import type { DbOptions } from './database.js';
import { absoluteDbUrl, parseDbUrl } from './url.js';

export const DEFAULT_DB_URL = 'sqlite://kemihost.db';

/** a db_url string, checked for form (the message shows it redacted) */
export const dbUrlString = z.string().superRefine((s, ctx) => {
  try {
    parseDbUrl(s, '/');
  } catch (e) {
    ctx.addIssue({ code: 'custom', message: (e as Error).message });
  }
});

export const dbUrlSchema = dbUrlString
  .default(DEFAULT_DB_URL)
  .describe(
    'the database of every module that keeps tables (auth_db, usrloc, permissions…), unless modules.<name>.db_url says otherwise; ' +
      'Kamailio\'s forms: sqlite:///abs/path.db, sqlite://path.db (relative to this config file; with no config file, to the working directory), ' +
      'mysql://user:pass@host[:port]/db, postgres://user:pass@host[:port]/db (also postgresql://), options ?sslmode=disable|require|verify-full; ' +
      'user and password are percent-decoded (write % as %25). See docs/store.md',
  );

/** For a module's params: `db_url: moduleDbUrlParam`. */
export const moduleDbUrlParam = dbUrlString.optional().describe('this module\'s database (same forms as the top-level db_url, which it overrides)');

const DB_DEFAULTS = { pool_size: 4, connect_timeout_ms: 3000, query_timeout_ms: 5000 };

export const dbSectionSchema = z
  .object({
    pool_size: z.number().int().min(1).max(100).default(DB_DEFAULTS.pool_size)
      .describe('connections per MySQL/PostgreSQL database (one pool per distinct db_url); SQLite uses one'),
    connect_timeout_ms: z.number().int().min(100).max(60_000).default(DB_DEFAULTS.connect_timeout_ms)
      .describe('to open a database connection, and to wait for a free one when all are busy; then the call fails'),
    query_timeout_ms: z.number().int().min(100).max(600_000).default(DB_DEFAULTS.query_timeout_ms)
      .describe('for one statement (the server is told to stop it too); SQLite: how long a write waits for a lock another process holds'),
  })
  .strict()
  .default(DB_DEFAULTS);

interface DbConfig {
  db_url: string;
  db: z.infer<typeof dbSectionSchema>;
  modules: Record<string, Record<string, unknown> | undefined>;
}

/** The db_url a module uses: its own `modules.<name>.db_url`, else the top-level one. */
export function dbUrlFor(config: Pick<DbConfig, 'db_url' | 'modules'>, module: string): string {
  const own = config.modules[module]?.db_url;
  return typeof own === 'string' && own !== '' ? own : config.db_url;
}

export function dbOptionsFrom(config: Pick<DbConfig, 'db'>): DbOptions {
  return { poolSize: config.db.pool_size, connectTimeoutMs: config.db.connect_timeout_ms, queryTimeoutMs: config.db.query_timeout_ms };
}

/** Rewrite relative sqlite URLs (top level, per module, sqlops' "name=>url" sqlcon) against the config file's directory. */
export function absoluteDbUrls(config: Pick<DbConfig, 'db_url' | 'modules'>, baseDir: string): void {
  config.db_url = absoluteDbUrl(config.db_url, baseDir);
  for (const params of Object.values(config.modules)) {
    if (params !== undefined && typeof params.db_url === 'string') params.db_url = absoluteDbUrl(params.db_url, baseDir);
  }
  const sqlops = config.modules.sqlops;
  if (sqlops?.sqlcon !== undefined) {
    const named = (v: unknown): unknown => {
      const m = typeof v === 'string' ? /^(\s*[^=\s]+\s*=>\s*)(.*)$/s.exec(v) : null;
      return m === null ? v : `${m[1] ?? ''}${absoluteDbUrl(m[2] ?? '', baseDir)}`;
    };
    const list: unknown = sqlops.sqlcon;
    sqlops.sqlcon = Array.isArray(list) ? list.map(named) : named(list);
  }
}
