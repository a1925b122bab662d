/**
 * Many suspended INVITEs at once: past 1,000 held, a transaction keeps its request as bytes only
 * and parses it again when something happens. Those must behave like the others: a
 * retransmission gets its 100 again, a CANCEL its 200 and 487, the resume its 200 with what the
 * request route stored in the Context.
 */
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, test } from 'node:test';
import { ENGINES, startServer, type EngineName } from '../helpers/runtime.js';
import { UdpPeer, type RequestSpec } from '../helpers/sip-client.js';

const HELD = 1200;

function script(engine: EngineName): string {
  return engine === 'lua'
    ? `function ksr_request_route()
  KSR.pv.sets("$var(ci)", KSR.pv.get("$ci"))
  KSR.async.ms_route("RESUME", 1500)
end
function RESUME()
  KSR.hdr.append_to_reply("X-Ci: " .. KSR.pv.get("$var(ci)") .. "|" .. KSR.pv.get("$ci") .. "\\r\\n")
  KSR.tm.t_reply(200, "OK")
end
`
    : `function ksr_request_route() {
  KSR.pv.sets("$var(ci)", KSR.pv.get("$ci"));
  KSR.async.ms_route("RESUME", 1500);
}
function RESUME() {
  KSR.hdr.append_to_reply("X-Ci: " + KSR.pv.get("$var(ci)") + "|" + KSR.pv.get("$ci") + "\\r\\n");
  KSR.tm.t_reply(200, "OK");
}
`;
}

for (const engine of ENGINES) {
  describe(`tm: ${String(HELD)} suspended at once [${engine}]`, () => {
    test('the ones held as bytes answer retransmissions, CANCEL and their resume correctly', async () => {
      const server = await startServer(engine, script(engine));
      const peer = await UdpPeer.open();
      try {
        const invite = (i: number): RequestSpec => ({ method: 'INVITE', callId: `held-${String(i)}@test`, branch: `z9hG4bK-held-${String(i)}`, fromTag: `f${String(i)}` });
        for (let i = 0; i < HELD; i++) {
          peer.request(invite(i), server.udpPort);
          if (i % 50 === 49) await sleep(5);
        }
        const trying = new Set<string>();
        for (let m = await peer.next(1000); m !== null && trying.size < HELD; m = trying.size < HELD ? await peer.next(1000) : null) {
          if (m.status === 100) trying.add(m.callId);
        }
        assert.equal(trying.size, HELD, 'every INVITE got its 100 Trying');
        assert.equal(server.rt.stats.get('tm:suspended'), HELD);

        // the last ones were suspended past the threshold: held as bytes
        const last = invite(HELD - 1);
        peer.request(last, server.udpPort);
        const again = await peer.next(500);
        assert.equal(again?.status, 100);
        assert.equal(again.callId, last.callId);

        const canceled = invite(HELD - 2);
        peer.request({ ...canceled, method: 'CANCEL' }, server.udpPort);
        const replies = [await peer.next(500), await peer.next(500)];
        assert.deepEqual(replies.map((r) => `${String(r?.status)} ${r?.cseq.method ?? ''} ${r?.callId ?? ''}`).sort(), [
          `200 CANCEL ${canceled.callId ?? ''}`,
          `487 INVITE ${canceled.callId ?? ''}`,
        ]);

        const ok = new Map<string, string>();
        for (let m = await peer.next(3000); m !== null && ok.size < HELD - 1; m = ok.size < HELD - 1 ? await peer.next(3000) : null) {
          if (m.status === 200 && m.cseq.method === 'INVITE') ok.set(m.callId, m.getHeader('X-Ci') ?? '');
        }
        assert.equal(ok.size, HELD - 1, 'every INVITE but the cancelled one was answered');
        for (const [ci, header] of ok) assert.equal(header, `${ci}|${ci}`, 'the resumed route sees its Context and its message');
        assert.equal(ok.has(canceled.callId ?? ''), false);
        assert.equal(server.rt.stats.get('async:gone'), 1);
      } finally {
        peer.close();
        await server.close();
      }
    });
  });
}
