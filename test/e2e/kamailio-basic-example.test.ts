/**
 * Kamailio's own example, unchanged: scripts/examples/kamailio-basic/ (Debian's Lua and JS
 * scripts, byte for byte, and its cfg as kemihost.yaml) run with real sipp peers, a SQLite
 * subscriber store and a real rtpengine serving the example's rtpproxy_manage("co") on its
 * rtpproxy-compatible listener. One table of cases, run on both engines.
 *
 * The example relays media only for a UA it finds behind a NAT (nathelper's nat_uac_test), so
 * those cases simulate one: sipp sends from one port and writes another in its Via, with a
 * private Contact and c= address.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import dgram from 'node:dgram';
import { once } from 'node:events';
import { existsSync, readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { SipMessage } from '../../host/sip/message.js';
import {
  call, DEBIAN_EXAMPLES, EXAMPLE_SCRIPT, exampleStore, FLB_NATB, options, register, startExample, storedContacts,
  type ExampleServer, type Ua,
} from '../helpers/basic-example.js';
import { mediaOf } from '../helpers/media-flow.js';
import { rpcResult } from '../helpers/rpc.js';
import { rtpengineCalls, startRtpengine, type RtpengineProcess } from '../helpers/rtpengine.js';
import { ENGINES, type EngineName } from '../helpers/runtime.js';
import { freePort } from '../helpers/sipp.js';
import { until } from '../helpers/until.js';

const FLB_NATSIPPING = 7;

interface Env {
  readonly engine: EngineName;
  readonly server: ExampleServer;
  readonly rtpe: RtpengineProcess;
  readonly dbUrl: string;
}

interface Case {
  readonly name: string;
  run(env: Env): Promise<void>;
}

/** what a sipp received, for a failure message */
const seen = (ms: readonly SipMessage[]): string => ms.map((m) => m.isRequest ? `${m.method} ${m.ruri}` : `${String(m.status)} ${m.reason}`).join(', ');
const statuses = (ms: readonly SipMessage[]): number[] => ms.filter((m) => !m.isRequest && m.status > 100).map((m) => m.status);
const ua = async (user: string, nat: boolean): Promise<Ua> => ({ user, port: await freePort(), nat });

async function registered(env: Env, u: Ua): Promise<void> {
  const r = await register(env.server.udpPort, u);
  assert.equal(r.code, 0, `REGISTER ${u.user} received ${seen(r.received)}: ${r.output.slice(-1500)}`);
}

/** Where the relay put a media stream: its address, and a port of its range. */
function assertRelayed(env: Env, sdp: string, what: string): void {
  const m = mediaOf(sdp);
  assert.equal(m.address, '127.0.0.1', `${what}: c= names the relay\n${sdp}`);
  const port = m.ports[0] ?? 0;
  assert.ok(port >= env.rtpe.portMin && port <= env.rtpe.portMax, `${what}: m= port ${String(port)} is the relay's\n${sdp}`);
}

const CASES: readonly Case[] = [
  {
    name: 'OPTIONS to the server itself: 200 Keepalive',
    async run({ server }) {
      const r = await options(server.udpPort, await freePort());
      assert.equal(r.code, 0, r.output);
      assert.deepEqual(r.received.map((m) => `${String(m.status)} ${m.reason}`), ['200 Keepalive']);
    },
  },
  {
    name: 'REGISTER with digest auth against the SQLite subscriber: 401, 200, the contact stored',
    async run(env) {
      const alice = await ua('alice', false);
      const r = await register(env.server.udpPort, alice);
      assert.equal(r.code, 0, r.output);
      assert.deepEqual(statuses(r.received), [401, 200]);
      assert.match(r.received[0]?.getHeader('www-authenticate') ?? '', /^Digest realm="127\.0\.0\.1", nonce="/);
      assert.equal(r.received[1]?.getHeader('contact'), `<sip:alice@127.0.0.1:${String(alice.port)}>;expires=600`);
      await rpcResult(env.server.rt, 'ul.flush');
      assert.deepEqual(await storedContacts(env.dbUrl, 'alice'), [{ contact: `sip:alice@127.0.0.1:${String(alice.port)}`, received: null, cflags: 0 }]);
    },
  },
  {
    name: 'REGISTER from behind a NAT: the received address and the NAT flags stored',
    async run(env) {
      const carol = await ua('carol', true);
      const r = await register(env.server.udpPort, carol);
      assert.equal(r.code, 0, r.output);
      assert.deepEqual(statuses(r.received), [401, 200]);
      const received = `sip:127.0.0.1:${String(carol.port)}`;
      assert.equal(r.received[1]?.getHeader('contact'), `<sip:carol@192.168.1.20:5060>;expires=600;received="${received}"`);
      await rpcResult(env.server.rt, 'ul.flush');
      assert.deepEqual(await storedContacts(env.dbUrl, 'carol'),
        [{ contact: 'sip:carol@192.168.1.20:5060', received, cflags: (1 << FLB_NATB) | (1 << FLB_NATSIPPING) }]);
    },
  },
  {
    name: 'a call between two registered users (no NAT): 407 first, then relayed as it is with Record-Route, BYE',
    async run(env) {
      const [erin, frank] = [await ua('erin', false), await ua('frank', false)];
      await registered(env, erin);
      await registered(env, frank);
      const { caller, callee } = await call(env.server.udpPort, erin, frank, 50);
      assert.equal(caller.code, 0, `caller: ${caller.output.slice(-1500)}`);
      assert.equal(callee.code, 0, `callee: ${callee.output.slice(-1500)}`);
      assert.deepEqual(statuses(caller.received), [407, 180, 200, 200]);
      assert.match(caller.received[0]?.getHeader('proxy-authenticate') ?? '', /^Digest realm="127\.0\.0\.1", nonce="/);
      const invite = callee.received.find((m) => m.method === 'INVITE');
      assert.ok(invite !== undefined);
      assert.equal(invite.getHeader('record-route'), `<sip:127.0.0.1:${String(env.server.udpPort)};lr=on>`);
      assert.equal(invite.getHeader('proxy-authorization'), undefined, 'consume_credentials took them');
      assert.equal(mediaOf(invite.bodyText).address, '127.0.0.1', 'no NAT: the SDP is not touched');
      assert.equal(mediaOf(invite.bodyText).ports[0], 49170);
      assert.deepEqual(callee.received.map((m) => m.method), ['INVITE', 'ACK', 'BYE']);
    },
  },
  {
    name: 'a call between two NATed users: SDP through the relay both ways, alias in Contact, BYE deletes the session',
    async run(env) {
      const [gina, hank] = [await ua('gina', true), await ua('hank', true)];
      await registered(env, gina);
      await registered(env, hank);
      const before = await rtpengineCalls(env.rtpe.ngPort);
      let held = false;
      const { caller, callee } = await call(env.server.udpPort, gina, hank, 300, async (ended) => {
        await until(async () => ended() || (held = (await rtpengineCalls(env.rtpe.ngPort)) > before), 8000, 'the relay to hold the call');
      });
      assert.equal(caller.code, 0, `caller received ${seen(caller.received)}: ${caller.output.slice(-1500)}`);
      assert.equal(callee.code, 0, `callee received ${seen(callee.received)}: ${callee.output.slice(-1500)}`);
      assert.ok(held, `the relay held a session during the call; rtpengine's log:\n${env.rtpe.log().slice(-3000)}`);
      assert.deepEqual(statuses(caller.received), [407, 180, 200, 200]);
      const invite = callee.received.find((m) => m.method === 'INVITE');
      assert.ok(invite !== undefined);
      assertRelayed(env, invite.bodyText, 'the INVITE the callee got');
      assert.match(invite.getHeader('contact') ?? '', new RegExp(`^<sip:gina@192\\.168\\.1\\.20:5060;alias=127\\.0\\.0\\.1~${String(gina.port)}~1>$`));
      assert.match(invite.getHeader('record-route') ?? '', new RegExp(`^<sip:127\\.0\\.0\\.1:${String(env.server.udpPort)};lr=on`));
      const ok = caller.received.find((m) => m.status === 200 && m.cseq.method === 'INVITE');
      assert.ok(ok !== undefined);
      assertRelayed(env, ok.bodyText, 'the 200 the caller got');
      assert.deepEqual(callee.received.map((m) => m.method), ['INVITE', 'ACK', 'BYE']);
      await until(async () => (await rtpengineCalls(env.rtpe.ngPort)) === before, 3000, 'the BYE to delete the relay session');
    },
  },
  {
    name: 'keepalive OPTIONS from sip:pinger@kamailio.org reach a NATed contact (natping_interval 1 s here, 30 s shipped)',
    async run(env) {
      const server = await startExample(env.engine, env.dbUrl, `udp:127.0.0.1:${String(env.rtpe.udpPort)}`, { natping_interval: 1 });
      const ivan = await ua('ivan', true);
      const pings: string[] = [];
      const sock = dgram.createSocket('udp4');
      try {
        await registered({ ...env, server }, ivan);
        // sipp has ended: the NAT's port is ours now, as the UA behind it would hold it
        sock.on('message', (m) => { pings.push(m.toString('latin1')); });
        sock.bind(ivan.port, '127.0.0.1');
        await once(sock, 'listening');
        await until(() => pings.length > 0, 5000, 'a keepalive at the contact\'s received address');
        const ping = pings[0] ?? '';
        assert.match(ping, /^OPTIONS sip:ivan@192\.168\.1\.20:5060 SIP\/2\.0\r\n/, ping);
        assert.match(ping, /\r\nFrom: <?sip:pinger@kamailio\.org>?;tag=/i, ping);
      } finally {
        sock.close();
        await server.close();
      }
    },
  },
];

test('the shipped scripts are byte-identical to Debian\'s', (t) => {
  for (const path of Object.values(EXAMPLE_SCRIPT)) {
    const debian = DEBIAN_EXAMPLES + basename(path);
    if (!existsSync(debian)) {
      t.diagnostic(`${debian} not installed (Debian package kamailio): not compared`);
      continue;
    }
    const sha = (p: string): string => createHash('sha256').update(readFileSync(p)).digest('hex');
    assert.equal(sha(path), sha(debian), `${basename(path)} differs from Debian's`);
  }
});

let rtpe: RtpengineProcess | null = null;
before(async () => { rtpe = await startRtpengine(null, { legacy: true }); });
after(async () => { await rtpe?.stop(); });

for (const engine of ENGINES) {
  describe(`Kamailio's kamailio-basic example [${engine}]`, () => {
    let env: Env | null = null;
    before(async () => {
      if (rtpe === null) return;
      const dbUrl = await exampleStore(['alice', 'carol', 'erin', 'frank', 'gina', 'hank', 'ivan']);
      const server = await startExample(engine, dbUrl, `udp:127.0.0.1:${String(rtpe.udpPort)}`);
      env = { engine, server, rtpe, dbUrl };
    });
    after(async () => { await env?.server.close(); });
    for (const c of CASES) {
      test(c.name, async (t) => {
        if (env === null) return t.skip('rtpengine not installed');
        await c.run(env);
      });
    }
  });
}
