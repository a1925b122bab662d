/**
 * The dispatcher's operations side on both engines: the dispatcher.* RPC over the real control
 * listener (list, set_state, reload, ping_active), OPTIONS keepalives against UDP gateways that
 * answer or stay silent (a silent one becomes inactive, one that answers again becomes active,
 * the event callback runs each time, awaited through dispatcher.list), and the `dispatcher`
 * table as the source on SQLite (MySQL/PostgreSQL when reachable).
 */
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { ensureSchema } from '../../host/db/ensure-schema.js';
import { DISPATCHER_TABLE } from '../../host/db/schema/dispatcher.js';
import { dsHash } from '../../host/dispatcher/hash.js';
import { parseSipMessage, type SipMessage } from '../../host/sip/message.js';
import { DIALECTS, freshDatabase, open } from '../helpers/databases.js';
import { answerTo, NextHop } from '../helpers/next-hop.js';
import { rpc, rpcResult } from '../helpers/rpc.js';
import { ENGINES, startServer } from '../helpers/runtime.js';
import { UdpPeer } from '../helpers/sip-client.js';
import { until } from '../helpers/until.js';
import { JS, LUA } from './dispatcher-script.js';

const dir = mkdtempSync(join(tmpdir(), 'kemihost-ds-ops-'));
after(() => { rmSync(dir, { recursive: true, force: true }); });

/** A gateway whose answer can change: 0 keeps quiet. Keeps every request. */
async function gateway(code: number): Promise<{ port: number; code: number; received: SipMessage[]; close: () => void }> {
  const sock = dgram.createSocket('udp4');
  const g = { port: 0, code, received: [] as SipMessage[], close: () => { sock.close(); } };
  sock.on('message', (d, ri) => {
    const m = parseSipMessage(d);
    g.received.push(m);
    if (m.isRequest && m.method !== 'ACK' && g.code > 0) sock.send(answerTo(m, g.code), ri.port, ri.address);
  });
  sock.bind(0, '127.0.0.1');
  await once(sock, 'listening');
  g.port = sock.address().port;
  return g;
}

interface Dest { URI: string; FLAGS: string; PRIORITY: number; ATTRS?: Record<string, unknown> }
interface Listing { NRSETS: number; RECORDS: { SET: { ID: number; TARGETS: { DEST: Dest }[] } }[] }

async function listing(rt: Parameters<typeof rpcResult>[0]): Promise<Listing> {
  return (await rpcResult(rt, 'dispatcher.list')) as Listing;
}

/** A condition asked over RPC at most every 100 ms (until() polls every 5 ms). */
function everyTenth(cond: () => Promise<boolean>): () => Promise<boolean> {
  let last = 0;
  return async () => {
    if (Date.now() - last < 100) return false;
    last = Date.now();
    return cond();
  };
}

function flagsOf(l: Listing, uri: string): string | undefined {
  for (const r of l.RECORDS) for (const t of r.SET.TARGETS) if (t.DEST.URI === uri) return t.DEST.FLAGS;
  return undefined;
}

const EVENTS = {
  lua: '\nfunction ksr_dispatcher_event(ev)\n  local n = KSR.pv.get("$shv(events)")\n  if n == nil then n = "" end\n  KSR.pv.sets("$shv(events)", n .. ev .. ";")\nend\n',
  js: '\nfunction ksr_dispatcher_event(ev) {\n  var n = KSR.pv.get("$shv(events)");\n  KSR.pv.sets("$shv(events)", (n === null ? "" : n) + ev + ";");\n}\n',
};

for (const engine of ENGINES) {
  const script = (engine === 'lua' ? LUA : JS) + EVENTS[engine];
  describe(`dispatcher operations [${engine}]`, () => {
    test('dispatcher.list, set_state, reload (a bad file keeps the sets in use), add, remove, hash, ping_active', async () => {
      const file = join(dir, `rpc-${engine}.list`);
      writeFileSync(file, '1 sip:192.0.2.1:5060 0 10 duid=x;weight=40\n1 sip:192.0.2.2;transport=tcp 8 5\n3 sip:192.0.2.3\n');
      const server = await startServer(engine, script, { config: { rpc: { listen: '127.0.0.1:0' }, modules: { dispatcher: { list_file: file, reload_delta: 0 } } } });
      try {
        const l = await listing(server.rt);
        assert.equal(l.NRSETS, 2);
        assert.deepEqual(l.RECORDS.map((r) => r.SET.ID), [3, 1], 'Kamailio\'s walk of its AVL tree: children first');
        const [a, b] = l.RECORDS[1]?.SET.TARGETS ?? [];
        assert.deepEqual(a?.DEST, { URI: 'sip:192.0.2.1:5060', FLAGS: 'AX', PRIORITY: 10, ATTRS: { BODY: 'duid=x;weight=40', DUID: 'x', MAXLOAD: 0, WEIGHT: 40, RWEIGHT: 0, SOCKET: '', SOCKNAME: '', OBPROXY: '' } });
        assert.deepEqual(b?.DEST, { URI: 'sip:192.0.2.2;transport=tcp', FLAGS: 'AP', PRIORITY: 5 });
        assert.equal(await rpcResult(server.rt, 'dispatcher.set_state', ['ip', 1, 'sip:192.0.2.1:5060']), 'Ok. Dispatcher state updated.');
        assert.equal(flagsOf(await listing(server.rt), 'sip:192.0.2.1:5060'), 'IP');
        assert.equal(await rpcResult(server.rt, 'dispatcher.set_duid_state', ['a', 1, 'X']), 'Ok. Dispatcher state updated.');
        assert.equal(flagsOf(await listing(server.rt), 'sip:192.0.2.1:5060'), 'AX', 'by duid, in any case');
        assert.equal((await rpc(server.rt, 'dispatcher.set_duid_state', ['a', 1, 'nope'])).error?.message, 'State Update Failed');
        await rpcResult(server.rt, 'dispatcher.set_state', ['d', 1, 'all']);
        assert.equal(flagsOf(await listing(server.rt), 'sip:192.0.2.2;transport=tcp'), 'DX');
        assert.equal((await rpc(server.rt, 'dispatcher.set_state', ['q', 1, 'all'])).error?.message, 'Unknown State Value');
        assert.equal((await rpc(server.rt, 'dispatcher.set_state', ['a', 1, 'sip:198.51.100.1'])).error?.message, 'State Update Failed');
        assert.equal((await rpc(server.rt, 'dispatcher.set_state', ['a'])).error?.message, 'Invalid Parameters');
        writeFileSync(file, '5 sip:192.0.2.5 0 0\n');
        assert.equal(await rpcResult(server.rt, 'dispatcher.reload'), 'Ok. Dispatcher successfully reloaded.');
        assert.deepEqual((await listing(server.rt)).RECORDS.map((r) => r.SET.ID), [5]);
        rmSync(file);
        const failed = await rpc(server.rt, 'dispatcher.reload');
        assert.equal(failed.error?.message, 'Reload Failed');
        assert.deepEqual((await listing(server.rt)).RECORDS.map((r) => r.SET.ID), [5], 'the sets in use stay');
        assert.equal(await rpcResult(server.rt, 'dispatcher.add', [5, 'sip:192.0.2.6', 0, 0, 'duid=six']), 'Ok. Dispatcher destination added.');
        const added = (await listing(server.rt)).RECORDS[0]?.SET.TARGETS.map((x) => x.DEST.URI);
        assert.deepEqual(added, ['sip:192.0.2.6', 'sip:192.0.2.5'], 'equal priorities: the one added last first');
        await rpcResult(server.rt, 'dispatcher.add', [6, 'sip:192.0.2.7']);
        assert.equal(await rpcResult(server.rt, 'dispatcher.remove', [5, 'sip:192.0.2.5']), 'Ok. Dispatcher destination removed.');
        assert.deepEqual((await listing(server.rt)).RECORDS.map((r) => [r.SET.ID, r.SET.TARGETS.map((x) => x.DEST.URI)]), [[5, ['sip:192.0.2.6']], [6, ['sip:192.0.2.7']]]);
        assert.equal((await rpc(server.rt, 'dispatcher.add', [5, 'http://x'])).error?.message, 'Adding dispatcher dst failed');
        assert.equal((await rpc(server.rt, 'dispatcher.add', ['x'])).error?.message, 'Invalid Parameters');
        const h = dsHash('alice', 'server.com');
        assert.deepEqual(await rpcResult(server.rt, 'dispatcher.hash', [4, 'alice', 'server.com']), { hashid: h, slot: h % 4 });
        assert.deepEqual(await rpcResult(server.rt, 'dispatcher.hash', [0, 'x']), { hashid: dsHash('x'), slot: 0 });
        assert.deepEqual(await rpcResult(server.rt, 'dispatcher.ping_active', [0]), { NewPingState: 0, OldPingState: 1 });
        assert.deepEqual(await rpcResult(server.rt, 'dispatcher.ping_active'), { OldPingState: 0 });
      } finally {
        await server.close();
      }
    });

    test('keepalives: a silent gateway becomes inactive, one that answers again active; events run; traffic avoids the inactive one', async () => {
      const up = await gateway(200);
      const flip = await gateway(0);
      const U = `sip:127.0.0.1:${String(up.port)}`;
      const F = `sip:127.0.0.1:${String(flip.port)}`;
      const file = join(dir, `probe-${engine}.list`);
      writeFileSync(file, `1 ${F} 0 20\n1 ${U} 0 10\n`);
      const server = await startServer(engine, script, {
        config: {
          rpc: { listen: '127.0.0.1:0' },
          modules: { dispatcher: { list_file: file, flags: 2, ds_ping_interval: 1, ds_probing_mode: 1, ds_ping_from: 'sip:probe@kemihost.test', event_callback: 'ksr_dispatcher_event' } },
        },
      });
      try {
        await until(everyTenth(async () => flagsOf(await listing(server.rt), F) === 'IP'), 8000, 'the silent gateway to become inactive');
        assert.equal(flagsOf(await listing(server.rt), U), 'AP');
        const ping = up.received.find((m) => m.isRequest && m.method === 'OPTIONS');
        assert.equal(ping?.ruri, U);
        assert.equal(ping.from.uri, 'sip:probe@kemihost.test');
        assert.equal(ping.to.uri, U);
        assert.ok(flip.received.filter((m) => m.method === 'OPTIONS').length >= 2, 'retransmitted over UDP while unanswered');
        const uac = await UdpPeer.open();
        try {
          uac.request({ method: 'INVITE', ruri: 'sip:bob@example.com', callId: 'probe-call', headers: ['X-Alg: 8'] }, server.udpPort);
          await until(() => up.received.some((m) => m.method === 'INVITE' && m.callId === 'probe-call'), 3000, 'the INVITE at the active gateway');
          assert.equal(flip.received.some((m) => m.method === 'INVITE'), false);
        } finally {
          uac.close();
        }
        flip.code = 200;
        await until(everyTenth(async () => flagsOf(await listing(server.rt), F) === 'AP'), 8000, 'the gateway to come back');
        const asker = await UdpPeer.open();
        try {
          asker.request({ headers: ['X-Test: events'] }, server.udpPort);
          assert.equal((await asker.next(3000))?.getHeader('X-Events'), 'dispatcher:dst-down;dispatcher:dst-up;');
        } finally {
          asker.close();
        }
      } finally {
        await server.close();
        up.close();
        flip.close();
      }
    });
  });
}

describe('dispatcher: the dispatcher table as the source', () => {
  for (const dialect of DIALECTS) {
    test(`${dialect}: rows with Kamailio's columns are the sets; a request goes to the selected gateway`, async (t) => {
      const tdb = await freshDatabase(t, dialect);
      if (tdb === null) return;
      const gw = await NextHop.start('udp', 200);
      t.after(() => { gw.close(); });
      const db = await open(t, tdb.url);
      await ensureSchema(db, [DISPATCHER_TABLE]);
      const G = `sip:127.0.0.1:${String(gw.port)}`;
      await db.exec('INSERT INTO dispatcher (setid, destination, flags, priority, attrs, description) VALUES (?, ?, ?, ?, ?, ?)', [1, G, 0, 10, 'duid=g', 'gateway']);
      await db.exec('INSERT INTO dispatcher (setid, destination, flags, priority, attrs, description) VALUES (?, ?, ?, ?, ?, ?)', [1, 'sip:192.0.2.9', 1, 20, '', 'down']);
      const engine = ENGINES[0] ?? 'lua';
      const server = await startServer(engine, engine === 'lua' ? LUA : JS, { config: { rpc: { listen: '127.0.0.1:0' }, modules: { dispatcher: { db_url: tdb.url, flags: 2 } } } });
      try {
        const l = await listing(server.rt);
        assert.deepEqual(l.RECORDS[0]?.SET.TARGETS.map((x) => [x.DEST.URI, x.DEST.FLAGS]), [['sip:192.0.2.9', 'IX'], [G, 'AX']]);
        const uac = await UdpPeer.open();
        try {
          uac.request({ method: 'INVITE', ruri: 'sip:bob@example.com', callId: `db-${dialect}`, headers: ['X-Alg: 8'] }, server.udpPort);
          assert.ok((await gw.request(1, 3000))?.callId === `db-${dialect}`, 'the INVITE at the gateway from the table');
        } finally {
          uac.close();
        }
      } finally {
        await server.close();
      }
    });
  }
});
