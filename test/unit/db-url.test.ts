import assert from 'node:assert/strict';
import { inspect } from 'node:util';
import { describe, test } from 'node:test';
import { validateConfig } from '../../host/config.js';
import { absoluteDbUrls, dbUrlFor } from '../../host/db/config.js';
import { SqlTranslator } from '../../host/db/sql.js';
import { absoluteDbUrl, parseDbUrl, redactDbUrl } from '../../host/db/url.js';
import { isKemiError } from '../../host/errors.js';

const SECRET = 'Hunter2-s3cret';

describe('db_url', () => {
  test('sqlite: absolute, relative to a base directory, in memory', () => {
    assert.equal(parseDbUrl('sqlite:///var/lib/kemihost/k.db').path, '/var/lib/kemihost/k.db');
    assert.equal(parseDbUrl('sqlite://data/k.db', '/etc/kemihost').path, '/etc/kemihost/data/k.db');
    assert.equal(parseDbUrl('sqlite://k.db', '/srv').redacted, 'sqlite:///srv/k.db');
    assert.equal(parseDbUrl('sqlite://:memory:').path, ':memory:');
    assert.equal(parseDbUrl('sqlite:///a%20b.db').path, '/a b.db');
    assert.equal(absoluteDbUrl('sqlite://d/k.db', '/etc/x'), 'sqlite:///etc/x/d/k.db');
    assert.equal(absoluteDbUrl('sqlite:///abs.db', '/etc/x'), 'sqlite:///abs.db');
    assert.equal(absoluteDbUrl('mysql://u@h/d', '/etc/x'), 'mysql://u@h/d');
  });

  test('mysql and postgres: user, percent-decoded password, host, port, database, options', () => {
    const m = parseDbUrl('mysql://kamailio:p%40ss%25w@db1.example.com/kamailio');
    assert.deepEqual([m.dialect, m.user, m.password, m.host, m.port, m.database], ['mysql', 'kamailio', 'p@ss%w', 'db1.example.com', 3306, 'kamailio']);
    const p = parseDbUrl('postgresql://pg:secret@[::1]:6543/sip?sslmode=verify-full&application_name=edge');
    assert.deepEqual([p.dialect, p.user, p.password, p.host, p.port, p.database, p.sslmode, p.options.application_name], ['postgres', 'pg', 'secret', '::1', 6543, 'sip', 'verify-full', 'edge']);
    assert.equal(parseDbUrl('postgres://u@h/d').password, '');
    assert.equal(parseDbUrl('postgres://u@h/d').sslmode, 'disable');
    // the userinfo runs to the last '@': a password with @ / ? : works unencoded
    const raw = parseDbUrl('mysql://u:a@b/c?d:e@127.0.0.1:3307/db');
    assert.deepEqual([raw.user, raw.password, raw.host, raw.port, raw.database], ['u', 'a@b/c?d:e', '127.0.0.1', 3307, 'db']);
  });

  test('bad forms are KEMI_ERR_DB_URL, naming what is wrong and never the password', () => {
    const bad = [
      'redis://h/0', 'sqlite://', 'mysql://u:SECRET@h', 'mysql://u:SECRET@h:99999/d', 'postgres://:SECRET@h/d',
      'mysql://u:SECRET@h/d?sslmode=sometimes', 'mysql://u:SECRET@h/d?flavour=x', 'mysql://u:%zz@h/d', 'postgres://u:SECRET@[x/d',
    ];
    for (const url of bad) {
      assert.throws(() => parseDbUrl(url.replace('SECRET', SECRET)), (e: unknown) => {
        assert.ok(isKemiError(e, 'KEMI_ERR_DB_URL'), url);
        assert.ok(!e.message.includes(SECRET), e.message);
        return true;
      });
    }
  });

  test('redactDbUrl hides the password and secret options, parseable or not', () => {
    assert.equal(redactDbUrl(`mysql://kamailio:${SECRET}@db/kamailio`), 'mysql://kamailio:***@db/kamailio');
    assert.equal(redactDbUrl(`postgres://u:${SECRET}@h:5432/d?sslmode=require`), 'postgres://u:***@h:5432/d?sslmode=require');
    assert.equal(redactDbUrl(`postgres://u:a@b/${SECRET}@h/d`), 'postgres://u:***@h/d');
    assert.equal(redactDbUrl(`postgres://u@h/d?password=${SECRET}&x=1`), 'postgres://u@h/d?password=***&x=1');
    assert.equal(redactDbUrl(`garbage://u:${SECRET}@`), 'garbage://u:***@');
    assert.equal(redactDbUrl('mysql://u@h/d'), 'mysql://u@h/d');
    assert.equal(redactDbUrl('sqlite:///var/k.db'), 'sqlite:///var/k.db');
  });

  test('a parsed URL shows no password in String(), JSON, util.inspect or a spread', () => {
    const u = parseDbUrl(`mysql://root:${SECRET}@127.0.0.1/test`);
    assert.equal(u.password, SECRET);
    for (const shown of [String(u), JSON.stringify(u), JSON.stringify({ u }), inspect(u, { depth: 5, showHidden: true }), JSON.stringify(Object.assign({}, u))]) {
      assert.ok(!shown.includes(SECRET), shown);
    }
  });

  test('config: db_url is checked, redacted in the message; relative sqlite paths follow the config file', () => {
    assert.throws(() => validateConfig({ db_url: `mysql://u:${SECRET}@h` }, 'k.yaml'), (e: unknown) => {
      assert.ok(isKemiError(e, 'KEMI_ERR_CONFIG'));
      assert.match(e.message, /^k\.yaml: db_url: mysql:\/\/u:\*\*\*@h: /);
      assert.ok(!e.message.includes(SECRET));
      return true;
    });
    const cfg = validateConfig({});
    assert.equal(cfg.db_url, 'sqlite://kemihost.db');
    assert.deepEqual(cfg.db, { pool_size: 4, connect_timeout_ms: 3000, query_timeout_ms: 5000 });
    const withModule = { db_url: 'sqlite://k.db', modules: { auth_db: { db_url: 'sqlite://auth.db' }, usrloc: {} } };
    absoluteDbUrls(withModule, '/etc/kemihost');
    assert.equal(dbUrlFor(withModule, 'auth_db'), 'sqlite:///etc/kemihost/auth.db');
    assert.equal(dbUrlFor(withModule, 'usrloc'), 'sqlite:///etc/kemihost/k.db');
    assert.equal(dbUrlFor(withModule, 'permissions'), 'sqlite:///etc/kemihost/k.db');
  });
});

describe('SQL translation', () => {
  test('? becomes $n on PostgreSQL, "ids" become `ids` on MySQL; literals and comments are left alone', () => {
    const sql = `SELECT "partition", 'it''s ? "x"' FROM t -- a ? here\nWHERE a = ? AND /* ? */ b = ?`;
    assert.equal(new SqlTranslator('sqlite').sql(sql), sql);
    assert.equal(new SqlTranslator('postgres').sql(sql), `SELECT "partition", 'it''s ? "x"' FROM t -- a ? here\nWHERE a = $1 AND /* ? */ b = $2`);
    assert.equal(new SqlTranslator('mysql').sql(sql), `SELECT \`partition\`, 'it''s ? "x"' FROM t -- a ? here\nWHERE a = ? AND /* ? */ b = ?`);
    assert.equal(new SqlTranslator('mysql').sql(`SELECT 'a\\'?', "b" FROM \`c?\` WHERE d = ?`), `SELECT 'a\\'?', \`b\` FROM \`c?\` WHERE d = ?`);
  });
});
