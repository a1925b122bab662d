/**
 * `kemihost ctl db init` and `db check`: the tables of every module that keeps some, each in the
 * database its db_url names (several modules on one URL share one `version` table, as in
 * Kamailio). init creates what is missing and is idempotent; check only verifies, for a
 * database kamdbctl or someone else manages. One line per database.
 */
import { checkSchema, ensureSchema } from '../db/ensure-schema.js';
import { MODULE_TABLES } from '../db/schema/index.js';
import type { TableDef } from '../db/schema/types.js';
import type { DbUrl } from '../db/url.js';
import { ctlConfig, urlFor, withDatabase, type CtlFlags } from './target.js';

function byDatabase(flags: CtlFlags): { url: DbUrl; tables: TableDef[] }[] {
  const config = ctlConfig(flags);
  const groups = new Map<string, { url: DbUrl; tables: TableDef[] }>();
  for (const [module, tables] of Object.entries(MODULE_TABLES)) {
    const url = urlFor(flags, config, module);
    // the key holds the password; it never leaves this map
    const key = `${url.redacted}\n${url.password}`;
    const g = groups.get(key) ?? { url, tables: [] };
    g.tables.push(...tables);
    groups.set(key, g);
  }
  return [...groups.values()];
}

export async function dbInit(flags: CtlFlags): Promise<void> {
  const config = ctlConfig(flags);
  for (const { url, tables } of byDatabase(flags)) {
    const report = await withDatabase(url, config, (db) => ensureSchema(db, tables));
    const created = report.created.length > 0 ? `created ${report.created.join(', ')}` : 'created nothing';
    const present = report.present.length > 0 ? `; already there: ${report.present.join(', ')}` : '';
    process.stdout.write(`${url.redacted}: ${created}${present}\n`);
  }
}

export async function dbCheck(flags: CtlFlags): Promise<void> {
  const config = ctlConfig(flags);
  for (const { url, tables } of byDatabase(flags)) {
    await withDatabase(url, config, (db) => checkSchema(db, tables));
    process.stdout.write(`${url.redacted}: ok (${tables.map((t) => t.name).join(', ')})\n`);
  }
}
