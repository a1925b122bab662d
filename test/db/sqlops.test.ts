/**
 * KSR.sqlops against real databases (SQLite in a temp file, MariaDB, PostgreSQL), called through
 * invoke() as an engine calls it. A call that waits in place returns a Wait: here the test runs
 * its start() and takes its failure value for a rejection, as the engines do.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it, type TestContext } from 'node:test';
import { pino } from 'pino';
import pvModule from '../../bindings/pv.js';
import sqlops from '../../bindings/sqlops/index.js';
import { loadConfigFile } from '../../host/config.js';
import { Databases } from '../../host/db/databases.js';
import type { Context } from '../../host/kemi/context.js';
import { KemiRegistry } from '../../host/kemi/registry.js';
import { NO_SCRIPT } from '../../host/kemi/offline-script.js';
import type { Xval } from '../../host/kemi/types.js';
import { Wait } from '../../host/kemi/wait.js';
import { call, ctxOf, invite, myself, recordingLog } from '../helpers/binding-harness.js';
import { DIALECTS, freshDatabase, open } from '../helpers/databases.js';
import { until } from '../helpers/until.js';

const quiet = pino({ level: 'silent' });

async function registry(t: TestContext, params: Record<string, unknown>, log = quiet): Promise<KemiRegistry> {
  const databases = new Databases(log, { poolSize: 2, connectTimeoutMs: 2000, queryTimeoutMs: 5000 });
  const reg = new KemiRegistry([sqlops, pvModule], { log, myself, script: NO_SCRIPT, params: { sqlops: params }, databases });
  t.after(async () => {
    await reg.close();
    await databases.close();
  });
  await reg.start();
  return reg;
}

/** What the script sees: the value, or for a Wait what it settles with (its failure value on a rejection). */
async function settle(v: unknown): Promise<unknown> {
  if (!(v instanceof Wait)) return v;
  try {
    return await (v as Wait).start(new AbortController().signal);
  } catch {
    return (v as Wait).failure;
  }
}

function pv(reg: KemiRegistry, ctx: Context, spec: string): Xval {
  const p = reg.pvs.resolve(spec);
  assert.ok(p, `no PV ${spec}`);
  return p.get(ctx);
}

for (const dialect of DIALECTS) {
  describe(`KSR.sqlops on ${dialect}`, () => {
    it('queries into results, xavps and PVs, with Kamailio 5.6\'s return codes', async (t) => {
      const tdb = await freshDatabase(t, dialect);
      if (tdb === null) return;
      const table = `sqlops_test_${randomBytes(4).toString('hex')}`;
      const db = await open(t, tdb.url);
      await db.raw(`CREATE TABLE ${table} (id INTEGER NOT NULL, name VARCHAR(32) NOT NULL, note VARCHAR(32) NULL, big BIGINT NULL)`);
      await db.raw(`INSERT INTO ${table} (id, name, note, big) VALUES (1, 'alice', NULL, 9007199254740993), (2, 'bob', 'x', NULL)`);

      const reg = await registry(t, { sqlcon: `cb=>${tdb.url}` });
      const ctx = ctxOf(invite());
      const sql = (fn: string, ...args: unknown[]): Promise<unknown> => settle(call(reg, `KSR.sqlops.${fn}`, ctx, ...args));
      const first = call(reg, 'KSR.sqlops.sql_query', ctx, 'cb', `SELECT id, name, note, big FROM ${table} ORDER BY id`, 'ra');
      // SQLite answers at once; the servers wait in place
      assert.equal(first instanceof Wait, dialect !== 'sqlite');
      assert.equal(await settle(first), 0);

      assert.equal(await sql('sql_num_rows', 'ra'), 2);
      assert.equal(await sql('sql_num_columns', 'ra'), 4);
      assert.equal(await sql('sql_result_get', 'ra', 0, 0), 1);
      assert.equal(await sql('sql_result_get', 'ra', 0, 1), 'alice');
      assert.equal(await sql('sql_result_get', 'ra', 0, 3), '9007199254740993', 'a BIGINT past 32 bits is a string, as in Kamailio');
      assert.equal(await sql('sql_result_get', 'ra', 0, 2), null);
      assert.equal(await sql('sql_result_gete', 'ra', 0, 2), '');
      assert.equal(await sql('sql_result_getz', 'ra', 0, 2), 0);
      assert.equal(await sql('sql_result_get', 'ra', 5, 0), null);
      assert.equal(await sql('sql_is_null', 'ra', 0, 2), 1);
      assert.equal(await sql('sql_is_null', 'ra', 1, 2), 0);
      assert.equal(await sql('sql_is_null', 'ra', 2, 0), -1);

      assert.equal(pv(reg, ctx, '$dbr(ra=>rows)'), 2);
      assert.equal(pv(reg, ctx, '$dbr(ra=>cols)'), 4);
      assert.equal(pv(reg, ctx, '$dbr(ra=>[1,1])'), 'bob');
      assert.equal(pv(reg, ctx, '$dbr(ra=>colname[1])'), 'name');
      ctx.vars.set('i', 1);
      ctx.vars.set('j', 2);
      assert.equal(pv(reg, ctx, '$dbr(ra=>[$var(i),$var(j)])'), 'x');
      assert.equal(pv(reg, ctx, '$dbr(ra=>[9,0])'), null);
      assert.equal(pv(reg, ctx, '$dbr(nosuch=>rows)'), 0);

      // xavp: one record per row, first row at index 0, columns by name
      assert.equal(await sql('sql_xquery', 'cb', `SELECT id, name, note FROM ${table} ORDER BY id`, 'xr'), 1);
      assert.equal(pv(reg, ctx, '$xavp(xr=>name)'), 'alice');
      assert.equal(pv(reg, ctx, '$xavp(xr[1]=>name)'), 'bob');
      assert.equal(pv(reg, ctx, '$xavp(xr[1]=>id)'), 2);
      assert.equal(pv(reg, ctx, '$xavp(xr=>note)'), null);
      assert.equal(await sql('sql_xquery', 'cb', `SELECT id FROM ${table} WHERE id > 100`, 'xe'), 1, 'no rows is 1 too');
      assert.equal(pv(reg, ctx, '$xavp(xe=>id)'), null);

      // PVs: last row first, so a plain PV ends with the first row
      assert.equal(await sql('sql_pvquery', 'cb', `SELECT name, id FROM ${table} ORDER BY id`, '$var(n); $var(k)'), 1);
      assert.equal(ctx.vars.get('n'), 'alice');
      assert.equal(ctx.vars.get('k'), 1);
      assert.equal(await sql('sql_pvquery', 'cb', `SELECT name FROM ${table} WHERE id > 100`, '$var(n)'), 2);
      assert.equal(await sql('sql_pvquery', 'cb', `SELECT name, id FROM ${table}`, '$var(n)'), -1, 'more columns than PVs');
      assert.equal(await sql('sql_pvquery', 'cb', `SELECT name FROM ${table}`, '$ci'), -1, 'a read-only PV');

      // a statement without rows: 0, and $sqlrows counts what it changed
      assert.equal(await sql('sql_query', 'cb', `UPDATE ${table} SET note = 'y' WHERE id = 2`, 'ru'), 0);
      assert.equal(pv(reg, ctx, '$sqlrows(cb)'), 1);
      assert.equal(await sql('sql_num_rows', 'ru'), 0);

      // a bad statement: -1, the result emptied, the module goes on
      assert.equal(await sql('sql_query', 'cb', 'SELEC nonsense FROM nowhere', 'ra'), -1);
      assert.equal(await sql('sql_num_rows', 'ra'), 0);
      assert.equal(await sql('sql_query', 'cb', `SELECT name FROM ${table} WHERE id = 2`, 'ra'), 0);
      assert.equal(await sql('sql_result_get', 'ra', 0, 0), 'bob');
      assert.equal(await sql('sql_result_free', 'ra'), 1);
      assert.equal(await sql('sql_num_rows', 'ra'), 0);
      assert.equal(pv(reg, ctx, '$dbr(ra=>rows)'), 0);

      assert.equal(await sql('sql_query', 'nocon', 'SELECT 1', 'ra'), -1, 'an unknown connection');

      // fire and forget
      assert.equal(await sql('sql_query_async', 'cb', `INSERT INTO ${table} (id, name) VALUES (3, 'carol')`), 1);
      await until(async () => (await db.raw(`SELECT name FROM ${table} WHERE id = 3`)).rows.length === 1, 5000, 'the async insert');
      assert.equal(await sql('sql_query_async', 'nocon', 'SELECT 1'), -1);
      await db.raw(`DROP TABLE ${table}`);
    });

    it('keeps each message\'s own result while others query into the same name', async (t) => {
      const tdb = await freshDatabase(t, dialect);
      if (tdb === null) return;
      const reg = await registry(t, { sqlcon: [`a=>${tdb.url}`, `b => ${tdb.url}`], sqlres: 'ra', results_maxsize: 2 });
      const one = ctxOf(invite());
      const two = ctxOf(invite());
      const q1 = call(reg, 'KSR.sqlops.sql_query', one, 'a', "SELECT 'one' AS v", 'ra');
      const q2 = call(reg, 'KSR.sqlops.sql_query', two, 'b', "SELECT 'two' AS v", 'ra');
      assert.deepEqual(await Promise.all([settle(q1), settle(q2)]), [0, 0]);
      assert.equal(pv(reg, one, '$dbr(ra=>[0,0])'), 'one');
      assert.equal(pv(reg, two, '$dbr(ra=>[0,0])'), 'two');
      // a message that made no query sees the last one stored (Kamailio's "query once, use many times")
      assert.equal(pv(reg, ctxOf(invite()), '$dbr(ra=>[0,0])'), 'two');
      // results_maxsize counts names: 'ra' declared, 'rb' fits, 'rc' does not
      assert.equal(await settle(call(reg, 'KSR.sqlops.sql_query', one, 'a', 'SELECT 1', 'rb')), 0);
      assert.equal(await settle(call(reg, 'KSR.sqlops.sql_query', one, 'a', 'SELECT 1', 'rc')), -1);
    });

    it('writes nothing when the wait ended early', async (t) => {
      if (dialect === 'sqlite') return; // answers at once: there is no wait to end
      const tdb = await freshDatabase(t, dialect);
      if (tdb === null) return;
      const reg = await registry(t, { sqlcon: `cb=>${tdb.url}` });
      const ctx = ctxOf(invite());
      const w = call(reg, 'KSR.sqlops.sql_xquery', ctx, 'cb', "SELECT 'late' AS v", 'xl');
      assert.ok(w instanceof Wait);
      const ac = new AbortController();
      const p = (w as Wait).start(ac.signal);
      ac.abort();
      assert.equal(await p, -1);
      assert.equal(pv(reg, ctx, '$xavp(xl=>v)'), null);
    });
  });
}

const cleanup: string[] = [];
after(() => { for (const d of cleanup) rmSync(d, { recursive: true, force: true }); });

describe('sqlops connections', () => {
  it('stops the start on a connection that fails (connect_mode 0), not with 1; no password in any message', async (t) => {
    const url = 'mysql://kemihost:s3cr3t-pw@127.0.0.1:1/nodb';
    const { log, records } = recordingLog();
    const databases = new Databases(log, { connectTimeoutMs: 500, queryTimeoutMs: 500 });
    t.after(() => databases.close());
    const reg0 = new KemiRegistry([sqlops], { log, myself, script: NO_SCRIPT, params: { sqlops: { sqlcon: `cb=>${url}` } }, databases });
    await assert.rejects(reg0.start(), (e: Error) => /sqlops: cannot connect cb/.test(e.message) && !e.message.includes('s3cr3t'));
    await reg0.close();
    const reg1 = new KemiRegistry([sqlops], { log, myself, script: NO_SCRIPT, params: { sqlops: { sqlcon: `cb=>${url}`, connect_mode: 1 } }, databases });
    await reg1.start();
    const ctx = ctxOf(invite());
    assert.equal(await settle(call(reg1, 'KSR.sqlops.sql_query', ctx, 'cb', 'SELECT 1', 'ra')), -1);
    await reg1.close();
    assert.ok(records.length > 0);
    assert.ok(!JSON.stringify(records).includes('s3cr3t'), 'the password never reaches the log');
  });

  it('reads a relative sqlite:// in sqlcon from the config file\'s directory', () => {
    const dir = mkdtempSync(join(tmpdir(), 'kh-sqlops-cfg-'));
    cleanup.push(dir);
    const file = join(dir, 'kemihost.yaml');
    writeFileSync(file, 'modules:\n  sqlops:\n    sqlcon: ["a=>sqlite://routes.db", "b => mysql://u:p@h/db"]\n');
    const cfg = loadConfigFile(file);
    assert.deepEqual(cfg.modules.sqlops?.sqlcon, [`a=>sqlite://${join(dir, 'routes.db')}`, 'b => mysql://u:p@h/db']);
  });

  it('refuses a malformed sqlcon with the URL redacted', () => {
    assert.throws(
      () => new KemiRegistry([sqlops], { log: quiet, myself, script: NO_SCRIPT, params: { sqlops: { sqlcon: 'cb=>mysql://u:s3cr3t@host' } } }),
      (e: Error) => /sqlcon cb/.test(e.message) && !e.message.includes('s3cr3t'),
    );
    assert.throws(() => new KemiRegistry([sqlops], { log: quiet, myself, script: NO_SCRIPT, params: { sqlops: { sqlcon: ['a=>sqlite://:memory:', 'a=>sqlite://:memory:'] } } }), /duplicate/);
  });
});
