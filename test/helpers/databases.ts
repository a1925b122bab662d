/**
 * Real databases for the store tests, one of its own per test: SQLite in a temp file always;
 * MariaDB/MySQL and PostgreSQL on this machine (a database `kemihost_test_<random>` created
 * through the admin URL, dropped when the test ends), so parallel runs never collide.
 *
 * The rule for a server that is not there, in one place: outside CI the test says why and
 * skips; with CI=true it fails. Admin URLs: $KEMIHOST_TEST_MYSQL_URL (default
 * mysql://root@127.0.0.1:3306/test) and $KEMIHOST_TEST_PG_URL (postgres://postgres@127.0.0.1:5432/test).
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { pino } from 'pino';
import { openDatabase, type Database, type DbOptions } from '../../host/db/database.js';
import { parseDbUrl, type Dialect } from '../../host/db/url.js';

export const DIALECTS: readonly Dialect[] = ['sqlite', 'mysql', 'postgres'];

const ADMIN: Record<Exclude<Dialect, 'sqlite'>, string> = {
  mysql: process.env.KEMIHOST_TEST_MYSQL_URL ?? 'mysql://root@127.0.0.1:3306/test',
  postgres: process.env.KEMIHOST_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test',
};
const LABEL = { mysql: 'MariaDB/MySQL', postgres: 'PostgreSQL' } as const;

export const quiet = pino({ level: 'silent' });

export interface TestDatabase {
  readonly dialect: Dialect;
  /** the db_url of this test's own database */
  readonly url: string;
  /** its name (servers) or file (SQLite) */
  readonly name: string;
  /** the same database through another port on 127.0.0.1 (a proxy); servers only */
  viaPort(port: number): string;
  /** the server's host and port; servers only */
  readonly server: { host: string; port: number } | null;
}

/** Open a Database on a test database (closed when the test ends). */
export async function open(t: TestContext, url: string, opts: Partial<DbOptions> = {}): Promise<Database> {
  const db = await openDatabase(url, quiet, opts);
  t.after(() => db.close());
  return db;
}

async function withAdmin<T>(dialect: Exclude<Dialect, 'sqlite'>, fn: (db: Database) => Promise<T>): Promise<T> {
  const db = await openDatabase(ADMIN[dialect], quiet, { connectTimeoutMs: 2000, queryTimeoutMs: 20_000, poolSize: 1 });
  try {
    return await fn(db);
  } finally {
    await db.close();
  }
}

const reachable = new Map<Dialect, Promise<string | null>>();

/** null when the server answers, else why not */
function problemWith(dialect: Exclude<Dialect, 'sqlite'>): Promise<string | null> {
  let p = reachable.get(dialect);
  if (p === undefined) {
    p = withAdmin(dialect, (db) => db.query('SELECT 1 AS "one"')).then(
      () => null,
      (e: unknown) => (e instanceof Error ? e.message : String(e)),
    );
    reachable.set(dialect, p);
  }
  return p;
}

/**
 * A fresh, empty database for this test, dropped after it. Returns null when the test was
 * skipped because the server is not reachable (outside CI); with CI=true that fails the test.
 */
export async function freshDatabase(t: TestContext, dialect: Dialect): Promise<TestDatabase | null> {
  const suffix = randomBytes(5).toString('hex');
  if (dialect === 'sqlite') {
    const dir = mkdtempSync(join(tmpdir(), 'kemihost-db-'));
    t.after(() => { rmSync(dir, { recursive: true, force: true }); });
    const file = join(dir, `test_${suffix}.db`);
    return { dialect, url: `sqlite://${file}`, name: file, server: null, viaPort: () => { throw new Error('SQLite has no port'); } };
  }
  const admin = parseDbUrl(ADMIN[dialect]);
  const problem = await problemWith(dialect);
  if (problem !== null) {
    const why = `${LABEL[dialect]} not reachable on ${admin.host}:${String(admin.port)}: ${problem}`;
    if (process.env.CI === 'true') assert.fail(`${why} (CI=true: the store tests need it)`);
    t.skip(why);
    return null;
  }
  const name = `kemihost_test_${suffix}`;
  await withAdmin(dialect, (db) => db.exec(`CREATE DATABASE ${name}`));
  t.after(() =>
    withAdmin(dialect, (db) => db.exec(dialect === 'postgres' ? `DROP DATABASE IF EXISTS ${name} WITH (FORCE)` : `DROP DATABASE IF EXISTS ${name}`)),
  );
  const auth = admin.password === '' ? encodeURIComponent(admin.user) : `${encodeURIComponent(admin.user)}:${encodeURIComponent(admin.password)}`;
  const at = (host: string, port: number): string => `${dialect}://${auth}@${host}:${String(port)}/${name}`;
  return {
    dialect,
    url: at(admin.host.includes(':') ? `[${admin.host}]` : admin.host, admin.port),
    name,
    server: { host: admin.host, port: admin.port },
    viaPort: (port) => at('127.0.0.1', port),
  };
}

/** Close, from the server's side, every connection to this test's database (as a restart would). */
export async function killConnections(tdb: TestDatabase): Promise<number> {
  if (tdb.dialect === 'postgres') {
    const rows = await withAdmin('postgres', (db) =>
      db.query('SELECT pg_terminate_backend(pid) AS "done" FROM pg_stat_activity WHERE datname = ? AND pid <> pg_backend_pid()', [tdb.name]),
    );
    return rows.length;
  }
  if (tdb.dialect === 'mysql') {
    return withAdmin('mysql', async (db) => {
      const rows = await db.query<{ id: number }>('SELECT id AS "id" FROM information_schema.processlist WHERE db = ? AND id <> CONNECTION_ID()', [tdb.name]);
      for (const r of rows) await db.exec(`KILL CONNECTION ${String(r.id)}`);
      return rows.length;
    });
  }
  return 0;
}
