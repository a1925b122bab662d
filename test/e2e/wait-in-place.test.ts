/**
 * Waiting in place under the conditions a server meets (host/waits.ts), both engines: 1,000
 * INVITEs wait at once in KSR.async.ms_sleep; the script is reloaded meanwhile and every one
 * of them finishes on the version it started on, while a new request runs the new one; a
 * CANCEL during a wait gets its 200 and 487 and the callback never goes on; the CPU limit
 * counts a callback's running, not its waiting; and a server stopping with callbacks waiting
 * lets each go on at once with the call's failure value, so its reply still leaves. Real SIP
 * over UDP; what the UAC receives.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, test } from 'node:test';
import { rpcResult } from '../helpers/rpc.js';
import { until } from '../helpers/until.js';
import { ENGINES, startServer, type EngineName } from '../helpers/runtime.js';
import { UdpPeer, type RequestSpec } from '../helpers/sip-client.js';
import type { SipMessage } from '../../host/sip/message.js';
import { defineModule } from '../../host/kemi/types.js';
import { Wait, waitFn } from '../../host/kemi/wait.js';
import { NextHop } from '../helpers/next-hop.js';

/**
 * KSR.later.value(ms): waits in place like http_client or sqlops (a blocking call in Kamailio,
 * no transaction of the script's), then returns 7.
 */
const laterModule = defineModule({
  name: 'later',
  doc: 'Test only: a call that waits in place without taking the transaction.',
  functions: {
    value: waitFn(['int'], 'int', (_s, _c, ms) => new Wait('KSR.later.value', () => new Promise<number>((r) => { setTimeout(r, ms, 7); }), -1),
      'Waits ms, then 7.'),
  },
});

/** INVITE: a light wait, then a stateless forward (or t_newtran first, user "tran"). */
const LIGHT = {
  lua: `function ksr_request_route()
  if KSR.is_ACK() then return end
  local v = KSR.later.value(20)
  if KSR.pv.get("$rU") == "tran" then
    KSR.tm.t_reply(200, "t_newtran " .. KSR.tm.t_newtran() .. " v " .. v)
    return
  end
  KSR.forward()
end
`,
  js: `async function ksr_request_route() {
  if (KSR.is_ACK()) return;
  const v = await KSR.later.value(20);
  if (KSR.pv.get("$rU") === "tran") {
    KSR.tm.t_reply(200, "t_newtran " + KSR.tm.t_newtran() + " v " + v);
    return;
  }
  KSR.forward();
}
`,
};

const WAITING = 1000;

/** Version `v`: keeps $ci in a local, waits `ms`, answers "v<v> <rc>" with the local in a header. */
function script(engine: EngineName, v: number, ms: number): string {
  return engine === 'lua'
    ? `function ksr_request_route()
  if KSR.is_CANCEL() or KSR.is_ACK() then return end
  local ci = KSR.pv.get("$ci")
  local rc = KSR.async.ms_sleep(${String(ms)})
  KSR.hdr.append_to_reply("X-Ci: " .. ci .. "\\r\\n")
  KSR.tm.t_reply(200, "v${String(v)} " .. rc)
end
`
    : `async function ksr_request_route() {
  if (KSR.is_CANCEL() || KSR.is_ACK()) return;
  const ci = KSR.pv.get("$ci");
  const rc = await KSR.async.ms_sleep(${String(ms)});
  KSR.hdr.append_to_reply("X-Ci: " + ci + "\\r\\n");
  KSR.tm.t_reply(200, "v${String(v)} " + rc);
}
`;
}

/** A task route (a Context without a message) waits in place; a later request reads what it left in $shv. */
const TASK = {
  lua: `function ksr_request_route()
  if KSR.pv.get("$rU") == "read" then
    KSR.sl.sl_send_reply(200, "done " .. tostring(KSR.pv.get("$shv(done)")))
    return
  end
  KSR.async.task_data("TASK", "from-" .. KSR.pv.get("$rU"))
  KSR.sl.sl_send_reply(202, "Queued")
end
function TASK()
  local data = KSR.async.get_data()
  KSR.async.ms_sleep(30)
  KSR.pv.sets("$shv(done)", data)
end
`,
  js: `async function ksr_request_route() {
  if (KSR.pv.get("$rU") === "read") {
    KSR.sl.sl_send_reply(200, "done " + KSR.pv.get("$shv(done)"));
    return;
  }
  KSR.async.task_data("TASK", "from-" + KSR.pv.get("$rU"));
  KSR.sl.sl_send_reply(202, "Queued");
}
async function TASK() {
  const data = KSR.async.get_data();
  await KSR.async.ms_sleep(30);
  KSR.pv.sets("$shv(done)", data);
}
`,
};

const invite = (i: number): RequestSpec => ({ method: 'INVITE', callId: `wait-${String(i)}@test`, branch: `z9hG4bK-wait-${String(i)}`, fromTag: `f${String(i)}` });

/** Final replies to INVITEs, by Call-ID, until `count` came or `ms` passed without one. */
async function finals(peer: UdpPeer, count: number, ms: number): Promise<Map<string, SipMessage>> {
  const got = new Map<string, SipMessage>();
  for (let m = await peer.next(ms); m !== null; m = got.size < count ? await peer.next(ms) : null) {
    if (m.status >= 200 && m.cseq.method === 'INVITE') got.set(m.callId, m);
  }
  return got;
}

for (const engine of ENGINES) {
  describe(`waiting in place on a busy server [${engine}]`, () => {
    test(`${String(WAITING)} callbacks wait at once; a reload and a CANCEL meanwhile`, async () => {
      const server = await startServer(engine, script(engine, 1, 1500), { config: { rpc: { listen: '127.0.0.1:0' } } });
      const peer = await UdpPeer.open();
      try {
        for (let i = 0; i < WAITING; i++) {
          peer.request(invite(i), server.udpPort);
          if (i % 50 === 49) await sleep(5);
        }
        // every INVITE has its 100 Trying once its callback waits
        const trying = new Set<string>();
        for (let m = await peer.next(1000); m !== null && trying.size < WAITING; m = trying.size < WAITING ? await peer.next(1000) : null) {
          if (m.status === 100) trying.add(m.callId);
        }
        assert.equal(trying.size, WAITING);
        assert.equal(server.rt.stats.get('wait:waiting'), WAITING);

        writeFileSync(server.rt.scriptPath, script(engine, 2, 0));
        const res = (await rpcResult(server.rt, 'script.reload')) as { current: { version: number } };
        assert.equal(res.current.version, 2);

        const cancelled = invite(7);
        peer.request({ ...cancelled, method: 'CANCEL' }, server.udpPort);
        const fresh = invite(WAITING);
        peer.request(fresh, server.udpPort);

        const got = await finals(peer, WAITING + 1, 4000);
        assert.equal(got.size, WAITING + 1, 'every INVITE got a final reply');
        assert.equal(got.get(cancelled.callId ?? '')?.status, 487);
        assert.equal(got.get(fresh.callId ?? '')?.reason, 'v2 1', 'a new request runs the new version');
        for (const [ci, reply] of got) {
          if (ci === cancelled.callId || ci === fresh.callId) continue;
          assert.equal(reply.reason, 'v1 1', 'a waiting callback finishes on the version it started on');
          assert.equal(reply.getHeader('X-Ci'), ci, 'with its own locals');
        }
        assert.equal(server.rt.stats.get('wait:gone'), 1);
        assert.equal(server.rt.stats.get('wait:waiting'), 0);
        assert.equal(server.rt.stats.get('script:errors'), 0);
        // the old version is let go once its last waiting callback ended
        assert.equal(server.rt.script.drainingVersions.length, 0);
      } finally {
        peer.close();
        await server.close();
      }
    });

    test('a callback without a message (a task route) waits in place too', async () => {
      const server = await startServer(engine, TASK[engine]);
      const peer = await UdpPeer.open();
      try {
        peer.request({ method: 'MESSAGE', ruri: 'sip:alice@127.0.0.1' }, server.udpPort);
        assert.equal((await peer.next(2000))?.status, 202);
        await until(() => server.rt.stats.get('wait:resumed') === 1, 3000, 'the task to go on after its wait');
        peer.request({ method: 'MESSAGE', ruri: 'sip:read@127.0.0.1' }, server.udpPort);
        assert.equal((await peer.next(2000))?.reason, 'done from-alice');
        assert.equal(server.rt.stats.get('script:errors'), 0);
      } finally {
        peer.close();
        await server.close();
      }
    });

    test('a light wait (http_client, sqlops) leaves no transaction behind a stateless forward; t_newtran after it takes the one that held it', async () => {
      const hop = await NextHop.start('udp', 200);
      const server = await startServer(engine, LIGHT[engine], { modules: [laterModule] });
      const peer = await UdpPeer.open();
      try {
        peer.request({ method: 'INVITE', ruri: `sip:bob@127.0.0.1:${String(hop.port)}` }, server.udpPort);
        const got = await finals(peer, 1, 3000);
        assert.equal([...got.values()][0]?.status, 200, 'the next hop\'s 200, relayed statelessly');
        // the transaction made only to hold the request is gone: no 408 when its timer would fire
        await until(() => server.rt.stats.get('tm:active') === 0, 3000, 'the holding transaction to go');
        assert.equal(server.rt.stats.get('wait:resumed'), 1);
        peer.request({ method: 'INVITE', ruri: 'sip:tran@127.0.0.1', callId: 'tran@test' }, server.udpPort);
        const tran = await finals(peer, 1, 3000);
        assert.equal(tran.get('tran@test')?.reason, 't_newtran 1 v 7');
      } finally {
        peer.close();
        hop.close();
        await server.close();
      }
    });

    test('cpu_ms counts the running, not the waiting', async () => {
      const server = await startServer(engine, script(engine, 1, 300), { config: { limits: { cpu_ms: 50 } } });
      const peer = await UdpPeer.open();
      try {
        peer.request(invite(1), server.udpPort);
        const got = await finals(peer, 1, 3000);
        assert.equal(got.get(invite(1).callId ?? '')?.reason, 'v1 1');
        assert.equal(server.rt.stats.get('script:cpu_limit'), 0);
      } finally {
        peer.close();
        await server.close();
      }
    });

    test('stopping with callbacks waiting: each goes on now with -1 and its reply leaves', async () => {
      const server = await startServer(engine, script(engine, 1, 20_000));
      const peer = await UdpPeer.open();
      try {
        for (let i = 0; i < 3; i++) peer.request(invite(i), server.udpPort);
        const trying = new Set<string>();
        for (let m = await peer.next(2000); m !== null && trying.size < 3; m = trying.size < 3 ? await peer.next(2000) : null) {
          if (m.status === 100) trying.add(m.callId);
        }
        assert.equal(trying.size, 3);
        const t0 = performance.now();
        await server.close();
        assert.ok(performance.now() - t0 < 5000, 'close did not wait for the sleeps');
        const got = await finals(peer, 3, 2000);
        assert.equal(got.size, 3);
        for (const reply of got.values()) assert.equal(reply.reason, 'v1 -1');
      } finally {
        peer.close();
        await server.close();
      }
    });
  });
}
