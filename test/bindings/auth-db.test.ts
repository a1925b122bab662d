/**
 * KSR.auth_db on a real server, both engines, with a SQLite subscriber table holding rows as
 * kamctl writes them (password, ha1 = MD5(user:realm:pw), ha1b = MD5(user@domain:realm:pw)):
 * auth_check's codes and identity check, calculate_ha1 on and off (ha1 and ha1b), use_domain,
 * load_credentials, is_subscriber, www/proxy_authenticate. The store on MariaDB and PostgreSQL,
 * and `kemihost ctl` changing it under a running server: test/db/auth-store.test.ts.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { openDatabase } from '../../host/db/database.js';
import { ensureSchema } from '../../host/db/ensure-schema.js';
import { SUBSCRIBER_TABLE } from '../../host/db/schema/subscriber.js';
import { runFlowCases, type FlowCase } from '../helpers/flow-cases.js';
import { answered, challenged, invite, rc, REALM, register } from './auth.test.js';

const md5 = (s: string): string => createHash('md5').update(s).digest('hex');

/** rows as kamctl writes them, realm = domain */
async function subscriberFile(): Promise<string> {
  const file = join(mkdtempSync(join(tmpdir(), 'kemihost-authdb-')), 'subscribers.db');
  const db = await openDatabase(`sqlite://${file}`, pino({ level: 'silent' }));
  await ensureSchema(db, [SUBSCRIBER_TABLE]);
  for (const [user, domain, pw] of [['alice', 'example.com', 'secret'], ['bob', 'example.com', 'bobpw'], ['carol', 'other.org', 'carolpw']] as const) {
    await db.exec('INSERT INTO subscriber (username, domain, password, ha1, ha1b) VALUES (?, ?, ?, ?, ?)',
      [user, domain, pw, md5(`${user}:${domain}:${pw}`), md5(`${user}@${domain}:${domain}:${pw}`)]);
  }
  await db.close();
  return `sqlite://${file}`;
}

const DB_URL = await subscriberFile();

function authDb(p: Record<string, unknown> = {}): Record<string, unknown> {
  return { modules: { auth_db: { db_url: DB_URL, ...p } } };
}
const CLEAR = authDb({ calculate_ha1: 1, password_column: 'password' });

/** auth_check with these flags on X-Table (default subscriber); X-Rc and $avp(dom) back */
function check(flags: number): Pick<FlowCase, 'lua' | 'js'> {
  return {
    lua: `local table = KSR.hdr.get("X-Table") or "subscriber"
      local rc = KSR.auth_db.auth_check("${REALM}", table, ${String(flags)})
      KSR.hdr.append_to_reply("X-Rc: " .. rc .. "\\r\\n")
      if rc < 0 then KSR.auth.auth_challenge("${REALM}", 1) KSR.x.exit() end
      KSR.hdr.append_to_reply("X-Dom: " .. KSR.pv.getvs("$avp(dom)", "(null)") .. "\\r\\n")
      KSR.sl.sl_send_reply(200, "OK")`,
    js: `var table = KSR.hdr.get("X-Table") || "subscriber";
      var rc = KSR.auth_db.auth_check("${REALM}", table, ${String(flags)});
      KSR.hdr.append_to_reply("X-Rc: " + rc + "\\r\\n");
      if (rc < 0) { KSR.auth.auth_challenge("${REALM}", 1); KSR.x.exit(); }
      KSR.hdr.append_to_reply("X-Dom: " + KSR.pv.getvs("$avp(dom)", "(null)") + "\\r\\n");
      KSR.sl.sl_send_reply(200, "OK");`,
  };
}

const cases: FlowCase[] = [
  {
    name: 'calculate_ha1 with the password column (the example config): 1 right, -2 wrong password, -3 unknown user, -5 none',
    ...check(0),
    config: CLEAR,
    async flow(t) {
      const first = await t.send(register());
      assert.equal(rc(first), '-5');
      const ch = await challenged(t, register());
      assert.equal(rc(await answered(t, register(), ch)), '1');
      assert.equal(rc(await answered(t, register(), ch, { password: 'bobpw' })), '-2');
      assert.equal(rc(await answered(t, register(), ch, { username: 'dave' })), '-3');
    },
  },
  {
    name: 'calculate_ha1 off: ha1 for "alice", ha1b for "alice@example.com" as username',
    ...check(0),
    config: authDb(),
    async flow(t) {
      const ch = await challenged(t, register());
      assert.equal(rc(await answered(t, register(), ch)), '1');
      assert.equal(rc(await answered(t, register(), ch, { username: 'alice@example.com' })), '1');
      assert.equal(rc(await answered(t, register(), ch, { username: 'alice@example.com', password: 'x' })), '-2');
    },
  },
  {
    name: 'flag 1: REGISTER needs auth user = To user = From user; INVITE auth user = From user; -8 otherwise',
    ...check(1),
    config: CLEAR,
    async flow(t) {
      let ch = await challenged(t, register());
      assert.equal(rc(await answered(t, register({ fromUri: 'sip:bob@example.com' }), ch)), '-8', 'From is not To');
      assert.equal(rc(await answered(t, register(), ch, { username: 'bob', password: 'bobpw' })), '-8', 'bob registering alice');
      assert.equal(rc(await answered(t, register(), ch)), '1');
      ch = await challenged(t, invite());
      assert.equal(rc(await answered(t, invite(), ch)), '1');
      assert.equal(rc(await answered(t, invite(), ch, { username: 'bob', password: 'bobpw' })), '-8', 'bob calling as alice');
    },
  },
  {
    name: 'flags 3: an INVITE may come with another From (anonymous caller); a REGISTER may not',
    ...check(3),
    config: CLEAR,
    async flow(t) {
      const ch = await challenged(t, invite());
      assert.equal(rc(await answered(t, invite(), ch, { username: 'bob', password: 'bobpw' })), '1');
      const rch = await challenged(t, register());
      assert.equal(rc(await answered(t, register(), rch, { username: 'bob', password: 'bobpw' })), '-8');
    },
  },
  {
    name: 'use_domain: the lookup takes the username\'s domain, else the realm (carol is in other.org)',
    ...check(0),
    config: authDb({ calculate_ha1: 1, password_column: 'password', use_domain: 1 }),
    async flow(t) {
      const ch = await challenged(t, register());
      assert.equal(rc(await answered(t, register(), ch, { username: 'carol', password: 'carolpw' })), '-3', 'realm example.com: no carol there');
      assert.equal(rc(await answered(t, register(), ch, { username: 'carol@other.org', password: 'carolpw' })), '1');
      assert.equal(rc(await answered(t, register(), ch)), '1');
    },
  },
  {
    name: 'load_credentials: columns into pseudo-variables after a successful check only',
    ...check(0),
    config: authDb({ calculate_ha1: 1, password_column: 'password', load_credentials: '$avp(dom)=domain' }),
    async flow(t) {
      const ch = await challenged(t, register());
      const ok = await answered(t, register(), ch);
      assert.equal(ok.getHeader('x-dom'), 'example.com');
    },
  },
  {
    name: 'without a modules.auth_db section nothing is opened: a check that reaches the table is -1',
    ...check(0),
    async flow(t) {
      const ch = await challenged(t, register());
      assert.equal(rc(await answered(t, register(), ch)), '-1');
    },
  },
  {
    name: 'a table that is not there: -1',
    ...check(0),
    config: CLEAR,
    async flow(t) {
      const spec = register({ headers: ['X-Table: no_such_table'] });
      const ch = await challenged(t, spec);
      assert.equal(rc(await answered(t, spec, ch)), '-1');
    },
  },
  {
    name: 'is_subscriber: 1 (credentials loaded unless flags 2), -2 unknown, -1 not a URI; flags 1 compares the domain',
    lua: `local a = KSR.auth_db.is_subscriber("sip:alice@example.com", "subscriber", 2)
      local d1 = KSR.pv.getvs("$avp(dom)", "(null)")
      local b = KSR.auth_db.is_subscriber("sip:alice@nowhere.net", "subscriber", 0)
      local d2 = KSR.pv.getvs("$avp(dom)", "(null)")
      local c = KSR.auth_db.is_subscriber("sip:alice@nowhere.net", "subscriber", 1)
      local d = KSR.auth_db.is_subscriber("sip:dave@example.com", "subscriber", 0)
      local e = KSR.auth_db.is_subscriber("not a uri", "subscriber", 0)
      KSR.hdr.append_to_reply("X-R: " .. a .. "," .. d1 .. "," .. b .. "," .. d2 .. "," .. c .. "," .. d .. "," .. e .. "\\r\\n")
      KSR.sl.sl_send_reply(200, "OK")`,
    js: `var a = KSR.auth_db.is_subscriber("sip:alice@example.com", "subscriber", 2);
      var d1 = KSR.pv.getvs("$avp(dom)", "(null)");
      var b = KSR.auth_db.is_subscriber("sip:alice@nowhere.net", "subscriber", 0);
      var d2 = KSR.pv.getvs("$avp(dom)", "(null)");
      var c = KSR.auth_db.is_subscriber("sip:alice@nowhere.net", "subscriber", 1);
      var d = KSR.auth_db.is_subscriber("sip:dave@example.com", "subscriber", 0);
      var e = KSR.auth_db.is_subscriber("not a uri", "subscriber", 0);
      KSR.hdr.append_to_reply("X-R: " + [a, d1, b, d2, c, d, e].join(",") + "\\r\\n");
      KSR.sl.sl_send_reply(200, "OK");`,
    config: authDb({ load_credentials: '$avp(dom)=domain' }),
    async flow(t) {
      const r = await t.send(invite());
      assert.equal(r.getHeader('x-r'), '1,(null),1,example.com,-2,-2,-1');
    },
  },
  {
    name: 'www_authenticate checks Authorization, proxy_authenticate Proxy-Authorization, www_authenticate_method its method',
    lua: `local w = KSR.auth_db.www_authenticate("${REALM}", "subscriber")
      local p = KSR.auth_db.proxy_authenticate("${REALM}", "subscriber")
      local m = KSR.auth_db.www_authenticate_method("${REALM}", "subscriber", "OPTIONS")
      KSR.hdr.append_to_reply("X-R: " .. w .. "," .. p .. "," .. m .. "\\r\\n")
      if p < 0 then KSR.auth.proxy_challenge("${REALM}", 1) else KSR.sl.sl_send_reply(200, "OK") end`,
    js: `var w = KSR.auth_db.www_authenticate("${REALM}", "subscriber");
      var p = KSR.auth_db.proxy_authenticate("${REALM}", "subscriber");
      var m = KSR.auth_db.www_authenticate_method("${REALM}", "subscriber", "OPTIONS");
      KSR.hdr.append_to_reply("X-R: " + w + "," + p + "," + m + "\\r\\n");
      if (p < 0) KSR.auth.proxy_challenge("${REALM}", 1); else KSR.sl.sl_send_reply(200, "OK");`,
    config: CLEAR,
    async flow(t) {
      const ch = await challenged(t, register(), 407);
      const r = await answered(t, register(), ch);
      assert.equal(r.getHeader('x-r'), '-5,1,-5');
    },
  },
];

runFlowCases('KSR.auth_db on SQLite', cases);
