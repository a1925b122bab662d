/**
 * Where the destinations come from: Kamailio's dispatcher.list file (ds_load_list) or the
 * `dispatcher` table (ds_load_db), both read into the same rows.
 */
import { readFile } from 'node:fs/promises';
import type { Database } from '../db/database.js';
import { checkSchema, ensureSchema } from '../db/ensure-schema.js';
import { DISPATCHER_TABLE } from '../db/schema/dispatcher.js';
import { KemiError } from '../errors.js';

export interface DsRow {
  readonly setid: number;
  readonly uri: string;
  readonly flags: number;
  readonly priority: number;
  readonly attrs: string;
}

export class ListFileError extends Error {}

const SPACE = /[ \t\r\n]/;

/** Leading digits as Kamailio's loop reads them (none: 0), and where they end. */
function digits(line: string, i: number): [number, number] {
  let n = 0;
  while (i < line.length && line.charCodeAt(i) >= 0x30 && line.charCodeAt(i) <= 0x39) n = n * 10 + line.charCodeAt(i++) - 0x30;
  return [n, i];
}

function skipSpace(line: string, i: number): number {
  while (i < line.length && SPACE.test(line.charAt(i))) i++;
  return i;
}

/** One line: `setid uri [flags [priority [attrs]]]`, # comments; null for a blank or comment line. */
export function parseListLine(line: string): DsRow | null {
  let i = skipSpace(line, 0);
  if (i >= line.length || line[i] === '#') return null;
  const [setid, afterId] = digits(line, i);
  i = afterId;
  i = skipSpace(line, i);
  if (i >= line.length || line[i] === '#') throw new ListFileError(`bad line [${line.trim()}]`);
  const start = i;
  while (i < line.length && !SPACE.test(line.charAt(i)) && line[i] !== '#') i++;
  const uri = line.slice(start, i);
  i = skipSpace(line, i);
  let flags = 0;
  let priority = 0;
  let attrs = '';
  if (i < line.length && line[i] !== '#') {
    [flags, i] = digits(line, i);
    i = skipSpace(line, i);
    if (i < line.length && line[i] !== '#') {
      [priority, i] = digits(line, i);
      i = skipSpace(line, i);
      if (i < line.length && line[i] !== '#') {
        const a = i;
        while (i < line.length && !SPACE.test(line.charAt(i))) i++;
        attrs = line.slice(a, i);
      }
    }
  }
  return { setid, uri, flags, priority, attrs };
}

export async function readListFile(path: string): Promise<DsRow[]> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    throw new ListFileError(`can't open list file [${path}]: ${e instanceof Error ? e.message : String(e)}`);
  }
  const rows: DsRow[] = [];
  for (const line of text.split('\n')) {
    const r = parseListLine(line);
    if (r !== null) rows.push(r);
  }
  return rows;
}

export interface DsColumns {
  readonly table: string;
  readonly setid: string;
  readonly destination: string;
  readonly flags: string;
  readonly priority: string;
  readonly attrs: string;
}

const isDefault = (c: DsColumns): boolean =>
  c.table === 'dispatcher' && c.setid === 'setid' && c.destination === 'destination' && c.flags === 'flags' && c.priority === 'priority' && c.attrs === 'attrs';

/** As the permissions table: created on SQLite when missing with Kamailio's names, else its version checked. */
export async function prepareDispatcherTable(db: Database, c: DsColumns): Promise<void> {
  if (isDefault(c)) {
    if (db.dialect === 'sqlite') await ensureSchema(db, [DISPATCHER_TABLE]);
    else await checkSchema(db, [DISPATCHER_TABLE]);
    return;
  }
  const rows = await db.query<{ v: unknown }>('SELECT table_version AS "v" FROM version WHERE table_name = ?', [c.table]);
  const v = rows[0]?.v;
  if (v === undefined || Number(v) !== DISPATCHER_TABLE.version) {
    const got = v === undefined ? 'no row in version' : `table_version ${String(Number(v))}`;
    throw new KemiError('KEMI_ERR_DB_SCHEMA', `${db.url.redacted}: table ${c.table} has ${got}, the dispatcher module needs ${String(DISPATCHER_TABLE.version)} (Kamailio 5.6's)`);
  }
}

const int = (v: unknown): number => {
  const n = Number(v ?? 0);
  return Number.isFinite(n) ? Math.trunc(n) : 0;
};

/** Every row in the order the database gives them (Kamailio asks for no order either). */
export async function readDispatcherRows(db: Database, c: DsColumns): Promise<DsRow[]> {
  const q = (n: string): string => `"${n}"`;
  const rows = await db.query(`SELECT ${q(c.setid)} AS "s", ${q(c.destination)} AS "d", ${q(c.flags)} AS "f", ${q(c.priority)} AS "p", ${q(c.attrs)} AS "a" FROM ${q(c.table)}`);
  return rows.map((r) => ({ setid: int(r.s), uri: typeof r.d === 'string' ? r.d : '', flags: int(r.f), priority: int(r.p), attrs: typeof r.a === 'string' ? r.a : '' }));
}
