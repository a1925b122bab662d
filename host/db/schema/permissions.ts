/**
 * `address` and `trusted`: the permissions module's allow_address() groups and
 * allow_trusted() peers.
 * Kamailio 5.6's layout, column for column, with the same indexes and table_version, written
 * from kamdbctl's permissions-create.sql; test/db/schema.test.ts compares a database made
 * from that DDL with ours on each dialect.
 */
import type { TableDef } from './types.js';

const id = { name: 'id', type: 'id' } as const;

export const TRUSTED_TABLE: TableDef = {
  name: 'trusted',
  version: 6,
  columns: [
    id,
    { name: 'src_ip', type: 'varchar', size: 50 },
    { name: 'proto', type: 'varchar', size: 4 },
    { name: 'from_pattern', type: 'varchar', size: 64, nullable: true, default: null },
    { name: 'ruri_pattern', type: 'varchar', size: 64, nullable: true, default: null },
    { name: 'tag', type: 'varchar', size: 64, nullable: true },
    { name: 'priority', type: 'int', default: 0 },
  ],
  indexes: [{ name: 'peer_idx', columns: ['src_ip'], unique: false }],
};

/**
 * allow_address() groups. `port` is SMALLINT in Kamailio's PostgreSQL DDL too, so there a port
 * above 32767 does not fit (as in Kamailio).
 */
export const ADDRESS_TABLE: TableDef = {
  name: 'address',
  version: 6,
  columns: [
    id,
    { name: 'grp', type: 'int', size: 11, unsigned: true, default: 1 },
    { name: 'ip_addr', type: 'varchar', size: 50 },
    { name: 'mask', type: 'int', default: 32 },
    { name: 'port', type: 'smallint', size: 5, unsigned: true, default: 0 },
    { name: 'tag', type: 'varchar', size: 64, nullable: true },
  ],
  indexes: [],
};
