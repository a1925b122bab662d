/**
 * stats.reset_statistics over the real control RPC: counts go back to 0, levels (gauges: a
 * server connected, transactions in flight) are left as they are, since zeroing them would make
 * them lie until the next change.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { NetstringServer } from '../helpers/netstring-server.js';
import { until } from '../helpers/until.js';
import { rpcResult } from '../helpers/rpc.js';
import { startServer } from '../helpers/runtime.js';
import { UdpPeer } from '../helpers/sip-client.js';

test('reset_statistics zeroes counters and leaves gauges (jsonrpc per-server connected, servers_connected)', async () => {
  const rpcServer = await NetstringServer.start();
  const server = await startServer('lua', 'function ksr_request_route()\n  KSR.sl.sl_send_reply(200, "OK")\nend\n', {
    config: { rpc: { listen: '127.0.0.1:0' }, modules: { jsonrpc: { servers: `127.0.0.1:${String(rpcServer.port)},1` } } },
  });
  const peer = await UdpPeer.open();
  try {
    await until(() => server.rt.stats.get('jsonrpc:servers_connected') === 1);
    peer.request({ method: 'OPTIONS' }, server.udpPort);
    assert.equal((await peer.next())?.status, 200);
    const perServer = `jsonrpc:server_127.0.0.1_${String(rpcServer.port)}_connected`;
    const read = async (): Promise<string[]> => (await rpcResult(server.rt, 'stats.get_statistics', ['core:rcv_requests_options', 'jsonrpc:servers_connected', perServer])) as string[];
    assert.deepEqual(await read(), ['core:rcv_requests_options = 1', 'jsonrpc:servers_connected = 1', `${perServer} = 1`]);
    assert.equal(await rpcResult(server.rt, 'stats.reset_statistics', ['all']), null);
    assert.deepEqual(await read(), ['core:rcv_requests_options = 0', 'jsonrpc:servers_connected = 1', `${perServer} = 1`]);
  } finally {
    peer.close();
    await server.close();
    await rpcServer.stop();
  }
});
