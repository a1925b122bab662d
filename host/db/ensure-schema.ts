/**
 * Make a database hold the tables a module needs, the way Kamailio expects them:
 *
 *   ensureSchema(db, [SUBSCRIBER_TABLE])   creates what is missing (and `version`, with a row per
 *                                          table), accepts what is there with the right version
 *   checkSchema(db, [SUBSCRIBER_TABLE])    only checks (for a database someone else manages)
 *
 * A table that exists is never altered. Its row in `version` must say the table_version the
 * TableDef has, as Kamailio's modules check at start; otherwise KEMI_ERR_DB_SCHEMA names the
 * table and both numbers. Idempotent, and safe when two processes run it at once (CREATE …
 * IF NOT EXISTS; a version row another process inserted first is accepted).
 */
import { isKemiError, KemiError } from '../errors.js';
import type { Database } from './database.js';
import { createTableSql } from './ddl.js';
import { tableExists } from './introspect.js';
import { VERSION_TABLE } from './schema/version.js';
import type { TableDef } from './schema/types.js';

export interface SchemaReport {
  /** tables this call created */
  readonly created: readonly string[];
  /** tables that were there with the expected version */
  readonly present: readonly string[];
}

async function versionOf(db: Database, table: string): Promise<number | null> {
  const rows = await db.query<{ v: unknown }>('SELECT table_version AS "v" FROM version WHERE table_name = ?', [table]);
  const v = rows[0]?.v;
  return v === undefined || v === null ? null : Number(v);
}

async function setVersion(db: Database, table: TableDef): Promise<void> {
  try {
    await db.exec('INSERT INTO version (table_name, table_version) VALUES (?, ?)', [table.name, table.version]);
  } catch (e) {
    if (!isKemiError(e, 'KEMI_ERR_DB_DUPLICATE')) throw e;
    // a row without its table (dropped by hand) or one a concurrent run just wrote
    await db.exec('UPDATE version SET table_version = ? WHERE table_name = ?', [table.version, table.name]);
  }
}

function schemaError(db: Database, problems: string[]): KemiError {
  return new KemiError('KEMI_ERR_DB_SCHEMA', `${db.url.redacted}: ${problems.join('; ')}`);
}

async function problemWith(db: Database, table: TableDef): Promise<string | null> {
  const v = await versionOf(db, table.name);
  if (v === table.version) return null;
  if (v === null) return `table ${table.name} has no row in version (expected table_version ${String(table.version)}, Kamailio 5.6's)`;
  return `table ${table.name} has table_version ${String(v)}, kemihost needs ${String(table.version)} (Kamailio 5.6's): upgrade it as for Kamailio 5.6`;
}

async function create(db: Database, table: TableDef): Promise<void> {
  for (const sql of createTableSql(db.dialect, table)) {
    try {
      await db.exec(sql);
    } catch (e) {
      // PostgreSQL: a concurrent run created it between IF NOT EXISTS and the insert into its catalog
      if (!isKemiError(e, 'KEMI_ERR_DB_DUPLICATE')) throw e;
    }
  }
}

/** Create what is missing, check what is there; throws KEMI_ERR_DB_SCHEMA listing every mismatch. */
export async function ensureSchema(db: Database, tables: readonly TableDef[]): Promise<SchemaReport> {
  const created: string[] = [];
  const present: string[] = [];
  const problems: string[] = [];
  if (await tableExists(db, VERSION_TABLE.name)) {
    // its own row may be missing only while a concurrent run is between creating and filling it
    if ((await versionOf(db, VERSION_TABLE.name)) === null) await setVersion(db, VERSION_TABLE);
  } else {
    await create(db, VERSION_TABLE);
    await setVersion(db, VERSION_TABLE);
    created.push(VERSION_TABLE.name);
  }
  for (const table of [VERSION_TABLE, ...tables.filter((t) => t.name !== VERSION_TABLE.name)]) {
    if (created.includes(table.name)) continue;
    if (await tableExists(db, table.name)) {
      const p = await problemWith(db, table);
      if (p === null) present.push(table.name);
      else problems.push(p);
      continue;
    }
    // the row first: a concurrent run that sees the table then also sees its version
    await setVersion(db, table);
    await create(db, table);
    created.push(table.name);
  }
  if (problems.length > 0) throw schemaError(db, problems);
  return { created, present };
}

/** Check only: every table exists with its version row; throws KEMI_ERR_DB_SCHEMA otherwise. */
export async function checkSchema(db: Database, tables: readonly TableDef[]): Promise<void> {
  const problems: string[] = [];
  for (const table of [VERSION_TABLE, ...tables.filter((t) => t.name !== VERSION_TABLE.name)]) {
    if (!(await tableExists(db, table.name))) problems.push(`table ${table.name} does not exist (kemihost ctl db init creates it)`);
    else {
      const p = await problemWith(db, table);
      if (p !== null) problems.push(p);
    }
  }
  if (problems.length > 0) throw schemaError(db, problems);
}
