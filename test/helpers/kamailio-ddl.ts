/**
 * Kamailio's own DDL (kamdbctl's *-create.sql, installed with Kamailio under
 * /usr/share/kamailio/<dialect>/), read at test time to check our tables against it. Only
 * what those files use is parsed: CREATE TABLE with one column or constraint per line,
 * CREATE INDEX, and the INSERT INTO version rows.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Dialect } from '../../host/db/url.js';

const ROOT = process.env.KAMAILIO_DDL_DIR ?? '/usr/share/kamailio';
const DIRS: Record<Dialect, string> = { sqlite: 'db_sqlite', mysql: 'mysql', postgres: 'postgres' };
/** the files that hold the tables kemihost shares */
export const DDL_FILES = ['standard', 'auth_db', 'usrloc', 'permissions', 'dispatcher'] as const;

export function ddlPath(dialect: Dialect, file: string): string {
  return join(ROOT, DIRS[dialect], `${file}-create.sql`);
}

/** the concatenated DDL of DDL_FILES, or why it cannot be read */
export function kamailioDdl(dialect: Dialect): { text: string } | { missing: string } {
  const paths = DDL_FILES.map((f) => ddlPath(dialect, f));
  const absent = paths.filter((p) => !existsSync(p));
  if (absent.length > 0) return { missing: `Kamailio's DDL is not installed (${absent.join(', ')}); install kamailio (its *-create.sql) to run this check` };
  return { text: paths.map((p) => readFileSync(p, 'utf8')).join('\n') };
}

/** the statements of a DDL text, without the trailing ';' */
export function statements(text: string): string[] {
  return text
    .split(/;\s*\n/)
    .map((s) => s.replace(/^\s*--.*$/gm, '').trim().replace(/;$/, ''))
    .filter((s) => s !== '');
}

export interface ParsedIndex {
  readonly table: string;
  readonly name: string;
  readonly columns: readonly string[];
  readonly unique: boolean;
}

export interface ParsedDdl {
  /** table → [column name, normalised definition] in order */
  readonly tables: Map<string, [string, string][]>;
  readonly indexes: ParsedIndex[];
  readonly versions: Map<string, number>;
}

const unquote = (s: string): string => s.replace(/[`"]/g, '');
const norm = (s: string): string => unquote(s).replace(/\s+/g, ' ').trim().toUpperCase();
const colList = (s: string): string[] => unquote(s).split(',').map((c) => c.trim());

export function parseDdl(text: string): ParsedDdl {
  const tables = new Map<string, [string, string][]>();
  const indexes: ParsedIndex[] = [];
  const versions = new Map<string, number>();
  for (const st of statements(text)) {
    const create = /^CREATE TABLE (?:IF NOT EXISTS )?[`"]?(\w+)[`"]? \(\s*([\s\S]*)\)$/i.exec(st);
    if (create !== null) {
      const table = create[1] ?? '';
      const cols: [string, string][] = [];
      for (const raw of (create[2] ?? '').split(/,\s*\n/)) {
        const line = raw.trim();
        const unique = /^CONSTRAINT [`"]?(\w+)[`"]? UNIQUE \((.*)\)$/i.exec(line);
        const index = /^INDEX [`"]?(\w+)[`"]? \((.*)\)$/i.exec(line);
        if (unique !== null) indexes.push({ table, name: unique[1] ?? '', columns: colList(unique[2] ?? ''), unique: true });
        else if (index !== null) indexes.push({ table, name: index[1] ?? '', columns: colList(index[2] ?? ''), unique: false });
        else {
          const col = /^[`"]?(\w+)[`"]? (.*)$/.exec(line);
          if (col === null) throw new Error(`cannot parse column line: ${line}`);
          cols.push([col[1] ?? '', norm(col[2] ?? '')]);
        }
      }
      tables.set(table, cols);
      continue;
    }
    const index = /^CREATE (UNIQUE )?INDEX (?:IF NOT EXISTS )?[`"]?(\w+)[`"]? ON [`"]?(\w+)[`"]? \((.*)\)$/i.exec(st);
    if (index !== null) {
      indexes.push({ table: index[3] ?? '', name: index[2] ?? '', columns: colList(index[4] ?? ''), unique: index[1] !== undefined });
      continue;
    }
    const version = /^INSERT INTO version \(table_name, table_version\) values \('(\w+)',\s*'(\d+)'\)$/i.exec(st);
    if (version !== null) {
      versions.set(version[1] ?? '', Number(version[2]));
      continue;
    }
    throw new Error(`unexpected statement in Kamailio's DDL: ${st.slice(0, 80)}`);
  }
  return { tables, indexes, versions };
}
