/**
 * Server transactions absorb retransmitted requests before the script runs (RFC 3261 §17.2):
 * the last reply is re-sent byte for byte, the script runs once. A UDP peer sends the same
 * request again (same branch) and looks at what comes back; the script numbers its runs.
 */
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, test } from 'node:test';
import { ENGINES, startServer, type EngineName, type TestServer } from '../helpers/runtime.js';
import { UdpPeer, type RequestSpec } from '../helpers/sip-client.js';

/** A counter table for the script: X-Run says which run of the script built the reply. */
const HT = { htable: { tables: { c: { initval: 0 } } } };

function script(engine: EngineName, lua: string, js: string): string {
  return engine === 'lua'
    ? `function ksr_request_route()
  local n = KSR.htable.sht_inc("c", "runs")
  KSR.hdr.append_to_reply("X-Run: " .. n .. "\\r\\n")
${lua}
end
function RESUME()
  KSR.tm.t_reply(200, "OK")
end
`
    : `function ksr_request_route() {
  const n = KSR.htable.sht_inc("c", "runs");
  KSR.hdr.append_to_reply("X-Run: " + n + "\\r\\n");
${js}
}
function RESUME() { KSR.tm.t_reply(200, "OK"); }
`;
}

async function withServer(engine: EngineName, src: string, tm: Record<string, unknown>, fn: (s: TestServer, peer: UdpPeer) => Promise<void>): Promise<void> {
  const server = await startServer(engine, src, { config: { modules: { ...HT, tm } } });
  const peer = await UdpPeer.open();
  try {
    await fn(server, peer);
  } finally {
    peer.close();
    await server.close();
  }
}

for (const engine of ENGINES) {
  describe(`tm: retransmitted requests [${engine}]`, () => {
    test('the same INVITE twice: one script run, the 486 re-sent byte for byte', async () => {
      const src = script(engine, 'KSR.tm.t_newtran()\nKSR.tm.t_reply(486, "Busy Here")', 'KSR.tm.t_newtran();\nKSR.tm.t_reply(486, "Busy Here");');
      // a long T1: what comes back is the answer to the retransmission, not Timer G
      await withServer(engine, src, { retr_timer1: 5000 }, async (server, peer) => {
        const invite: RequestSpec = { method: 'INVITE', branch: 'z9hG4bK-retr-1', callId: 'retr-1@test', fromTag: 'f1' };
        peer.request(invite, server.udpPort);
        assert.equal((await peer.next())?.status, 100);
        const first = await peer.next();
        assert.equal(first?.status, 486);
        assert.equal(first.getHeader('X-Run'), '1');
        const firstRaw = peer.raw[peer.raw.length - 1];

        peer.request(invite, server.udpPort);
        const again = await peer.next();
        assert.equal(again?.status, 486);
        assert.deepEqual(peer.raw[peer.raw.length - 1], firstRaw, 'the very same reply');
        assert.equal(await peer.next(300), null, 'one reply per retransmission');
        assert.equal(server.rt.stats.get('tm:absorbed'), 1);

        // a new transaction (another branch) runs the script: the counter shows the first ran once
        peer.request({ ...invite, branch: 'z9hG4bK-retr-2', cseq: 2 }, server.udpPort);
        assert.equal((await peer.next())?.status, 100);
        assert.equal((await peer.next())?.getHeader('X-Run'), '2');
      });
    });

    test('an INVITE retransmitted while suspended gets 100 Trying again; the script ran once', async () => {
      const src = script(engine, 'KSR.async.ms_route("RESUME", 300)', 'KSR.async.ms_route("RESUME", 300);');
      await withServer(engine, src, {}, async (server, peer) => {
        const invite: RequestSpec = { method: 'INVITE', branch: 'z9hG4bK-susp-1' };
        peer.request(invite, server.udpPort);
        assert.equal((await peer.next())?.status, 100);
        peer.request(invite, server.udpPort);
        const trying = await peer.next(200);
        assert.equal(trying?.status, 100, 'the retransmission is answered with the last provisional');
        assert.equal(trying.to.tag, '');
        const ok = await peer.next(1000);
        assert.equal(ok?.status, 200);
        assert.equal(ok.getHeader('X-Run'), '1');
        assert.equal(server.rt.stats.get('tm:absorbed'), 1);
        assert.equal(server.rt.stats.get('async:resumed'), 1);
      });
    });

    test('non-INVITE: the final is re-sent during wt_timer (Timer J); afterwards the request is new', async () => {
      const src = script(engine, 'KSR.tm.t_newtran()\nKSR.tm.t_reply(200, "OK")', 'KSR.tm.t_newtran();\nKSR.tm.t_reply(200, "OK");');
      await withServer(engine, src, { wt_timer: 300 }, async (server, peer) => {
        const msg: RequestSpec = { method: 'MESSAGE', branch: 'z9hG4bK-nonInv-1' };
        peer.request(msg, server.udpPort);
        assert.equal((await peer.next())?.getHeader('X-Run'), '1');
        peer.request(msg, server.udpPort);
        const again = await peer.next();
        assert.equal(again?.getHeader('X-Run'), '1', 're-sent, not run again');
        assert.equal(server.rt.stats.get('tm:active'), 1);
        await sleep(450);
        assert.equal(server.rt.stats.get('tm:active'), 0, 'freed after wt_timer');
        peer.request(msg, server.udpPort);
        assert.equal((await peer.next())?.getHeader('X-Run'), '2', 'after wt_timer the same request is a new one');
      });
    });

    test('a provisional reply is what a retransmitted non-INVITE gets while the transaction waits', async () => {
      const src = script(engine, 'KSR.tm.t_newtran()\nKSR.tm.t_reply(182, "Queued")\nKSR.async.ms_route("RESUME", 300)',
        'KSR.tm.t_newtran();\nKSR.tm.t_reply(182, "Queued");\nKSR.async.ms_route("RESUME", 300);');
      await withServer(engine, src, {}, async (server, peer) => {
        const msg: RequestSpec = { method: 'MESSAGE', branch: 'z9hG4bK-prov-1' };
        peer.request(msg, server.udpPort);
        assert.equal((await peer.next())?.status, 182);
        peer.request(msg, server.udpPort);
        assert.equal((await peer.next(200))?.status, 182);
        assert.equal((await peer.next(1000))?.status, 200);
      });
    });

    test('requests without the magic cookie (RFC 2543) are matched too', async () => {
      const src = script(engine, 'KSR.tm.t_newtran()\nKSR.tm.t_reply(200, "OK")', 'KSR.tm.t_newtran();\nKSR.tm.t_reply(200, "OK");');
      await withServer(engine, src, {}, async (server, peer) => {
        const msg: RequestSpec = { method: 'MESSAGE', branch: 'old-style-1', callId: 'legacy@test', fromTag: 'lf' };
        peer.request(msg, server.udpPort);
        assert.equal((await peer.next())?.getHeader('X-Run'), '1');
        peer.request(msg, server.udpPort);
        assert.equal((await peer.next())?.getHeader('X-Run'), '1');
        peer.request({ ...msg, cseq: 2 }, server.udpPort);
        assert.equal((await peer.next())?.getHeader('X-Run'), '2', 'another CSeq is another transaction');
      });
    });
  });
}
