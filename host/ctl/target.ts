/**
 * Which database a `kemihost ctl` command works on, and the open/check/close around it.
 *
 * The URL comes from --db-url if given, else the config file (-c): the module's own
 * `modules.<name>.db_url`, else the top-level `db_url`; with neither, the default
 * `sqlite://kemihost.db` in the working directory. On SQLite the command creates the tables it
 * needs (the embedded store just works); on MySQL/PostgreSQL it only checks them, so pointing
 * at the wrong server never creates tables there (`ctl db init` does that on purpose).
 */
import { pino } from 'pino';
import { loadConfigFile, validateConfig, type Config } from '../config.js';
import { dbOptionsFrom, dbUrlFor } from '../db/config.js';
import { openDatabase, type Database } from '../db/database.js';
import { checkSchema, ensureSchema } from '../db/ensure-schema.js';
import type { TableDef } from '../db/schema/types.js';
import { parseDbUrl, type DbUrl } from '../db/url.js';

export interface CtlFlags {
  config?: string;
  dbUrl?: string;
  /** the running server to reload after an address change (else the config's rpc.listen) */
  rpcAddress?: string;
  token?: string;
  /** false with --no-reload */
  reload?: boolean;
}

export function ctlConfig(flags: CtlFlags): Config {
  return flags.config === undefined ? validateConfig({}) : loadConfigFile(flags.config);
}

/** the database of `module` (a Kamailio module name: auth_db, usrloc, permissions) */
export function urlFor(flags: CtlFlags, config: Config, module: string): DbUrl {
  return parseDbUrl(flags.dbUrl ?? dbUrlFor(config, module));
}

/** the command's own connections: nothing to log while it runs; failures come back as errors */
const SILENT = pino({ level: 'silent' });

export async function withDatabase<T>(url: DbUrl, config: Config, fn: (db: Database) => Promise<T>): Promise<T> {
  const db = await openDatabase(url, SILENT, dbOptionsFrom(config));
  try {
    return await fn(db);
  } finally {
    await db.close();
  }
}

/** Open the module's database with its tables ready (SQLite: created; servers: checked). */
export async function withTables<T>(flags: CtlFlags, module: string, tables: readonly TableDef[], fn: (db: Database) => Promise<T>): Promise<T> {
  const config = ctlConfig(flags);
  return withDatabase(urlFor(flags, config, module), config, async (db) => {
    if (db.dialect === 'sqlite') await ensureSchema(db, tables);
    else await checkSchema(db, tables);
    return fn(db);
  });
}
