/**
 * The queries: sql_query (into a result container), sql_xquery (into an xavp), sql_pvquery (into
 * PVs) and sql_query_async (fire and forget), with Kamailio 5.6's KEMI return codes.
 *
 * A query on SQLite answers at once. On MySQL/PostgreSQL the call returns a Wait (issue 17): the
 * engine suspends the callback (a Lua coroutine yields, a JS async function awaits) while the
 * query runs, and the script sees an ordinary call returning the code. Kamailio's sql_query
 * blocks its worker instead. Whatever a query writes (result, xavp, PVs) is written before the
 * call returns; after a wait that ended early (timeout, shutdown) nothing is written.
 */
import type { RawResult } from '../../host/db/database.js';
import { LogLimiter } from '../../host/log-limiter.js';
import type { Context } from '../../host/kemi/context.js';
import type { ResolvedPv } from '../../host/kemi/pv.js';
import type { Counter, } from '../../host/kemi/stats.js';
import type { ModuleHost, Xval } from '../../host/kemi/types.js';
import { Wait } from '../../host/kemi/wait.js';
import type { XavpRecord } from '../../host/kemi/xavp.js';
import type { SqlCon } from './connections.js';
import { EMPTY, fromRaw, toXval, type ResultStore } from './results.js';

/** sql_query_async statements in flight at most; more are refused with -1 */
export const ASYNC_MAX_PENDING = 256;
/** how much of a failed statement a log line shows (Kamailio: 64 characters) */
const QUERY_SHOWN = 64;

export interface SqlopsState {
  readonly host: ModuleHost;
  readonly cons: ReadonlyMap<string, SqlCon>;
  readonly results: ResultStore;
  readonly maxRows: number;
  readonly stats: { readonly queries: Counter; readonly failures: Counter; readonly asyncPending: Counter };
  /** sql_query_async failures arrive after the script moved on: logged at most once per 10 s */
  readonly asyncLog: LogLimiter;
}

const shown = (sql: string): string => (sql.length > QUERY_SHOWN ? `${sql.slice(0, QUERY_SHOWN)}…` : sql);
const why = (e: unknown): string => (e instanceof Error ? e.message : String(e));

/**
 * Run `sql` on the named connection and give its result to `accept`, which returns the call's
 * code or why the result will not do; -1 for an unknown connection, a failed statement, too
 * many rows or a refused result, with `failed` run and the reason logged.
 */
function run(
  s: SqlopsState,
  what: string,
  conName: string,
  sql: string,
  accept: (r: RawResult) => number | string,
  failed: () => void,
): number | Wait<number> {
  const con = s.cons.get(conName);
  if (con === undefined) {
    s.host.complain(`${what}: no connection of that name in sqlops' sqlcon`, { con: conName });
    failed();
    return -1;
  }
  /** the rows check and the hand-over, common to both paths; a string says why it failed */
  const settle = (r: RawResult): number | string => {
    con.affected = r.columns.length > 0 ? r.rows.length : r.changes;
    if (r.rows.length > s.maxRows) return `${String(r.rows.length)} rows, more than results_maxrows (${String(s.maxRows)}): add a LIMIT`;
    return accept(r);
  };
  const fail = (reason: string): void => {
    s.stats.failures.value++;
    failed();
    s.host.complain(`${what} failed`, { con: conName, query: shown(sql), err: reason });
  };
  const sync = con.db?.sync;
  if (sync !== undefined && sync !== null) {
    s.stats.queries.value++;
    let out: number | string;
    try {
      out = settle(sync.raw(sql));
    } catch (e) {
      out = why(e);
    }
    if (typeof out === 'number') return out;
    fail(out);
    return -1;
  }
  return new Wait(
    what,
    // runs only once the callback can wait: a call that cannot sends nothing
    async (signal) => {
      s.stats.queries.value++;
      let out: number | string;
      try {
        const r = await (await con.open()).raw(sql);
        // the wait ended early: the script already went on with -1, and must not see this later
        if (signal.aborted) return -1;
        out = settle(r);
      } catch (e) {
        out = why(e);
      }
      if (typeof out === 'number') return out;
      s.stats.failures.value++;
      failed();
      // the engine logs a rejection with the call's name and counts the failure value
      throw new Error(`${what} on ${conName} failed: ${out} (query: ${shown(sql)})`);
    },
    -1,
  );
}

/** KSR.sqlops.sql_query: 0 when the statement ran (rows or not), -1 when not (Kamailio 5.6's KEMI codes). */
export function sqlQuery(s: SqlopsState, ctx: Context, con: string, sql: string, res: string): number | Wait<number> {
  if (!s.results.declare(res)) {
    s.host.complain('KSR.sqlops.sql_query: too many result containers (results_maxsize)', { res, max: s.results.size });
    return -1;
  }
  return run(s, 'KSR.sqlops.sql_query', con, sql, (r) => {
    s.results.set(ctx, res, r.columns.length > 0 && r.rows.length > 0 ? fromRaw(r) : EMPTY);
    return 0;
  }, () => { s.results.set(ctx, res, EMPTY); });
}

/**
 * KSR.sqlops.sql_xquery: each row a record of the xavp `name` (columns by name), first row
 * first; 1 when the statement ran (rows or not), -1 when not. Added on top of what the xavp
 * held, as Kamailio's xavp_add_value does.
 */
export function sqlXquery(s: SqlopsState, ctx: Context, con: string, sql: string, name: string): number | Wait<number> {
  if (name === '') {
    s.host.complain('KSR.sqlops.sql_xquery: empty xavp name');
    return -1;
  }
  return run(s, 'KSR.sqlops.sql_xquery', con, sql, (r) => {
    const records: XavpRecord[] = r.rows.map((row) => r.columns.map((c, j) => ({ name: c, value: toXval(row[j]) })));
    if (r.columns.length > 0 && records.length > 0) ctx.xavps.prepend(name, records);
    return 1;
  }, () => undefined);
}

/** "$var(a); $avp(b), $ru" → the PVs, or the complaint about the first that will not do. */
function pvList(s: SqlopsState, list: string): { spec: string; pv: ResolvedPv }[] | string {
  const out: { spec: string; pv: ResolvedPv }[] = [];
  let depth = 0;
  let start = 0;
  const specs: string[] = [];
  for (let i = 0; i <= list.length; i++) {
    const c = list[i];
    if (c === '(') depth++;
    else if (c === ')') depth--;
    else if (c === undefined || ((c === ';' || c === ',') && depth === 0)) {
      const spec = list.slice(start, i).trim();
      if (spec !== '') specs.push(spec);
      start = i + 1;
    }
  }
  if (specs.length === 0) return 'no PV in the result list';
  for (const spec of specs) {
    const pv = s.host.pvs.resolve(spec);
    if (pv === null) return `${spec} is not a pseudo-variable`;
    if (pv.set === undefined) return `${spec} is read-only`;
    out.push({ spec, pv });
  }
  return out;
}

/** AVPs keep their value when the column is NULL (Kamailio skips them); other PVs get $null. */
const keepsOnNull = (spec: string): boolean => /^\$\(?(avp|xavp|xavu|xavi)\(/.test(spec);

/**
 * KSR.sqlops.sql_pvquery: column j of each row into the j-th PV of `pvs`, last row first, so a
 * plain PV ends with the first row's value and an AVP stack has the first row on top; 1 with
 * rows, 2 without, -1 on error.
 */
export function sqlPvquery(s: SqlopsState, ctx: Context, con: string, sql: string, pvs: string): number | Wait<number> {
  const targets = pvList(s, pvs);
  if (typeof targets === 'string') {
    s.host.complain(`KSR.sqlops.sql_pvquery: ${targets}`, { pvs });
    return -1;
  }
  return run(s, 'KSR.sqlops.sql_pvquery', con, sql, (r) => {
    if (r.columns.length === 0 || r.rows.length === 0) return 2;
    if (r.columns.length > targets.length) return `${String(r.columns.length)} columns for ${String(targets.length)} PVs`;
    for (let i = r.rows.length - 1; i >= 0; i--) {
      const row = r.rows[i] ?? [];
      r.columns.forEach((_c, j) => {
        const t = targets[j];
        if (t === undefined) return;
        const v: Xval = toXval(row[j]);
        if (v === null && keepsOnNull(t.spec)) return;
        t.pv.set?.(ctx, v);
      });
    }
    return 1;
  }, () => undefined);
}

/**
 * KSR.sqlops.sql_query_async: send and go on (Kamailio hands the statement to an async worker
 * and never reports back); 1 once sent, -1 for an unknown connection or too many in flight.
 * A failure is logged when it comes, at most once per 10 s.
 */
export function sqlQueryAsync(s: SqlopsState, conName: string, sql: string): number {
  const con = s.cons.get(conName);
  if (con === undefined) {
    s.host.complain('KSR.sqlops.sql_query_async: no connection of that name in sqlops\' sqlcon', { con: conName });
    return -1;
  }
  if (s.stats.asyncPending.value >= ASYNC_MAX_PENDING) {
    s.host.complain('KSR.sqlops.sql_query_async: too many statements in flight', { con: conName, max: ASYNC_MAX_PENDING });
    return -1;
  }
  s.stats.queries.value++;
  s.stats.asyncPending.value++;
  const work = con.open().then((db) => db.raw(sql));
  const done = (): void => { s.stats.asyncPending.value--; };
  s.host.boundary.then(work, 'module-promise', (r) => {
    done();
    con.affected = r.columns.length > 0 ? r.rows.length : r.changes;
  }, (e: unknown) => {
    done();
    s.stats.failures.value++;
    const key = `async|${conName}`;
    if (s.asyncLog.allow(key)) {
      s.host.log.error({ con: conName, query: shown(sql), err: why(e), suppressed: s.asyncLog.suppressed(key) }, 'KSR.sqlops.sql_query_async failed');
    }
  });
  return 1;
}
