/**
 * The `version` table: which table_version of each table a database holds.
 * Kamailio 5.6's layout, column for column, with the same indexes and table_version, written
 * from kamdbctl's standard-create.sql; test/db/schema.test.ts compares a database made
 * from that DDL with ours on each dialect.
 */
import type { TableDef } from './types.js';

export const VERSION_TABLE: TableDef = {
  name: 'version',
  version: 1,
  columns: [
    { name: 'id', type: 'id' },
    { name: 'table_name', type: 'varchar', size: 32 },
    { name: 'table_version', type: 'int', unsigned: true, default: 0 },
  ],
  indexes: [{ name: 'table_name_idx', columns: ['table_name'], unique: true }],
};
