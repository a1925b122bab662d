/**
 * The databases of one runtime: one `Database` (one pool) per distinct db_url, opened when a
 * module first asks and closed with the runtime. Modules reach it through ModuleHost.database().
 */
import type { Logger } from 'pino';
import { openDatabase, type Database, type DbOptions } from './database.js';

export class Databases {
  private readonly open = new Map<string, Promise<Database>>();

  constructor(
    private readonly log: Logger,
    private readonly options: Partial<DbOptions>,
  ) {}

  /** The database at `url`, opened once; a failed open is forgotten so a later call tries again. */
  get(url: string): Promise<Database> {
    let p = this.open.get(url);
    if (p === undefined) {
      p = openDatabase(url, this.log, this.options);
      this.open.set(url, p);
      p.catch(() => { if (this.open.get(url) === p) this.open.delete(url); });
    }
    return p;
  }

  async close(): Promise<void> {
    const all = [...this.open.values()];
    this.open.clear();
    await Promise.allSettled(all.map(async (p) => { await (await p).close(); }));
  }
}
