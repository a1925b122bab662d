/**
 * `subscriber`: accounts for digest authentication (auth_db; `kemihost ctl add`).
 * Kamailio 5.6's layout, column for column, with the same indexes and table_version, written
 * from kamdbctl's auth_db-create.sql; test/db/schema.test.ts compares a database made
 * from that DDL with ours on each dialect.
 */
import type { TableDef } from './types.js';

export const SUBSCRIBER_TABLE: TableDef = {
  name: 'subscriber',
  version: 7,
  columns: [
    { name: 'id', type: 'id' },
    { name: 'username', type: 'varchar', size: 64, default: '' },
    { name: 'domain', type: 'varchar', size: 64, default: '' },
    { name: 'password', type: 'varchar', size: 64, default: '' },
    { name: 'ha1', type: 'varchar', size: 128, default: '' },
    { name: 'ha1b', type: 'varchar', size: 128, default: '' },
  ],
  indexes: [
    { name: 'account_idx', columns: ['username', 'domain'], unique: true },
    { name: 'username_idx', columns: ['username'], unique: false },
  ],
};
