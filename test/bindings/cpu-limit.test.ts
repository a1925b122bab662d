/**
 * limits.cpu_ms counts the time a callback spends in KSR calls, in both engines: a loop of
 * KSR calls that are slow on the host is stopped like a loop of the script's own code. (The
 * JS engine's isolated-vm timeout pauses during host calls; its own deadline, checked at every
 * crossing, gives it the Lua engine's count.) Real SIP over UDP; the request gets 500.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { defineModule, fn } from '../../host/kemi/types.js';
import { ENGINES, routeScript, startServer } from '../helpers/runtime.js';
import { UdpPeer } from '../helpers/sip-client.js';

/** KSR.slow.spin(ms): busy on the host for ms milliseconds (a slow binding). */
const slowModule = defineModule({
  name: 'slow',
  doc: 'Test only: a KSR call that takes host time.',
  functions: {
    spin: fn(['int'], 'int', (_s, _c, ms) => {
      const t0 = performance.now();
      while (performance.now() - t0 < ms);
      return 1;
    }, 'Busy on the host for ms milliseconds.'),
  },
});

const ROUTES = {
  lua: 'for i = 1, 1000 do KSR.slow.spin(5) end\nKSR.sl.sl_send_reply(200, "Not Stopped")',
  js: 'for (let i = 0; i < 1000; i++) KSR.slow.spin(5);\nKSR.sl.sl_send_reply(200, "Not Stopped");',
};

for (const engine of ENGINES) {
  describe(`cpu_ms counts KSR calls [${engine}]`, () => {
    test('a loop of slow KSR calls is stopped: 500, script:cpu_limit, and the server goes on', async () => {
      const server = await startServer(engine, routeScript(engine, ROUTES[engine]), { config: { limits: { cpu_ms: 50 } }, modules: [slowModule] });
      try {
        const peer = await UdpPeer.open();
        try {
          for (let i = 1; i <= 2; i++) {
            peer.request({}, server.udpPort);
            // not stopped, the loop would take 5 s and end in "200 Not Stopped"
            const reply = await peer.next(4000);
            assert.equal(reply?.status, 500, `got ${String(reply?.status)} ${reply?.reason ?? ''}`);
            assert.equal(server.rt.stats.get('script:cpu_limit'), i);
          }
        } finally {
          peer.close();
        }
      } finally {
        await server.close();
      }
    });
  });
}
