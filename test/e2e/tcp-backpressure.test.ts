/**
 * SIP over TCP against a peer that sends requests as fast as it can and never reads a reply
 * (issue 13: 139 MB of requests grew the server by 206 MB). The server must stop reading from
 * it once its unsent replies pass sip.tcp_max_unsent_bytes, close it after
 * sip.tcp_stalled_timeout_ms, and keep serving everyone else meanwhile. Bounded: at most 64 MB
 * written, on 127.0.0.1.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ENGINES, routeScript, startServer } from '../helpers/runtime.js';
import { buildRequest, TcpPeer } from '../helpers/sip-client.js';
import { UnreadingPeer } from '../helpers/unreading-peer.js';
import { until } from '../helpers/until.js';

const MAX_FLOOD = 64 * 1024 * 1024;
const STALLED_MS = 1000;
const REPLY = { lua: 'KSR.sl.sl_send_reply(200, "OK")', js: 'KSR.sl.sl_send_reply(200, "OK");' };

for (const engine of ENGINES) {
  describe(`SIP over TCP, a peer that does not read its replies [${engine}]`, () => {
    test('is no longer read from past the bound, is closed after the timeout; another peer is served meanwhile', async () => {
      const server = await startServer(engine, routeScript(engine, REPLY[engine]), {
        config: { sip: { tcp_max_unsent_bytes: 65_536, tcp_stalled_timeout_ms: STALLED_MS } },
      });
      const stat = (k: string): number => server.rt.stats.get(k) ?? 0;
      const flooder = await UnreadingPeer.connect(server.tcpPort);
      try {
        const one = Buffer.from(buildRequest({ method: 'OPTIONS' }, 'TCP', '127.0.0.1', flooder.sock.localPort ?? 0));
        const flooding = flooder.flood(Buffer.concat(Array.from({ length: 100 }, () => one)), MAX_FLOOD);

        await until(() => stat('tcp:backpressure_paused') === 1, 20_000, 'the server to pause reading');
        const received = stat('core:rcv_requests');
        assert.ok(received > 0);

        const other = await TcpPeer.connect(server.tcpPort);
        other.request({ method: 'OPTIONS' });
        const reply = await other.next(3000);
        other.close();
        assert.equal(reply?.status, 200, 'another peer is answered while the first is stalled');

        await until(() => stat('tcp:stalled_closed') === 1, STALLED_MS + 5000, 'the stalled peer to be closed');
        flooder.stop();
        await flooding;
        // After the pause a chunk is read only if the peer's kernel took replies in between (it
        // may grow its receive window) and the unsent replies drained; the other peer sent one.
        const more = stat('core:rcv_requests') - received - 1;
        assert.ok(more <= received / 4, `${String(more)} requests were read after the pause, ${String(received)} before`);
        assert.ok(flooder.sent < MAX_FLOOD, `the server stopped taking data (${String(flooder.sent)} bytes written)`);
        assert.equal(await flooder.readUntilClosed(5000), true, 'the server closed the connection');
      } finally {
        flooder.destroy();
        await server.close();
      }
    });
  });
}
