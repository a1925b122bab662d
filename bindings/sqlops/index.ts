/**
 * KSR.sqlops: Kamailio's sqlops, raw SQL from the script on named connections (`sqlcon`), with
 * results read through $dbr(name=>…) and sql_result_get(). A query on MySQL/PostgreSQL waits in
 * place (host/kemi/wait.ts) rather than blocking the server as Kamailio's blocks its worker.
 * docs/sqlops.md.
 */
import { KemiError } from '../../host/errors.js';
import { LogLimiter } from '../../host/log-limiter.js';
import type { Context } from '../../host/kemi/context.js';
import { defineModule, fn, type ModuleHost, type Xval } from '../../host/kemi/types.js';
import { waitFn } from '../../host/kemi/wait.js';
import { connectAll, connectionsOf } from './connections.js';
import { params, type Params } from './params.js';
import { sqlPvquery, sqlQuery, sqlQueryAsync, sqlXquery, type SqlopsState } from './query.js';
import { cell, parseDbr, ResultStore, type DbrSpec } from './results.js';

interface State extends SqlopsState {
  readonly connectMode: number;
  /** $dbr params as parsed (scripts pass the same few constant names) */
  readonly dbrSpecs: Map<string, DbrSpec | null>;
}

const DBR_SPECS_MAX = 1024;

function init(host: ModuleHost, p: Params): State {
  const results = new ResultStore(p.results_maxsize);
  for (const name of p.sqlres) {
    if (!results.declare(name)) throw new KemiError('KEMI_ERR_CONFIG', `sqlops: more sqlres names than results_maxsize (${String(p.results_maxsize)})`);
  }
  return {
    host,
    cons: connectionsOf(host, p.sqlcon),
    results,
    maxRows: p.results_maxrows,
    connectMode: p.connect_mode,
    stats: { queries: host.stat('queries'), failures: host.stat('failures'), asyncPending: host.gauge('async_pending') },
    asyncLog: new LogLimiter(10_000),
    dbrSpecs: new Map(),
  };
}

/** Kamailio's three answers for "no value": get → null, gete → '', getz → 0. */
type NullAs = null | '' | 0;

function resultGet(s: State, ctx: Context, res: string, row: number, col: number, none: NullAs): Xval {
  return cell(s.results.get(ctx, res), row, col) ?? none;
}

/** sql_is_null: 1 NULL, 0 not, -1 outside the result */
function isNull(s: State, ctx: Context, res: string, row: number, col: number): number {
  const v = cell(s.results.get(ctx, res), row, col);
  if (v === undefined) {
    s.host.complain('KSR.sqlops.sql_is_null: row or column outside the result', { res, row, col });
    return -1;
  }
  return v === null ? 1 : 0;
}

/** An index of $dbr: a number, or a PV holding one ("$var(i)"). */
function dbrIndex(s: State, ctx: Context, raw: string): number | null {
  if (!raw.startsWith('$')) return Number(raw);
  const v = s.host.pvs.resolve(raw)?.get(ctx) ?? null;
  const n = typeof v === 'number' ? v : typeof v === 'string' && /^-?\d+$/.test(v) ? Number(v) : null;
  return n;
}

function dbr(s: State, ctx: Context, param: string): Xval {
  let spec = s.dbrSpecs.get(param);
  if (spec === undefined) {
    spec = parseDbr(param);
    if (s.dbrSpecs.size >= DBR_SPECS_MAX) s.dbrSpecs.clear();
    s.dbrSpecs.set(param, spec);
  }
  if (spec === null) {
    s.host.complain('$dbr: expected $dbr(name=>rows|cols|[row,col]|colname[col])', { param });
    return null;
  }
  const r = s.results.get(ctx, spec.name);
  const key = spec.key;
  switch (key.kind) {
    case 'rows':
      return r.rows.length;
    case 'cols':
      return r.columns.length;
    case 'colname': {
      const c = dbrIndex(s, ctx, key.col);
      return c === null ? null : r.columns[c] ?? null;
    }
    case 'value': {
      const row = dbrIndex(s, ctx, key.row);
      const col = dbrIndex(s, ctx, key.col);
      return row === null || col === null ? null : cell(r, row, col) ?? null;
    }
  }
}

/** $sqlrows(con): rows the connection's last statement returned or changed */
function sqlrows(s: State, _ctx: Context, con: string): Xval {
  const c = s.cons.get(con);
  if (c === undefined) {
    s.host.complain('$sqlrows: no connection of that name in sqlops\' sqlcon', { con });
    return null;
  }
  return c.affected;
}

export default defineModule({
  name: 'sqlops',
  doc: 'Kamailio sqlops: raw SQL on named connections; results in $dbr, xavps or PVs. A query on MySQL/PostgreSQL waits in place (Lua: a plain call; JS: await it inside an async function)',
  params,
  stats: ['queries', 'failures', 'async_pending'],
  init,
  start: (s: State) => connectAll(s.host, s.cons, s.connectMode),
  functions: {
    sql_query: waitFn(['str', 'str', 'str'], 'int', sqlQuery,
      'run a statement on connection `con` and keep its rows as result `res` ($dbr(res=>…)); 0 when it ran, -1 when not (Kamailio 5.6\'s KEMI codes). Waits in place on MySQL/PostgreSQL'),
    sql_xquery: waitFn(['str', 'str', 'str'], 'int', sqlXquery,
      'run a statement and add each row as a record of $xavp(name) (columns by name, first row at index 0); 1 when it ran, -1 when not. Waits in place on MySQL/PostgreSQL'),
    sql_pvquery: waitFn(['str', 'str', 'str'], 'int', sqlPvquery,
      'run a statement and set the PVs of the list "$pv;$pv;…" from its columns (last row first); 1 with rows, 2 without, -1 on error. Waits in place on MySQL/PostgreSQL'),
    sql_query_async: fn(['str', 'str'], 'int', (s: State, _ctx, con, sql) => sqlQueryAsync(s, con, sql),
      'send a statement whose result nobody needs (INSERT, UPDATE, DELETE) and go on; 1 once sent, -1 for an unknown connection or too many in flight'),
    sql_result_free: fn(['str'], 'int', (s: State, ctx, res) => {
      s.results.free(ctx, res);
      return 1;
    }, 'empty result `res`; 1'),
    sql_num_rows: fn(['str'], 'int', (s: State, ctx, res) => s.results.get(ctx, res).rows.length, 'rows of result `res`'),
    sql_num_columns: fn(['str'], 'int', (s: State, ctx, res) => s.results.get(ctx, res).columns.length, 'columns of result `res`'),
    sql_is_null: fn(['str', 'int', 'int'], 'int', isNull, '1 when the value at (row, col) of result `res` is NULL, 0 when not, -1 outside the result'),
    sql_result_get: fn(['str', 'int', 'int'], 'xval', (s: State, ctx, res, row, col) => resultGet(s, ctx, res, row, col, null),
      'the value at (row, col) of result `res` (integer or string); nil/null when NULL or outside'),
    sql_result_gete: fn(['str', 'int', 'int'], 'xval', (s: State, ctx, res, row, col) => resultGet(s, ctx, res, row, col, ''),
      'as sql_result_get, with "" for NULL or outside'),
    sql_result_getz: fn(['str', 'int', 'int'], 'xval', (s: State, ctx, res, row, col) => resultGet(s, ctx, res, row, col, 0),
      'as sql_result_get, with 0 for NULL or outside'),
  },
  pvs: {
    dbr: { get: dbr, param: true, doc: '$dbr(res=>rows), $dbr(res=>cols), $dbr(res=>[row,col]) (indexes numbers or PVs), $dbr(res=>colname[col]): what sql_query stored as `res`' },
    sqlrows: { get: sqlrows, param: true, doc: '$sqlrows(con): rows the last statement on connection `con` returned or changed' },
  },
});
