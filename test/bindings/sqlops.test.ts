/**
 * KSR.sqlops end to end, both engines from one table, on SQLite, MariaDB and PostgreSQL: a SIP
 * request whose route queries (Lua: a plain call; JS: `await` inside `async function
 * ksr_request_route`) and replies with headers built from $dbr, sql_result_get and $xavp; a bad
 * statement returns -1 and the callback goes on; results are freed. On the servers the call
 * waits in place (wait:* statistics); on SQLite it answers at once.
 */
import { randomBytes } from 'node:crypto';
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { assertReply, type BindingExpect } from '../helpers/binding-cases.js';
import { DIALECTS, freshDatabase, open } from '../helpers/databases.js';
import { ENGINES, startServer } from '../helpers/runtime.js';
import { UdpPeer } from '../helpers/sip-client.js';

interface SqlCase {
  name: string;
  /** the body of ksr_request_route; {t} is the test's table */
  lua: string;
  js: string;
  expect: BindingExpect;
  /** wait:resumed after the request on MySQL/PostgreSQL (SQLite: 0) */
  waits: number;
}

const cases: SqlCase[] = [
  {
    name: 'sql_query waits in place, keeps the locals; $dbr and sql_result_get read the rows',
    lua: `local who = KSR.pv.get("$fU")
      local rc = KSR.sqlops.sql_query("cb", "SELECT id, name FROM {t} ORDER BY id", "ra")
      KSR.hdr.append_to_reply("X-Row: " .. who .. "," .. rc .. "," .. KSR.pv.get("$dbr(ra=>[0,0])") .. ","
        .. KSR.sqlops.sql_result_get("ra", 1, 1) .. "," .. KSR.pv.get("$dbr(ra=>rows)") .. "," .. KSR.pv.get("$dbr(ra=>colname[1])") .. "\\r\\n")
      KSR.sqlops.sql_result_free("ra")
      KSR.hdr.append_to_reply("X-Freed: " .. KSR.sqlops.sql_num_rows("ra") .. "," .. KSR.pv.get("$dbr(ra=>rows)") .. "\\r\\n")
      KSR.tm.t_reply(200, "Queried")`,
    js: `const who = KSR.pv.get("$fU");
      const rc = await KSR.sqlops.sql_query("cb", "SELECT id, name FROM {t} ORDER BY id", "ra");
      KSR.hdr.append_to_reply("X-Row: " + who + "," + rc + "," + KSR.pv.get("$dbr(ra=>[0,0])") + ","
        + KSR.sqlops.sql_result_get("ra", 1, 1) + "," + KSR.pv.get("$dbr(ra=>rows)") + "," + KSR.pv.get("$dbr(ra=>colname[1])") + "\\r\\n");
      KSR.sqlops.sql_result_free("ra");
      KSR.hdr.append_to_reply("X-Freed: " + KSR.sqlops.sql_num_rows("ra") + "," + KSR.pv.get("$dbr(ra=>rows)") + "\\r\\n");
      KSR.tm.t_reply(200, "Queried");`,
    expect: { status: 200, reason: 'Queried', headers: { 'X-Row': 'alice,0,1,bob,2,name', 'X-Freed': '0,0' } },
    waits: 1,
  },
  {
    name: 'sql_xquery fills an xavp, one record per row',
    lua: `local rc = KSR.sqlops.sql_xquery("cb", "SELECT id, name FROM {t} ORDER BY id", "xr")
      KSR.hdr.append_to_reply("X-Xavp: " .. rc .. "," .. KSR.pv.get("$xavp(xr=>name)") .. "," .. KSR.pv.get("$xavp(xr[1]=>name)") .. "," .. KSR.pv.get("$xavp(xr[1]=>id)") .. "\\r\\n")
      KSR.tm.t_reply(200, "OK")`,
    js: `const rc = await KSR.sqlops.sql_xquery("cb", "SELECT id, name FROM {t} ORDER BY id", "xr");
      KSR.hdr.append_to_reply("X-Xavp: " + rc + "," + KSR.pv.get("$xavp(xr=>name)") + "," + KSR.pv.get("$xavp(xr[1]=>name)") + "," + KSR.pv.get("$xavp(xr[1]=>id)") + "\\r\\n");
      KSR.tm.t_reply(200, "OK");`,
    expect: { status: 200, headers: { 'X-Xavp': '1,alice,bob,2' } },
    waits: 1,
  },
  {
    name: 'a bad statement returns -1 and the callback goes on to the next query',
    lua: `local bad = KSR.sqlops.sql_query("cb", "SELEC broken FROM nowhere", "ra")
      local good = KSR.sqlops.sql_pvquery("cb", "SELECT name FROM {t} WHERE id = 2", "$var(n)")
      KSR.hdr.append_to_reply("X-Rc: " .. bad .. "," .. good .. "," .. KSR.pv.get("$var(n)") .. "\\r\\n")
      KSR.tm.t_reply(200, "OK")`,
    js: `const bad = await KSR.sqlops.sql_query("cb", "SELEC broken FROM nowhere", "ra");
      const good = await KSR.sqlops.sql_pvquery("cb", "SELECT name FROM {t} WHERE id = 2", "$var(n)");
      KSR.hdr.append_to_reply("X-Rc: " + bad + "," + good + "," + KSR.pv.get("$var(n)") + "\\r\\n");
      KSR.tm.t_reply(200, "OK");`,
    expect: { status: 200, headers: { 'X-Rc': '-1,1,bob' }, stats: { 'sqlops:failures': 1, 'script:errors': 0 } },
    waits: 2,
  },
  {
    name: 'an UPDATE counts in $sqlrows; sql_query_async goes on at once',
    lua: `local rc = KSR.sqlops.sql_query("cb", "UPDATE {t} SET name = 'bob' WHERE id = 2", "ru")
      local a = KSR.sqlops.sql_query_async("cb", "UPDATE {t} SET name = 'bob' WHERE id = 2")
      KSR.hdr.append_to_reply("X-Upd: " .. rc .. "," .. KSR.pv.get("$sqlrows(cb)") .. "," .. a .. "\\r\\n")
      KSR.tm.t_reply(200, "OK")`,
    js: `const rc = await KSR.sqlops.sql_query("cb", "UPDATE {t} SET name = 'bob' WHERE id = 2", "ru");
      const a = KSR.sqlops.sql_query_async("cb", "UPDATE {t} SET name = 'bob' WHERE id = 2");
      KSR.hdr.append_to_reply("X-Upd: " + rc + "," + KSR.pv.get("$sqlrows(cb)") + "," + a + "\\r\\n");
      KSR.tm.t_reply(200, "OK");`,
    expect: { status: 200, headers: { 'X-Upd': '0,1,1' } },
    waits: 1,
  },
];

// t_newtran first: on SQLite nothing waits, so nothing else makes the transaction t_reply answers on
const jsRoute = (body: string): string => `async function ksr_request_route() {\nKSR.tm.t_newtran();\n${body}\n}\n`;
const luaRoute = (body: string): string => `function ksr_request_route()\nKSR.tm.t_newtran()\n${body}\nend\n`;

for (const dialect of DIALECTS) {
  describe(`KSR.sqlops end to end on ${dialect}`, () => {
    for (const engine of ENGINES) {
      it(`[${engine}]`, async (t) => {
        const tdb = await freshDatabase(t, dialect);
        if (tdb === null) return;
        const table = `sqlops_test_${randomBytes(4).toString('hex')}`;
        const db = await open(t, tdb.url);
        await db.raw(`CREATE TABLE ${table} (id INTEGER NOT NULL, name VARCHAR(32) NOT NULL)`);
        await db.raw(`INSERT INTO ${table} (id, name) VALUES (1, 'alice'), (2, 'bob')`);
        for (const c of cases) {
          await t.test(c.name, async () => {
            const body = (engine === 'lua' ? c.lua : c.js).replaceAll('{t}', table);
            const source = engine === 'lua' ? luaRoute(body) : jsRoute(body);
            const server = await startServer(engine, source, { config: { modules: { sqlops: { sqlcon: `cb=>${tdb.url}` } } } });
            const peer = await UdpPeer.open();
            try {
              peer.request({ method: 'MESSAGE' }, server.udpPort);
              let reply = await peer.next(5000);
              while (reply !== null && reply.status < 200) reply = await peer.next(5000);
              assertReply(reply, c.expect);
              for (const [key, want] of Object.entries(c.expect.stats ?? {})) assert.equal(server.rt.stats.get(key), want, `statistic ${key}`);
              assert.equal(server.rt.stats.get('wait:resumed'), dialect === 'sqlite' ? 0 : c.waits, 'calls that waited in place');
            } finally {
              peer.close();
              await server.close();
            }
          });
        }
        await db.raw(`DROP TABLE ${table}`);
      });
    }
  });
}

/** A statement that takes 600 ms on the server, in its dialect. */
const SLOW: Partial<Record<string, string>> = { mysql: 'SELECT SLEEP(0.6) AS s', postgres: 'SELECT pg_sleep(0.6) AS s' };

for (const dialect of ['mysql', 'postgres'] as const) {
  describe(`KSR.sqlops does not block the server on ${dialect}`, () => {
    for (const engine of ENGINES) {
      it(`[${engine}] a slow query waits while another request is answered`, async (t) => {
        const tdb = await freshDatabase(t, dialect);
        if (tdb === null) return;
        const slow = SLOW[dialect] ?? '';
        const lua = luaRoute(`if KSR.pv.get("$rU") == "slow" then
            local rc = KSR.sqlops.sql_query("cb", "${slow}", "rs")
            KSR.hdr.append_to_reply("X-Rc: " .. rc .. "\\r\\n")
          end
          KSR.tm.t_reply(200, KSR.pv.get("$rU"))`);
        const js = jsRoute(`if (KSR.pv.get("$rU") == "slow") {
            const rc = await KSR.sqlops.sql_query("cb", "${slow}", "rs");
            KSR.hdr.append_to_reply("X-Rc: " + rc + "\\r\\n");
          }
          KSR.tm.t_reply(200, KSR.pv.get("$rU"));`);
        const server = await startServer(engine, engine === 'lua' ? lua : js, { config: { modules: { sqlops: { sqlcon: `cb=>${tdb.url}` } } } });
        const peer = await UdpPeer.open();
        try {
          peer.request({ method: 'MESSAGE', ruri: 'sip:slow@127.0.0.1', callId: 'slow-1' }, server.udpPort);
          peer.request({ method: 'MESSAGE', ruri: 'sip:fast@127.0.0.1', callId: 'fast-1' }, server.udpPort);
          const finals: string[] = [];
          while (finals.length < 2) {
            const m = await peer.next(5000);
            assert.ok(m !== null, `replies so far: ${finals.join(', ')}`);
            if (m.status >= 200) finals.push(`${m.reason}:${m.getHeader('X-Rc') ?? ''}`);
          }
          assert.deepEqual(finals, ['fast:', 'slow:0'], 'the fast request is answered while the slow query waits');
          assert.equal(server.rt.stats.get('wait:resumed'), 1);
        } finally {
          peer.close();
          await server.close();
        }
      });
    }
  });
}

describe('KSR.sqlops from a plain (not async) JS callback', () => {
  it('[js] cannot wait: -1 at once, logged, the callback goes on', async (t) => {
    if (!ENGINES.includes('js')) return;
    const tdb = await freshDatabase(t, 'postgres');
    if (tdb === null) return;
    const js = `function ksr_request_route() {
      KSR.tm.t_newtran();
      const rc = KSR.sqlops.sql_query("cb", "SELECT 1", "rp");
      KSR.hdr.append_to_reply("X-Rc: " + rc + "," + KSR.sqlops.sql_num_rows("rp") + "\\r\\n");
      KSR.tm.t_reply(200, "Plain");
    }`;
    const server = await startServer('js', js, { config: { modules: { sqlops: { sqlcon: `cb=>${tdb.url}` } } } });
    const peer = await UdpPeer.open();
    try {
      peer.request({ method: 'MESSAGE' }, server.udpPort);
      let reply = await peer.next(5000);
      while (reply !== null && reply.status < 200) reply = await peer.next(5000);
      assertReply(reply, { status: 200, reason: 'Plain', headers: { 'X-Rc': '-1,0' }, stats: {} });
      assert.equal(server.rt.stats.get('sqlops:queries'), 0, 'nothing was sent');
    } finally {
      peer.close();
      await server.close();
    }
  });
});
