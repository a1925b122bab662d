/**
 * The permissions address store on SQLite, MariaDB and PostgreSQL, end to end as an operator
 * drives it: a running server (its script asks allow_source_address), `kemihost ctl address
 * add|rm` as a child process that then reloads the server over the control RPC, and the script
 * seeing the change. Also: what a bad row does at start and at reload, and a missing table.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ensureSchema } from '../../host/db/ensure-schema.js';
import { ADDRESS_TABLE } from '../../host/db/schema/permissions.js';
import { isKemiError } from '../../host/errors.js';
import { runCli, type Finished } from '../helpers/cli.js';
import { DIALECTS, freshDatabase, open, type TestDatabase } from '../helpers/databases.js';
import { rpc, rpcAddress, rpcResult } from '../helpers/rpc.js';
import { routeScript, startServer, type TestServer } from '../helpers/runtime.js';
import { UdpPeer } from '../helpers/sip-client.js';

const SCRIPT = routeScript('lua', `
  KSR.hdr.append_to_reply("X-Allowed: " .. KSR.permissions.allow_source_address(1) .. "\\r\\n")
  KSR.hdr.append_to_reply("X-Tag: " .. tostring(KSR.pv.get("$avp(ptag)")) .. "\\r\\n")
  KSR.sl.sl_send_reply(200, "OK")`);

function serve(tdb: TestDatabase, reloadDelta: number): Promise<TestServer> {
  return startServer('lua', SCRIPT, {
    config: { db_url: tdb.url, rpc: { listen: '127.0.0.1:0' }, modules: { permissions: { peer_tag_avp: '$avp(ptag)', reload_delta: reloadDelta } } },
  });
}

async function ask(server: TestServer): Promise<[string | undefined, string | undefined]> {
  const peer = await UdpPeer.open();
  try {
    peer.request({}, server.udpPort);
    const r = await peer.next(3000);
    return [r?.getHeader('X-Allowed'), r?.getHeader('X-Tag')];
  } finally {
    peer.close();
  }
}

function ok(r: Finished): string {
  assert.equal(r.code, 0, `exit ${String(r.code)}: ${r.stderr}`);
  return r.stdout;
}

describe('permissions store on each database', { concurrency: true }, () => {
  for (const dialect of DIALECTS) {
    describe(`permissions store [${dialect}]`, () => {
      test('kemihost ctl address add / rm reload the running server through the RPC; the script sees each change', async (t) => {
        const tdb = await freshDatabase(t, dialect);
        if (tdb === null) return;
        const db = await open(t, tdb.url);
        await ensureSchema(db, [ADDRESS_TABLE]);
        const server = await serve(tdb, 0);
        t.after(() => server.close());
        assert.deepEqual(await ask(server), ['-1', 'nil']);
        const ctl = (at: TestServer, ...args: string[]): Promise<Finished> => runCli(['ctl', '--db-url', tdb.url, '--rpc-address', rpcAddress(at.rt), 'address', ...args]);

        assert.match(ok(await ctl(server, 'add', '1', '127.0.0.0', '8', '0', 'loop')), /^added 127\.0\.0\.0\/8 port 0 to group 1\nreloaded the address table of the server at 127\.0\.0\.1:\d+\n$/);
        assert.deepEqual(await ask(server), ['1', 'loop']);
        assert.deepEqual(await rpcResult(server.rt, 'permissions.subnetDump'), [{ id: 0, group: 1, item: { ip: '127.0.0.0', mask: 8, port: 0, tag: 'loop' } }]);
        assert.match(ok(await ctl(server, 'rm', '1', '127.0.0.0')), /^removed 1 row\nreloaded/);
        assert.deepEqual(await ask(server), ['-1', 'nil']);
        assert.equal(server.rt.stats.get('permissions:address_rows'), 0);

        // a server whose previous reload is less than reload_delta ago refuses: ctl exits 1, the row is written all the same
        const slow = await serve(tdb, 60);
        t.after(() => slow.close());
        assert.equal(await rpcResult(slow.rt, 'permissions.addressReload'), 'Reload OK');
        const refused = await ctl(slow, 'add', '1', '127.0.0.1');
        assert.equal(refused.code, 1, refused.stderr);
        assert.match(refused.stdout, /^added 127\.0\.0\.1\/32/);
        assert.match(refused.stderr, /did not reload the address table: ongoing reload/);
        assert.deepEqual(await ask(slow), ['-1', 'nil']);
        assert.equal((await db.query('SELECT ip_addr FROM address')).length, 1);
      });

      test('a row Kamailio refuses: the reload fails and the table in use stays; a start with it fails', async (t) => {
        const tdb = await freshDatabase(t, dialect);
        if (tdb === null) return;
        const db = await open(t, tdb.url);
        await ensureSchema(db, [ADDRESS_TABLE]);
        await db.exec('INSERT INTO address (grp, ip_addr, mask, port, tag) VALUES (1, ?, 32, 0, ?)', ['127.0.0.1', 'exact']);
        const server = await serve(tdb, 0);
        t.after(() => server.close());
        assert.deepEqual(await ask(server), ['1', 'exact']);
        await db.exec('INSERT INTO address (grp, ip_addr, mask, port, tag) VALUES (2, ?, 33, 0, NULL)', ['10.0.0.0']);
        const r = await rpc(server.rt, 'permissions.addressReload');
        assert.equal(r.error?.code, 500);
        assert.equal(r.error.message, 'Reload failed.');
        assert.match(JSON.stringify(r.error.data), /row 2 of the address table: mask 33/);
        assert.equal(server.rt.stats.get('permissions:address_reload_failures'), 1);
        assert.deepEqual(await ask(server), ['1', 'exact']);
        await assert.rejects(serve(tdb, 0), (e: unknown) => isKemiError(e, 'KEMI_ERR_DB_DATA') && /mask 33/.test(e.message));
      });

      if (dialect !== 'sqlite') {
        test('no address table on a server: the start fails naming it (SQLite would create it)', async (t) => {
          const tdb = await freshDatabase(t, dialect);
          if (tdb === null) return;
          await assert.rejects(serve(tdb, 0), (e: unknown) => isKemiError(e, 'KEMI_ERR_DB_SCHEMA') && /address/.test(e.message));
        });
      }
    });
  }
});
