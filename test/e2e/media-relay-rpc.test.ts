/**
 * The media relay modules' control RPC with Kamailio's names, against a real rtpengine and a
 * port where nothing listens: rtpengine.show (a dead instance is disabled), rtpengine.enable 0
 * (disabled until enabled: its calls go elsewhere) and 1 (a ping, then enabled),
 * rtpengine.ping, rtpengine.get_hash_total; rtpproxy.list and rtpproxy.enable.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { startServer } from '../helpers/runtime.js';
import { rpc, rpcResult } from '../helpers/rpc.js';
import { freeUdpPort, startRtpengine } from '../helpers/rtpengine.js';

interface Shown { url: string; set: number; disabled: number; permanent: number }

test('rtpengine.show / enable / ping / get_hash_total and rtpproxy.list / enable', async (t) => {
  const r = await startRtpengine(t, { legacy: true });
  if (r === null) return;
  const live = `udp:127.0.0.1:${String(r.ngPort)}`;
  const dead = `udp:127.0.0.1:${String(await freeUdpPort())}`;
  const legacy = `udp:127.0.0.1:${String(r.udpPort)}`;
  const server = await startServer('lua', 'function ksr_request_route() KSR.sl.sl_send_reply(200, "OK") end', {
    config: {
      rpc: { listen: '127.0.0.1:0' },
      modules: { rtpengine: { rtpengine_sock: `${live} ${dead}` }, rtpproxy: { rtpproxy_sock: legacy } },
    },
  });
  t.after(() => server.close());
  const rt = server.rt;

  const shown = (await rpcResult(rt, 'rtpengine.show', ['all'])) as Shown[];
  assert.deepEqual(shown.map((n) => [n.url, n.set, n.disabled, n.permanent]), [[live, 0, 0, 0], [dead, 0, 1, 0]]);
  assert.equal((await rpc(rt, 'rtpengine.show', ['udp:192.0.2.1:1'])).error?.code, -32602, 'an unknown instance is refused');

  const off = (await rpcResult(rt, 'rtpengine.enable', [live, 0])) as Shown[];
  assert.deepEqual(off.map((n) => [n.disabled, n.permanent]), [[1, 1]]);
  const pinged = (await rpcResult(rt, 'rtpengine.ping', ['all'])) as { url: string; answered: number }[];
  assert.deepEqual(pinged.map((p) => [p.url, p.answered]), [[live, 1], [dead, 0]]);
  assert.equal(((await rpcResult(rt, 'rtpengine.show', [live])) as Shown[])[0]?.disabled, 1, 'a ping does not undo enable 0');
  const on = (await rpcResult(rt, 'rtpengine.enable', [live, 1])) as Shown[];
  assert.deepEqual(on.map((n) => [n.disabled, n.permanent]), [[0, 0]], 'it answered the ping: enabled');
  assert.equal(await rpcResult(rt, 'rtpengine.get_hash_total'), 0);
  assert.equal((await rpc(rt, 'rtpengine.enable', [live, 7])).error?.code, -32602);

  const list = (await rpcResult(rt, 'rtpproxy.list')) as { url: string; disabled: number }[];
  assert.deepEqual(list.map((n) => [n.url, n.disabled]), [[legacy, 0]]);
  const rOff = (await rpcResult(rt, 'rtpproxy.enable', [legacy, 0])) as { disabled: number }[];
  assert.equal(rOff[0]?.disabled, 1);
  const rOn = (await rpcResult(rt, 'rtpproxy.enable', [legacy, 1])) as { disabled: number }[];
  assert.equal(rOn[0]?.disabled, 0, 'V and VF answered: enabled');
});
