/**
 * usrloc's db_mode 1-3 on SQLite, MariaDB and PostgreSQL against a real server: a REGISTER
 * becomes a `location` row (at once, or at the write-back flush), a restarted runtime finds it
 * with lookup, expiry removes row and memory; db_mode 3 on a server: a second runtime sharing
 * the table sees the first one's registration within db_only_refresh. The store does not
 * depend on the script engine: these run the Lua one.
 */
import assert from 'node:assert/strict';
import { describe, test, type TestContext } from 'node:test';
import type { Database } from '../../host/db/database.js';
import { ensureSchema } from '../../host/db/ensure-schema.js';
import { LOCATION_TABLE } from '../../host/db/schema/index.js';
import { LUA, probe, register } from '../bindings/registrar-script.js';
import { DIALECTS, freshDatabase, open } from '../helpers/databases.js';
import type { FlowEnv } from '../helpers/flow-cases.js';
import { rpcResult } from '../helpers/rpc.js';
import { startServer, type TestServer } from '../helpers/runtime.js';
import { UdpPeer } from '../helpers/sip-client.js';
import { until } from '../helpers/until.js';

interface Env extends FlowEnv {
  close(): Promise<void>;
}

/** A runtime on this database with these usrloc params, and a UAC. */
async function server(url: string, usrloc: Record<string, unknown>): Promise<Env> {
  const s = await startServer('lua', LUA, {
    config: {
      db_url: url,
      rpc: { listen: '127.0.0.1:0' },
      modules: { usrloc: { timer_interval: 1, ...usrloc }, registrar: { min_expires: 1 } },
    },
  });
  const uac = await UdpPeer.open();
  return {
    engine: 'lua',
    server: s,
    uac,
    uas: [],
    send: async (spec) => {
      uac.request(spec, s.udpPort);
      for (;;) {
        const m = await uac.next(3000);
        if (m === null) throw new Error('no reply');
        if (!m.isRequest && m.status > 100) return m;
      }
    },
    sendNoReply: () => Promise.reject(new Error('not used')),
    close: async () => {
      uac.close();
      await s.close();
    },
  };
}

async function rows(db: Database, user: string): Promise<Record<string, unknown>[]> {
  return db.query('SELECT username, domain, contact, received, q, callid, cseq, cflags, user_agent, socket, ruid FROM location WHERE username = ?', [user]);
}

async function setup(t: TestContext, dialect: (typeof DIALECTS)[number]): Promise<{ url: string; db: Database } | null> {
  const tdb = await freshDatabase(t, dialect);
  if (tdb === null) return null;
  const db = await open(t, tdb.url);
  // servers: the tables are an operator's job (kemihost ctl db init); SQLite makes its own
  if (dialect !== 'sqlite') await ensureSchema(db, [LOCATION_TABLE]);
  return { url: tdb.url, db };
}

function contactsIn(s: TestServer): number | undefined {
  return s.rt.stats.get('usrloc:registered_contacts');
}

for (const dialect of DIALECTS) {
  describe(`usrloc db_mode [${dialect}]`, () => {
    for (const mode of [1, 2, 3]) {
      test(`db_mode ${String(mode)}: the row, a restart finds it, expiry removes row and memory`, async (t) => {
        const d = await setup(t, dialect);
        if (d === null) return;
        const a = await server(d.url, { db_mode: mode });
        try {
          const r = await register(a, 'alice', ['<sip:alice@192.0.2.1:5060>;q=0.5']);
          assert.equal(r.status, 200);
          if (mode === 2) assert.deepEqual(await rows(d.db, 'alice'), [], 'write-back: not before the flush');
          await until(async () => (await rows(d.db, 'alice')).length === 1, 3000, 'the location row');
          const [row] = await rows(d.db, 'alice');
          assert.ok(row !== undefined);
          assert.equal(row.contact, 'sip:alice@192.0.2.1:5060');
          assert.equal(row.domain, null);
          assert.equal(Number(row.q), 0.5);
          assert.equal(row.callid, 'reg-alice');
          assert.equal(row.user_agent, 'kemihost-test');
          assert.match(String(row.socket), /^udp:127\.0\.0\.1:\d+$/);
          await register(a, 'bob', ['<sip:bob@192.0.2.2>'], { headers: ['Expires: 3'] });
          await until(async () => (await rows(d.db, 'bob')).length === 1, 3000, 'bob\'s row');
        } finally {
          await a.close();
        }
        const b = await server(d.url, { db_mode: mode });
        try {
          const l = await probe(b, 'alice');
          assert.equal(l.getHeader('x-rc'), '1', 'the restarted runtime loaded (or reads) the row');
          assert.equal(l.getHeader('x-ru'), 'sip:alice@192.0.2.1:5060');
          const dump = (await rpcResult(b.server.rt, 'ul.lookup', ['location', 'alice'])) as { Contacts: { Contact: { Q: number; Ruid: string } }[] };
          const [first] = dump.Contacts;
          const [stored] = await rows(d.db, 'alice');
          assert.ok(first !== undefined && stored !== undefined);
          assert.equal(first.Contact.Q, 0.5);
          assert.equal(first.Contact.Ruid, stored.ruid);
          // bob's Expires: 3 passes: the timer takes row and memory
          await until(async () => (await rows(d.db, 'bob')).length === 0, 5000, 'the expired row to go');
          assert.equal((await probe(b, 'bob', ['X-Op: registered'])).getHeader('x-rc'), '-1');
          if (mode !== 3 || dialect !== 'sqlite') await until(() => contactsIn(b.server) === 1, 3000, 'memory to hold alice only');
          const gone = await register(b, 'alice', ['*'], { cseq: 2, headers: ['Expires: 0'] });
          assert.equal(gone.status, 200);
          await until(async () => (await rows(d.db, 'alice')).length === 0, 3000, 'the unregistered row to go');
        } finally {
          await b.close();
        }
      });
    }

    test('db_mode 1 with save flag 0x01: memory only, no row', async (t) => {
      const d = await setup(t, dialect);
      if (d === null) return;
      const a = await server(d.url, { db_mode: 1 });
      try {
        await register(a, 'alice', ['<sip:alice@192.0.2.1>'], { headers: ['X-Flags: 1'] });
        await register(a, 'bob', ['<sip:bob@192.0.2.1>']);
        await until(async () => (await rows(d.db, 'bob')).length === 1, 3000, 'bob\'s row');
        assert.deepEqual(await rows(d.db, 'alice'), []);
        assert.equal((await probe(a, 'alice')).getHeader('x-rc'), '1');
      } finally {
        await a.close();
      }
    });

    if (dialect !== 'sqlite') {
      test('db_mode 3 on a server: another runtime sees a registration within db_only_refresh', async (t) => {
        const d = await setup(t, dialect);
        if (d === null) return;
        const a = await server(d.url, { db_mode: 3, db_only_refresh: 1 });
        const b = await server(d.url, { db_mode: 3, db_only_refresh: 1 });
        try {
          await register(a, 'alice', ['<sip:alice@192.0.2.1>']);
          assert.equal((await probe(a, 'alice')).getHeader('x-rc'), '1', 'its own change at once');
          await until(async () => (await probe(b, 'alice')).getHeader('x-rc') === '1', 4000, 'the other runtime to see it');
          await register(b, 'alice', ['<sip:alice@192.0.2.1>;expires=0'], { callId: 'other', cseq: 1 });
          await until(async () => (await probe(a, 'alice')).getHeader('x-rc') === '-1', 4000, 'the removal to show on the first');
        } finally {
          await a.close();
          await b.close();
        }
      });
    }
  });
}
