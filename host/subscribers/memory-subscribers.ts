/**
 * Subscribers of MySQL/PostgreSQL, copied into memory: each table read whole (only the columns
 * auth_db uses) and indexed by username and by username+domain. A reload reads every table
 * beside the current copy and swaps when all are read; a failed reload keeps the old copy. A
 * table larger than max_rows is refused rather than filling the heap.
 *
 * What an operator gets: a change in the database is seen after the next reload — the
 * auth_db.reload RPC (`kemihost ctl add/rm/passwd` calls it when the server's RPC is
 * reachable), or the refresh every reload_interval seconds.
 */
import { KemiError } from '../errors.js';
import type { Database } from '../db/database.js';
import { checkIdentifier, pickRow, selectList, type ReloadReport, type SubscriberColumns, type SubscriberRow, type SubscriberStore } from './store.js';

interface TableCopy {
  readonly byUser: ReadonlyMap<string, SubscriberRow>;
  readonly byUserDomain: ReadonlyMap<string, SubscriberRow>;
}

const key = (user: string, domain: string): string => `${user}\u0000${domain}`;

export class MemorySubscribers implements SubscriberStore {
  readonly mode = 'copy';
  private copies = new Map<string, TableCopy>();
  private readonly select: string;
  /** one reload at a time; a reload asked for meanwhile waits for it and runs once after */
  private running: Promise<ReloadReport> | null = null;
  private again: Promise<ReloadReport> | null = null;

  constructor(
    private readonly db: Database,
    private readonly columns: SubscriberColumns,
    private readonly tables: readonly string[],
    private readonly maxRows: number,
  ) {
    for (const t of tables) checkIdentifier(t, 'table');
    this.select = selectList(columns);
  }

  find(table: string, user: string, domain: string | null): SubscriberRow | null {
    const copy = this.copies.get(table);
    if (copy === undefined) {
      throw new KemiError('KEMI_ERR_DB_NOT_FOUND', `table ${table} is not loaded (auth_db.tables lists the tables kept in memory: ${this.tables.join(', ')})`);
    }
    return (domain === null ? copy.byUser.get(user) : copy.byUserDomain.get(key(user, domain))) ?? null;
  }

  /** rows held, by table */
  counts(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const [t, c] of this.copies) out[t] = c.byUserDomain.size;
    return out;
  }

  reload(): Promise<ReloadReport> {
    if (this.running === null) {
      const p = this.load();
      this.running = p;
      const clear = (): void => { if (this.running === p) this.running = null; };
      p.then(clear, clear);
      return p;
    }
    // a change made while a load was reading may be missed by it: run once more after it
    if (this.again === null) {
      const next = this.running.then(() => undefined, () => undefined).then(() => {
        this.again = null;
        return this.reload();
      });
      this.again = next;
    }
    return this.again;
  }

  private async load(): Promise<ReloadReport> {
    const t0 = performance.now();
    const next = new Map<string, TableCopy>();
    const c = this.columns;
    for (const table of this.tables) {
      const rows = await this.db.query(`SELECT ${this.select} FROM "${table}" LIMIT ${String(this.maxRows + 1)}`);
      if (rows.length > this.maxRows) {
        throw new KemiError('KEMI_ERR_DB_QUERY', `table ${table} has more than max_rows (${String(this.maxRows)}) rows; raise auth_db.max_rows or use SQLite`);
      }
      const byUser = new Map<string, SubscriberRow>();
      const byUserDomain = new Map<string, SubscriberRow>();
      for (const raw of rows) {
        const row = pickRow(raw, c);
        const user = String(row[c.user] ?? '');
        const domain = String(row[c.domain] ?? '');
        if (!byUser.has(user)) byUser.set(user, row);
        if (!byUserDomain.has(key(user, domain))) byUserDomain.set(key(user, domain), row);
      }
      next.set(table, { byUser, byUserDomain });
    }
    this.copies = next;
    return { rows: this.counts(), ms: performance.now() - t0 };
  }
}
