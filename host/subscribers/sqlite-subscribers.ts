/**
 * Subscribers read straight from SQLite with db.sync, one indexed row per lookup (~4 µs,
 * docs/store.md): nothing is copied, and a row `kemihost ctl add` wrote is found by the next
 * request, even from another process (WAL: readers never wait for the writer).
 */
import { KemiError } from '../errors.js';
import type { Database, SyncQueryable } from '../db/database.js';
import { checkIdentifier, pickRow, selectList, type SubscriberColumns, type SubscriberRow, type SubscriberStore, type ReloadReport } from './store.js';

export class SqliteSubscribers implements SubscriberStore {
  readonly mode = 'direct';
  private readonly sync: SyncQueryable;
  private readonly select: string;

  constructor(
    db: Database,
    private readonly columns: SubscriberColumns,
  ) {
    if (db.sync === null) throw new KemiError('KEMI_ERR_ENGINE', 'SqliteSubscribers needs a SQLite database');
    this.sync = db.sync;
    this.select = selectList(columns);
  }

  find(table: string, user: string, domain: string | null): SubscriberRow | null {
    checkIdentifier(table, 'table');
    const c = this.columns;
    const where = domain === null ? `"${c.user}" = ?` : `"${c.user}" = ? AND "${c.domain}" = ?`;
    const rows = this.sync.query(`SELECT ${this.select} FROM "${table}" WHERE ${where} LIMIT 1`, domain === null ? [user] : [user, domain]);
    const row = rows[0];
    return row === undefined ? null : pickRow(row, c);
  }

  reload(): Promise<ReloadReport> {
    return Promise.resolve({ rows: {}, ms: 0 });
  }
}
