/**
 * Stateful relaying (RFC 3261 §16, §17.1) between raw UDP peers: a UAC, and one or two UASes
 * whose every reply the test writes by hand. Asserts on what each peer receives: Via handling,
 * hop-by-hop ACKs, CANCELs, retransmissions, the failure route's answer, serial forking.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import net from 'node:net';
import { describe, test } from 'node:test';
import { parseSipMessage, type SipMessage } from '../../host/sip/message.js';
import { ENGINES, startServer, type EngineName, type TestServer } from '../helpers/runtime.js';
import { UdpPeer, type RequestSpec } from '../helpers/sip-client.js';

interface Options {
  /** arm t_on_failure("FAIL"): 503 with X-Code, or (serial) a second branch to uas2 after a 486 */
  failure?: 'reply' | 'serial';
  /** relay over TCP to this port instead of UDP to uas1 */
  tcpPort?: number;
  tm?: Record<string, unknown>;
}

function script(engine: EngineName, uas1: number, uas2: number, o: Options): string {
  const [proto, port] = o.tcpPort === undefined ? ['udp', uas1] : ['tcp', o.tcpPort];
  const failure = o.failure !== undefined;
  const serial = o.failure === 'serial';
  return engine === 'lua'
    ? `function ksr_request_route()
  if KSR.is_ACK() then KSR.tm.t_relay() return end
  KSR.tm.t_on_branch("BRANCH")
  KSR.tm.t_on_reply("REPLY")
  if ${String(failure)} then KSR.tm.t_on_failure("FAIL") end
  if KSR.tm.t_relay_to_proto_addr("${proto}", "127.0.0.1", ${String(port)}) < 0 then KSR.sl.sl_send_reply(500, "relay failed") end
end
function BRANCH()
  KSR.hdr.append("X-Branch: " .. KSR.pv.get("$T_branch_idx") .. "\\r\\n")
end
function REPLY()
  KSR.hdr.append("X-Reply: " .. KSR.pv.get("$T_reply_code") .. "\\r\\n")
  KSR.hdr.append("X-Reply-Src: " .. KSR.kx.get_srcport() .. "\\r\\n")
end
function FAIL()
  if KSR.tm.t_is_canceled() > 0 then return end
  local code = KSR.pv.get("$T_reply_code")
  if ${String(serial)} and code == 486 then
    KSR.tm.t_relay_to_proto_addr("udp", "127.0.0.1", ${String(uas2)})
    return
  end
  KSR.hdr.append_to_reply("X-Code: " .. code .. "\\r\\n")
  KSR.tm.t_reply(503, "Service Unavailable")
end
`
    : `function ksr_request_route() {
  if (KSR.is_ACK()) { KSR.tm.t_relay(); return; }
  KSR.tm.t_on_branch("BRANCH");
  KSR.tm.t_on_reply("REPLY");
  if (${String(failure)}) KSR.tm.t_on_failure("FAIL");
  if (KSR.tm.t_relay_to_proto_addr("${proto}", "127.0.0.1", ${String(port)}) < 0) KSR.sl.sl_send_reply(500, "relay failed");
}
function BRANCH() {
  KSR.hdr.append("X-Branch: " + KSR.pv.get("$T_branch_idx") + "\\r\\n");
}
function REPLY() {
  KSR.hdr.append("X-Reply: " + KSR.pv.get("$T_reply_code") + "\\r\\n");
  KSR.hdr.append("X-Reply-Src: " + KSR.kx.get_srcport() + "\\r\\n");
}
function FAIL() {
  if (KSR.tm.t_is_canceled() > 0) return;
  const code = KSR.pv.get("$T_reply_code");
  if (${String(serial)} && code === 486) {
    KSR.tm.t_relay_to_proto_addr("udp", "127.0.0.1", ${String(uas2)});
    return;
  }
  KSR.hdr.append_to_reply("X-Code: " + code + "\\r\\n");
  KSR.tm.t_reply(503, "Service Unavailable");
}
`;
}

interface Setup {
  server: TestServer;
  uac: UdpPeer;
  uas1: UdpPeer;
  uas2: UdpPeer;
  /** a reply from a UAS to kemihost */
  answer: (uas: UdpPeer, req: SipMessage, code: number, reason: string, toTag?: string) => void;
}

async function withSetup(engine: EngineName, o: Options, fn: (s: Setup) => Promise<void>): Promise<void> {
  const [uac, uas1, uas2] = await Promise.all([UdpPeer.open(), UdpPeer.open(), UdpPeer.open()]);
  const server = await startServer(engine, script(engine, uas1.port, uas2.port, o), { config: { modules: { tm: { retr_timer1: 40, retr_timer2: 160, ...o.tm } } } });
  const answer = (uas: UdpPeer, req: SipMessage, code: number, reason: string, toTag = 'uas-tag'): void => {
    const lines = [`SIP/2.0 ${String(code)} ${reason}`];
    for (const v of req.getHeaders('via')) lines.push(`Via: ${v}`);
    lines.push(`From: ${req.getHeader('from') ?? ''}`);
    const to = req.getHeader('to') ?? '';
    lines.push(code > 100 && req.to.tag === '' ? `To: ${to};tag=${toTag}` : `To: ${to}`);
    lines.push(`Call-ID: ${req.callId}`, `CSeq: ${req.getHeader('cseq') ?? ''}`, 'Content-Length: 0', '', '');
    uas.send(lines.join('\r\n'), server.udpPort);
  };
  try {
    await fn({ server, uac, uas1, uas2, answer });
  } finally {
    for (const p of [uac, uas1, uas2]) p.close();
    await server.close();
  }
}

/** The next message that passes `pred` (others, e.g. retransmissions, are skipped). */
async function nextOf(peer: UdpPeer, pred: (m: SipMessage) => boolean, timeoutMs = 2000): Promise<SipMessage> {
  const end = performance.now() + timeoutMs;
  for (;;) {
    const left = end - performance.now();
    const m = left > 0 ? await peer.next(left) : null;
    assert.ok(m !== null, 'expected message not received');
    if (pred(m)) return m;
  }
}

const isReq = (method: string) => (m: SipMessage): boolean => m.isRequest && m.method === method;
const isReply = (status: number, method = 'INVITE') => (m: SipMessage): boolean => !m.isRequest && m.status === status && m.cseq.method === method;

/** Everything a peer receives until `quietMs` pass without a message. */
async function drain(peer: UdpPeer, quietMs: number): Promise<SipMessage[]> {
  const out: SipMessage[] = [];
  for (let m = await peer.next(quietMs); m !== null; m = await peer.next(quietMs)) out.push(m);
  return out;
}

const INVITE: RequestSpec = { method: 'INVITE', ruri: 'sip:bob@example.com', callId: 'relay@test', fromTag: 'uac-tag', branch: 'z9hG4bK-uac-1', rport: true };

for (const engine of ENGINES) {
  describe(`tm: stateful relay [${engine}]`, () => {
    test('a 486 is ACKed hop by hop; the failure route answers 503; the UAC\'s ACK for it is absorbed', async () => {
      await withSetup(engine, { failure: 'reply' }, async ({ server, uac, uas1, answer }) => {
        uac.request(INVITE, server.udpPort);
        assert.equal((await uac.next())?.status, 100);
        const inv = await nextOf(uas1, isReq('INVITE'));
        const ours = inv.vias[0]!;
        const theirs = inv.vias[1]!;
        assert.equal(inv.vias.length, 2);
        assert.match(ours.branch, /^z9hG4bK/);
        assert.equal(ours.port, server.udpPort);
        assert.equal(theirs.branch, 'z9hG4bK-uac-1');
        assert.equal(theirs.rport, String(uac.port), 'the UAC\'s Via is stamped (rport)');
        assert.deepEqual(inv.getHeaders('X-Branch'), ['0'], 'the branch route ran for branch 0');

        answer(uas1, inv, 486, 'Busy Here', 'busy-tag');
        const ack = await nextOf(uas1, isReq('ACK'));
        assert.equal(ack.ruri, inv.ruri);
        assert.equal(ack.vias.length, 1, 'only our Via (§17.1.1.3)');
        assert.equal(ack.topVia.branch, ours.branch, 'the INVITE\'s branch');
        assert.equal(ack.to.tag, 'busy-tag');
        assert.equal(ack.cseq.seq, inv.cseq.seq);
        assert.equal(ack.cseq.method, 'ACK');

        const final = await nextOf(uac, isReply(503));
        assert.equal(final.getHeader('X-Code'), '486');
        assert.equal(final.vias.length, 1);
        uac.request({ ...INVITE, method: 'ACK', toTag: final.to.tag }, server.udpPort);
        assert.deepEqual(await drain(uas1, 300), [], 'the UAC\'s ACK stays here');
        assert.equal(await uac.next(100), null, 'the 503 is not re-sent after the ACK');
      });
    });

    test('without a failure route the best reply goes upstream: 180 and 486 relayed through t_on_reply, our Via removed', async () => {
      await withSetup(engine, {}, async ({ server, uac, uas1, answer }) => {
        uac.request(INVITE, server.udpPort);
        const inv = await nextOf(uas1, isReq('INVITE'));
        answer(uas1, inv, 180, 'Ringing');
        const ringing = await nextOf(uac, isReply(180));
        assert.equal(ringing.getHeader('X-Reply'), '180');
        assert.equal(ringing.getHeader('X-Reply-Src'), String(uas1.port), 'in a reply route the source is the reply\'s, as Kamailio\'s $sp there');
        assert.equal(ringing.vias.length, 1);
        assert.equal(ringing.topVia.branch, 'z9hG4bK-uac-1');
        answer(uas1, inv, 486, 'Busy Here', 'busy-tag');
        const busy = await nextOf(uac, isReply(486));
        assert.equal(busy.getHeader('X-Reply'), '486');
        assert.equal(busy.to.tag, 'busy-tag', 'the UAS\'s reply, not one of ours');
        await nextOf(uas1, isReq('ACK'));
        assert.equal(server.rt.stats.get('tm:relayed_replies'), 2);
        assert.equal(server.rt.stats.get('tm:local_replies'), 0);
      });
    });

    test('a 200 goes upstream at once; its retransmission too; the end-to-end ACK goes through the script to the UAS', async () => {
      await withSetup(engine, { failure: 'reply' }, async ({ server, uac, uas1, answer }) => {
        uac.request(INVITE, server.udpPort);
        const inv = await nextOf(uas1, isReq('INVITE'));
        answer(uas1, inv, 200, 'OK', 'ok-tag');
        const ok = await nextOf(uac, isReply(200));
        assert.equal(ok.to.tag, 'ok-tag');
        answer(uas1, inv, 200, 'OK', 'ok-tag');
        assert.equal((await nextOf(uac, isReply(200))).to.tag, 'ok-tag', 'the UAS\'s retransmission reaches the UAC');
        uac.request({ ...INVITE, method: 'ACK', ruri: `sip:bob@127.0.0.1:${String(uas1.port)}`, branch: 'z9hG4bK-uac-ack', toTag: 'ok-tag' }, server.udpPort);
        const ack = await nextOf(uas1, isReq('ACK'));
        assert.equal(ack.to.tag, 'ok-tag');
        assert.equal(ack.vias[1]?.branch, 'z9hG4bK-uac-ack');
        assert.equal((await drain(uas1, 200)).filter((m) => m.method === 'ACK').length, 0, 'no hop-by-hop ACK for a 2xx');
      });
    });

    test('serial forking: after a 486 the failure route relays to a second UAS; its 200 goes upstream', async () => {
      await withSetup(engine, { failure: 'serial' }, async ({ server, uac, uas1, uas2, answer }) => {
        uac.request(INVITE, server.udpPort);
        const inv1 = await nextOf(uas1, isReq('INVITE'));
        answer(uas1, inv1, 486, 'Busy Here', 'busy-tag');
        await nextOf(uas1, isReq('ACK'));
        const inv2 = await nextOf(uas2, isReq('INVITE'));
        assert.deepEqual(inv2.getHeaders('X-Branch'), ['1'], 'branch-route edits stay with their branch');
        assert.notEqual(inv2.topVia.branch, inv1.topVia.branch);
        answer(uas2, inv2, 200, 'OK', 'second-tag');
        const ok = await nextOf(uac, isReply(200));
        assert.equal(ok.to.tag, 'second-tag');
        await drain(uac, 200);
        assert.ok(!uac.raw.some((d) => d.toString('latin1').startsWith('SIP/2.0 486')), 'the 486 never reached the UAC');
      });
    });

    test('a silent UAS: INVITE retransmitted at T1 doubling (Timer A); fr_timer → 408 → failure route; no CANCEL without a provisional', async () => {
      await withSetup(engine, { failure: 'reply', tm: { fr_timer: 400 } }, async ({ server, uac, uas1 }) => {
        uac.request(INVITE, server.udpPort);
        const final = await nextOf(uac, isReply(503), 2000);
        assert.equal(final.getHeader('X-Code'), '408');
        const got = await drain(uas1, 200);
        assert.ok(got.length >= 4, `INVITE and its retransmissions: ${String(got.length)}`);
        assert.ok(got.every((m) => m.method === 'INVITE' && m.topVia.branch === got[0]?.topVia.branch), 'the same INVITE, no CANCEL');
        assert.equal(server.rt.stats.get('tm:timeouts'), 1);
      });
    });

    test('fr_inv_timer after a 180: CANCEL downstream, its 487 ACKed, the failure route answers 503', async () => {
      await withSetup(engine, { failure: 'reply', tm: { fr_inv_timer: 300 } }, async ({ server, uac, uas1, answer }) => {
        uac.request(INVITE, server.udpPort);
        const inv = await nextOf(uas1, isReq('INVITE'));
        answer(uas1, inv, 180, 'Ringing', 'ring-tag');
        await nextOf(uac, isReply(180));
        const cancel = await nextOf(uas1, isReq('CANCEL'), 1500);
        assert.equal(cancel.topVia.branch, inv.topVia.branch, '§9.1: the INVITE\'s branch');
        assert.equal(cancel.cseq.seq, inv.cseq.seq);
        assert.equal(cancel.cseq.method, 'CANCEL');
        assert.equal(cancel.ruri, inv.ruri);
        answer(uas1, cancel, 200, 'OK', 'ring-tag');
        answer(uas1, inv, 487, 'Request Terminated', 'ring-tag');
        await nextOf(uas1, isReq('ACK'));
        const final = await nextOf(uac, isReply(503));
        assert.equal(final.getHeader('X-Code'), '408');
      });
    });

    test('a CANCEL from the UAC: 200 to it, CANCEL to the branch, the 487 ACKed and relayed (t_is_canceled in the failure route)', async () => {
      await withSetup(engine, { failure: 'reply' }, async ({ server, uac, uas1, answer }) => {
        uac.request(INVITE, server.udpPort);
        const inv = await nextOf(uas1, isReq('INVITE'));
        answer(uas1, inv, 180, 'Ringing', 'ring-tag');
        await nextOf(uac, isReply(180));
        uac.request({ ...INVITE, method: 'CANCEL' }, server.udpPort);
        const cancelOk = await nextOf(uac, isReply(200, 'CANCEL'));
        assert.equal(cancelOk.topVia.branch, 'z9hG4bK-uac-1');
        const cancel = await nextOf(uas1, isReq('CANCEL'));
        assert.equal(cancel.topVia.branch, inv.topVia.branch);
        answer(uas1, cancel, 200, 'OK', 'ring-tag');
        answer(uas1, inv, 487, 'Request Terminated', 'ring-tag');
        await nextOf(uas1, isReq('ACK'));
        const terminated = await nextOf(uac, isReply(487));
        assert.equal(terminated.to.tag, 'ring-tag');
        assert.equal(server.rt.stats.get('tm:canceled'), 1);
      });
    });

    test('a CANCEL before any provisional: 487 at once; the CANCEL goes down when the 180 comes', async () => {
      await withSetup(engine, {}, async ({ server, uac, uas1, answer }) => {
        uac.request(INVITE, server.udpPort);
        const inv = await nextOf(uas1, isReq('INVITE'));
        uac.request({ ...INVITE, method: 'CANCEL' }, server.udpPort);
        await nextOf(uac, isReply(200, 'CANCEL'));
        await nextOf(uac, isReply(487));
        assert.equal((await drain(uas1, 100)).filter((m) => m.method === 'CANCEL').length, 0, '§9.1: no CANCEL before a provisional');
        answer(uas1, inv, 180, 'Ringing', 'late-tag');
        const cancel = await nextOf(uas1, isReq('CANCEL'));
        answer(uas1, cancel, 200, 'OK', 'late-tag');
        answer(uas1, inv, 487, 'Request Terminated', 'late-tag');
        await nextOf(uas1, isReq('ACK'));
        assert.equal((await drain(uac, 200)).filter((m) => m.status === 180).length, 0, 'nothing relayed after the final');
      });
    });

    test('a branch over TCP: sent once (no Timer A), its reply comes back on the connection and goes upstream', async () => {
      const received: SipMessage[] = [];
      const uas = net.createServer((sock) => {
        let buf = '';
        sock.on('data', (d: Buffer) => {
          buf += d.toString('latin1');
          for (let end = buf.indexOf('\r\n\r\n'); end >= 0; end = buf.indexOf('\r\n\r\n')) {
            const req = parseSipMessage(Buffer.from(buf.slice(0, end + 4), 'latin1'));
            buf = buf.slice(end + 4);
            received.push(req);
            if (req.method !== 'INVITE') continue;
            const vias = req.getHeaders('via').map((v) => `Via: ${v}`).join('\r\n');
            sock.write(`SIP/2.0 486 Busy Here\r\n${vias}\r\nFrom: ${req.getHeader('from') ?? ''}\r\nTo: ${req.getHeader('to') ?? ''};tag=tcp-uas\r\nCall-ID: ${req.callId}\r\nCSeq: ${req.getHeader('cseq') ?? ''}\r\nContent-Length: 0\r\n\r\n`);
          }
        });
      });
      uas.listen(0, '127.0.0.1');
      await once(uas, 'listening');
      const tcpPort = (uas.address() as net.AddressInfo).port;
      try {
        await withSetup(engine, { tcpPort }, async ({ server, uac }) => {
          uac.request(INVITE, server.udpPort);
          const busy = await nextOf(uac, isReply(486));
          assert.equal(busy.to.tag, 'tcp-uas');
          await new Promise((r) => setTimeout(r, 300));
          assert.deepEqual(received.map((m) => m.method), ['INVITE', 'ACK'], 'one INVITE, then its ACK');
          assert.equal(received[0]?.topVia.transport, 'TCP');
          uac.request({ ...INVITE, method: 'ACK', toTag: busy.to.tag }, server.udpPort);
        });
      } finally {
        uas.close();
      }
    });

    test('non-INVITE to a silent UAS: Timer E (T1 doubling up to T2), then 408 upstream', async () => {
      await withSetup(engine, { tm: { fr_timer: 700 } }, async ({ server, uac, uas1 }) => {
        uac.request({ method: 'MESSAGE', branch: 'z9hG4bK-msg-1' }, server.udpPort);
        const final = await nextOf(uac, isReply(408, 'MESSAGE'), 2000);
        assert.equal(final.reason, 'Request Timeout');
        const got = await drain(uas1, 200);
        // 0, 40, 120, 280, 440, 600 ms: the interval stops growing at T2 = 160
        assert.ok(got.length >= 5 && got.length <= 7, `MESSAGE copies: ${String(got.length)}`);
        assert.equal(server.rt.stats.get('tm:timeouts'), 1);
      });
    });
  });
}
