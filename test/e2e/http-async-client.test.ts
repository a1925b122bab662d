/**
 * http_async_client end to end, both engines: an INVITE held while its query is in flight and
 * answered from $http_rb; a CANCEL or a transaction timeout while the query is in flight (the
 * route must not run on the dead transaction); an xhttp request held by a query; shutdown with
 * queries in flight (nothing hangs, no route runs).
 */
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { httpRequest } from '../helpers/http-client.js';
import { startHttpPeers } from '../helpers/http-peers.js';
import { rpcResult } from '../helpers/rpc.js';
import { ENGINES, startServer, type EngineName } from '../helpers/runtime.js';
import { UdpPeer } from '../helpers/sip-client.js';
import { startXhttp } from '../helpers/xhttp-cases.js';

const peers = await startHttpPeers();
after(() => peers.close());

/** INVITE → t_newtran → query (R-URI user "slow": a reply after 400 ms) → REPORT replies 200 with X-Rb. */
function script(engine: EngineName): string {
  const base = peers.http;
  return engine === 'lua'
    ? `function ksr_request_route()
  if KSR.is_ACK() then return end
  KSR.tm.t_newtran()
  local path = KSR.pv.get("$rU") == "slow" and "/slow?ms=400&t=" or "/echo?t="
  KSR.http_async_client.query("${base}" .. path .. KSR.pv.get("$ci"), "REPORT")
  KSR.x.exit()
end
function REPORT()
  KSR.hdr.append_to_reply("X-Rb: " .. KSR.pv.getw("$http_rb") .. "\\r\\n")
  KSR.tm.t_reply(200, "OK")
end
`
    : `function ksr_request_route() {
  if (KSR.is_ACK()) return;
  KSR.tm.t_newtran();
  const path = KSR.pv.get("$rU") === "slow" ? "/slow?ms=400&t=" : "/echo?t=";
  KSR.http_async_client.query("${base}" + path + KSR.pv.get("$ci"), "REPORT");
  KSR.x.exit();
}
function REPORT() {
  KSR.hdr.append_to_reply("X-Rb: " + KSR.pv.getw("$http_rb") + "\\r\\n");
  KSR.tm.t_reply(200, "OK");
}
`;
}

for (const engine of ENGINES) {
  describe(`http_async_client in flight [${engine}]`, () => {
    test('an INVITE: 100 Trying at once, then 200 with a header from $http_rb; the statistics over the control RPC', async () => {
      const server = await startServer(engine, script(engine), { config: { rpc: { listen: '127.0.0.1:0' } } });
      const uac = await UdpPeer.open();
      try {
        uac.request({ method: 'INVITE', ruri: 'sip:fast@127.0.0.1', callId: `inv-ok-${engine}@test` }, server.udpPort);
        assert.equal((await uac.next(2000))?.status, 100);
        const ok = await uac.next(3000);
        assert.equal(ok?.status, 200);
        assert.equal(ok.getHeader('X-Rb'), 'GET::-');
        assert.equal(peers.find(`t=inv-ok-${engine}@test`).length, 1);
        assert.equal(server.rt.stats.get('http_async_client:replies'), 1);
        const stats = await rpcResult(server.rt, 'stats.get_statistics', ['http_async_client:']);
        assert.deepEqual(stats, [
          'http_async_client:requests = 1', 'http_async_client:replies = 1', 'http_async_client:errors = 0',
          'http_async_client:timeouts = 0', 'http_async_client:gone = 0', 'http_async_client:refused = 0',
        ]);
      } finally {
        uac.close();
        await server.close();
      }
    });

    test('a CANCEL while the query is in flight: 487, and the late reply runs no route', async () => {
      const server = await startServer(engine, script(engine));
      const uac = await UdpPeer.open();
      try {
        const inv = { method: 'INVITE', ruri: 'sip:slow@127.0.0.1', callId: `inv-cancel-${engine}@test`, branch: `z9hG4bK-c-${engine}`, fromTag: 'fc' };
        uac.request(inv, server.udpPort);
        assert.equal((await uac.next(2000))?.status, 100);
        uac.request({ ...inv, method: 'CANCEL' }, server.udpPort);
        const two = [await uac.next(2000), await uac.next(2000)].map((m) => `${String(m?.status)} ${m?.cseq.method ?? ''}`).sort();
        assert.deepEqual(two, ['200 CANCEL', '487 INVITE']);
        // the HTTP reply arrives at ~400 ms; nothing but the 487 again (not ACKed here) may follow
        for (let m = await uac.next(800); m !== null; m = await uac.next(800)) {
          assert.equal(`${String(m.status)} ${m.cseq.method}`, '487 INVITE', 'nothing sent on the dead transaction');
        }
        assert.equal(server.rt.stats.get('http_async_client:replies'), 1, 'the query itself completed');
        assert.equal(server.rt.stats.get('http_async_client:gone'), 1);
      } finally {
        uac.close();
        await server.close();
      }
    });

    test('a transaction timeout while the query is in flight: 408, and the late reply runs no route', async () => {
      const server = await startServer(engine, script(engine), { config: { modules: { tm: { fr_timer: 100 }, http_async_client: { connection_timeout: 2000 } } } });
      const uac = await UdpPeer.open();
      try {
        uac.request({ method: 'MESSAGE', ruri: 'sip:slow@127.0.0.1', callId: `msg-timeout-${engine}@test` }, server.udpPort);
        assert.equal((await uac.next(2000))?.status, 408);
        assert.equal(await uac.next(800), null, 'nothing after the 408');
        assert.equal(server.rt.stats.get('http_async_client:gone'), 1);
        assert.equal(server.rt.stats.get('http_async_client:replies'), 1);
      } finally {
        uac.close();
        await server.close();
      }
    });

    test('shutdown with a query in flight: close() returns promptly, the route never runs', async () => {
      const server = await startServer(engine, script(engine).replace(/\/slow\?ms=400/g, '/never?x=1'), { config: { modules: { http_async_client: { connection_timeout: 10_000 } } } });
      const uac = await UdpPeer.open();
      try {
        uac.request({ method: 'MESSAGE', ruri: 'sip:slow@127.0.0.1', callId: `msg-close-${engine}@test` }, server.udpPort);
        for (let i = 0; i < 100 && peers.find(`msg-close-${engine}`).length === 0; i++) await sleep(10);
        assert.equal(peers.find(`msg-close-${engine}`).length, 1, 'the query reached the server');
        const t0 = performance.now();
        await server.close();
        assert.ok(performance.now() - t0 < 3000, 'close() did not wait for the query');
        assert.equal(server.rt.stats.get('http_async_client:replies'), 0);
        assert.equal(server.rt.stats.get('http_async_client:timeouts'), 0);
      } finally {
        uac.close();
        await server.close();
      }
    });

    test('an xhttp request is held by a query and answered from its route', async () => {
      const body = engine === 'lua'
        ? `KSR.pv.sets("$http_req(body)", "from-xhttp")\n  KSR.pv.seti("$var(rc)", KSR.http_async_client.query("${peers.http}/echo?t=xh-${engine}", "DONE"))`
        : `KSR.pv.sets("$http_req(body)", "from-xhttp");\n  KSR.pv.seti("$var(rc)", KSR.http_async_client.query("${peers.http}/echo?t=xh-${engine}", "DONE"));`;
      const src = engine === 'lua'
        ? `function ksr_request_route()\nend\nfunction ksr_xhttp_event(evname)\n  ${body}\nend\nfunction DONE()\n  KSR.xhttp.xhttp_reply(200, "OK", "text/plain", KSR.pv.get("$var(rc)") .. "|" .. KSR.pv.get("$http_rs") .. "|" .. KSR.pv.get("$http_rb"))\nend\n`
        : `function ksr_request_route() {}\nfunction ksr_xhttp_event(evname) {\n  ${body}\n}\nfunction DONE() {\n  KSR.xhttp.xhttp_reply(200, "OK", "text/plain", KSR.pv.get("$var(rc)") + "|" + KSR.pv.get("$http_rs") + "|" + KSR.pv.get("$http_rb"));\n}\n`;
      const server = await startXhttp(engine, src);
      try {
        const r = await httpRequest(server.httpPort, { path: '/q' });
        assert.equal(r.status, 200);
        assert.equal(r.body, '0|200|POST:from-xhttp:-');
      } finally {
        await server.close();
      }
    });
  });
}
