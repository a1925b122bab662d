/**
 * sqlops on one SQLite table both servers read: sql_query with $dbr and sql_result_get*,
 * sql_xquery, sql_pvquery, a bad statement, sql_result_free. The script puts every return code
 * and value in X-R, so Kamailio 5.6's KEMI codes (sql_query's 0, sql_xquery's 1, sql_pvquery's
 * 1/2) are compared, not only the reply. SQLite answers at once, so nothing waits here; the
 * waiting form is covered by test/bindings/sqlops.test.ts on MariaDB and PostgreSQL.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { openDatabase } from '../../host/db/database.js';
import { isReply } from './harness/peer.js';
import { compatSuite } from './harness/suite.js';
import { STANDARD_MASKS, type View } from './harness/view.js';

async function table(): Promise<string> {
  const file = join(mkdtempSync(join(tmpdir(), 'kh-compat-sqlops-')), 'sqlops.db');
  const db = await openDatabase(`sqlite://${file}`, pino({ level: 'silent' }));
  await db.raw('CREATE TABLE route (id INTEGER NOT NULL, name VARCHAR(32) NOT NULL, note VARCHAR(32))');
  await db.raw("INSERT INTO route (id, name, note) VALUES (1, 'alice', NULL), (2, 'bob', 'x')");
  await db.close();
  // four slashes: Kamailio's db_sqlite reads the path after the third (test/compat/auth-db.test.ts)
  return `sqlite:///${file}`;
}

const DB_URL = await table();

const lua = `
function ksr_request_route()
  local u = KSR.pv.gete("$rU")
  local r = ""
  if u == "q" then
    local rc = KSR.sqlops.sql_query("cb", "SELECT id, name, note FROM route ORDER BY id", "ra")
    r = rc .. "," .. KSR.sqlops.sql_num_rows("ra") .. "," .. KSR.sqlops.sql_num_columns("ra") .. ","
      .. KSR.pv.gete("$dbr(ra=>[0,1])") .. "," .. KSR.sqlops.sql_result_get("ra", 1, 0) .. ","
      .. KSR.pv.gete("$dbr(ra=>colname[2])") .. "," .. KSR.pv.gete("$dbr(ra=>rows)") .. ","
      .. KSR.sqlops.sql_result_gete("ra", 0, 2) .. "|" .. KSR.sqlops.sql_result_getz("ra", 0, 2) .. ","
      .. KSR.sqlops.sql_is_null("ra", 0, 2) .. "," .. KSR.sqlops.sql_is_null("ra", 1, 2) .. ","
      .. KSR.sqlops.sql_result_gete("ra", 7, 0) .. "|" .. KSR.sqlops.sql_result_getz("ra", 7, 0)
  elseif u == "x" then
    local rc = KSR.sqlops.sql_xquery("cb", "SELECT id, name FROM route ORDER BY id", "xr")
    local none = KSR.sqlops.sql_xquery("cb", "SELECT id FROM route WHERE id > 9", "xe")
    r = rc .. "," .. none .. "," .. KSR.pv.gete("$xavp(xr=>name)") .. "," .. KSR.pv.gete("$xavp(xr[1]=>name)") .. "," .. KSR.pv.gete("$xavp(xr[1]=>id)")
  elseif u == "p" then
    local rc = KSR.sqlops.sql_pvquery("cb", "SELECT name, id FROM route ORDER BY id", "$var(n);$var(k)")
    local none = KSR.sqlops.sql_pvquery("cb", "SELECT name FROM route WHERE id > 9", "$var(m)")
    r = rc .. "," .. none .. "," .. KSR.pv.gete("$var(n)") .. "," .. KSR.pv.gete("$var(k)")
  elseif u == "bad" then
    local ok = KSR.sqlops.sql_query("cb", "SELECT id FROM route", "rb")
    local bad = KSR.sqlops.sql_query("cb", "SELEC broken FROM nowhere", "rb")
    r = ok .. "," .. bad .. "," .. KSR.sqlops.sql_num_rows("rb")
  elseif u == "free" then
    local rc = KSR.sqlops.sql_query("cb", "SELECT id FROM route", "rf")
    local n = KSR.sqlops.sql_num_rows("rf")
    local f = KSR.sqlops.sql_result_free("rf")
    r = rc .. "," .. n .. "," .. f .. "," .. KSR.sqlops.sql_num_rows("rf") .. "," .. KSR.pv.gete("$dbr(rf=>rows)")
  end
  KSR.hdr.append_to_reply("X-R: " .. r .. "\\r\\n")
  KSR.sl.sl_send_reply(200, "OK")
end
`;

const js = `
function ksr_request_route() {
  var u = KSR.pv.gete("$rU");
  var r = "";
  if (u == "q") {
    var rc = KSR.sqlops.sql_query("cb", "SELECT id, name, note FROM route ORDER BY id", "ra");
    r = rc + "," + KSR.sqlops.sql_num_rows("ra") + "," + KSR.sqlops.sql_num_columns("ra") + ","
      + KSR.pv.gete("$dbr(ra=>[0,1])") + "," + KSR.sqlops.sql_result_get("ra", 1, 0) + ","
      + KSR.pv.gete("$dbr(ra=>colname[2])") + "," + KSR.pv.gete("$dbr(ra=>rows)") + ","
      + KSR.sqlops.sql_result_gete("ra", 0, 2) + "|" + KSR.sqlops.sql_result_getz("ra", 0, 2) + ","
      + KSR.sqlops.sql_is_null("ra", 0, 2) + "," + KSR.sqlops.sql_is_null("ra", 1, 2) + ","
      + KSR.sqlops.sql_result_gete("ra", 7, 0) + "|" + KSR.sqlops.sql_result_getz("ra", 7, 0);
  } else if (u == "x") {
    var xrc = KSR.sqlops.sql_xquery("cb", "SELECT id, name FROM route ORDER BY id", "xr");
    var xnone = KSR.sqlops.sql_xquery("cb", "SELECT id FROM route WHERE id > 9", "xe");
    r = xrc + "," + xnone + "," + KSR.pv.gete("$xavp(xr=>name)") + "," + KSR.pv.gete("$xavp(xr[1]=>name)") + "," + KSR.pv.gete("$xavp(xr[1]=>id)");
  } else if (u == "p") {
    var prc = KSR.sqlops.sql_pvquery("cb", "SELECT name, id FROM route ORDER BY id", "$var(n);$var(k)");
    var pnone = KSR.sqlops.sql_pvquery("cb", "SELECT name FROM route WHERE id > 9", "$var(m)");
    r = prc + "," + pnone + "," + KSR.pv.gete("$var(n)") + "," + KSR.pv.gete("$var(k)");
  } else if (u == "bad") {
    var ok = KSR.sqlops.sql_query("cb", "SELECT id FROM route", "rb");
    var bad = KSR.sqlops.sql_query("cb", "SELEC broken FROM nowhere", "rb");
    r = ok + "," + bad + "," + KSR.sqlops.sql_num_rows("rb");
  } else if (u == "free") {
    var frc = KSR.sqlops.sql_query("cb", "SELECT id FROM route", "rf");
    var n = KSR.sqlops.sql_num_rows("rf");
    var f = KSR.sqlops.sql_result_free("rf");
    r = frc + "," + n + "," + f + "," + KSR.sqlops.sql_num_rows("rf") + "," + KSR.pv.gete("$dbr(rf=>rows)");
  }
  KSR.hdr.append_to_reply("X-R: " + r + "\\r\\n");
  KSR.sl.sl_send_reply(200, "OK");
}
`;

const AT_UAC: View = { headers: ['x-r'], masks: STANDARD_MASKS };

function ask(user: string, name: string): Parameters<typeof compatSuite<'uac'>>[0]['cases'][number] {
  return {
    name,
    async flow({ peers: { uac } }) {
      uac.request({ method: 'MESSAGE', ruri: `sip:${user}@127.0.0.1` });
      await uac.waitFor(isReply(200), '200');
    },
    compare: { uac: AT_UAC },
  };
}

compatSuite<'uac'>({
  title: 'sqlops: queries on a SQLite table, return codes and values',
  peers: ['uac'],
  modules: { sl: {}, db_sqlite: {}, sqlops: { sqlcon: `cb=>${DB_URL}` } },
  script: () => ({ lua, js }),
  cases: [
    ask('q', 'sql_query: 0, counts, $dbr, sql_result_get/gete/getz, sql_is_null'),
    ask('x', 'sql_xquery: 1 with rows and without, records by index'),
    ask('p', 'sql_pvquery: 1 with rows (first row last), 2 without'),
    ask('bad', 'a bad statement: -1, the result emptied'),
    ask('free', 'sql_result_free: 1, the result emptied'),
  ],
});
