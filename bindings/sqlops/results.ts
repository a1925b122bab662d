/**
 * sqlops' result containers: what sql_query() stores under a name and $dbr(name=>…) and
 * sql_result_get() read.
 *
 * Kamailio keeps them per worker process, and a query there blocks the worker, so a script reads
 * the result it just made. Here a query waits in place while other messages run, and they may
 * query into the same name. So each result is kept twice: for the message that made it (until
 * that message's Context goes) and module-wide (the last one stored, for any later message, as
 * Kamailio's "query once, use many times"). A read takes the message's own first.
 */
import type { RawResult } from '../../host/db/database.js';
import type { Context } from '../../host/kemi/context.js';
import type { Xval } from '../../host/kemi/types.js';

export interface SqlResult {
  readonly columns: readonly string[];
  readonly rows: readonly (readonly Xval[])[];
}

export const EMPTY: SqlResult = { columns: [], rows: [] };

const INT32_MIN = -2_147_483_648;
const INT32_MAX = 2_147_483_647;

/**
 * A driver's value as a script sees it. Kamailio gives int columns as integers and everything it
 * can as strings (BIGINT too); a number that is not a 32-bit integer (a BIGINT, a float) is a
 * string here, so Lua and JS print it the same. Booleans are 1/0, blobs UTF-8 text, JSON text.
 */
export function toXval(v: unknown): Xval {
  if (v === null || v === undefined) return null;
  if (typeof v === 'number') return Number.isInteger(v) && v >= INT32_MIN && v <= INT32_MAX ? v : String(v);
  if (typeof v === 'string') return v;
  if (typeof v === 'bigint') return v >= INT32_MIN && v <= INT32_MAX ? Number(v) : v.toString();
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (Buffer.isBuffer(v)) return v.toString('utf8');
  if (v instanceof Date) return v.toISOString();
  // JSON columns (PostgreSQL's json/jsonb arrive parsed); a function or symbol has no JSON
  const json = JSON.stringify(v) as string | undefined;
  return json ?? null;
}

export function fromRaw(r: RawResult): SqlResult {
  return { columns: r.columns, rows: r.rows.map((row) => row.map(toXval)) };
}

export class ResultStore {
  private readonly shared = new Map<string, SqlResult>();
  private readonly own = new WeakMap<Context, Map<string, SqlResult>>();

  constructor(private readonly maxNames: number) {}

  /** Make a name exist (sqlres); false when results_maxsize names exist already. */
  declare(name: string): boolean {
    if (this.shared.has(name)) return true;
    if (this.shared.size >= this.maxNames) return false;
    this.shared.set(name, EMPTY);
    return true;
  }

  /** The result a read by this message sees; EMPTY for a name never stored (Kamailio makes it then, empty). */
  get(ctx: Context, name: string): SqlResult {
    return this.own.get(ctx)?.get(name) ?? this.shared.get(name) ?? EMPTY;
  }

  /** Store for this message and for later ones; the name must have been declared. */
  set(ctx: Context, name: string, r: SqlResult): void {
    this.shared.set(name, r);
    let mine = this.own.get(ctx);
    if (mine === undefined) {
      mine = new Map();
      this.own.set(ctx, mine);
    }
    mine.set(name, r);
  }

  /** sql_result_free: empty, as Kamailio's reset (the name stays). */
  free(ctx: Context, name: string): void {
    if (this.shared.has(name)) this.shared.set(name, EMPTY);
    this.own.get(ctx)?.delete(name);
  }

  get size(): number {
    return this.shared.size;
  }
}

/** The value at [row, col]; undefined when out of range (a NULL column is null). */
export function cell(r: SqlResult, row: number, col: number): Xval | undefined {
  if (row < 0 || col < 0 || col >= r.columns.length) return undefined;
  const values = r.rows[row];
  return values === undefined ? undefined : values[col] ?? null;
}

/** What a $dbr(name=>key) asks for; an index is a number or a PV name ("$var(i)"). */
export type DbrKey =
  | { readonly kind: 'rows' }
  | { readonly kind: 'cols' }
  | { readonly kind: 'value'; readonly row: string; readonly col: string }
  | { readonly kind: 'colname'; readonly col: string };

export interface DbrSpec {
  readonly name: string;
  readonly key: DbrKey;
}

const INDEX = String.raw`\s*(-?\d+|\$[^,\]]+?)\s*`;
const VALUE = new RegExp(String.raw`^\[${INDEX},${INDEX}\]$`);
const COLNAME = new RegExp(String.raw`^colname\[${INDEX}\]$`);

/** "ra=>[0,1]" and the like, as Kamailio's pv_parse_dbr_name reads it; null when malformed. */
export function parseDbr(param: string): DbrSpec | null {
  const arrow = param.indexOf('=>');
  if (arrow <= 0) return null;
  const name = param.slice(0, arrow).trim();
  const key = param.slice(arrow + 2).trim();
  if (name === '') return null;
  if (key === 'rows') return { name, key: { kind: 'rows' } };
  if (key === 'cols') return { name, key: { kind: 'cols' } };
  const v = VALUE.exec(key);
  if (v !== null) return { name, key: { kind: 'value', row: v[1] ?? '', col: v[2] ?? '' } };
  const c = COLNAME.exec(key);
  if (c !== null) return { name, key: { kind: 'colname', col: c[1] ?? '' } };
  return null;
}
