/**
 * Both HTTP listeners (xhttp and the control RPC) against clients that misbehave (issue 13):
 * one that pipelines requests and never reads the answers must stop being read from, have few
 * of its requests run, and be closed after stalled_timeout_ms while other clients are served;
 * an RPC body nested 30,000 deep is refused unparsed. Bounded: at most 64 MB written.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { httpRequest } from '../helpers/http-client.js';
import { rpcAddress, rpcResult } from '../helpers/rpc.js';
import { ENGINES, startServer } from '../helpers/runtime.js';
import { UnreadingPeer } from '../helpers/unreading-peer.js';
import { until } from '../helpers/until.js';
import { xhttpScript } from '../helpers/xhttp-cases.js';

const MAX_FLOOD = 64 * 1024 * 1024;
const STALLED_MS = 1000;
const GET = (path: string): Buffer => Buffer.from(`GET ${path} HTTP/1.1\r\nHost: kemihost\r\n\r\n`);
/** 100 KB per answer: one stuck in the socket is past max_unsent_bytes (64 KiB) */
const BIG = {
  lua: 'KSR.xhttp.xhttp_reply(200, "OK", "text/plain", string.rep("x", 100000))',
  js: 'KSR.xhttp.xhttp_reply(200, "OK", "text/plain", "x".repeat(100000));',
};

for (const engine of ENGINES) {
  describe(`xhttp, a client that pipelines requests and never reads [${engine}]`, () => {
    test('few of its requests run, it is no longer read from, it is closed after the timeout; another client is served', async () => {
      const server = await startServer(engine, xhttpScript(engine, BIG[engine]), {
        config: {
          http: { listen: '127.0.0.1:0', max_unsent_bytes: 65_536, stalled_timeout_ms: STALLED_MS },
          modules: { xhttp: { event_callback: 'ksr_xhttp_event' } },
        },
      });
      const stat = (k: string): number => server.rt.stats.get(k) ?? 0;
      const request = GET('/x');
      const flooder = await UnreadingPeer.connect(server.httpPort);
      try {
        const flooding = flooder.flood(Buffer.concat(Array.from({ length: 200 }, () => request)), MAX_FLOOD);
        await until(() => stat('http:backpressure_paused') === 1, 20_000, 'the server to stop reading');
        const ran = stat('xhttp:requests');

        const other = await httpRequest(server.httpPort, { path: '/other' });
        assert.equal(other.status, 200, 'another client is answered meanwhile');
        assert.equal(other.body.length, 100_000);

        await until(() => stat('http:stalled_closed') === 1, STALLED_MS + 5000, 'the stalled client to be closed');
        flooder.stop();
        await flooding;
        // after the pause a request runs only when the client's kernel took more (it may grow its
        // receive window); the other client's request is the one more
        const total = stat('xhttp:requests') - 1;
        assert.ok(total - ran <= 16, `${String(total - ran)} of its requests ran after the pause`);
        const sentRequests = flooder.sent / request.length;
        // node alone runs every request of each segment it reads: thousands of 100 KB answers
        assert.ok(total < 200 && total * 20 < sentRequests, `${String(total)} of ${String(sentRequests)} pipelined requests ran`);
        assert.equal(await flooder.readUntilClosed(5000), true, 'the server closed the connection');
      } finally {
        flooder.destroy();
        await server.close();
      }
    });
  });
}

describe('control RPC, clients that misbehave', () => {
  const start = (): ReturnType<typeof startServer> => startServer('lua', 'function ksr_request_route() end', {
    config: { rpc: { listen: '127.0.0.1:0', stalled_timeout_ms: STALLED_MS } },
  });

  test('one that pipelines GET /metrics and never reads is closed after the timeout; RPC calls are answered meanwhile', async () => {
    const server = await start();
    const port = Number(rpcAddress(server.rt).split(':').pop());
    const flooder = await UnreadingPeer.connect(port);
    try {
      const flooding = flooder.flood(Buffer.concat(Array.from({ length: 200 }, () => GET('/metrics'))), MAX_FLOOD);
      // small answers never pass max_unsent_bytes: the answer that is not taken in time closes it
      await until(() => server.rt.stats.get('rpc:stalled_closed') === 1, STALLED_MS + 20_000, 'the stalled client to be closed');
      assert.equal(typeof await rpcResult(server.rt, 'core.version'), 'string');
      flooder.stop();
      await flooding;
      assert.ok(flooder.sent < MAX_FLOOD, 'the server stopped reading it');
      assert.equal(await flooder.readUntilClosed(5000), true, 'the server closed the connection');
    } finally {
      flooder.destroy();
      await server.close();
    }
  });

  test('a body nested 30,000 deep gets a parse error (-32700) unparsed, counted; the next call is answered', async () => {
    const server = await start();
    try {
      const body = `${'['.repeat(30_000)}${']'.repeat(30_000)}`;
      const res = await fetch(`http://${rpcAddress(server.rt)}/RPC`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body });
      assert.equal(res.status, 200);
      const answer = (await res.json()) as { id: unknown; error?: { code: number } };
      assert.equal(answer.error?.code, -32700);
      assert.equal(answer.id, null);
      assert.equal(server.rt.stats.get('rpc:too_deep'), 1);
      assert.equal(typeof await rpcResult(server.rt, 'core.version'), 'string');
    } finally {
      await server.close();
    }
  });
});
