/**
 * The tables kemihost shares with Kamailio, and which module owns which (each module's tables
 * live in the database its `db_url` names). A module that brings a table adds its file here
 * and its entry to MODULE_TABLES; `kemihost ctl db init` creates whatever is listed.
 */
import { DISPATCHER_TABLE } from './dispatcher.js';
import { LOCATION_ATTRS_TABLE, LOCATION_TABLE } from './location.js';
import { ADDRESS_TABLE, TRUSTED_TABLE } from './permissions.js';
import { SUBSCRIBER_TABLE } from './subscriber.js';
import type { TableDef } from './types.js';
import { VERSION_TABLE } from './version.js';

export type { ColumnDef, ColumnKind, IndexDef, TableDef } from './types.js';
export { ADDRESS_TABLE, DISPATCHER_TABLE, LOCATION_ATTRS_TABLE, LOCATION_TABLE, SUBSCRIBER_TABLE, TRUSTED_TABLE, VERSION_TABLE };

/** by Kamailio module name; `version` goes wherever any of these go */
export const MODULE_TABLES: Readonly<Record<string, readonly TableDef[]>> = {
  auth_db: [SUBSCRIBER_TABLE],
  usrloc: [LOCATION_TABLE, LOCATION_ATTRS_TABLE],
  permissions: [ADDRESS_TABLE, TRUSTED_TABLE],
  dispatcher: [DISPATCHER_TABLE],
};

/** every table, `version` first */
export const KAMAILIO_TABLES: readonly TableDef[] = [VERSION_TABLE, ...Object.values(MODULE_TABLES).flat()];
