/**
 * `location` and `location_attrs`: registered contacts and their attributes (usrloc with
 * db_mode > 0).
 * Kamailio 5.6's layout, column for column, with the same indexes and table_version, written
 * from kamdbctl's usrloc-create.sql; test/db/schema.test.ts compares a database made
 * from that DDL with ours on each dialect.
 */
import type { TableDef } from './types.js';

const id = { name: 'id', type: 'id' } as const;

export const LOCATION_TABLE: TableDef = {
  name: 'location',
  version: 9,
  columns: [
    id,
    { name: 'ruid', type: 'varchar', size: 64, default: '' },
    { name: 'username', type: 'varchar', size: 64, default: '' },
    { name: 'domain', type: 'varchar', size: 64, nullable: true, default: null },
    { name: 'contact', type: 'varchar', size: 512, default: '' },
    { name: 'received', type: 'varchar', size: 128, nullable: true, default: null },
    { name: 'path', type: 'varchar', size: 512, nullable: true, default: null },
    { name: 'expires', type: 'datetime', default: '2030-05-28 21:32:15' },
    { name: 'q', type: 'float', default: 1 },
    { name: 'callid', type: 'varchar', size: 255, default: 'Default-Call-ID' },
    { name: 'cseq', type: 'int', size: 11, default: 1 },
    { name: 'last_modified', type: 'datetime', default: '2000-01-01 00:00:01' },
    { name: 'flags', type: 'int', size: 11, default: 0 },
    { name: 'cflags', type: 'int', size: 11, default: 0 },
    { name: 'user_agent', type: 'varchar', size: 255, default: '' },
    { name: 'socket', type: 'varchar', size: 64, nullable: true, default: null },
    { name: 'methods', type: 'int', size: 11, nullable: true, default: null },
    { name: 'instance', type: 'varchar', size: 255, nullable: true, default: null },
    { name: 'reg_id', type: 'int', size: 11, default: 0 },
    { name: 'server_id', type: 'int', size: 11, default: 0 },
    { name: 'connection_id', type: 'int', size: 11, default: 0 },
    { name: 'keepalive', type: 'int', size: 11, default: 0 },
    { name: 'partition', type: 'int', size: 11, default: 0 },
  ],
  indexes: [
    { name: 'ruid_idx', columns: ['ruid'], unique: true },
    { name: 'account_contact_idx', columns: ['username', 'domain', 'contact'], unique: false },
    { name: 'expires_idx', columns: ['expires'], unique: false },
    { name: 'tcpcon_idx', columns: ['connection_id'], unique: false },
    { name: 'connection_idx', columns: ['server_id', 'connection_id'], unique: false },
  ],
};

/** per-contact attributes (usrloc's xavp_contact) */
export const LOCATION_ATTRS_TABLE: TableDef = {
  name: 'location_attrs',
  version: 1,
  columns: [
    id,
    { name: 'ruid', type: 'varchar', size: 64, default: '' },
    { name: 'username', type: 'varchar', size: 64, default: '' },
    { name: 'domain', type: 'varchar', size: 64, nullable: true, default: null },
    { name: 'aname', type: 'varchar', size: 64, default: '' },
    { name: 'atype', type: 'int', size: 11, default: 0 },
    { name: 'avalue', type: 'varchar', size: 512, default: '' },
    { name: 'last_modified', type: 'datetime', default: '2000-01-01 00:00:01' },
  ],
  indexes: [
    { name: 'account_record_idx', columns: ['username', 'domain', 'ruid'], unique: false },
    { name: 'last_modified_idx', columns: ['last_modified'], unique: false },
  ],
};
