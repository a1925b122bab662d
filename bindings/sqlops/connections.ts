/**
 * sqlops' named connections (`sqlcon`): each a Database of the store layer (host/db), opened
 * through ModuleHost.database(url), so two names with one URL share a pool and the runtime
 * closes them. A SQLite connection answers at once (its driver is synchronous); MySQL and
 * PostgreSQL answer later, and the script's call waits in place meanwhile.
 */
import type { Database } from '../../host/db/database.js';
import { redactDbUrl } from '../../host/db/url.js';
import { isKemiError, KemiError } from '../../host/errors.js';
import type { ModuleHost } from '../../host/kemi/types.js';
import { parseSqlcon } from './params.js';

export class SqlCon {
  /** set once opened: a failed open is tried again at the next query */
  db: Database | null = null;
  /** $sqlrows(name): rows the connection's last statement returned or changed */
  affected = 0;

  constructor(
    readonly name: string,
    private readonly url: string,
    private readonly host: ModuleHost,
  ) {}

  /** for log lines: the password never shows */
  get redacted(): string {
    return redactDbUrl(this.url);
  }

  async open(): Promise<Database> {
    if (this.db !== null) return this.db;
    const db = await this.host.database(this.url);
    this.db = db;
    return db;
  }
}

/** The connections of the sqlcon list (validated by the params schema). */
export function connectionsOf(host: ModuleHost, sqlcon: readonly string[]): Map<string, SqlCon> {
  const cons = new Map<string, SqlCon>();
  for (const raw of sqlcon) {
    const c = parseSqlcon(raw);
    if (typeof c !== 'string') cons.set(c.name, new SqlCon(c.name, c.url, host));
  }
  return cons;
}

/**
 * At start: open each connection and send it `SELECT 1`, as Kamailio's child_init connects.
 * connect_mode 0 stops the start-up on the first that fails; 1 logs it and goes on.
 */
export async function connectAll(host: ModuleHost, cons: ReadonlyMap<string, SqlCon>, connectMode: number): Promise<void> {
  for (const con of cons.values()) {
    try {
      const db = await con.open();
      await db.raw('SELECT 1');
    } catch (e) {
      const why = e instanceof Error ? e.message : String(e);
      if (connectMode === 0) {
        const code = isKemiError(e) ? e.code : 'KEMI_ERR_DB_UNREACHABLE';
        throw new KemiError(code, `sqlops: cannot connect ${con.name} (connect_mode 0 stops the start): ${why}`);
      }
      host.log.warn({ con: con.name, db: con.redacted, err: why }, 'sqlops: cannot connect; trying again at the first query (connect_mode 1)');
    }
  }
}
