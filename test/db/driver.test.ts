/**
 * The Database interface on each dialect against a real server (test/helpers/databases.ts):
 * results and types, error codes, deadlines, servers that go away and come back, connections
 * dropped by the server while idle (pg and mysql2 emit 'error' for those: unhandled, it would
 * end this process).
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import BetterSqlite3 from 'better-sqlite3';
import { ensureSchema } from '../../host/db/ensure-schema.js';
import { LOCATION_TABLE, SUBSCRIBER_TABLE } from '../../host/db/schema/index.js';
import { isKemiError, type KemiErrorCode } from '../../host/errors.js';
import { DIALECTS, freshDatabase, killConnections, open } from '../helpers/databases.js';
import { closedPort, silentServer, TcpProxy } from '../helpers/tcp-proxy.js';
import { until } from '../helpers/until.js';

const SECRET = 'Hunter2-s3cret';

/** the promise rejects with a KemiError of this code, one line, without SECRET */
async function rejectsWith(p: Promise<unknown>, code: KemiErrorCode): Promise<void> {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(isKemiError(e), `not a KemiError: ${String(e)}`);
    assert.equal(e.code, code, e.message);
    assert.ok(!e.message.includes('\n'), e.message);
    assert.ok(!e.message.includes(SECRET), e.message);
    return true;
  });
}

const sleepSql = { mysql: 'SELECT SLEEP(3) AS "s"', postgres: 'SELECT pg_sleep(3) AS "s"' } as const;

for (const dialect of DIALECTS) {
  describe(`Database [${dialect}]`, () => {
    test('query and exec: ? placeholders, quoted names, numbers, datetime strings, changes', async (t) => {
      const tdb = await freshDatabase(t, dialect);
      if (tdb === null) return;
      const db = await open(t, tdb.url);
      assert.equal(db.dialect, dialect);
      await ensureSchema(db, [SUBSCRIBER_TABLE, LOCATION_TABLE]);
      const odd = `it's a "?" -- not a placeholder`;
      await db.exec('INSERT INTO subscriber (username, domain, password) VALUES (?, ?, ?)', ['alice', 'example.com', odd]);
      await db.exec('INSERT INTO subscriber (username, domain, password) VALUES (?, ?, ?)', ['bob', 'example.com', 'x']);
      const rows = await db.query('SELECT id, username, password, ha1 FROM subscriber WHERE domain = ? ORDER BY username', ['example.com']);
      assert.deepEqual(rows.map((r) => [typeof r.id, r.username, r.password, r.ha1]), [['number', 'alice', odd, ''], ['number', 'bob', 'x', '']]);
      // an UPDATE counts the rows it matched, also when a value does not change
      assert.equal((await db.exec('UPDATE subscriber SET password = ? WHERE domain = ?', ['x', 'example.com'])).changes, 2);
      assert.equal((await db.exec('DELETE FROM subscriber WHERE username = ?', ['nobody'])).changes, 0);
      await db.exec('INSERT INTO location (ruid, username, contact, expires, "partition", q) VALUES (?, ?, ?, ?, ?, ?)', ['r1', 'alice', 'sip:a@1.2.3.4', '2031-01-02 03:04:05', 7, 0.5]);
      const [loc] = await db.query('SELECT expires, last_modified, "partition", q, cseq, domain, COUNT(*) AS n FROM location GROUP BY expires, last_modified, "partition", q, cseq, domain');
      assert.deepEqual(loc, { expires: '2031-01-02 03:04:05', last_modified: '2000-01-01 00:00:01', partition: 7, q: 0.5, cseq: 1, domain: null, n: 1 });
    });

    test('a duplicate key is KEMI_ERR_DB_DUPLICATE, a bad statement KEMI_ERR_DB_QUERY; the database goes on', async (t) => {
      const tdb = await freshDatabase(t, dialect);
      if (tdb === null) return;
      const db = await open(t, tdb.url);
      await ensureSchema(db, [SUBSCRIBER_TABLE]);
      const insert = 'INSERT INTO subscriber (username, domain) VALUES (?, ?)';
      await db.exec(insert, ['alice', 'example.com']);
      await rejectsWith(db.exec(insert, ['alice', 'example.com']), 'KEMI_ERR_DB_DUPLICATE');
      await rejectsWith(db.query('SELECT nothing FROM no_such_table'), 'KEMI_ERR_DB_QUERY');
      await rejectsWith(db.query('SELEC 1'), 'KEMI_ERR_DB_QUERY');
      assert.equal((await db.query('SELECT COUNT(*) AS "n" FROM subscriber'))[0]?.n, 1);
      assert.equal(db.stats.failures, 3);
    });

    test('sync access: SQLite answers before returning; servers have none', async (t) => {
      const tdb = await freshDatabase(t, dialect);
      if (tdb === null) return;
      const db = await open(t, tdb.url);
      if (dialect !== 'sqlite') {
        assert.equal(db.sync, null);
        return;
      }
      await ensureSchema(db, [SUBSCRIBER_TABLE]);
      assert.ok(db.sync !== null);
      assert.equal(db.sync.exec('INSERT INTO subscriber (username, domain) VALUES (?, ?)', ['carol', 'example.com']).changes, 1);
      const rows = db.sync.query('SELECT username FROM subscriber WHERE domain = ?', ['example.com']);
      assert.deepEqual(rows, [{ username: 'carol' }]);
      assert.throws(() => db.sync?.query('SELECT * FROM nope'), (e: unknown) => isKemiError(e, 'KEMI_ERR_DB_QUERY'));
    });

    test('after close every call fails with KEMI_ERR_DB_UNREACHABLE; close twice is fine', async (t) => {
      const tdb = await freshDatabase(t, dialect);
      if (tdb === null) return;
      const db = await open(t, tdb.url);
      assert.equal((await db.query('SELECT 1 AS "one"'))[0]?.one, 1);
      await db.close();
      await db.close();
      await rejectsWith(db.query('SELECT 1 AS "one"'), 'KEMI_ERR_DB_UNREACHABLE');
    });

    if (dialect === 'sqlite') {
      test('a write that finds the file locked by another process fails with KEMI_ERR_DB_TIMEOUT after the busy timeout', async (t) => {
        const tdb = await freshDatabase(t, dialect);
        if (tdb === null) return;
        const db = await open(t, tdb.url, { queryTimeoutMs: 200 });
        await ensureSchema(db, [SUBSCRIBER_TABLE]);
        const other = new BetterSqlite3(tdb.name);
        t.after(() => other.close());
        other.exec('BEGIN IMMEDIATE');
        await rejectsWith(db.exec('INSERT INTO subscriber (username, domain) VALUES (?, ?)', ['dave', 'example.com']), 'KEMI_ERR_DB_TIMEOUT');
        // readers are not blocked by a writer (WAL)
        assert.equal((await db.query('SELECT COUNT(*) AS "n" FROM subscriber'))[0]?.n, 0);
        other.exec('COMMIT');
        assert.equal((await db.exec('INSERT INTO subscriber (username, domain) VALUES (?, ?)', ['dave', 'example.com'])).changes, 1);
        assert.equal(db.stats.timeouts, 1);
      });
      test('a file in a directory that does not exist: KEMI_ERR_DB_UNREACHABLE at open', async (t) => {
        await rejectsWith(open(t, 'sqlite:///nonexistent-dir-for-kemihost/x.db'), 'KEMI_ERR_DB_UNREACHABLE');
      });
      return;
    }
    const server = dialect;

    test('nothing listening: KEMI_ERR_DB_UNREACHABLE, without the password', async (t) => {
      const tdb = await freshDatabase(t, server);
      if (tdb === null) return;
      const port = await closedPort();
      // the same user with a password that must not show up anywhere
      const url = tdb.viaPort(port).replace(/^(\w+:\/\/)([^:@]+)(:[^@]*)?@/, `$1$2:${SECRET}@`);
      const db = await open(t, url, { connectTimeoutMs: 2000 });
      await rejectsWith(db.query('SELECT 1 AS "one"'), 'KEMI_ERR_DB_UNREACHABLE');
    });

    test('a server that accepts and never answers: KEMI_ERR_DB_UNREACHABLE after connect_timeout_ms', async (t) => {
      const tdb = await freshDatabase(t, server);
      if (tdb === null) return;
      const silent = await silentServer();
      t.after(() => silent.close());
      const db = await open(t, tdb.viaPort(silent.port), { connectTimeoutMs: 300 });
      await rejectsWith(db.query('SELECT 1 AS "one"'), 'KEMI_ERR_DB_UNREACHABLE');
    });

    test('a statement longer than query_timeout_ms: KEMI_ERR_DB_TIMEOUT, and the pool serves the next call', async (t) => {
      const tdb = await freshDatabase(t, server);
      if (tdb === null) return;
      const db = await open(t, tdb.url, { queryTimeoutMs: 300, poolSize: 1 });
      await rejectsWith(db.query(sleepSql[server]), 'KEMI_ERR_DB_TIMEOUT');
      assert.equal((await db.query('SELECT 1 AS "one"'))[0]?.one, 1);
      assert.equal(db.stats.timeouts, 1);
    });

    test('the server goes away: a clear error; it comes back: the same Database reconnects', async (t) => {
      const tdb = await freshDatabase(t, server);
      if (tdb === null || tdb.server === null) return;
      const proxy = await TcpProxy.start(tdb.server.host, tdb.server.port);
      t.after(() => proxy.stop());
      const db = await open(t, tdb.viaPort(proxy.port), { connectTimeoutMs: 1000, poolSize: 2 });
      assert.equal((await db.query('SELECT 1 AS "one"'))[0]?.one, 1);
      await proxy.stop();
      await rejectsWith(db.query('SELECT 1 AS "one"'), 'KEMI_ERR_DB_UNREACHABLE');
      await rejectsWith(db.query('SELECT 1 AS "one"'), 'KEMI_ERR_DB_UNREACHABLE');
      await proxy.start();
      assert.equal((await db.query('SELECT 2 AS "two"'))[0]?.two, 2);
    });

    test('connections the server closes while idle: counted, the process lives, the next call reconnects', async (t) => {
      const tdb = await freshDatabase(t, server);
      if (tdb === null) return;
      const db = await open(t, tdb.url, { poolSize: 3 });
      // three calls at once leave three idle connections in the pool
      await Promise.all([1, 2, 3].map((n) => db.query(`SELECT ${String(n)} AS "n"`)));
      const killed = await killConnections(tdb);
      assert.equal(killed, 3);
      await until(() => db.stats.connectionErrors >= killed, 5000, 'the pool to see its connections dropped');
      assert.equal((await db.query('SELECT 4 AS "n"'))[0]?.n, 4);
    });
  });
}
