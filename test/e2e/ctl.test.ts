/**
 * `kemihost ctl` as a user (or another test) runs it: a child process per command, on SQLite,
 * MariaDB and PostgreSQL (test/helpers/databases.ts), with the database named by a config
 * file. Rows are read back through the store layer; kamctl itself is the oracle for the
 * subscriber row where it is installed. Usage errors, the default database and kamctl's own rows:
 * ctl-cli.test.ts (a file of its own, so each stays well within the per-file time limit).
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { describe, test, type TestContext } from 'node:test';
import { describeTable } from '../../host/db/introspect.js';
import { KAMAILIO_TABLES } from '../../host/db/schema/index.js';
import { ok, refused, runCli, type Finished } from '../helpers/cli.js';
import { DIALECTS, freshDatabase, open, type TestDatabase } from '../helpers/databases.js';
import { kamailioDdl, statements } from '../helpers/kamailio-ddl.js';
import { closedPort } from '../helpers/tcp-proxy.js';

/** MD5 vectors computed with md5sum, as kamctl does: user:realm:pw and user@domain:realm:pw */
const ALICE = { ha1: 'd2d0c8958e1b1c2b989afda0efb9663e', ha1b: 'bd29b5fa6d5950d315d827af71f63c91' };
const ALICE_NEW = { ha1: '82ea78966988ff945d7cf9d6a1c0f380', ha1b: '80c2d805d15bc23d3019128ddb03a234' };
const SECRET = 'Hunter2-s3cret';

/** a config file naming the test database; SQLite's path relative to the file, as users write it */
function configFor(t: TestContext, tdb: TestDatabase): string {
  const dir = tdb.dialect === 'sqlite' ? dirname(tdb.name) : mkdtempSync(join(tmpdir(), 'kemihost-ctl-'));
  if (tdb.dialect !== 'sqlite') t.after(() => { rmSync(dir, { recursive: true, force: true }); });
  const url = tdb.dialect === 'sqlite' ? `sqlite://${basename(tdb.name)}` : tdb.url;
  const file = join(dir, 'kemihost.yaml');
  writeFileSync(file, `db_url: "${url}"\ndb: { connect_timeout_ms: 2000 }\n`);
  return file;
}

// the three databases at once: each command is a process of its own (~0.8 s to start)
describe('kemihost ctl on each database', { concurrency: true }, () => {
  for (const dialect of DIALECTS) {
    describe(`kemihost ctl [${dialect}]`, () => {
      test('db init (idempotent); add, passwd, rm write the rows kamctl writes; exit 1 when the user exists or is missing', async (t) => {
        const tdb = await freshDatabase(t, dialect);
        if (tdb === null) return;
        const cfg = configFor(t, tdb);
        const ctl = (...args: string[]): Promise<Finished> => runCli(['ctl', '-c', cfg, ...args]);
        assert.match(ok(await ctl('db', 'init')).stdout, /: created version, subscriber, location, location_attrs, address, trusted, dispatcher\n$/);
        assert.match(ok(await ctl('db', 'init')).stdout, /: created nothing; already there: version, subscriber, location, location_attrs, address, trusted, dispatcher\n$/);
        if (dialect === 'sqlite') assert.ok(existsSync(tdb.name), 'the relative sqlite:// path is next to the config file');
        const db = await open(t, tdb.url);
        for (const table of KAMAILIO_TABLES) assert.notEqual(await describeTable(db, table.name), null, table.name);
        const row = async (): Promise<unknown[]> => db.query('SELECT username, domain, password, ha1, ha1b FROM subscriber ORDER BY id');

        ok(await ctl('add', 'alice@example.com', 's3cret'));
        refused(await ctl('add', 'alice@example.com', 'other'), /user alice@example\.com already exists/);
        assert.deepEqual(await row(), [{ username: 'alice', domain: 'example.com', password: 's3cret', ...ALICE }]);
        // -c after the command words works as well
        ok(await runCli(['ctl', 'passwd', 'alice@example.com', 'n3w pass', '-c', cfg]));
        assert.deepEqual(await row(), [{ username: 'alice', domain: 'example.com', password: 'n3w pass', ...ALICE_NEW }]);
        refused(await ctl('passwd', 'bob@example.com', 'x'), /no user bob@example\.com/);
        ok(await ctl('rm', 'alice@example.com'));
        assert.deepEqual(await row(), []);
        refused(await ctl('rm', 'alice@example.com'), /no user alice@example\.com/);
      });

      test('address add, list (lines and --json), rm', async (t) => {
        const tdb = await freshDatabase(t, dialect);
        if (tdb === null) return;
        const cfg = configFor(t, tdb);
        const ctl = (...args: string[]): Promise<Finished> => runCli(['ctl', '-c', cfg, ...args]);
        ok(await ctl('db', 'init'));
        ok(await ctl('address', 'add', '1', '10.0.0.0', '8', '5060', 'gw1'));
        ok(await ctl('address', 'add', '1', '2001:db8::1'));
        ok(await ctl('address', 'add', '2', 'sbc.example.com', '32', '0'));
        assert.equal(ok(await ctl('address', 'list')).stdout, '1\t1\t10.0.0.0\t8\t5060\tgw1\n2\t1\t2001:db8::1\t128\t0\t\n3\t2\tsbc.example.com\t32\t0\t\n');
        assert.deepEqual(JSON.parse(ok(await ctl('address', 'list', '--json', '--group', '2')).stdout), [
          { id: 3, grp: 2, ip_addr: 'sbc.example.com', mask: 32, port: 0, tag: null },
        ]);
        ok(await ctl('address', 'rm', '1', '10.0.0.0'));
        refused(await ctl('address', 'rm', '1', '10.0.0.0'), /no address 10\.0\.0\.0 in group 1/);
        const db = await open(t, tdb.url);
        assert.deepEqual(await db.query('SELECT grp, ip_addr, mask, port, tag FROM address ORDER BY id'), [
          { grp: 1, ip_addr: '2001:db8::1', mask: 128, port: 0, tag: null },
          { grp: 2, ip_addr: 'sbc.example.com', mask: 32, port: 0, tag: null },
        ]);
      });

      test('a database made with Kamailio\'s own DDL is used as it is', async (t) => {
        const ddl = kamailioDdl(dialect);
        if ('missing' in ddl) {
          t.skip(ddl.missing);
          return;
        }
        const tdb = await freshDatabase(t, dialect);
        if (tdb === null) return;
        const db = await open(t, tdb.url);
        for (const st of statements(ddl.text)) await db.exec(st);
        const cfg = configFor(t, tdb);
        const ctl = (...args: string[]): Promise<Finished> => runCli(['ctl', '-c', cfg, ...args]);
        assert.match(ok(await ctl('db', 'check')).stdout, /: ok \(subscriber, location, location_attrs, address, trusted, dispatcher\)\n$/);
        ok(await ctl('add', 'alice@example.com', 's3cret'));
        ok(await ctl('address', 'add', '7', '192.0.2.0', '24'));
        assert.deepEqual(await db.query('SELECT username, ha1, ha1b FROM subscriber'), [{ username: 'alice', ...ALICE }]);
        assert.deepEqual(await db.query('SELECT grp, ip_addr, mask, port FROM address'), [{ grp: 7, ip_addr: '192.0.2.0', mask: 24, port: 0 }]);
      });

      if (dialect !== 'sqlite') {
        test('an unreachable database: exit 1, one line, no password', async (t) => {
          const tdb = await freshDatabase(t, dialect);
          if (tdb === null) return;
          const url = tdb.viaPort(await closedPort()).replace(/^(\w+:\/\/)([^:@]+)(:[^@]*)?@/, `$1$2:${SECRET}@`);
          const r = await runCli(['ctl', '--db-url', url, 'add', 'alice@example.com', 'x']);
          refused(r, /cannot connect/);
          assert.ok(!r.stderr.includes(SECRET) && !r.stdout.includes(SECRET), r.stderr);
        });
      }
    });
  }
});
