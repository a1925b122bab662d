/**
 * Stateless forwarding end to end with two real UDP peers: what the UAS receives (our Via on
 * top, the UAC's Via stamped with received/rport, Max-Forwards decremented, header edits, the
 * rewritten R-URI) and what comes back to the UAC after ksr_reply_route (which may drop).
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ENGINES, startServer, type EngineName } from '../helpers/runtime.js';
import { UdpPeer } from '../helpers/sip-client.js';

function script(engine: EngineName, uasPort: number): string {
  const target = `sip:bob@127.0.0.1:${String(uasPort)}`;
  return engine === 'lua'
    ? `function ksr_request_route()
  KSR.maxfwd.process_maxfwd(10)
  KSR.hdr.remove("X-Secret")
  KSR.hdr.append("X-Proxied: yes\\r\\n")
  KSR.pv.sets("$ru", "${target}")
  KSR.force_rport()
  if KSR.forward() < 0 then KSR.sl.sl_send_reply(500, "forward failed") end
end
function ksr_reply_route()
  if KSR.pv.get("$rs") == 180 then KSR.x.drop() end
  KSR.hdr.append("X-Reply-Seen: " .. KSR.pv.get("$rs") .. "\\r\\n")
end
`
    : `function ksr_request_route() {
  KSR.maxfwd.process_maxfwd(10);
  KSR.hdr.remove("X-Secret");
  KSR.hdr.append("X-Proxied: yes\\r\\n");
  KSR.pv.sets("$ru", "${target}");
  KSR.force_rport();
  if (KSR.forward() < 0) KSR.sl.sl_send_reply(500, "forward failed");
}
function ksr_reply_route() {
  if (KSR.pv.get("$rs") === 180) KSR.x.drop();
  KSR.hdr.append("X-Reply-Seen: " + KSR.pv.get("$rs") + "\\r\\n");
}
`;
}

/** The UAS answers with the request's Vias, as RFC 3261 §8.2.6 says. */
function replyTo(req: NonNullable<Awaited<ReturnType<UdpPeer['next']>>>, code: number, reason: string): string {
  const vias = req.getHeaders('via').map((v) => `Via: ${v}`);
  return [
    `SIP/2.0 ${String(code)} ${reason}`,
    ...vias,
    `From: ${req.getHeader('from') ?? ''}`,
    `To: ${req.getHeader('to') ?? ''};tag=uas1`,
    `Call-ID: ${req.callId}`,
    `CSeq: ${req.getHeader('cseq') ?? ''}`,
    'Content-Length: 0',
    '',
    '',
  ].join('\r\n');
}

for (const engine of ENGINES) {
  describe(`stateless forwarding [${engine}]`, () => {
    test('the request reaches the UAS rewritten; replies come back through ksr_reply_route', async () => {
      const uas = await UdpPeer.open();
      const uac = await UdpPeer.open();
      const server = await startServer(engine, script(engine, uas.port), { config: { modules: { maxfwd: { max_limit: 20 } } } });
      try {
        uac.request({ method: 'INVITE', ruri: 'sip:alice@example.com', maxForwards: 30, headers: ['X-Secret: 42'], branch: 'z9hG4bKuac1' }, server.udpPort);
        const req = await uas.next();
        assert.ok(req !== null, 'the UAS got the request');
        assert.equal(req.ruri, `sip:bob@127.0.0.1:${String(uas.port)}`);
        assert.equal(req.maxForwards, 20, 'Max-Forwards over modules.maxfwd.max_limit goes out as max_limit');
        assert.equal(req.getHeader('X-Secret'), undefined, 'hdr.remove took the header out');
        assert.equal(req.getHeader('X-Proxied'), 'yes', 'hdr.append added one');
        const vias = req.vias;
        assert.equal(vias.length, 2);
        assert.equal(`${vias[0]?.host ?? ''}:${String(vias[0]?.port)}`, `127.0.0.1:${String(server.udpPort)}`, 'our Via on top');
        assert.match(vias[0]?.branch ?? '', /^z9hG4bK/);
        assert.equal(vias[1]?.branch, 'z9hG4bKuac1');
        assert.equal(vias[1].rport, String(uac.port), 'force_rport stamps the source port');

        uas.send(replyTo(req, 180, 'Ringing'), server.udpPort);
        uas.send(replyTo(req, 200, 'OK'), server.udpPort);
        const first = await uac.next();
        assert.equal(first?.status, 200, 'the 180 was dropped by ksr_reply_route; the 200 came through');
        assert.equal(first.getHeader('X-Reply-Seen'), '200');
        assert.equal(first.vias.length, 1, 'our Via was removed from the relayed reply');
        assert.equal(await uac.next(300), null, 'nothing else arrives');
        assert.equal(server.rt.stats.get('core:fwd_requests'), 1);
        assert.equal(server.rt.stats.get('core:fwd_replies'), 1);
        assert.equal(server.rt.stats.get('core:drop_replies'), 1);
      } finally {
        uas.close();
        uac.close();
        await server.close();
      }
    });

    test('a reply whose top Via is not ours is dropped and counted', async () => {
      const stranger = await UdpPeer.open();
      const server = await startServer(engine, script(engine, 9));
      try {
        stranger.send(
          'SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 192.0.2.9:5060;branch=z9hG4bKx\r\nFrom: <sip:a@b>;tag=1\r\nTo: <sip:c@d>;tag=2\r\nCall-ID: x@y\r\nCSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n',
          server.udpPort,
        );
        assert.equal(await stranger.next(300), null);
        assert.equal(server.rt.stats.get('core:drop_replies'), 1);
        assert.equal(server.rt.stats.get('core:fwd_replies') ?? 0, 0);
      } finally {
        stranger.close();
        await server.close();
      }
    });
  });
}
