/**
 * KSR.rtpengine's sets and failures on a real server, both engines: an instance that does not
 * answer makes the call return -1 after rtpengine_tout_ms × rtpengine_retr (not counted in cpu_ms) and the script goes on
 * (the INVITE is relayed as it came), the next call fails at once; set_rtpengine_set picks a
 * set (rtp_inst_pvar says which instance answered), an unknown set is -1; rtpengine_query_v
 * gives the answer as JSON; an idle module (no rtpengine_sock) returns -1.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ENGINES, startServer, type EngineName } from '../helpers/runtime.js';
import { UdpPeer } from '../helpers/sip-client.js';
import { RTPENGINE_MISSING, startRtpengine, type RtpengineProcess } from '../helpers/rtpengine.js';
import { LossyRelay } from '../helpers/relay-host.js';
import { until } from '../helpers/until.js';
import { CALLER_SDP, invite, isRequest, mediaOf, nextOf } from '../helpers/media-flow.js';

/** X-Set: the set to pick (none: the default); the codes and what the script read go along in X- headers */
function script(engine: EngineName, callee: number): string {
  return engine === 'lua'
    ? `
function ksr_request_route()
  local set = KSR.hdr.get("X-Set")
  if set then KSR.hdr.append("X-Set-Rc: " .. KSR.rtpengine.set_rtpengine_set(tonumber(set)) .. "\\r\\n") end
  KSR.hdr.append("X-Rtpe: " .. KSR.rtpengine.rtpengine_offer("") .. "\\r\\n")
  KSR.hdr.append("X-Inst: " .. (KSR.pv.get("$var(inst)") or "none") .. "\\r\\n")
  KSR.hdr.append("X-Q: " .. KSR.rtpengine.rtpengine_query_v("j", "$var(q)") .. " " .. (KSR.pv.get("$var(q)") or "none") .. "\\r\\n")
  KSR.pv.sets("$du", "sip:127.0.0.1:${String(callee)}")
  KSR.forward()
end
`
    : `
function ksr_request_route() {
  var set = KSR.hdr.get("X-Set");
  if (set !== null) KSR.hdr.append("X-Set-Rc: " + KSR.rtpengine.set_rtpengine_set(parseInt(set, 10)) + "\\r\\n");
  KSR.hdr.append("X-Rtpe: " + KSR.rtpengine.rtpengine_offer("") + "\\r\\n");
  var inst = KSR.pv.get("$var(inst)");
  KSR.hdr.append("X-Inst: " + (inst === null ? "none" : inst) + "\\r\\n");
  var rc = KSR.rtpengine.rtpengine_query_v("j", "$var(q)");
  var q = KSR.pv.get("$var(q)");
  KSR.hdr.append("X-Q: " + rc + " " + (q === null ? "none" : q) + "\\r\\n");
  KSR.pv.sets("$du", "sip:127.0.0.1:${String(callee)}");
  KSR.forward();
}
`;
}

let rtpe: RtpengineProcess | null = null;
before(async () => { rtpe = await startRtpengine(null); });
after(async () => { await rtpe?.stop(); });

async function withServer(t: { skip(why: string): void }, engine: EngineName, rtpengine: Record<string, unknown>, fn: (send: (callId: string, headers?: string[]) => Promise<import('../../host/sip/message.js').SipMessage>) => Promise<void>): Promise<void> {
  if (rtpe === null) {
    t.skip(RTPENGINE_MISSING);
    return;
  }
  const [caller, callee] = await Promise.all([UdpPeer.open(), UdpPeer.open()]);
  // the default cpu_ms (100): a wait for a relay is not the script's CPU time
  const server = await startServer(engine, script(engine, callee.port), { config: { modules: { rtpengine } } });
  try {
    await fn(async (callId, headers = []) => {
      caller.request(invite({ callId, fromTag: 'f', toTag: '' }, CALLER_SDP, headers), server.udpPort);
      return nextOf(callee, isRequest('INVITE'), `INVITE ${callId}`);
    });
  } finally {
    caller.close();
    callee.close();
    await server.close();
  }
}

for (const engine of ENGINES) {
  describe(`KSR.rtpengine sets and failures [${engine}]`, () => {
    test('a relay that does not answer: -1 after tout x retr, the INVITE goes on as it came; the next call fails at once', async (t) => {
      const r = rtpe;
      if (r === null) return t.skip(RTPENGINE_MISSING);
      const relay = await LossyRelay.open(r.ngPort, 0);
      t.after(() => relay.close());
      // the instance answers its start-up ping through the relay, then goes silent
      await withServer(t, engine, { rtpengine_sock: `udp:127.0.0.1:${String(relay.port)}`, rtpengine_tout_ms: 300, rtpengine_retr: 3 }, async (send) => {
        relay.blackhole = true;
        const t0 = performance.now();
        const inv = await send('dead-1');
        const waited = performance.now() - t0;
        assert.equal(inv.getHeader('X-Rtpe'), '-1');
        assert.equal(inv.body.toString(), CALLER_SDP, 'relayed with its own SDP');
        assert.match(inv.getHeader('X-Q') ?? '', /^-1 none$/);
        // 900 ms: past the JS engine's wall-clock stop (8 x cpu_ms): a wait is not the script's time
        assert.ok(waited >= 890 && waited < 2500, `waited tout x retr, bounded (${waited.toFixed(0)} ms)`);
        // the start-up ping, the offer sent three times, and the ping aggressive_redetection sends when query_v finds no instance
        await until(() => relay.received === 5, 3000, 'the five requests at the relay');
        const t1 = performance.now();
        const next = await send('dead-2');
        assert.equal(next.getHeader('X-Rtpe'), '-1');
        assert.ok(performance.now() - t1 < 150, 'the disabled instance is skipped without waiting');
      });
    });

    test('set_rtpengine_set picks the set; rtp_inst_pvar names the instance; query_v is JSON; an unknown set is -1', async (t) => {
      const r = rtpe;
      if (r === null) return t.skip(RTPENGINE_MISSING);
      const socks = [`udp:127.0.0.1:${String(r.ngPort)}`, `7 == udp:127.0.0.1:${String(r.ngPort)}=3`];
      await withServer(t, engine, { rtpengine_sock: socks, rtp_inst_pvar: '$var(inst)' }, async (send) => {
        const inv = await send('sets-1', ['X-Set: 7']);
        assert.equal(inv.getHeader('X-Set-Rc'), '1');
        assert.equal(inv.getHeader('X-Rtpe'), '1');
        assert.equal(inv.getHeader('X-Inst'), `udp:127.0.0.1:${String(r.ngPort)}`);
        assert.equal(mediaOf(inv.body).address, '127.0.0.1');
        const q = /^1 (.*)$/.exec(inv.getHeader('X-Q') ?? '');
        assert.ok(q !== null, inv.getHeader('X-Q'));
        const json = JSON.parse(q[1] ?? '') as { result?: string; totals?: unknown };
        assert.equal(json.result, 'ok');
        assert.ok(json.totals !== undefined);
        const bad = await send('sets-2', ['X-Set: 9']);
        assert.equal(bad.getHeader('X-Set-Rc'), '-1');
      });
    });

    test('without rtpengine_sock the module is idle: -1, the message relayed as it came', async (t) => {
      await withServer(t, engine, {}, async (send) => {
        const inv = await send('idle-1');
        assert.equal(inv.getHeader('X-Rtpe'), '-1');
        assert.equal(inv.body.toString(), CALLER_SDP);
      });
    });
  });
}
