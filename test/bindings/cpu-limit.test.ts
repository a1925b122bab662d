/**
 * limits.cpu_ms counts the time a callback spends in KSR calls, in both engines: a loop of
 * KSR calls that are slow on the host is stopped like a loop of the script's own code. (The
 * JS engine's isolated-vm timeout pauses during host calls; its own budget, checked at every
 * crossing, gives it the Lua engine's count.) And it counts CPU time, not elapsed time: on a
 * machine whose cores are all busy, a callback that needs less than cpu_ms of CPU runs to its
 * end although it takes longer than cpu_ms, while a busy loop is still stopped (the second part
 * sleeps inside KSR calls to take the time deterministically). Real SIP over
 * UDP; a stopped request gets 500.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { defineModule, fn } from '../../host/kemi/types.js';
import { ENGINES, routeScript, startServer, type EngineName } from '../helpers/runtime.js';
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
    nap: fn(['int'], 'int', (_s, _c, ms) => {
      // the thread sleeps: elapsed time passes, CPU time does not
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
      return 1;
    }, 'Asleep on the host for ms milliseconds.'),
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

/**
 * Elapsed time that is not CPU time does not count, deterministically: KSR.slow.nap(ms) sleeps
 * the thread (Atomics.wait) for ms milliseconds, so the callback takes longer than cpu_ms
 * while using almost no CPU. A limit that counted elapsed time would stop it; a busy loop is
 * stopped either way. (An earlier version loaded the machine with busy threads and hoped the
 * scheduler would stretch a callback past cpu_ms; on CI it sometimes did not, and the test
 * failed its own precondition.)
 */
const NAPS: Record<EngineName, string> = {
  lua: 'if KSR.pv.get("$rU") == "spin" then while true do end end\nKSR.slow.nap(150)\nKSR.slow.nap(150)\nKSR.sl.sl_send_reply(200, "Rested")',
  js: 'if (KSR.pv.get("$rU") === "spin") { for (;;) {} }\nKSR.slow.nap(150);\nKSR.slow.nap(150);\nKSR.sl.sl_send_reply(200, "Rested");',
};

const NAP_CPU_MS = 200;

for (const engine of ENGINES) {
  describe(`cpu_ms counts CPU time, not elapsed time [${engine}]`, () => {
    test('a callback asleep 300 ms inside KSR calls runs to its end under cpu_ms 200; a busy loop is stopped', async () => {
      const server = await startServer(engine, routeScript(engine, NAPS[engine]), { config: { limits: { cpu_ms: NAP_CPU_MS } }, modules: [slowModule] });
      try {
        const peer = await UdpPeer.open();
        try {
          const t0 = performance.now();
          peer.request({ ruri: 'sip:rest@127.0.0.1' }, server.udpPort);
          const rested = await peer.next(10_000);
          const wallMs = performance.now() - t0;
          assert.equal(rested?.status, 200, `got ${String(rested?.status)} ${rested?.reason ?? ''} after ${wallMs.toFixed(0)} ms`);
          assert.equal(rested.reason, 'Rested');
          // the precondition, which the sleep makes certain: longer than cpu_ms, elapsed
          assert.ok(wallMs > NAP_CPU_MS, `took ${wallMs.toFixed(0)} ms`);
          assert.equal(server.rt.stats.get('script:cpu_limit'), 0);
          const s0 = performance.now();
          peer.request({ ruri: 'sip:spin@127.0.0.1' }, server.udpPort);
          const spin = await peer.next(10_000);
          assert.equal(spin?.status, 500);
          // the JS engine: isolated-vm's wall-clock timeout, WALL_FACTOR × cpu_ms (cpu-budget.ts)
          assert.ok(performance.now() - s0 < 8 * NAP_CPU_MS + 1000, 'the busy loop was stopped late');
          assert.equal(server.rt.stats.get('script:cpu_limit'), 1);
        } finally {
          peer.close();
        }
      } finally {
        await server.close();
      }
    });
  });
}
