/**
 * The store layer on each dialect, on this machine's servers (127.0.0.1, a database
 * `kemihost_bench_<random>` created and dropped here; SQLite in a temp file):
 *
 *   db_lookup_pk_<dialect>        one `SELECT … FROM subscriber WHERE id = ?` awaited at a time
 *   db_lookup_account_<dialect>   the same by (username, domain), auth_db's lookup
 *   db_lookup_pk_sqlite_sync      SQLite's synchronous read, what a store may do inside a script call
 *   db_insert_<dialect>           one INSERT INTO subscriber awaited at a time (SQLite: WAL, synchronous=NORMAL)
 *   db_lookups_per_s_<dialect>    lookups by id with 16 in flight on the default pool of 4
 *
 * Median of the per-call times, in µs (throughput in lookups/s). A server that is not
 * reachable is reported on stderr and left out.
 *
 *   node --no-node-snapshot --import tsx bench/db.ts [sqlite mysql postgres]
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { openDatabase, type Database } from '../host/db/database.js';
import { ensureSchema } from '../host/db/ensure-schema.js';
import { SUBSCRIBER_TABLE } from '../host/db/schema/index.js';
import type { Dialect } from '../host/db/url.js';

const ROWS = 2000;
const LOOKUPS = 4000;
const INSERTS = 1000;
const IN_FLIGHT = 16;
const log = pino({ level: 'silent' });
const ADMIN = {
  mysql: process.env.KEMIHOST_TEST_MYSQL_URL ?? 'mysql://root@127.0.0.1:3306/test',
  postgres: process.env.KEMIHOST_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test',
};

function out(name: string, value: number, unit: string): void {
  process.stdout.write(`${name} ${value < 10 ? value.toFixed(2) : String(Math.round(value))} ${unit}\n`);
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? NaN;
}

async function timed(n: number, fn: (i: number) => unknown): Promise<number> {
  const us: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    await fn(i);
    us.push((performance.now() - t0) * 1000);
  }
  return median(us);
}

/** a fresh database and the function that removes it */
async function scratch(dialect: Dialect): Promise<{ url: string; drop: () => Promise<void> }> {
  const name = `kemihost_bench_${randomBytes(4).toString('hex')}`;
  if (dialect === 'sqlite') {
    const dir = mkdtempSync(join(tmpdir(), 'kh-bench-db-'));
    return { url: `sqlite://${join(dir, `${name}.db`)}`, drop: () => { rmSync(dir, { recursive: true, force: true }); return Promise.resolve(); } };
  }
  const admin = await openDatabase(ADMIN[dialect], log, { poolSize: 1, connectTimeoutMs: 2000 });
  await admin.exec(`CREATE DATABASE ${name}`);
  return {
    url: ADMIN[dialect].replace(/\/[^/?]+(\?.*)?$/, `/${name}`),
    drop: async () => {
      await admin.exec(dialect === 'postgres' ? `DROP DATABASE IF EXISTS ${name} WITH (FORCE)` : `DROP DATABASE IF EXISTS ${name}`);
      await admin.close();
    },
  };
}

async function fill(db: Database): Promise<void> {
  await ensureSchema(db, [SUBSCRIBER_TABLE]);
  for (let i = 0; i < ROWS; i++) {
    await db.exec('INSERT INTO subscriber (username, domain, password, ha1, ha1b) VALUES (?, ?, ?, ?, ?)', [`user${String(i)}`, 'example.com', 'pw', 'a'.repeat(32), 'b'.repeat(32)]);
  }
}

async function bench(dialect: Dialect): Promise<void> {
  const { url, drop } = await scratch(dialect);
  const db = await openDatabase(url, log);
  try {
    const t0 = performance.now();
    await fill(db);
    process.stderr.write(`# ${dialect}: ${String(ROWS)} rows in ${String(Math.round(performance.now() - t0))} ms\n`);
    const id = (i: number): number => (i * 7919) % ROWS + 1;
    const byId = 'SELECT username, domain, ha1, ha1b FROM subscriber WHERE id = ?';
    await timed(200, (i) => db.query(byId, [id(i)])); // warm-up
    out(`db_lookup_pk_${dialect}`, await timed(LOOKUPS, (i) => db.query(byId, [id(i)])), 'us');
    const byAccount = 'SELECT ha1, ha1b, password FROM subscriber WHERE username = ? AND domain = ?';
    out(`db_lookup_account_${dialect}`, await timed(LOOKUPS, (i) => db.query(byAccount, [`user${String(id(i) - 1)}`, 'example.com'])), 'us');
    if (db.sync !== null) {
      const sync = db.sync;
      out(`db_lookup_pk_${dialect}_sync`, await timed(LOOKUPS, (i) => sync.query(byId, [id(i)])), 'us');
    }
    out(`db_insert_${dialect}`, await timed(INSERTS, (i) =>
      db.exec('INSERT INTO subscriber (username, domain, password, ha1, ha1b) VALUES (?, ?, ?, ?, ?)', [`new${String(i)}`, 'example.com', 'pw', 'a'.repeat(32), 'b'.repeat(32)])), 'us');
    let next = 0;
    const t1 = performance.now();
    await Promise.all(Array.from({ length: IN_FLIGHT }, async () => {
      while (next < LOOKUPS) await db.query(byId, [id(next++)]);
    }));
    out(`db_lookups_per_s_${dialect}`, LOOKUPS / ((performance.now() - t1) / 1000), 'lookups/s');
  } finally {
    await db.close();
    await drop();
  }
}

const wanted = process.argv.slice(2) as Dialect[];
for (const dialect of wanted.length > 0 ? wanted : (['sqlite', 'mysql', 'postgres'] as const)) {
  try {
    await bench(dialect);
  } catch (e) {
    process.stderr.write(`# ${dialect}: left out: ${e instanceof Error ? e.message : String(e)}\n`);
  }
}
