/**
 * KSR.rtpproxy on a real server between two raw UDP peers, against rtpengine's rtpproxy-
 * compatible listener (--listen-udp), both engines: rtpproxy_manage("co") as Kamailio's example
 * script calls it — in the request and reply routes, or in a branch route —, a late offer, an
 * SDP already rewritten (-2, or rewritten again with flag f), the failure route, $rtppstat.
 * Asserted: the SDP each peer receives (address, ports from rtpengine's range, o=, the
 * a=nortpproxy:yes mark) and the return codes the script sends along in X- headers.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ENGINES, startServer, type EngineName, type TestServer } from '../helpers/runtime.js';
import { UdpPeer } from '../helpers/sip-client.js';
import { startRtpengine, type RtpengineProcess } from '../helpers/rtpengine.js';
import { CALLEE_SDP, CALLER_SDP, inDialog, invite, isReply, isRequest, mediaOf, nextOf, reply, type Dialog } from '../helpers/media-flow.js';

type Where = 'request' | 'branch';

function script(engine: EngineName, callee: number, where: Where): string {
  const inRequest = String(where === 'request');
  return engine === 'lua'
    ? `
function manage()
  local flags = KSR.hdr.get("X-Flags") or "co"
  KSR.hdr.append("X-Rtpp: " .. KSR.rtpproxy.rtpproxy_manage(flags) .. "\\r\\n")
end
function ksr_request_route()
  if KSR.is_OPTIONS() then
    KSR.hdr.append_to_reply("X-Stat: " .. (KSR.pv.get("$rtppstat") or "null") .. "\\r\\n")
    KSR.sl.sl_send_reply(200, "OK")
    return
  end
  if ${inRequest} or KSR.is_ACK() or KSR.is_BYE() then manage() end
  if not KSR.is_ACK() then
    KSR.tm.t_on_reply("ONREPLY")
    if not ${inRequest} then KSR.tm.t_on_branch("BRANCH") end
    KSR.tm.t_on_failure("FAILURE")
  end
  KSR.pv.sets("$du", "sip:127.0.0.1:${String(callee)}")
  KSR.tm.t_relay()
end
function BRANCH() manage() end
function ONREPLY() manage() end
function FAILURE()
  KSR.hdr.append_to_reply("X-Rtpp: " .. KSR.rtpproxy.rtpproxy_manage("co") .. "\\r\\n")
  KSR.tm.t_reply(503, "Failed")
end
`
    : `
function manage() {
  var flags = KSR.hdr.get("X-Flags");
  KSR.hdr.append("X-Rtpp: " + KSR.rtpproxy.rtpproxy_manage(flags === null ? "co" : flags) + "\\r\\n");
}
function ksr_request_route() {
  if (KSR.is_OPTIONS()) {
    var st = KSR.pv.get("$rtppstat");
    KSR.hdr.append_to_reply("X-Stat: " + (st === null ? "null" : st) + "\\r\\n");
    KSR.sl.sl_send_reply(200, "OK");
    return;
  }
  if (${inRequest} || KSR.is_ACK() || KSR.is_BYE()) manage();
  if (!KSR.is_ACK()) {
    KSR.tm.t_on_reply("ONREPLY");
    if (!${inRequest}) KSR.tm.t_on_branch("BRANCH");
    KSR.tm.t_on_failure("FAILURE");
  }
  KSR.pv.sets("$du", "sip:127.0.0.1:${String(callee)}");
  KSR.tm.t_relay();
}
function BRANCH() { manage(); }
function ONREPLY() { manage(); }
function FAILURE() {
  KSR.hdr.append_to_reply("X-Rtpp: " + KSR.rtpproxy.rtpproxy_manage("co") + "\\r\\n");
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
before(async () => { rtpe = await startRtpengine(null, { legacy: true }); });
after(async () => { await rtpe?.stop(); });

async function withCall(t: { skip(why: string): void }, engine: EngineName, where: Where, name: string, fn: (c: Call, r: RtpengineProcess) => Promise<void>): Promise<void> {
  const r = rtpe;
  if (r === null) {
    t.skip('rtpengine not installed');
    return;
  }
  const [caller, callee] = await Promise.all([UdpPeer.open(), UdpPeer.open()]);
  const server = await startServer(engine, script(engine, callee.port, where), {
    config: { modules: { rtpproxy: { rtpproxy_sock: `udp:127.0.0.1:${String(r.udpPort)}`, rtpproxy_tout: 0.5, rtpproxy_retr: 2 } } },
  });
  try {
    await fn({ server, caller, callee, d: { callId: `rtpp-${name}-${engine}@test`, fromTag: 'caller-tag', toTag: '' } }, r);
  } finally {
    caller.close();
    callee.close();
    await server.close();
  }
}

const inRange = (port: number | undefined, r: RtpengineProcess): boolean => port !== undefined && port >= r.portMin && port <= r.portMax;

/** INVITE with the caller's SDP, 200 with the callee's: both rewritten to go through the relay. */
async function establish(c: Call, r: RtpengineProcess): Promise<void> {
  c.caller.request(invite(c.d, CALLER_SDP), c.server.udpPort);
  const inv = await nextOf(c.callee, isRequest('INVITE'), 'INVITE at the callee');
  assert.equal(inv.getHeader('X-Rtpp'), '1');
  const body = inv.body.toString();
  const offered = mediaOf(body);
  assert.equal(offered.address, '127.0.0.1', 'c= is the relay\'s address');
  assert.equal(offered.origin, '127.0.0.1', 'o= rewritten too');
  assert.ok(inRange(offered.ports[0], r), `a port of the relay (${String(offered.ports[0])})`);
  assert.deepEqual(offered.mLines, ['m=audio <port> RTP/AVP 0 8'], 'the rest of the m= line as sent');
  assert.ok(body.endsWith('a=rtpmap:8 PCMA/8000\r\na=nortpproxy:yes\r\n'), 'the mark goes after the last line');
  assert.equal(inv.getHeader('content-length'), String(inv.body.length));
  reply(c.callee, c.server.udpPort, inv, 200, 'OK', CALLEE_SDP);
  const ok = await nextOf(c.caller, isReply(200), '200 at the caller');
  assert.equal(ok.getHeader('X-Rtpp'), '1');
  const answered = mediaOf(ok.body);
  assert.equal(answered.address, '127.0.0.1');
  assert.ok(inRange(answered.ports[0], r) && answered.ports[0] !== offered.ports[0], 'the other side\'s port of the relay');
  c.d.toTag = ok.to.tag;
}

for (const engine of ENGINES) {
  describe(`KSR.rtpproxy with rtpengine's rtpproxy listener [${engine}]`, () => {
    test('rtpproxy_manage("co") in the request and reply routes: both SDPs rewritten; the BYE destroys the session', async (t) => {
      await withCall(t, engine, 'request', 'manage', async (c, r) => {
        await establish(c, r);
        c.caller.request(inDialog(c.d, 'BYE', 2), c.server.udpPort);
        const bye = await nextOf(c.callee, isRequest('BYE'), 'BYE at the callee');
        assert.equal(bye.getHeader('X-Rtpp'), '1');
        reply(c.callee, c.server.udpPort, bye, 200, 'OK');
        await nextOf(c.caller, isReply(200, 'BYE'), '200 to the BYE');
        assert.equal(c.server.rt.stats.get('rtpproxy:timeouts'), 0, 'every command answered');
      });
    });

    test('in a branch route, as Kamailio\'s example script does', async (t) => {
      await withCall(t, engine, 'branch', 'branch', async (c, r) => { await establish(c, r); });
    });

    test('a late offer: the 200 is rewritten as the offer (U), the ACK as the answer (L)', async (t) => {
      await withCall(t, engine, 'request', 'late', async (c, r) => {
        c.caller.request(invite(c.d, null), c.server.udpPort);
        const inv = await nextOf(c.callee, isRequest('INVITE'), 'INVITE');
        assert.equal(inv.getHeader('X-Rtpp'), '-1', 'nothing to rewrite');
        reply(c.callee, c.server.udpPort, inv, 200, 'OK', CALLEE_SDP);
        const ok = await nextOf(c.caller, isReply(200), '200');
        assert.equal(ok.getHeader('X-Rtpp'), '1');
        const offered = mediaOf(ok.body);
        assert.ok(offered.address === '127.0.0.1' && inRange(offered.ports[0], r));
        c.d.toTag = ok.to.tag;
        c.caller.request(inDialog(c.d, 'ACK', 1, CALLER_SDP), c.server.udpPort);
        const ack = await nextOf(c.callee, isRequest('ACK'), 'ACK');
        assert.equal(ack.getHeader('X-Rtpp'), '1');
        const answered = mediaOf(ack.body);
        assert.ok(answered.address === '127.0.0.1' && inRange(answered.ports[0], r) && answered.ports[0] !== offered.ports[0]);
      });
    });

    test('an SDP already rewritten is left alone (-2); flag f rewrites it again', async (t) => {
      await withCall(t, engine, 'request', 'marked', async (c, r) => {
        const marked = `${CALLER_SDP}a=nortpproxy:yes\r\n`;
        c.caller.request(invite(c.d, marked), c.server.udpPort);
        const inv = await nextOf(c.callee, isRequest('INVITE'), 'INVITE');
        assert.equal(inv.getHeader('X-Rtpp'), '-2');
        assert.equal(inv.body.toString(), marked, 'relayed as it came');
        const d2 = { ...c.d, callId: `${c.d.callId}-f` };
        c.caller.request(invite(d2, marked, ['X-Flags: cof']), c.server.udpPort);
        const again = await nextOf(c.callee, isRequest('INVITE'), 'INVITE with flag f');
        assert.equal(again.getHeader('X-Rtpp'), '1');
        const body = again.body.toString();
        assert.ok(inRange(mediaOf(body).ports[0], r));
        assert.equal(body.split('a=nortpproxy:yes').length - 1, 1, 'the mark is not added twice');
      });
    });

    test('the failure route destroys the session', async (t) => {
      await withCall(t, engine, 'request', 'failure', async (c) => {
        c.caller.request(invite(c.d, CALLER_SDP), c.server.udpPort);
        const inv = await nextOf(c.callee, isRequest('INVITE'), 'INVITE');
        assert.equal(inv.getHeader('X-Rtpp'), '1');
        reply(c.callee, c.server.udpPort, inv, 486, 'Busy Here');
        const final = await nextOf(c.caller, isReply(503), '503 from the failure route');
        assert.equal(final.getHeader('X-Rtpp'), '1');
        assert.equal(c.server.rt.stats.get('rtpproxy:timeouts'), 0, 'the D was answered');
      });
    });

    // not followed by a D for the same call: rtpengine 10.5 stops answering D after Q (docs/rtpproxy.md)
    test('$rtppstat is the relay\'s answer to Q for the call', async (t) => {
      await withCall(t, engine, 'request', 'stat', async (c) => {
        c.caller.request(invite(c.d, CALLER_SDP), c.server.udpPort);
        await nextOf(c.callee, isRequest('INVITE'), 'INVITE');
        c.caller.request(inDialog(c.d, 'OPTIONS', 2), c.server.udpPort);
        const stat = await nextOf(c.caller, isReply(200, 'OPTIONS'), 'OPTIONS answer');
        assert.match(stat.getHeader('X-Stat') ?? '', /^\d+ \d+ \d+ \d+ \d+$/, 'Q answers ttl and packet counters');
        c.caller.request({ ...inDialog({ ...c.d, callId: `${c.d.callId}-none` }, 'OPTIONS', 3) }, c.server.udpPort);
        const none = await nextOf(c.caller, isReply(200, 'OPTIONS'), 'OPTIONS for an unknown call');
        assert.equal(none.getHeader('X-Stat'), 'E8', 'rtpengine\'s error answer, as it came');
      });
    });
  });
}
