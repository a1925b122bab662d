/** The shipped example scripts (scripts/default.lua and .js) behave the same, as documented. */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { loadConfigFile } from '../../host/config.js';
import { ENGINES, startServer, type TestServer } from '../helpers/runtime.js';
import { UdpPeer, type RequestSpec } from '../helpers/sip-client.js';

const DEFAULT_CONFIG = fileURLToPath(new URL('../../scripts/default.yaml', import.meta.url));

test('scripts/default.yaml (what npm start runs) is a valid config naming default.lua, loopback only, xhttp wired', () => {
  const cfg = loadConfigFile(DEFAULT_CONFIG);
  assert.match(cfg.script ?? '', /scripts\/default\.lua$/);
  assert.deepEqual(cfg.listen, ['udp:127.0.0.1:5060', 'tcp:127.0.0.1:5060']);
  assert.equal(cfg.http.listen, '127.0.0.1:8080');
  assert.equal(cfg.rpc.listen, '127.0.0.1:8081');
  assert.equal(cfg.modules.xhttp?.event_callback, 'ksr_xhttp_event');
});

const source = (engine: string): string => readFileSync(fileURLToPath(new URL(`../../scripts/default.${engine}`, import.meta.url)), 'utf8');

async function ask(server: TestServer, spec: RequestSpec, peer: UdpPeer): Promise<Awaited<ReturnType<UdpPeer['next']>>> {
  peer.request(spec, server.udpPort);
  return peer.next();
}

for (const engine of ENGINES) {
  describe(`scripts/default.${engine}`, () => {
    test('OPTIONS to us: 200 with Allow; INVITE to us: 404; Max-Forwards 0: 483; other host: forwarded', async () => {
      const server = await startServer(engine, source(engine));
      const uac = await UdpPeer.open();
      const uas = await UdpPeer.open();
      try {
        const me = `sip:kemihost@127.0.0.1:${String(server.udpPort)}`;
        const ok = await ask(server, { ruri: me }, uac);
        assert.equal(ok?.status, 200);
        assert.equal(ok.getHeader('Allow'), 'INVITE, ACK, CANCEL, BYE, OPTIONS');
        assert.equal((await ask(server, { method: 'INVITE', ruri: me }, uac))?.status, 404);
        assert.equal((await ask(server, { ruri: me, maxForwards: 0 }, uac))?.status, 483);
        uac.request({ method: 'MESSAGE', ruri: `sip:bob@127.0.0.1:${String(uas.port)}`, callId: 'fwd@test' }, server.udpPort);
        const fwd = await uas.next();
        assert.equal(fwd?.callId, 'fwd@test');
        assert.equal(fwd.method, 'MESSAGE');
      } finally {
        uac.close();
        uas.close();
        await server.close();
      }
    });

    test('HTTP: GET /health answers 200 "ok", anything else 404 (the event_callback of scripts/default.yaml)', async () => {
      const server = await startServer(engine, source(engine), {
        config: { http: { listen: '127.0.0.1:0' }, modules: { xhttp: { event_callback: 'ksr_xhttp_event' } } },
      });
      try {
        const base = `http://127.0.0.1:${String(server.httpPort)}`;
        const health = await fetch(`${base}/health?probe=1`);
        assert.equal(health.status, 200);
        assert.equal(health.headers.get('content-type'), 'text/plain');
        assert.equal(await health.text(), 'ok\n');
        const other = await fetch(`${base}/nothing`);
        assert.equal(other.status, 404);
        assert.equal(await other.text(), 'not found\n');
        assert.equal((await fetch(`${base}/health`, { method: 'POST', body: 'x' })).status, 404);
      } finally {
        await server.close();
      }
    });
  });
}
