/**
 * INVITE server transaction timers over UDP (RFC 3261 §17.2.1, §13.3.1.4): a final reply of
 * ours is re-sent with T1 doubling up to T2 until its ACK, which the script never sees; without
 * an ACK it stops at 64*T1. Short timers from the config keep this fast.
 */
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, test } from 'node:test';
import type { SipMessage } from '../../host/sip/message.js';
import { ENGINES, startServer, type EngineName, type TestServer } from '../helpers/runtime.js';
import { UdpPeer, type RequestSpec } from '../helpers/sip-client.js';

const T1 = 40;
const T2 = 160;

/** INVITE → reply `code`; OPTIONS → 200 with X-Acks: how many ACKs reached the script. */
function script(engine: EngineName, code: number): string {
  return engine === 'lua'
    ? `function ksr_request_route()
  if KSR.is_ACK() then KSR.htable.sht_inc("c", "acks") return end
  if KSR.is_OPTIONS() then
    KSR.hdr.append_to_reply("X-Acks: " .. KSR.htable.sht_get("c", "acks") .. "\\r\\n")
    KSR.sl.sl_send_reply(200, "OK")
    return
  end
  KSR.tm.t_newtran()
  KSR.tm.t_reply(${String(code)}, "Final")
end
`
    : `function ksr_request_route() {
  if (KSR.is_ACK()) { KSR.htable.sht_inc("c", "acks"); return; }
  if (KSR.is_OPTIONS()) {
    KSR.hdr.append_to_reply("X-Acks: " + KSR.htable.sht_get("c", "acks") + "\\r\\n");
    KSR.sl.sl_send_reply(200, "OK");
    return;
  }
  KSR.tm.t_newtran();
  KSR.tm.t_reply(${String(code)}, "Final");
}
`;
}

async function withServer(engine: EngineName, code: number, fn: (s: TestServer, peer: UdpPeer) => Promise<void>): Promise<void> {
  const server = await startServer(engine, script(engine, code), {
    config: { modules: { htable: { tables: { c: { initval: 0 } } }, tm: { retr_timer1: T1, retr_timer2: T2, wt_timer: 100 } } },
  });
  const peer = await UdpPeer.open();
  try {
    await fn(server, peer);
  } finally {
    peer.close();
    await server.close();
  }
}

/** The messages received until `quietMs` pass without one (at most `max`). */
async function collect(peer: UdpPeer, quietMs: number, max = Infinity): Promise<{ msg: SipMessage; at: number }[]> {
  const out: { msg: SipMessage; at: number }[] = [];
  while (out.length < max) {
    const m = await peer.next(quietMs);
    if (m === null) return out;
    out.push({ msg: m, at: performance.now() });
  }
  return out;
}

async function acksSeenByScript(server: TestServer, peer: UdpPeer): Promise<string | undefined> {
  peer.request({ method: 'OPTIONS' }, server.udpPort);
  // INVITE retransmissions may arrive in between
  for (let m = await peer.next(); m !== null; m = await peer.next()) {
    if (m.cseq.method === 'OPTIONS') return m.getHeader('X-Acks');
  }
  return undefined;
}

function ackFor(invite: RequestSpec, reply: SipMessage, branch: string): RequestSpec {
  return { method: 'ACK', branch, callId: invite.callId ?? '', fromTag: invite.fromTag ?? '', toTag: reply.to.tag, cseq: invite.cseq ?? 1 };
}

for (const engine of ENGINES) {
  describe(`tm: INVITE server timers [${engine}]`, () => {
    test('a 486 is re-sent at T1, 2T1, 4T1, T2… until the ACK; the ACK is absorbed', async () => {
      await withServer(engine, 486, async (server, peer) => {
        const invite: RequestSpec = { method: 'INVITE', branch: 'z9hG4bK-g-1', callId: 'g1@test', fromTag: 'gf' };
        peer.request(invite, server.udpPort);
        assert.equal((await peer.next())?.status, 100);
        const first = await peer.next();
        assert.equal(first?.status, 486);
        const t0 = performance.now();
        // T1, 2T1, 4T1 = 40, 80, 160 ms apart, then T2 = 160
        const got = await collect(peer, T2 + 60, 4);
        assert.equal(got.length, 4, 'four retransmissions in ~600 ms');
        for (const g of got) assert.equal(g.msg.status, 486);
        const gaps = got.map((g, i) => g.at - (i === 0 ? t0 : (got[i - 1] as { at: number }).at));
        assert.ok((gaps[1] ?? 0) > (gaps[0] ?? 0) * 1.5, `intervals double: ${gaps.map((x) => x.toFixed(0)).join(',')}`);

        peer.request(ackFor(invite, first, 'z9hG4bK-g-1'), server.udpPort);
        await sleep(20);
        const after = await collect(peer, T2 * 2);
        assert.equal(after.length, 0, 'no retransmission after the ACK');
        assert.equal(await acksSeenByScript(server, peer), '0', 'the ACK never reached the script');
        await sleep(150);
        assert.equal(server.rt.stats.get('tm:active'), 0, 'freed after Timer I (wt_timer)');
      });
    });

    test('without an ACK the retransmissions stop at 64*T1 (Timer H) and the transaction is freed', async () => {
      await withServer(engine, 603, async (server, peer) => {
        peer.request({ method: 'INVITE', branch: 'z9hG4bK-h-1' }, server.udpPort);
        const t0 = performance.now();
        const all = await collect(peer, T2 + 200);
        const lastAt = all[all.length - 1]?.at ?? t0;
        assert.ok(all.filter((x) => x.msg.status === 603).length >= 10, `retransmitted (${String(all.length)} messages)`);
        assert.ok(lastAt - t0 < 64 * T1 + 100, `last one ${(lastAt - t0).toFixed(0)} ms after the INVITE`);
        assert.equal(server.rt.stats.get('tm:active'), 0);
        assert.equal(server.rt.stats.get('tm:freed'), 1);
      });
    });

    test('a 2xx of ours is re-sent until its ACK, matched by dialog (new branch); a wrong To-tag is not it', async () => {
      await withServer(engine, 200, async (server, peer) => {
        const invite: RequestSpec = { method: 'INVITE', branch: 'z9hG4bK-2xx-1', callId: 'ok1@test', fromTag: 'of', cseq: 7 };
        peer.request(invite, server.udpPort);
        assert.equal((await peer.next())?.status, 100);
        const ok = await peer.next();
        assert.equal(ok?.status, 200);
        const retrans = await collect(peer, T1 * 2 + 30, 2);
        assert.ok(retrans.length === 2 && retrans.every((r) => r.msg.status === 200), 'the 200 is retransmitted');

        // an ACK with another To-tag is another dialog's: the script gets it, the 200 keeps coming
        peer.request({ ...ackFor(invite, ok, 'z9hG4bK-ack-x'), toTag: 'someone-else' }, server.udpPort);
        const still = await collect(peer, T2 + 60, 1);
        assert.equal(still[0]?.msg.status, 200);
        assert.equal(await acksSeenByScript(server, peer), '1', 'the ACK with a wrong To-tag went to the script');

        // the ACK of this dialog (its own new branch, §17.1.1.3 does not apply to 2xx): absorbed
        peer.request(ackFor(invite, ok, 'z9hG4bK-ack-y'), server.udpPort);
        await sleep(20);
        await collect(peer, 5);
        assert.equal((await collect(peer, T2 * 2)).length, 0, 'no 200 after its ACK');
        assert.equal(await acksSeenByScript(server, peer), '1', 'the right ACK never reached the script');
        assert.equal(server.rt.stats.get('tm:active'), 0, 'the ACK ended it');
      });
    });

    test('a 2xx nobody ACKs stops at 64*T1', async () => {
      await withServer(engine, 200, async (server, peer) => {
        peer.request({ method: 'INVITE', branch: 'z9hG4bK-2xx-2' }, server.udpPort);
        const t0 = performance.now();
        const all = await collect(peer, T2 + 200);
        assert.ok(all.filter((x) => x.msg.status === 200).length >= 10);
        assert.ok((all[all.length - 1]?.at ?? t0) - t0 < 64 * T1 + 100);
        assert.equal(server.rt.stats.get('tm:active'), 0);
      });
    });
  });
}
