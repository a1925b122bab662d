/**
 * usrloc's control RPC with Kamailio's names and result shapes (ul.dump, ul.lookup, ul.rm,
 * ul.rm_contact, ul.flush), over real HTTP, and `kemihost ctl ul show | rm` (a child process)
 * reading the running server through it. Engine-independent: the Lua engine runs the script.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { LUA, register } from '../bindings/registrar-script.js';
import { runCli } from '../helpers/cli.js';
import type { FlowEnv } from '../helpers/flow-cases.js';
import { rpc, rpcAddress, rpcResult } from '../helpers/rpc.js';
import { startServer, type TestServer } from '../helpers/runtime.js';
import { UdpPeer } from '../helpers/sip-client.js';


interface Dump {
  Domains: { Domain: { Domain: string; Size: number; AoRs: { Info?: { AoR: string; HashID: number; Contacts: { Contact: Record<string, unknown> }[] }; AoR?: string }[]; Stats: { Records: number; 'Max-Slots': number } } }[];
}

describe('usrloc RPC and kemihost ctl ul', () => {
  let server: TestServer;
  let uac: UdpPeer;
  let env: FlowEnv;

  before(async () => {
    server = await startServer('lua', LUA, { config: { rpc: { listen: '127.0.0.1:0' } } });
    uac = await UdpPeer.open();
    env = {
      engine: 'lua', server, uac, uas: [],
      send: async (spec) => {
        uac.request(spec, server.udpPort);
        for (;;) {
          const m = await uac.next(3000);
          if (m === null) throw new Error('no reply');
          if (m.status > 100) return m;
        }
      },
      sendNoReply: () => Promise.reject(new Error('not used')),
    };
    await register(env, 'alice', ['<sip:alice@192.0.2.1:5060>;q=0.5', '<sip:alice@192.0.2.2>'], { headers: ['Expires: 600'] });
    await register(env, 'bob', ['<sip:bob@192.0.2.3>']);
  });

  after(async () => {
    uac.close();
    await server.close();
  });

  test('ul.dump: Domains → Domain → AoRs → Info → Contacts → Contact, Kamailio\'s keys; "brief" lists the AoRs', async () => {
    const d = (await rpcResult(server.rt, 'ul.dump')) as Dump;
    const dom = d.Domains[0]?.Domain;
    assert.equal(dom?.Domain, 'location');
    assert.equal(dom.Size, 1024);
    assert.equal(dom.Stats.Records, 2);
    const alice = dom.AoRs.find((a) => a.Info?.AoR === 'alice')?.Info;
    assert.equal(alice?.HashID, 1834153949, 'Kamailio\'s core_hash of "alice"');
    const c = alice.Contacts[0]?.Contact ?? {};
    assert.deepEqual(Object.keys(c), ['Address', 'Expires', 'Q', 'Call-ID', 'CSeq', 'User-Agent', 'Received', 'Path', 'State', 'Flags', 'CFlags', 'Socket', 'Methods', 'Ruid', 'Instance', 'Reg-Id', 'Server-Id', 'Tcpconn-Id', 'Keepalive', 'Last-Keepalive', 'KA-Roundtrip', 'Last-Modified']);
    assert.equal(c.Address, 'sip:alice@192.0.2.1:5060');
    assert.equal(c.Q, 0.5);
    assert.ok(typeof c.Expires === 'number' && c.Expires > 590 && c.Expires <= 600);
    assert.equal(c.Received, '[not set]');
    assert.equal(c.State, 'CS_NEW');
    assert.equal(c.Methods, 4294967295);
    assert.equal(alice.Contacts[1]?.Contact.Q, -1);
    const brief = (await rpcResult(server.rt, 'ul.dump', ['brief'])) as Dump;
    assert.deepEqual(brief.Domains[0]?.Domain.AoRs.map((a) => a.AoR).sort(), ['alice', 'bob']);
  });

  test('ul.lookup: the AoR\'s contacts; Kamailio\'s faults for an unknown AoR or table; INVALID_PARAMS without params', async () => {
    const r = (await rpcResult(server.rt, 'ul.lookup', ['location', 'Alice@example.com'])) as { AoR: string; Contacts: unknown[] };
    assert.equal(r.AoR, 'alice', 'lowercased, the domain dropped without use_domain');
    assert.equal(r.Contacts.length, 2);
    assert.deepEqual((await rpc(server.rt, 'ul.lookup', ['location', 'nobody'])).error, { code: 500, message: 'AOR not found in location table' });
    assert.deepEqual((await rpc(server.rt, 'ul.lookup', ['nosuch', 'alice'])).error, { code: 500, message: 'Domain table not found' });
    assert.equal((await rpc(server.rt, 'ul.lookup', ['location'])).error?.code, -32602);
  });

  test('kemihost ctl ul show: one line per contact; show <aor>; --json; an unknown AoR exits 1', async () => {
    const addr = rpcAddress(server.rt);
    const all = await runCli(['ctl', 'ul', '--rpc-address', addr, 'show']);
    assert.equal(all.code, 0, all.stderr);
    const lines = all.stdout.trim().split('\n').map((l) => l.split('\t'));
    assert.deepEqual(lines.map((l) => [l[0], l[1], l[2]]).sort(), [
      ['location', 'alice', 'sip:alice@192.0.2.1:5060'], ['location', 'alice', 'sip:alice@192.0.2.2'], ['location', 'bob', 'sip:bob@192.0.2.3'],
    ]);
    const one = await runCli(['ctl', 'ul', '--rpc-address', addr, 'show', 'bob']);
    assert.match(one.stdout, /^location\tbob\tsip:bob@192\.0\.2\.3\t\d+\t-1\t\[not set\]\tkemihost-test\tuloc-/);
    const json = await runCli(['ctl', 'ul', '--rpc-address', addr, 'show', 'bob', '--json']);
    assert.equal((JSON.parse(json.stdout) as { AoR: string }).AoR, 'bob');
    const none = await runCli(['ctl', 'ul', '--rpc-address', addr, 'show', 'nobody']);
    assert.equal(none.code, 1);
    assert.match(none.stderr, /AOR not found in location table/);
  });

  test('ul.rm_contact, ctl ul rm and ul.rm remove; lookup then fails in the script too', async () => {
    assert.deepEqual(await rpcResult(server.rt, 'ul.rm_contact', ['location', 'alice', 'sip:alice@192.0.2.2']), {});
    assert.deepEqual((await rpc(server.rt, 'ul.rm_contact', ['location', 'alice', 'sip:nope@x'])).error, { code: 404, message: 'Contact not found' });
    const r = (await rpcResult(server.rt, 'ul.lookup', ['location', 'alice'])) as { Contacts: unknown[] };
    assert.equal(r.Contacts.length, 1);
    const rm = await runCli(['ctl', 'ul', '--rpc-address', rpcAddress(server.rt), 'rm', 'alice']);
    assert.equal(rm.code, 0, rm.stderr);
    assert.equal((await rpc(server.rt, 'ul.lookup', ['location', 'alice'])).error?.code, 500);
    assert.deepEqual(await rpcResult(server.rt, 'ul.rm', ['location', 'bob']), {});
    assert.deepEqual(await rpcResult(server.rt, 'ul.flush'), {});
    const probe = await env.send({ method: 'OPTIONS', ruri: 'sip:bob@example.com' });
    assert.equal(probe.getHeader('x-rc'), '-1');
  });
});
