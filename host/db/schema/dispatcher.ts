/**
 * `dispatcher`: the dispatcher module's destination sets. Kamailio 5.6's layout column for
 * column (kamdbctl's dispatcher-create.sql, table_version 4); test/db/schema.test.ts compares
 * it with Kamailio's own DDL on each dialect.
 */
import type { TableDef } from './types.js';

export const DISPATCHER_TABLE: TableDef = {
  name: 'dispatcher',
  version: 4,
  columns: [
    { name: 'id', type: 'id' },
    { name: 'setid', type: 'int', default: 0 },
    { name: 'destination', type: 'varchar', size: 192, default: '' },
    { name: 'flags', type: 'int', default: 0 },
    { name: 'priority', type: 'int', default: 0 },
    { name: 'attrs', type: 'varchar', size: 128, default: '' },
    { name: 'description', type: 'varchar', size: 64, default: '' },
  ],
  indexes: [],
};
