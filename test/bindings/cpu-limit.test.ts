/**
 * limits.cpu_ms counts the time a callback spends in KSR calls, in both engines: a loop of
 * KSR calls that are slow on the host is stopped like a loop of the script's own code. (The
 * JS engine's isolated-vm timeout pauses during host calls; its own budget, checked at every
 * crossing, gives it the Lua engine's count.) And it counts CPU time, not elapsed time: on a
 * machine whose cores are all busy, a callback that needs less than cpu_ms of CPU runs to its
 * end although it takes longer than cpu_ms, while a busy loop is still stopped. Real SIP over
 * UDP; a stopped request gets 500.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { defineModule, fn } from '../../host/kemi/types.js';
import { startBurner } from '../helpers/cpu-burner.js';
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
 * Per engine: a route that loops n times then replies 200 for the Request-URI user "work-<n>",
 * and loops for ever for "spin". The Lua row comes with the Lua engine's count of CPU time (a
 * change on its own branch); until then the Lua engine counts elapsed time and would fail here.
 */
const LOADED: Partial<Record<EngineName, string>> = {
  js: `const user = KSR.pv.get("$rU");
if (user === "spin") { for (;;) {} }
const n = Number(user.slice(5));
let x = 0;
for (let i = 0; i < n; i++) x = (x + i * 7) % 1000003;
KSR.sl.sl_send_reply(200, "Done " + x);`,
};

const LOADED_CPU_MS = 200;

/** One request to `user`; the reply, and the process CPU time and wall time until it came. */
async function timed(peer: UdpPeer, port: number, user: string): Promise<{ status: number | undefined; cpuMs: number; wallMs: number }> {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  peer.request({ ruri: `sip:${user}@127.0.0.1` }, port);
  const reply = await peer.next(10_000);
  const c = process.cpuUsage(c0);
  return { status: reply?.status, cpuMs: (c.user + c.system) / 1000, wallMs: performance.now() - t0 };
}

for (const engine of ENGINES) {
  const route = LOADED[engine];
  if (route === undefined) continue;
  describe(`cpu_ms counts CPU time, not elapsed time [${engine}]`, () => {
    test('on a loaded machine a callback under its CPU budget runs to its end; a busy loop is stopped', async () => {
      const server = await startServer(engine, routeScript(engine, route), { config: { limits: { cpu_ms: LOADED_CPU_MS } } });
      // sixteen busy threads in a child process: this process gets a small fraction of a core, also
      // when the rest of the suite keeps the machine busy (eight were sometimes not enough)
      const burner = await startBurner(16, 60_000);
      try {
        const peer = await UdpPeer.open();
        try {
          // the CPU time of one iteration, and how much slower than that a callback runs now
          const N0 = 200_000;
          await timed(peer, server.udpPort, `work-${String(N0)}`); // warm-up: compile
          const probe = await timed(peer, server.udpPort, `work-${String(N0)}`);
          assert.equal(probe.status, 200);
          const perIteration = probe.cpuMs / N0;
          // Work for at most 75 % of the budget, meant to take 2.5 × cpu_ms at the slowdown
          // measured. The load varies: a run that happened to take less than cpu_ms proves
          // nothing (elapsed time would not have stopped it either), so it is tried again with
          // more work; a stop is a failure whenever it comes.
          let share = Math.min(0.75, (2.5 * probe.cpuMs) / probe.wallMs);
          let longest = 0;
          for (let attempt = 0; attempt < 12 && longest <= LOADED_CPU_MS; attempt++) {
            const n = Math.round((share * LOADED_CPU_MS) / perIteration);
            const work = await timed(peer, server.udpPort, `work-${String(n)}`);
            assert.equal(work.status, 200, `stopped after ${work.wallMs.toFixed(0)} ms (${work.cpuMs.toFixed(0)} ms CPU)`);
            longest = Math.max(longest, work.wallMs);
            share = Math.min(0.75, share * 1.5);
          }
          assert.ok(longest > LOADED_CPU_MS, `the load made a run take longer than cpu_ms: ${longest.toFixed(0)} ms`);
          const spin = await timed(peer, server.udpPort, 'spin');
          assert.equal(spin.status, 500);
          // the JS engine: isolated-vm's wall-clock timeout, WALL_FACTOR × cpu_ms (cpu-budget.ts)
          assert.ok(spin.wallMs < 8 * LOADED_CPU_MS + 1000, `stopped after ${spin.wallMs.toFixed(0)} ms`);
          assert.equal(server.rt.stats.get('script:cpu_limit'), 1);
        } finally {
          peer.close();
        }
      } finally {
        await burner.stop();
        await server.close();
      }
    });
  });
}
