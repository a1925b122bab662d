/**
 * Our tables are Kamailio 5.6's: checked against Kamailio's own DDL (kamdbctl's *-create.sql,
 * read at test time), first as text, then on each real database: one made with Kamailio's
 * DDL and one made by ensureSchema must describe the same (columns with the server's spelling
 * of their types and defaults, indexes, version rows), and ensureSchema must accept the
 * Kamailio-made one as it is.
 */
import assert from 'node:assert/strict';
import { describe, test, type TestContext } from 'node:test';
import type { Database } from '../../host/db/database.js';
import { createTableSql } from '../../host/db/ddl.js';
import { checkSchema, ensureSchema } from '../../host/db/ensure-schema.js';
import { describeTable } from '../../host/db/introspect.js';
import { KAMAILIO_TABLES, LOCATION_TABLE, SUBSCRIBER_TABLE } from '../../host/db/schema/index.js';
import type { Dialect } from '../../host/db/url.js';
import { isKemiError } from '../../host/errors.js';
import { DIALECTS, freshDatabase, open } from '../helpers/databases.js';
import { kamailioDdl, parseDdl, statements } from '../helpers/kamailio-ddl.js';

const byKey = <T extends { table: string; name: string }>(a: T, b: T): number => `${a.table}.${a.name}`.localeCompare(`${b.table}.${b.name}`);

function ddlOrSkip(t: TestContext, dialect: Dialect): string | null {
  const ddl = kamailioDdl(dialect);
  if ('missing' in ddl) {
    t.skip(ddl.missing);
    return null;
  }
  return ddl.text;
}

async function versions(db: Database): Promise<Record<string, number>> {
  const rows = await db.query<{ n: string; v: unknown }>('SELECT table_name AS "n", table_version AS "v" FROM version ORDER BY table_name');
  return Object.fromEntries(rows.map((r) => [r.n, Number(r.v)]));
}

for (const dialect of DIALECTS) {
  describe(`Kamailio's tables [${dialect}]`, () => {
    test('as text: every table, column definition, index and table_version of Kamailio\'s DDL, and nothing else', (t) => {
      const text = ddlOrSkip(t, dialect);
      if (text === null) return;
      const theirs = parseDdl(text);
      const ours = parseDdl(KAMAILIO_TABLES.flatMap((tb) => createTableSql(dialect, tb)).map((s) => `${s};\n`).join(''));
      assert.deepEqual([...ours.tables.keys()].sort(), [...theirs.tables.keys()].sort());
      for (const [table, columns] of theirs.tables) assert.deepEqual(ours.tables.get(table), columns, `columns of ${table}`);
      assert.deepEqual([...ours.indexes].sort(byKey), [...theirs.indexes].sort(byKey));
      assert.deepEqual(Object.fromEntries(KAMAILIO_TABLES.map((tb) => [tb.name, tb.version])), Object.fromEntries(theirs.versions));
    });

    test('on the server: a database made by ensureSchema describes the same as one made with Kamailio\'s DDL', async (t) => {
      const text = ddlOrSkip(t, dialect);
      if (text === null) return;
      const theirsDb = await freshDatabase(t, dialect);
      const oursDb = await freshDatabase(t, dialect);
      if (theirsDb === null || oursDb === null) return;
      const theirs = await open(t, theirsDb.url);
      const ours = await open(t, oursDb.url);
      for (const st of statements(text)) await theirs.exec(st);
      await ensureSchema(ours, KAMAILIO_TABLES);
      for (const table of KAMAILIO_TABLES) {
        const a = await describeTable(ours, table.name);
        assert.ok(a !== null && a.columns.length === table.columns.length, table.name);
        assert.deepEqual(a, await describeTable(theirs, table.name), table.name);
      }
      assert.deepEqual(await versions(ours), await versions(theirs));
    });

    test('ensureSchema accepts a Kamailio-made database as it is, and we read and write it', async (t) => {
      const text = ddlOrSkip(t, dialect);
      if (text === null) return;
      const tdb = await freshDatabase(t, dialect);
      if (tdb === null) return;
      const db = await open(t, tdb.url);
      for (const st of statements(text)) await db.exec(st);
      const report = await ensureSchema(db, KAMAILIO_TABLES);
      assert.deepEqual(report.created, []);
      assert.deepEqual([...report.present].sort(), KAMAILIO_TABLES.map((tb) => tb.name).sort());
      await checkSchema(db, KAMAILIO_TABLES);
      await db.exec('INSERT INTO location (ruid, username, domain, contact, expires) VALUES (?, ?, ?, ?, ?)', ['ul-1', 'alice', 'example.com', 'sip:alice@192.0.2.1', '2031-01-01 00:00:00']);
      const rows = await db.query('SELECT username, contact, expires, q, "partition" FROM location WHERE ruid = ?', ['ul-1']);
      assert.deepEqual(rows, [{ username: 'alice', contact: 'sip:alice@192.0.2.1', expires: '2031-01-01 00:00:00', q: 1, partition: 0 }]);
    });
  });

  describe(`ensureSchema [${dialect}]`, () => {
    test('creates what is missing with its version row, is idempotent, refuses another table_version', async (t) => {
      const tdb = await freshDatabase(t, dialect);
      if (tdb === null) return;
      const db = await open(t, tdb.url);
      await assert.rejects(checkSchema(db, [SUBSCRIBER_TABLE]), (e: unknown) => isKemiError(e, 'KEMI_ERR_DB_SCHEMA') && e.message.includes('version does not exist'));
      assert.deepEqual(await ensureSchema(db, [SUBSCRIBER_TABLE]), { created: ['version', 'subscriber'], present: [] });
      assert.deepEqual(await ensureSchema(db, [SUBSCRIBER_TABLE, LOCATION_TABLE]), { created: ['location'], present: ['version', 'subscriber'] });
      assert.deepEqual(await versions(db), { location: 9, subscriber: 7, version: 1 });
      // concurrent runs on one database: both succeed, nothing twice
      await Promise.all([ensureSchema(db, KAMAILIO_TABLES), ensureSchema(db, KAMAILIO_TABLES)]);
      assert.equal(Object.keys(await versions(db)).length, KAMAILIO_TABLES.length);
      await db.exec('UPDATE version SET table_version = ? WHERE table_name = ?', [8, 'location']);
      for (const check of [() => ensureSchema(db, [LOCATION_TABLE]), () => checkSchema(db, [LOCATION_TABLE])]) {
        await assert.rejects(check(), (e: unknown) => {
          assert.ok(isKemiError(e, 'KEMI_ERR_DB_SCHEMA'));
          assert.match(e.message, /table location has table_version 8, kemihost needs 9/);
          return true;
        });
      }
    });
  });
}
