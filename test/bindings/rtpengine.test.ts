/**
 * KSR.rtpengine on a real server between two raw UDP peers, with a real rtpengine, both engines:
 * rtpengine_manage in the request route and the reply route, in a branch route (as Kamailio's
 * example script does), a late offer (SDP in the 200 and the ACK), and the failure route. What
 * is asserted is what the peers received: the SDP's address and ports are rtpengine's, and the
 * script's return codes sent along in X- headers; rtpengine_query and $rtpstat see the call
 * until the BYE deletes it.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { SipMessage } from '../../host/sip/message.js';
import { ENGINES, startServer, type EngineName, type TestServer } from '../helpers/runtime.js';
import { UdpPeer } from '../helpers/sip-client.js';
import { RTPENGINE_MISSING, startRtpengine, type RtpengineProcess } from '../helpers/rtpengine.js';
import { CALLEE_SDP, CALLER_SDP, inDialog, invite, isReply, isRequest, mediaOf, nextOf, reply, type Dialog } from '../helpers/media-flow.js';

const FLAGS = 'replace-origin replace-session-connection';

/** where rtpengine_manage runs: request and reply route, or the branch route (Kamailio's example) */
type Where = 'request' | 'branch';

function script(engine: EngineName, callee: number, where: Where): string {
  const inRequest = where === 'request';
  return engine === 'lua'
    ? `
function manage()
  local rc = KSR.rtpengine.rtpengine_manage("${FLAGS}")
  KSR.hdr.append("X-Rtpe: " .. rc .. "\\r\\n")
end
function ksr_request_route()
  if KSR.is_OPTIONS() then
    KSR.hdr.append_to_reply("X-Query: " .. KSR.rtpengine.rtpengine_query("") .. "\\r\\n")
    KSR.hdr.append_to_reply("X-Stat: " .. (KSR.pv.get("$rtpstat") or "null") .. "\\r\\n")
    KSR.sl.sl_send_reply(200, "OK")
    return
  end
  if ${String(inRequest)} or KSR.is_ACK() or KSR.is_BYE() then manage() end
  if not KSR.is_ACK() then
    KSR.tm.t_on_reply("ONREPLY")
    if not ${String(inRequest)} then KSR.tm.t_on_branch("BRANCH") end
    KSR.tm.t_on_failure("FAILURE")
  end
  KSR.pv.sets("$du", "sip:127.0.0.1:${String(callee)}")
  KSR.tm.t_relay()
end
function BRANCH() manage() end
function ONREPLY() manage() end
function FAILURE()
  KSR.hdr.append_to_reply("X-Rtpe: " .. KSR.rtpengine.rtpengine_manage("") .. "\\r\\n")
  KSR.tm.t_reply(503, "Failed")
end
`
    : `
function manage() {
  var rc = KSR.rtpengine.rtpengine_manage("${FLAGS}");
  KSR.hdr.append("X-Rtpe: " + rc + "\\r\\n");
}
function ksr_request_route() {
  if (KSR.is_OPTIONS()) {
    KSR.hdr.append_to_reply("X-Query: " + KSR.rtpengine.rtpengine_query("") + "\\r\\n");
    var st = KSR.pv.get("$rtpstat");
    KSR.hdr.append_to_reply("X-Stat: " + (st === null ? "null" : st) + "\\r\\n");
    KSR.sl.sl_send_reply(200, "OK");
    return;
  }
  if (${String(inRequest)} || KSR.is_ACK() || KSR.is_BYE()) manage();
  if (!KSR.is_ACK()) {
    KSR.tm.t_on_reply("ONREPLY");
    if (!${String(inRequest)}) KSR.tm.t_on_branch("BRANCH");
    KSR.tm.t_on_failure("FAILURE");
  }
  KSR.pv.sets("$du", "sip:127.0.0.1:${String(callee)}");
  KSR.tm.t_relay();
}
function BRANCH() { manage(); }
function ONREPLY() { manage(); }
function FAILURE() {
  KSR.hdr.append_to_reply("X-Rtpe: " + KSR.rtpengine.rtpengine_manage("") + "\\r\\n");
  KSR.tm.t_reply(503, "Failed");
}
`;
}

interface Call {
  server: TestServer;
  caller: UdpPeer;
  callee: UdpPeer;
  d: Dialog;
}

let rtpe: RtpengineProcess | null = null;
before(async () => { rtpe = await startRtpengine(null); });
after(async () => { await rtpe?.stop(); });

async function withCall(t: { skip(why: string): void }, engine: EngineName, where: Where, name: string, fn: (c: Call, r: RtpengineProcess) => Promise<void>): Promise<void> {
  const r = rtpe;
  if (r === null) {
    t.skip(RTPENGINE_MISSING);
    return;
  }
  const [caller, callee] = await Promise.all([UdpPeer.open(), UdpPeer.open()]);
  const server = await startServer(engine, script(engine, callee.port, where), {
    config: { modules: { rtpengine: { rtpengine_sock: `udp:127.0.0.1:${String(r.ngPort)}`, rtpengine_tout_ms: 500, rtpengine_retr: 2 } } },
  });
  try {
    await fn({ server, caller, callee, d: { callId: `${name}-${engine}@test`, fromTag: 'caller-tag', toTag: '' } }, r);
  } finally {
    caller.close();
    callee.close();
    await server.close();
  }
}

function inRange(port: number | undefined, r: RtpengineProcess): boolean {
  return port !== undefined && port >= r.portMin && port <= r.portMax;
}

/** The INVITE the callee gets and the 200 the caller gets, with their SDPs checked against rtpengine's range. */
async function establish(c: Call, r: RtpengineProcess): Promise<{ inv: SipMessage; ok: SipMessage }> {
  c.caller.request(invite(c.d, CALLER_SDP), c.server.udpPort);
  const inv = await nextOf(c.callee, isRequest('INVITE'), 'INVITE at the callee');
  assert.equal(inv.getHeader('X-Rtpe'), '1');
  const offered = mediaOf(inv.body);
  assert.equal(offered.address, '127.0.0.1', 'the callee is offered rtpengine\'s address');
  assert.equal(offered.origin, '127.0.0.1', 'replace-origin');
  assert.ok(inRange(offered.ports[0], r), `the callee is offered a port of rtpengine (${String(offered.ports[0])})`);
  assert.deepEqual(offered.mLines, ['m=audio <port> RTP/AVP 0 8']);
  assert.equal(inv.getHeader('content-length'), String(inv.body.length));
  assert.equal(inv.getHeader('content-type'), 'application/sdp');
  reply(c.callee, c.server.udpPort, inv, 200, 'OK', CALLEE_SDP);
  const ok = await nextOf(c.caller, isReply(200), '200 at the caller');
  assert.equal(ok.getHeader('X-Rtpe'), '1');
  const answered = mediaOf(ok.body);
  assert.equal(answered.address, '127.0.0.1', 'the caller gets rtpengine\'s address in the 200');
  assert.ok(inRange(answered.ports[0], r) && answered.ports[0] !== offered.ports[0], 'and another port of rtpengine');
  assert.deepEqual(answered.mLines, ['m=audio <port> RTP/AVP 0']);
  c.d.toTag = ok.to.tag;
  return { inv, ok };
}

for (const engine of ENGINES) {
  describe(`KSR.rtpengine with rtpengine [${engine}]`, () => {
    test('rtpengine_manage: the INVITE\'s and the 200\'s SDP go through rtpengine; query sees the call until the BYE deletes it', async (t) => {
      await withCall(t, engine, 'request', 'manage', async (c, r) => {
        await establish(c, r);
        c.caller.request(inDialog(c.d, 'ACK', 1), c.server.udpPort);
        const ack = await nextOf(c.callee, isRequest('ACK'), 'ACK at the callee');
        assert.equal(ack.getHeader('X-Rtpe'), '-1', 'an ACK without SDP: nothing to manage');
        c.caller.request(inDialog(c.d, 'OPTIONS', 2), c.server.udpPort);
        const q = await nextOf(c.caller, isReply(200, 'OPTIONS'), 'query answer');
        assert.equal(q.getHeader('X-Query'), '1');
        assert.match(q.getHeader('X-Stat') ?? '', /^RTP: \d+ bytes, \d+ packets, \d+ errors; RTCP: \d+ bytes, \d+ packets, \d+ errors$/);
        c.caller.request(inDialog(c.d, 'BYE', 3), c.server.udpPort);
        const bye = await nextOf(c.callee, isRequest('BYE'), 'BYE at the callee');
        assert.equal(bye.getHeader('X-Rtpe'), '1', 'the BYE deleted the call');
        reply(c.callee, c.server.udpPort, bye, 200, 'OK');
        await nextOf(c.caller, isReply(200, 'BYE'), '200 to the BYE');
        c.caller.request(inDialog(c.d, 'OPTIONS', 4), c.server.udpPort);
        const gone = await nextOf(c.caller, isReply(200, 'OPTIONS'), 'query after the BYE');
        assert.equal(gone.getHeader('X-Query'), '-1', 'rtpengine no longer knows the call');
        assert.equal(gone.getHeader('X-Stat'), 'null');
        const stat = (n: string): number | undefined => c.server.rt.stats.get(`rtpengine:${n}`);
        // offer, answer, query, $rtpstat, delete for the BYE and again for its 200; the two queries after: errors
        assert.equal(stat('answers'), 6);
        assert.equal(stat('error_answers'), 2);
        assert.equal(stat('failures'), 2, 'the script saw two -1');
        assert.equal(stat('timeouts'), 0);
      });
    });

    test('rtpengine_manage in a branch route (Kamailio\'s example): the branch carries rtpengine\'s SDP', async (t) => {
      await withCall(t, engine, 'branch', 'branch', async (c, r) => {
        await establish(c, r);
      });
    });

    test('a late offer: the 200\'s SDP is sent as the offer, the ACK\'s as the answer', async (t) => {
      await withCall(t, engine, 'request', 'late', async (c, r) => {
        c.caller.request(invite(c.d, null), c.server.udpPort);
        const inv = await nextOf(c.callee, isRequest('INVITE'), 'INVITE at the callee');
        assert.equal(inv.getHeader('X-Rtpe'), '-1', 'an INVITE without SDP: nothing to manage');
        reply(c.callee, c.server.udpPort, inv, 200, 'OK', CALLEE_SDP);
        const ok = await nextOf(c.caller, isReply(200), '200 at the caller');
        assert.equal(ok.getHeader('X-Rtpe'), '1');
        const offered = mediaOf(ok.body);
        assert.equal(offered.address, '127.0.0.1');
        assert.ok(inRange(offered.ports[0], r));
        c.d.toTag = ok.to.tag;
        c.caller.request(inDialog(c.d, 'ACK', 1, CALLER_SDP), c.server.udpPort);
        const ack = await nextOf(c.callee, isRequest('ACK'), 'ACK at the callee');
        assert.equal(ack.getHeader('X-Rtpe'), '1');
        const answered = mediaOf(ack.body);
        assert.equal(answered.address, '127.0.0.1', 'the ACK\'s answer is rewritten too');
        assert.ok(inRange(answered.ports[0], r) && answered.ports[0] !== offered.ports[0]);
      });
    });

    test('a failure route deletes the session (rtpengine_manage on the INVITE there)', async (t) => {
      await withCall(t, engine, 'request', 'failure', async (c) => {
        c.caller.request(invite(c.d, CALLER_SDP), c.server.udpPort);
        const inv = await nextOf(c.callee, isRequest('INVITE'), 'INVITE at the callee');
        assert.equal(inv.getHeader('X-Rtpe'), '1');
        reply(c.callee, c.server.udpPort, inv, 486, 'Busy Here');
        const final = await nextOf(c.caller, isReply(503), '503 from the failure route');
        assert.equal(final.getHeader('X-Rtpe'), '1', 'the delete succeeded');
        c.caller.request(inDialog(c.d, 'OPTIONS', 2), c.server.udpPort);
        const q = await nextOf(c.caller, isReply(200, 'OPTIONS'), 'query after the failure');
        assert.equal(q.getHeader('X-Query'), '-1');
      });
    });
  });
}
