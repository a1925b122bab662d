/**
 * nathelper's keepalives on a real server, both engines: UAs (UDP sockets on 127.0.0.1)
 * register with the branch flags the script reads from an X-Bflags header; the cases await what
 * reaches each UA's socket (the OPTIONS and its headers, the 4-byte packet, nothing for a
 * contact that is not to be pinged) and what the answers — or their absence — do.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { SipMessage } from '../../host/sip/message.js';
import { rpc } from '../helpers/rpc.js';
import { ENGINES, startServer, type EngineName, type TestServer } from '../helpers/runtime.js';
import { UdpPeer, buildRequest } from '../helpers/sip-client.js';
import { until } from '../helpers/until.js';

const SCRIPT: Record<EngineName, string> = {
  lua: `function ksr_request_route()
  if KSR.is_REGISTER() then
    local f = KSR.pv.get("$hdr(X-Bflags)")
    if f ~= nil then for b in string.gmatch(f, "%d+") do KSR.setbflag(tonumber(b)) end end
    KSR.nathelper.fix_nated_register()
    KSR.registrar.save("location", 0)
  end
end
function ksr_reply_route()
  KSR.pv.sets("$shv(script_replies)", "seen")
end
`,
  js: `function ksr_request_route() {
  if (KSR.is_REGISTER()) {
    const f = KSR.pv.get("$hdr(X-Bflags)");
    if (f !== null) f.split(",").forEach((b) => KSR.setbflag(Number(b)));
    KSR.nathelper.fix_nated_register();
    KSR.registrar.save("location", 0);
  }
}
function ksr_reply_route() {
  KSR.pv.sets("$shv(script_replies)", "seen");
}
`,
};

function config(nathelper: Record<string, unknown>): Record<string, unknown> {
  return {
    modules: {
      usrloc: { nat_bflag: 6 },
      registrar: { received_avp: '$avp(RECEIVED)' },
      nathelper: { received_avp: '$avp(RECEIVED)', natping_interval: 1, ...nathelper },
    },
  };
}

/** A UA registers user@10.0.0.5:5070 from its socket with these branch flags; resolves on the 200. */
async function register(server: TestServer, peer: UdpPeer, user: string, bflags: string): Promise<void> {
  const raw = buildRequest({
    method: 'REGISTER', ruri: 'sip:example.com', fromUri: `sip:${user}@example.com`, toUri: `sip:${user}@example.com`, rport: true,
    headers: [`Contact: <sip:${user}@10.0.0.5:5070>`, 'Expires: 300', ...(bflags === '' ? [] : [`X-Bflags: ${bflags}`])],
  }, 'UDP', '10.0.0.5', 5070);
  peer.send(raw, server.udpPort);
  const reply = await peer.next(3000);
  assert.equal(reply?.status, 200);
}

/** The next SIP request reaching the peer (skipping nothing else: it sent only the REGISTER). */
async function nextRequest(peer: UdpPeer): Promise<SipMessage> {
  const m = await peer.next(5000);
  assert.ok(m?.isRequest === true, 'a keepalive request reached the UA');
  return m;
}

function answer(peer: UdpPeer, req: SipMessage, port: number): void {
  const lines = ['SIP/2.0 200 OK', ...req.getHeaders('via').map((v) => `Via: ${v}`), `From: ${req.getHeader('from') ?? ''}`,
    `To: ${req.getHeader('to') ?? ''};tag=ua`, `Call-ID: ${req.callId}`, `CSeq: ${req.getHeader('cseq') ?? ''}`, 'Content-Length: 0', '', ''];
  peer.send(lines.join('\r\n'), port);
}

for (const engine of ENGINES) {
  describe(`nathelper keepalives [${engine}]`, () => {
    test('a contact saved with sipping_bflag gets OPTIONS at its received address, from our socket; the answer never reaches the script', async () => {
      const server = await startServer(engine, SCRIPT[engine], { config: config({ sipping_bflag: 7, sipping_from: 'sip:pinger@kemihost.test' }) });
      const peer = await UdpPeer.open();
      try {
        await register(server, peer, 'alice', '6,7');
        const req = await nextRequest(peer);
        assert.equal(req.method, 'OPTIONS');
        assert.equal(req.ruri, 'sip:alice@10.0.0.5:5070', 'the R-URI is the Contact as registered');
        assert.equal(req.topVia.host, '127.0.0.1');
        assert.equal(req.topVia.port, server.udpPort, 'sent from the socket the REGISTER came in on');
        assert.match(req.getHeader('from') ?? '', /^sip:pinger@kemihost\.test;tag=\S+$/);
        assert.equal(req.getHeader('to'), 'sip:alice@10.0.0.5:5070');
        assert.equal(req.getHeader('cseq'), '1 OPTIONS');
        assert.equal(req.getHeader('max-forwards'), undefined, 'no Max-Forwards, as Kamailio\'s build_sipping');
        answer(peer, req, server.udpPort);
        await until(() => server.rt.stats.get('nathelper:natping_replies') === 1, 3000, 'the answer taken');
        // not taken, it would have gone through ksr_reply_route and been dropped (no Via left to relay it to)
        assert.equal(server.rt.stats.get('core:drop_replies'), 0);
      } finally {
        peer.close();
        await server.close();
      }
    });

    test('without sipping_from (or the flag) a contact gets Kamailio\'s 4-byte UDP packet', async () => {
      const server = await startServer(engine, SCRIPT[engine], { config: config({ sipping_bflag: 7 }) });
      const peer = await UdpPeer.open();
      try {
        await register(server, peer, 'bob', '6,7');
        await until(() => peer.raw.length >= 2, 5000, 'a ping');
        assert.deepEqual([...(peer.raw[1] ?? Buffer.alloc(0))], [0, 0, 0, 0]);
      } finally {
        peer.close();
        await server.close();
      }
    });

    test('ping_nated_only: a contact without the NAT flag gets nothing; natping_disable_bflag silences a NATed one', async () => {
      const server = await startServer(engine, SCRIPT[engine], { config: config({ ping_nated_only: 1, natping_disable_bflag: 8 }) });
      const nated = await UdpPeer.open();
      const plain = await UdpPeer.open();
      const disabled = await UdpPeer.open();
      try {
        await register(server, nated, 'n1', '6');
        await register(server, plain, 'n2', '');
        await register(server, disabled, 'n3', '6,8');
        // two rounds reach the NATed contact: every round went by the others too
        await until(() => nated.raw.length >= 3, 5000, 'two pings');
        assert.equal(plain.raw.length, 1, 'only the 200 to its REGISTER');
        assert.equal(disabled.raw.length, 1, 'only the 200 to its REGISTER');
      } finally {
        for (const p of [nated, plain, disabled]) p.close();
        await server.close();
      }
    });

    test('RPC nathelper.enable_ping: 0 and 1 accepted, keepalives go out after 1; a non-number is INVALID_PARAMS', async () => {
      const cfg = config({}) as { modules: Record<string, unknown> };
      const server = await startServer(engine, SCRIPT[engine], { config: { ...cfg, rpc: { listen: '127.0.0.1:0' } } });
      const peer = await UdpPeer.open();
      try {
        assert.equal((await rpc(server.rt, 'nathelper.enable_ping', ['x'])).error?.code, -32602);
        assert.equal((await rpc(server.rt, 'nathelper.enable_ping', [0])).error, undefined);
        await register(server, peer, 'carol', '6');
        assert.equal((await rpc(server.rt, 'nathelper.enable_ping', ['1'])).error, undefined);
        await until(() => peer.raw.length >= 2, 5000, 'a ping once enabled');
      } finally {
        peer.close();
        await server.close();
      }
    });

    test('keepalive_timeout: a contact that answers no keepalive is removed from the location table', async () => {
      const server = await startServer(engine, SCRIPT[engine], { config: config({ sipping_bflag: 7, sipping_from: 'sip:pinger@kemihost.test', keepalive_timeout: 2 }) });
      const silent = await UdpPeer.open();
      const alive = await UdpPeer.open();
      try {
        await register(server, silent, 'quiet', '6,7');
        await register(server, alive, 'chatty', '6,7');
        let answered = 0;
        let done = false;
        const answering = (async () => {
          while (!done) {
            const req = await alive.next(200);
            if (req === null) continue;
            answer(alive, req, server.udpPort);
            answered++;
          }
        })();
        await until(() => server.rt.stats.get('nathelper:natping_removed') === 1, 8000, 'the silent contact removed');
        assert.equal(server.rt.stats.get('usrloc:registered_contacts'), 1, 'the answering one stays');
        assert.ok(answered >= 1);
        done = true;
        await answering;
        alive.close();
      } finally {
        silent.close();
        await server.close();
      }
    });
  });
}
