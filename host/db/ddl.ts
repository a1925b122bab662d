/**
 * TableDef → CREATE statements per dialect, spelled as Kamailio's kamdbctl spells them (types,
 * DEFAULT before NOT NULL, UNIQUE as a named table constraint, index names prefixed with the
 * table on SQLite and PostgreSQL), so a database we create and one kamdbctl creates look the
 * same to both. Everything is IF NOT EXISTS; MySQL's indexes go inside CREATE TABLE because
 * MySQL 8 has no CREATE INDEX IF NOT EXISTS.
 *
 * The statements are in our SQL style ("quoted" identifiers), for Database.exec.
 */
import type { ColumnDef, IndexDef, TableDef } from './schema/types.js';
import type { Dialect } from './url.js';

function typeOf(dialect: Dialect, c: ColumnDef): string {
  const mysqlInt = (base: string): string =>
    `${base}${c.size === undefined ? '' : `(${String(c.size)})`}${c.unsigned === true ? ' UNSIGNED' : ''}`;
  switch (c.type) {
    case 'id':
      if (dialect === 'mysql') return 'INT(10) UNSIGNED AUTO_INCREMENT PRIMARY KEY';
      return dialect === 'postgres' ? 'SERIAL PRIMARY KEY' : 'INTEGER PRIMARY KEY';
    case 'int':
      return dialect === 'mysql' ? mysqlInt('INT') : 'INTEGER';
    case 'smallint':
      return dialect === 'mysql' ? mysqlInt('SMALLINT') : 'SMALLINT';
    case 'varchar':
      return `VARCHAR(${String(c.size ?? 255)})`;
    case 'datetime':
      return dialect === 'mysql' ? 'DATETIME' : 'TIMESTAMP WITHOUT TIME ZONE';
    case 'float':
      return dialect === 'mysql' ? 'FLOAT(10,2)' : 'REAL';
  }
}

function literal(c: ColumnDef, v: string | number | null): string {
  if (v === null) return 'NULL';
  if (typeof v === 'string') return `'${v.replaceAll("'", "''")}'`;
  return c.type === 'float' && Number.isInteger(v) ? v.toFixed(1) : String(v);
}

function columnSql(dialect: Dialect, c: ColumnDef): string {
  const def = c.default === undefined ? '' : ` DEFAULT ${literal(c, c.default)}`;
  const notNull = c.nullable === true ? '' : ' NOT NULL';
  return `"${c.name}" ${typeOf(dialect, c)}${def}${notNull}`;
}

/** the index's name in this dialect (Kamailio's naming) */
export function indexName(dialect: Dialect, table: TableDef, ix: IndexDef): string {
  return dialect === 'mysql' ? ix.name : `${table.name}_${ix.name}`;
}

const cols = (ix: IndexDef): string => ix.columns.map((c) => `"${c}"`).join(', ');

/** CREATE TABLE (and CREATE INDEX) statements for one table, in order. */
export function createTableSql(dialect: Dialect, table: TableDef): string[] {
  const lines = table.columns.map((c) => columnSql(dialect, c));
  for (const ix of table.indexes) {
    if (ix.unique) lines.push(`CONSTRAINT "${indexName(dialect, table, ix)}" UNIQUE (${cols(ix)})`);
    else if (dialect === 'mysql') lines.push(`INDEX "${ix.name}" (${cols(ix)})`);
  }
  const out = [`CREATE TABLE IF NOT EXISTS "${table.name}" (\n    ${lines.join(',\n    ')}\n)`];
  if (dialect !== 'mysql') {
    for (const ix of table.indexes) {
      if (!ix.unique) out.push(`CREATE INDEX IF NOT EXISTS "${indexName(dialect, table, ix)}" ON "${table.name}" (${cols(ix)})`);
    }
  }
  return out;
}
