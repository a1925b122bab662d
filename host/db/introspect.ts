/**
 * What a database says about its own tables, per dialect: whether a table exists, its columns
 * (type as the server spells it, nullability, default as the server prints it) and its indexes.
 * ensureSchema uses `tableExists`; the schema test compares `describeTable` of a database made
 * with Kamailio's DDL against one made by ensureSchema.
 */
import type { Database } from './database.js';

export interface ColumnInfo {
  readonly name: string;
  /** lower case, as the server reports it: 'varchar(64)', 'int(10) unsigned', 'character varying(64)' */
  readonly type: string;
  readonly nullable: boolean;
  /** the default as the server prints it, or null when there is none */
  readonly default: string | null;
}

export interface IndexInfo {
  readonly name: string;
  readonly columns: readonly string[];
  readonly unique: boolean;
}

export interface TableInfo {
  readonly columns: readonly ColumnInfo[];
  /** sorted by name; the primary key is left out */
  readonly indexes: readonly IndexInfo[];
}

export async function tableExists(db: Database, table: string): Promise<boolean> {
  const sql = {
    sqlite: `SELECT name FROM sqlite_master WHERE type = 'table' AND name = ?`,
    mysql: 'SELECT table_name FROM information_schema.tables WHERE table_schema = DATABASE() AND table_name = ?',
    postgres: 'SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() AND table_name = ?',
  }[db.dialect];
  return (await db.query(sql, [table])).length > 0;
}

const str = (v: unknown): string => (typeof v === 'string' ? v : typeof v === 'number' ? String(v) : '');
const byName = (a: IndexInfo, b: IndexInfo): number => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);

async function sqliteTable(db: Database, table: string): Promise<TableInfo> {
  const cols = await db.query('SELECT name, type, "notnull" AS nn, dflt_value AS dflt FROM pragma_table_info(?) ORDER BY cid', [table]);
  const list = await db.query(`SELECT name, "unique" AS uq, origin FROM pragma_index_list(?) WHERE origin <> 'pk'`, [table]);
  const indexes: IndexInfo[] = [];
  for (const ix of list) {
    const parts = await db.query('SELECT name FROM pragma_index_info(?) ORDER BY seqno', [str(ix.name)]);
    indexes.push({ name: str(ix.name), columns: parts.map((p) => str(p.name)), unique: ix.uq === 1 });
  }
  return {
    columns: cols.map((c) => ({ name: str(c.name), type: str(c.type).toLowerCase(), nullable: c.nn === 0, default: c.dflt === null ? null : str(c.dflt) })),
    indexes: indexes.sort(byName),
  };
}

async function mysqlTable(db: Database, table: string): Promise<TableInfo> {
  const cols = await db.query(
    `SELECT column_name AS "name", column_type AS "type", is_nullable AS "nullable", column_default AS "dflt", extra AS "extra"
       FROM information_schema.columns WHERE table_schema = DATABASE() AND table_name = ? ORDER BY ordinal_position`,
    [table],
  );
  const parts = await db.query(
    `SELECT index_name AS "name", non_unique AS "nu", column_name AS "col" FROM information_schema.statistics
      WHERE table_schema = DATABASE() AND table_name = ? AND index_name <> 'PRIMARY' ORDER BY index_name, seq_in_index`,
    [table],
  );
  const indexes = new Map<string, { columns: string[]; unique: boolean }>();
  for (const p of parts) {
    const e = indexes.get(str(p.name)) ?? { columns: [], unique: Number(p.nu) === 0 };
    e.columns.push(str(p.col));
    indexes.set(str(p.name), e);
  }
  return {
    columns: cols.map((c) => ({
      name: str(c.name),
      type: `${str(c.type)}${str(c.extra) === '' ? '' : ` ${str(c.extra)}`}`.toLowerCase(),
      nullable: c.nullable === 'YES',
      default: c.dflt === null ? null : str(c.dflt),
    })),
    indexes: [...indexes].map(([name, e]) => ({ name, ...e })).sort(byName),
  };
}

async function postgresTable(db: Database, table: string): Promise<TableInfo> {
  const cols = await db.query(
    `SELECT column_name AS "name", data_type AS "type", character_maximum_length AS "len", is_nullable AS "nullable", column_default AS "dflt"
       FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = ? ORDER BY ordinal_position`,
    [table],
  );
  const defs = await db.query(
    `SELECT indexname AS "name", indexdef AS "def" FROM pg_indexes WHERE schemaname = current_schema() AND tablename = ? AND indexname <> ?`,
    [table, `${table}_pkey`],
  );
  return {
    columns: cols.map((c) => ({
      name: str(c.name),
      type: c.len === null ? str(c.type) : `${str(c.type)}(${str(c.len)})`,
      nullable: c.nullable === 'YES',
      default: c.dflt === null ? null : str(c.dflt),
    })),
    indexes: defs
      .map((d) => {
        const def = str(d.def);
        const inner = /\(([^)]*)\)\s*$/.exec(def)?.[1] ?? '';
        return { name: str(d.name), columns: inner.split(',').map((s) => s.trim().replace(/^"(.*)"$/, '$1')), unique: def.startsWith('CREATE UNIQUE') };
      })
      .sort(byName),
  };
}

/** Columns and indexes of a table, or null when it does not exist. */
export async function describeTable(db: Database, table: string): Promise<TableInfo | null> {
  if (!(await tableExists(db, table))) return null;
  if (db.dialect === 'sqlite') return sqliteTable(db, table);
  return db.dialect === 'mysql' ? mysqlTable(db, table) : postgresTable(db, table);
}
