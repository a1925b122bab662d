/**
 * `kemihost ctl` without a database server: usage errors, the default SQLite file in the working
 * directory, and kamctl (where installed) as the oracle for the subscriber row it writes.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { ok, refused, runCli } from '../helpers/cli.js';
import { open } from '../helpers/databases.js';

describe('kemihost ctl', () => {
  test('usage errors exit 2; help exits 0', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kemihost-ctl-'));
    try {
      const url = `sqlite://${join(dir, 'k.db')}`;
      const usage = [
        ['ctl'], ['ctl', 'frob'], ['ctl', 'add', 'alice@example.com'], ['ctl', 'add', 'alice', 'pw'], ['ctl', 'add', 'a b@example.com', 'pw'],
        ['ctl', 'rm'], ['ctl', 'address', 'add', 'x', '10.0.0.1'], ['ctl', 'address', 'add', '1', '10.0.0.1', '33'],
        ['ctl', 'address', 'add', '1', 'not an address'], ['ctl', 'address', 'add', '1', '10.0.0.1', '32', '70000'], ['ctl', 'db', 'drop'],
      ];
      const results = await Promise.all(usage.map((args) => runCli([...args, '--db-url', url])));
      results.forEach((r, i) => {
        assert.equal(r.code, 2, `${(usage[i] ?? []).join(' ')}: exit ${String(r.code)} ${r.stderr}`);
      });
      assert.equal((await runCli(['ctl', '--help'])).code, 0);
      assert.ok(!existsSync(join(dir, 'k.db')), 'a usage error touches no database');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('without -c: sqlite://kemihost.db in the working directory', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kemihost-ctl-'));
    try {
      ok(await runCli(['ctl', 'add', 'alice@example.com', 's3cret'], 20_000, { cwd: dir }));
      assert.ok(existsSync(join(dir, 'kemihost.db')));
      refused(await runCli(['ctl', 'add', 'alice@example.com', 's3cret'], 20_000, { cwd: dir }), /already exists/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('kamctl and kemihost ctl write the same subscriber row, and read each other\'s', async (t) => {
    const tools = ['kamctl', 'sqlite3'].filter((tool) => spawnSync('sh', ['-c', `command -v ${tool}`]).status !== 0);
    if (tools.length > 0) {
      t.skip(`${tools.join(' and ')} not installed: kamctl (with sqlite3) is the oracle for ha1/ha1b`);
      return;
    }
    const dir = mkdtempSync(join(tmpdir(), 'kemihost-kamctl-'));
    t.after(() => { rmSync(dir, { recursive: true, force: true }); });
    const ours = join(dir, 'ours.db');
    const theirs = join(dir, 'theirs.db');
    // no space: kamctl passes the password unquoted to its MD5 step, so it would hash only the
    // first word (and no ' which breaks its SQL)
    const password = 'p:a@s/s"w%rd';
    const kamctl = (db: string, ...args: string[]): number | null =>
      spawnSync('kamctl', args, { env: { ...process.env, HOME: dir, DBENGINE: 'SQLITE', DB_PATH: db }, encoding: 'utf8', timeout: 20_000 }).status;
    ok(await runCli(['ctl', '--db-url', `sqlite://${theirs}`, 'db', 'init']));
    assert.equal(kamctl(theirs, 'add', 'alice@example.com', password), 0);
    ok(await runCli(['ctl', '--db-url', `sqlite://${ours}`, 'add', 'alice@example.com', password]));
    const rowOf = async (file: string): Promise<unknown[]> => (await open(t, `sqlite://${file}`)).query('SELECT username, domain, password, ha1, ha1b FROM subscriber');
    assert.deepEqual(await rowOf(ours), await rowOf(theirs));
    // each sees the other's user
    assert.equal(kamctl(ours, 'add', 'alice@example.com', 'x'), 1);
    refused(await runCli(['ctl', '--db-url', `sqlite://${theirs}`, 'add', 'alice@example.com', 'x']), /already exists/);
  });
});
