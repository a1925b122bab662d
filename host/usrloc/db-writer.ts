/**
 * usrloc's writes to the `location` table (docs/store.md, "the contract", point 3): a change is
 * made in memory first, then queued here and sent without making the script wait. WORKERS
 * queues run side by side (the default pool has 4 connections: more in flight would only wait
 * in the pool, against the per-call deadline); a contact's writes always go to the same queue
 * (by its ruid), so they go out in order. The queues are bounded (`max_pending`): when full a
 * write is dropped, counted (`usrloc:db_writes_dropped`) and logged — memory stays the truth,
 * and db_mode 2's next flush or a re-REGISTER writes the contact again. A failed write is
 * counted (`usrloc:db_write_errors`) and logged the same way; there is no retry (a write sent
 * twice could apply twice).
 *
 * In db_mode 3 on SQLite the writes are synchronous (`db.sync`): the row is there when save()
 * returns, for every other process reading the file.
 */
import type { Logger } from 'pino';
import type { ErrorBoundary } from '../boundary.js';
import type { Database, SqlParam, SyncQueryable } from '../db/database.js';
import type { Counter } from '../kemi/stats.js';
import { LogLimiter } from '../log-limiter.js';
import type { UlContact } from './contact.js';
import { COLUMNS, quoted, rowValues, UPDATE_COLUMNS, updateValues } from './db-rows.js';

export interface WriterCounters {
  readonly writes: Counter;
  readonly errors: Counter;
  readonly dropped: Counter;
  /** writes queued or in flight (a gauge) */
  readonly pending: Counter;
}

type Op = { readonly ruid: string; readonly sql: string; readonly params: readonly SqlParam[] };

/** Writes in flight at once: the default pool_size. */
const WORKERS = 4;

function workerOf(ruid: string): number {
  let h = 0;
  for (let i = 0; i < ruid.length; i++) h = (h * 31 + ruid.charCodeAt(i)) >>> 0;
  return h % WORKERS;
}

export class DbWriter {
  private readonly queues: Op[][] = Array.from({ length: WORKERS }, () => []);
  private readonly busy: boolean[] = Array.from({ length: WORKERS }, () => false);
  /** ruid → its writes queued or running */
  private readonly byRuid = new Map<string, number>();
  private inFlight = 0;
  private readonly limiter = new LogLimiter(10_000);
  private readonly idle: (() => void)[] = [];

  constructor(
    private readonly db: Database,
    private readonly useDomain: boolean,
    private readonly maxPending: number,
    private readonly c: WriterCounters,
    private readonly log: Logger,
    private readonly boundary: ErrorBoundary,
    /** SQLite in db_mode 3: write before returning */
    private readonly sync: SyncQueryable | null,
  ) {}

  insert(table: string, c: UlContact): void {
    const cols = COLUMNS.map(quoted).join(', ');
    const marks = COLUMNS.map(() => '?').join(', ');
    this.queue({ ruid: c.ruid, sql: `INSERT INTO ${table} (${cols}) VALUES (${marks})`, params: rowValues(c, this.useDomain, this.db.dialect) });
  }

  update(table: string, c: UlContact): void {
    const set = UPDATE_COLUMNS.map((col) => `${quoted(col)} = ?`).join(', ');
    this.queue({ ruid: c.ruid, sql: `UPDATE ${table} SET ${set} WHERE "ruid" = ?`, params: updateValues(c, this.useDomain, this.db.dialect) });
  }

  delete(table: string, ruid: string): void {
    this.queue({ ruid, sql: `DELETE FROM ${table} WHERE "ruid" = ?`, params: [ruid] });
  }

  /** ruids with a write queued or in flight: a reload from the table must not undo them. */
  pendingRuids(): ReadonlySet<string> {
    return new Set(this.byRuid.keys());
  }

  get pending(): number {
    return this.inFlight;
  }

  /** Resolves when every queued write has finished (close, ul.flush, tests). */
  drained(): Promise<void> {
    if (this.inFlight === 0) return Promise.resolve();
    return new Promise((resolve) => this.idle.push(resolve));
  }

  private queue(op: Op): void {
    if (this.sync !== null) {
      this.runSync(op);
      return;
    }
    if (this.inFlight >= this.maxPending) {
      this.c.dropped.value++;
      this.complain('location write dropped: too many writes pending (max_pending); memory keeps the change', { ruid: op.ruid, pending: this.inFlight });
      return;
    }
    this.inFlight++;
    this.c.pending.value++;
    this.byRuid.set(op.ruid, (this.byRuid.get(op.ruid) ?? 0) + 1);
    const w = workerOf(op.ruid);
    (this.queues[w] as Op[]).push(op);
    if (!this.busy[w]) this.boundary.then(this.work(w), 'module-promise', () => undefined, (e: unknown) => { this.boundary.caught('module-promise', e); });
  }

  /** One queue's writes, one after the other, until it is empty. */
  private async work(w: number): Promise<void> {
    this.busy[w] = true;
    const q = this.queues[w] as Op[];
    for (let op = q.shift(); op !== undefined; op = q.shift()) {
      await this.run(op);
      const n = (this.byRuid.get(op.ruid) ?? 1) - 1;
      if (n === 0) this.byRuid.delete(op.ruid);
      else this.byRuid.set(op.ruid, n);
      this.inFlight--;
      this.c.pending.value--;
    }
    this.busy[w] = false;
    if (this.inFlight === 0) for (const f of this.idle.splice(0)) f();
  }

  /** One write; never rejects (a failure is counted and logged). */
  private async run(op: Op): Promise<void> {
    try {
      await this.db.exec(op.sql, op.params);
      this.c.writes.value++;
    } catch (e) {
      this.c.errors.value++;
      this.complain('location write failed; memory keeps the change', { err: e instanceof Error ? e.message : String(e) });
    }
  }

  private runSync(op: Op): void {
    try {
      this.sync?.exec(op.sql, op.params);
      this.c.writes.value++;
    } catch (e) {
      this.c.errors.value++;
      this.complain('location write failed; memory keeps the change', { err: e instanceof Error ? e.message : String(e) });
    }
  }

  private complain(text: string, fields: Record<string, unknown>): void {
    if (this.limiter.allow(text)) this.log.error({ ...fields, suppressed: this.limiter.suppressed(text) }, text);
  }
}
