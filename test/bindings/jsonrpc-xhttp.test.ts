/**
 * KSR.jsonrpc from an xhttp event callback, both engines: the HTTP request is held instead of a
 * SIP transaction and answered by return_route / error_route; a client that leaves before the
 * answer means nothing runs (counted as gone).
 */
import assert from 'node:assert/strict';
import net from 'node:net';
import { describe, test } from 'node:test';
import { Context } from '../../host/kemi/context.js';
import { httpRequest } from '../helpers/http-client.js';
import { NetstringServer } from '../helpers/netstring-server.js';
import { until } from '../helpers/until.js';
import { ENGINES, startServer } from '../helpers/runtime.js';

for (const engine of ENGINES) {
  describe(`KSR.jsonrpc from xhttp [${engine}]`, () => {
    test('a held message that is gone when the answer comes: nothing runs, counted as gone', async () => {
      const held: { answer?: () => void } = {};
      const srv = await NetstringServer.start('A', (m, peer) => { held.answer = () => { peer.answer(m.id, { result: 1 }); }; });
      const script = engine === 'lua'
        ? `function ksr_request_route() end
function ksr_xhttp_event(evname)
  KSR.jsonrpc.request("slow", "[]", "H_OK", "H_OK", "$var(r)")
  KSR.x.exit()
end
function H_OK() KSR.pv.sets("$shv(ran)", "yes"); KSR.xhttp.xhttp_reply(200, "OK", "", "") end
`
        : `function ksr_request_route() {}
function ksr_xhttp_event(evname) {
  KSR.jsonrpc.request("slow", "[]", "H_OK", "H_OK", "$var(r)");
  KSR.x.exit();
}
function H_OK() { KSR.pv.sets("$shv(ran)", "yes"); KSR.xhttp.xhttp_reply(200, "OK", "", ""); }
`;
      const kh = await startServer(engine, script, {
        config: {
          http: { listen: '127.0.0.1:0' },
          modules: { xhttp: { event_callback: 'ksr_xhttp_event' }, jsonrpc: { servers: `127.0.0.1:${String(srv.port)},1`, timeout: 5000 } },
        },
      });
      try {
        await until(() => kh.rt.stats.get('jsonrpc:servers_connected') === 1, 3000, 'connected');
        const client = net.connect(kh.httpPort, '127.0.0.1');
        client.on('error', () => undefined);
        client.write('GET /x HTTP/1.1\r\nHost: t\r\n\r\n');
        await srv.waitReceived(1);
        client.destroy();
        await new Promise((res) => setTimeout(res, 50));
        assert.ok(held.answer !== undefined);
        held.answer();
        await until(() => kh.rt.stats.get('jsonrpc:gone') === 1, 2000, 'gone counted');
        assert.equal(kh.rt.stats.get('jsonrpc:replies'), 1);
        const ran = kh.rt.registry.pvs.resolve('$shv(ran)')?.get(new Context('event', null, { proto: 'udp', ip: '127.0.0.1', port: 0, localIp: '127.0.0.1', localPort: 0 }));
        assert.equal(ran, null, 'the return route did not run');
      } finally {
        await kh.close();
        await srv.stop();
      }
    });

    test('from an xhttp callback: the HTTP request is held and answered by return_route / error_route', async () => {
      const srv = await NetstringServer.start('A', (m, peer) => {
        if (m.method === 'fail') peer.answer(m.id, { error: { code: 1, message: 'bad' } });
        else peer.answer(m.id, { result: { echo: m.params } });
      });
      const script = engine === 'lua'
        ? `function ksr_request_route() end
function ksr_xhttp_event(evname)
  KSR.jsonrpc.request(KSR.pv.get("$hdr(X-Method)"), KSR.pv.get("$rb"), "H_OK", "H_ERR", "$var(r)")
  KSR.x.exit()
end
function H_OK() KSR.xhttp.xhttp_reply(200, "OK", "application/json", KSR.pv.get("$var(r)")) end
function H_ERR() KSR.xhttp.xhttp_reply(502, "Bad Gateway", "application/json", KSR.pv.get("$var(r)")) end
`
        : `function ksr_request_route() {}
function ksr_xhttp_event(evname) {
  KSR.jsonrpc.request(KSR.pv.get("$hdr(X-Method)"), KSR.pv.get("$rb"), "H_OK", "H_ERR", "$var(r)");
  KSR.x.exit();
}
function H_OK() { KSR.xhttp.xhttp_reply(200, "OK", "application/json", KSR.pv.get("$var(r)")); }
function H_ERR() { KSR.xhttp.xhttp_reply(502, "Bad Gateway", "application/json", KSR.pv.get("$var(r)")); }
`;
      const kh = await startServer(engine, script, {
        config: {
          http: { listen: '127.0.0.1:0' },
          modules: { xhttp: { event_callback: 'ksr_xhttp_event' }, jsonrpc: { servers: `127.0.0.1:${String(srv.port)},1` } },
        },
      });
      try {
        await until(() => kh.rt.stats.get('jsonrpc:servers_connected') === 1, 3000, 'connected');
        const ok = await httpRequest(kh.httpPort, { method: 'POST', path: '/rpc', headers: { 'X-Method': 'echo' }, body: '{"q":[1,2]}' });
        assert.equal(ok.status, 200);
        assert.deepEqual(JSON.parse(ok.body), { echo: { q: [1, 2] } });
        const bad = await httpRequest(kh.httpPort, { method: 'POST', path: '/rpc', headers: { 'X-Method': 'fail' }, body: '[]' });
        assert.equal(bad.status, 502);
        assert.deepEqual(JSON.parse(bad.body), { code: 1, message: 'bad' });
        assert.deepEqual(srv.requests().map((q) => q.method), ['echo', 'fail']);
        assert.equal(kh.rt.stats.get('tm:created'), 0);
        assert.equal(kh.rt.stats.get('jsonrpc:replies'), 1);
        assert.equal(kh.rt.stats.get('jsonrpc:errors'), 1);
      } finally {
        await kh.close();
        await srv.stop();
      }
    });
  });
}
