/**
 * A table as data: what `ensureSchema` creates and checks, in a form that renders to the same
 * DDL Kamailio's kamdbctl installs (host/db/ddl.ts does the rendering per dialect). A module
 * that needs a table adds one TableDef beside these and lists it where it opens its database.
 *
 * Types are Kamailio's logical ones; the per-dialect spelling lives in ddl.ts:
 *   id        auto-increment primary key      INTEGER PRIMARY KEY | INT(10) UNSIGNED AUTO_INCREMENT | SERIAL
 *   int       INTEGER | INT[(size)] [UNSIGNED] | INTEGER
 *   smallint  SMALLINT | SMALLINT[(size)] [UNSIGNED] | SMALLINT
 *   varchar   VARCHAR(size) everywhere
 *   datetime  TIMESTAMP WITHOUT TIME ZONE | DATETIME | TIMESTAMP WITHOUT TIME ZONE
 *   float     REAL | FLOAT(10,2) | REAL
 * `size` and `unsigned` only change MySQL's spelling (as Kamailio's do).
 */
export type ColumnKind = 'id' | 'int' | 'smallint' | 'varchar' | 'datetime' | 'float';

export interface ColumnDef {
  readonly name: string;
  readonly type: ColumnKind;
  /** varchar: its length (required); int/smallint: MySQL's display width */
  readonly size?: number;
  readonly unsigned?: boolean;
  /** NULL allowed; default false (NOT NULL) */
  readonly nullable?: boolean;
  /** the DEFAULT clause: a value, null for DEFAULT NULL, absent for none */
  readonly default?: string | number | null;
}

export interface IndexDef {
  /** MySQL's name; SQLite and PostgreSQL prefix it with the table name (as Kamailio does) */
  readonly name: string;
  readonly columns: readonly string[];
  /** a UNIQUE table constraint (Kamailio's form) rather than a CREATE INDEX */
  readonly unique: boolean;
}

export interface TableDef {
  readonly name: string;
  /** the row in `version` (Kamailio's table_version); a database with another one is refused */
  readonly version: number;
  readonly columns: readonly ColumnDef[];
  readonly indexes: readonly IndexDef[];
}
