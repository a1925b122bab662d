/**
 * DESIGN.md section 9: bad input gets a clear answer (or a counted, logged drop) and the
 * server keeps serving everyone else. Each case ends by proving a good request still works.
 */
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, test } from 'node:test';
import { ENGINES, startServer, type TestServer } from '../helpers/runtime.js';
import { buildRequest, TcpPeer, UdpPeer } from '../helpers/sip-client.js';
import { until } from '../helpers/until.js';

const SCRIPTS = {
  lua: `function ksr_request_route()
  if KSR.hdr.is_present("X-Loop") > 0 then while true do end end
  if KSR.hdr.is_present("X-Throw") > 0 then error("thrown on purpose") end
  KSR.sl.sl_send_reply(200, "OK")
end`,
  js: `function ksr_request_route() {
  if (KSR.hdr.is_present("X-Loop") > 0) { while (true) {} }
  if (KSR.hdr.is_present("X-Throw") > 0) { throw new Error("thrown on purpose"); }
  KSR.sl.sl_send_reply(200, "OK");
}`,
};

async function stillServes(server: TestServer): Promise<void> {
  const peer = await UdpPeer.open();
  try {
    peer.request({}, server.udpPort);
    const r = await peer.next();
    assert.equal(r?.status, 200, 'a good request after the bad input is answered');
  } finally {
    peer.close();
  }
}

const GOOD = buildRequest({ callId: 'good@test' }, 'UDP', '127.0.0.1', 5999);

for (const engine of ENGINES) {
  describe(`bad input [${engine}]`, () => {
    let server: TestServer;
    before(async () => {
      server = await startServer(engine, SCRIPTS[engine], {
        config: { limits: { cpu_ms: 50 }, sip: { tcp_partial_timeout_ms: 300 } },
      });
    });
    after(async () => { await server.close(); });

    const datagrams: [string, string | Buffer][] = [
      ['garbage bytes', Buffer.from([0, 1, 2, 3, 0xff, 0xfe, 10, 13])],
      ['a truncated datagram (cut in the headers)', GOOD.slice(0, 120)],
      ['a request without Call-ID', GOOD.replace(/Call-ID: [^\r]*\r\n/, '')],
      ['a request without CSeq', GOOD.replace(/CSeq: [^\r]*\r\n/, '')],
      ['Content-Length larger than the body', GOOD.replace('Content-Length: 0', 'Content-Length: 50')],
      ['Content-Length: abc', GOOD.replace('Content-Length: 0', 'Content-Length: abc')],
    ];
    for (const [name, data] of datagrams) {
      test(`UDP: ${name} is dropped and counted, no reply`, async () => {
        const before = server.rt.stats.get('core:bad_msg') ?? 0;
        const peer = await UdpPeer.open();
        try {
          peer.send(data, server.udpPort);
          assert.equal(await peer.next(300), null);
        } finally {
          peer.close();
        }
        assert.equal(server.rt.stats.get('core:bad_msg'), before + 1);
        await stillServes(server);
      });
    }

    test('a script that never returns is stopped by the CPU limit: 500, counted', async () => {
      const peer = await UdpPeer.open();
      try {
        peer.request({ headers: ['X-Loop: 1'] }, server.udpPort);
        const r = await peer.next(3000);
        assert.equal(r?.status, 500);
      } finally {
        peer.close();
      }
      assert.ok((server.rt.stats.get('script:cpu_limit') ?? 0) >= 1);
      await stillServes(server);
    });

    test('a script that throws gets 500 and the next message is served', async () => {
      const peer = await UdpPeer.open();
      try {
        peer.request({ headers: ['X-Throw: 1'] }, server.udpPort);
        assert.equal((await peer.next())?.status, 500);
      } finally {
        peer.close();
      }
      await stillServes(server);
    });

    test('TCP: several messages in one segment are all answered', async () => {
      const peer = await TcpPeer.connect(server.tcpPort);
      try {
        const one = buildRequest({ callId: 'a@t' }, 'TCP', '127.0.0.1', peer.localPort);
        const two = buildRequest({ callId: 'b@t' }, 'TCP', '127.0.0.1', peer.localPort);
        peer.write(one + two);
        assert.equal((await peer.next())?.callId, 'a@t');
        assert.equal((await peer.next())?.callId, 'b@t');
      } finally {
        peer.close();
      }
    });

    test('TCP: a message split over segments is reassembled', async () => {
      const peer = await TcpPeer.connect(server.tcpPort);
      try {
        const msg = buildRequest({ callId: 'split@t', body: 'hello' }, 'TCP', '127.0.0.1', peer.localPort);
        for (let i = 0; i < msg.length; i += 17) {
          peer.write(msg.slice(i, i + 17));
          await sleep(1);
        }
        assert.equal((await peer.next())?.callId, 'split@t');
      } finally {
        peer.close();
      }
    });

    test('TCP: a CRLF keepalive ping gets a CRLF pong', async () => {
      const peer = await TcpPeer.connect(server.tcpPort);
      try {
        peer.write('\r\n\r\n');
        await until(() => peer.pending.length >= 2, 2000, 'the pong');
        assert.equal(peer.pending.toString(), '\r\n');
      } finally {
        peer.close();
      }
    });

    test('TCP: Content-Length over the 64 KiB limit gets 513 and the connection closes', async () => {
      const peer = await TcpPeer.connect(server.tcpPort);
      const msg = buildRequest({}, 'TCP', '127.0.0.1', peer.localPort).replace('Content-Length: 0', 'Content-Length: 70000');
      peer.write(msg);
      const r = await peer.next();
      assert.equal(r?.status, 513);
      await peer.closed;
      assert.ok((server.rt.stats.get('core:too_large') ?? 0) >= 1);
      await stillServes(server);
    });

    test('TCP: a request without Content-Length gets 400 and the connection closes', async () => {
      const peer = await TcpPeer.connect(server.tcpPort);
      peer.write(buildRequest({}, 'TCP', '127.0.0.1', peer.localPort).replace('Content-Length: 0\r\n', ''));
      const r = await peer.next();
      assert.equal(r?.status, 400);
      await peer.closed;
    });

    // The start line is readable, the header the reply needs is not: a 400 with what could be
    // copied, then the connection closes (README, "Bad input"); before, it was closed silently.
    const unreadable: [string, (m: string) => string, RegExp][] = [
      ['a malformed CSeq', (m) => m.replace(/CSeq: [^\r]*/, 'CSeq: one OPTIONS'), /\r\nCSeq: one OPTIONS\r\n/],
      ['no Call-ID', (m) => m.replace(/Call-ID: [^\r]*\r\n/, ''), /^(?![\s\S]*\r\nCall-ID:)/],
      ['a malformed From', (m) => m.replace(/From: [^\r]*/, 'From: <sip:alice@example.com'), /\r\nFrom: <sip:alice@example.com\r\n/],
    ];
    for (const [what, spoil, copied] of unreadable) {
      test(`TCP: a request with ${what} gets 400 with what could be copied, then the connection closes`, async () => {
        const peer = await TcpPeer.connect(server.tcpPort);
        const bad = server.rt.stats.get('core:bad_msg') ?? 0;
        const port = peer.localPort;
        peer.write(spoil(buildRequest({ callId: 'raw400@t' }, 'TCP', '127.0.0.1', port)));
        await peer.closed;
        const reply = peer.raw[0]?.toString('utf8') ?? '';
        assert.match(reply, /^SIP\/2\.0 400 Bad Request\r\n/);
        assert.match(reply, new RegExp(`\\r\\nVia: SIP/2\\.0/TCP 127\\.0\\.0\\.1:${String(port)};branch=`));
        assert.match(reply, copied);
        assert.equal(server.rt.stats.get('core:bad_msg'), bad + 1);
        await stillServes(server);
      });
    }

    test('TCP: garbage closes the connection', async () => {
      const peer = await TcpPeer.connect(server.tcpPort);
      peer.write('this is not SIP\r\n\r\n');
      await peer.closed;
      await stillServes(server);
    });

    test('TCP: a peer that stops mid-message is cut off after the partial-message timeout', async () => {
      const peer = await TcpPeer.connect(server.tcpPort);
      const started = Date.now();
      peer.write(buildRequest({ body: 'x'.repeat(100) }, 'TCP', '127.0.0.1', peer.localPort).slice(0, 200));
      await peer.closed;
      assert.ok(Date.now() - started >= 250, 'closed by the timeout, not at once');
      await stillServes(server);
    });
  });
}
