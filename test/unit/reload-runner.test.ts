/**
 * Version pinning in the ScriptRunner, with real engines and the test-only hold module: a
 * message suspended under one version resumes under it after a swap, and a replaced version
 * is disposed exactly when its last suspended message is let go — by a resume, or by its owner
 * giving up (setting ctx.suspended = false), or at once when nothing was suspended.
 */
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { pino } from 'pino';
import { MODULES } from '../../bindings/index.js';
import { validateConfig } from '../../host/config.js';
import { Context } from '../../host/kemi/context.js';
import type { Source } from '../../host/sip/types.js';
import { KemiRegistry } from '../../host/kemi/registry.js';
import { Stats } from '../../host/kemi/stats.js';
import { buildVersion } from '../../host/reload/reloader.js';
import type { ScriptVersion } from '../../host/reload/version.js';
import { ScriptRunner } from '../../host/script-runner.js';
import { Myself } from '../../host/sip/myself.js';
import { ENGINES, type EngineName } from '../helpers/runtime.js';
import { testAsyncModule, type AsyncRecord } from '../helpers/test-async-module.js';
import { RecordingOwner } from '../helpers/binding-harness.js';

const SRC: Source = { proto: 'udp', ip: '127.0.0.1', port: 5062, localIp: '127.0.0.1', localPort: 5060 };

/** Version n: the request route holds the message; the resume route is named RESUME_<n>, so a resume in another version cannot find it. */
function script(engine: EngineName, n: number, holdAgain = false): string {
  const again = holdAgain ? (engine === 'lua' ? 'KSR.testasync.hold_only()' : 'KSR.testasync.hold_only();') : '';
  return engine === 'lua'
    ? `function ksr_request_route()\n  KSR.pv.sets("$var(v)", "v${String(n)}")\n  KSR.testasync.hold_only()\nend\n` +
        `function RESUME_${String(n)}()\n  KSR.pv.sets("$var(resumed)", "v${String(n)}")\n  ${again}\nend\n`
    : `function ksr_request_route() {\n  KSR.pv.sets("$var(v)", "v${String(n)}");\n  KSR.testasync.hold_only();\n}\n` +
        `function RESUME_${String(n)}() {\n  KSR.pv.sets("$var(resumed)", "v${String(n)}");\n  ${again}\n}\n`;
}

interface Harness {
  readonly runner: ScriptRunner;
  /** the holds the test module took, to resume them */
  readonly record: AsyncRecord;
  readonly stats: Stats;
  version(n: number, holdAgain?: boolean): Promise<ScriptVersion>;
  /** a new message, run through the request route; an owner that resumes through the runner */
  message(): Context;
  close(): Promise<void>;
}

function harness(engine: EngineName): Harness {
  const log = pino({ level: 'silent' });
  const stats = new Stats();
  const runner = new ScriptRunner(log, stats);
  const { module, record } = testAsyncModule();
  const registry = new KemiRegistry([...MODULES, module], { log, stats, myself: new Myself(), script: runner, params: validateConfig({}).modules });
  const opts = { kind: engine, registry, log, cpuMs: 1000, memoryMb: 64 };
  const owner = new RecordingOwner(true, (ctx, route, arg) => {
    if (!ctx.suspended) return false;
    ctx.suspended = false;
    if (typeof route === 'string') runner.run(route, ctx, arg);
    else route();
    return true;
  });
  return {
    runner,
    record,
    stats,
    version: (n, holdAgain = false) => buildVersion(n, script(engine, n, holdAgain), `v${String(n)}.${engine}`, opts),
    message: () => {
      const ctx = new Context('event', null, SRC);
      ctx.owner = owner;
      const r = runner.run('ksr_request_route', ctx);
      assert.equal(r.ok, true);
      return ctx;
    },
    close: async () => {
      runner.disposeAll();
      await registry.close();
    },
  };
}

/** Let queued microtasks (the release after `ctx.suspended = false`) run. */
const settle = (): Promise<void> => new Promise((r) => setImmediate(r));

for (const engine of ENGINES) {
  describe(`ScriptRunner versions [${engine}]`, () => {
    const open: Harness[] = [];
    after(async () => { await Promise.all(open.map((h) => h.close())); });
    const make = (): Harness => {
      const h = harness(engine);
      open.push(h);
      return h;
    };

    test('a version nobody is suspended on is disposed at the swap', async () => {
      const h = make();
      const v1 = await h.version(1);
      h.runner.install(v1);
      h.runner.install(await h.version(2));
      assert.equal(v1.disposed, true);
      assert.equal(h.stats.get('script:disposed_versions'), 1);
      assert.deepEqual(h.runner.drainingVersions, []);
    });

    test('suspended under v1, resumed after v2 took over: the resume runs on v1, then v1 is disposed', async () => {
      const h = make();
      const v1 = await h.version(1);
      h.runner.install(v1);
      const held = h.message();
      assert.equal(held.suspended, true);
      assert.equal(held.version, v1);
      assert.equal(v1.suspended, 1);

      const v2 = await h.version(2);
      h.runner.install(v2);
      assert.equal(v1.disposed, false, 'v1 still has a suspended message');
      assert.deepEqual(h.runner.drainingVersions, [v1]);
      const fresh = h.message();
      assert.equal(fresh.vars.get('v'), 'v2', 'new messages run on v2 at once');
      // v2 has no RESUME_1: only v1 can run it
      assert.equal(h.runner.has('RESUME_1'), false);

      assert.equal(h.record.resume(held, 'RESUME_1'), true);
      assert.equal(held.vars.get('resumed'), 'v1');
      assert.equal(held.version, null);
      assert.equal(v1.disposed, true);
      assert.equal(h.stats.get('script:disposed_versions'), 1);
      assert.equal(h.stats.get('script:errors'), 0);
      assert.deepEqual(h.runner.drainingVersions, []);
    });

    test('the owner gives up (ctx.suspended = false, nothing run): the version goes once the call stack is done', async () => {
      const h = make();
      const v1 = await h.version(1);
      h.runner.install(v1);
      const held = [h.message(), h.message()];
      h.runner.install(await h.version(2));
      assert.equal(v1.suspended, 2);
      (held[0] as Context).suspended = false;
      await settle();
      assert.equal(v1.suspended, 1);
      assert.equal(v1.disposed, false);
      (held[1] as Context).suspended = false;
      await settle();
      assert.equal(v1.disposed, true);
      assert.equal((held[1] as Context).version, null);
    });

    test('a resume route that suspends again keeps the message on its version until the last resume', async () => {
      const h = make();
      const v1 = await h.version(1, true);
      h.runner.install(v1);
      const held = h.message();
      h.runner.install(await h.version(2));
      assert.equal(h.record.resume(held, 'RESUME_1'), true);
      await settle();
      assert.equal(held.suspended, true, 'RESUME_1 held it again');
      assert.equal(held.version, v1);
      assert.equal(v1.disposed, false);
      held.vars.delete('resumed');
      assert.equal(h.record.resume(held, 'RESUME_1'), true);
      assert.equal(held.vars.get('resumed'), 'v1');
      // held again by RESUME_1 once more: the owner lets it go this time
      held.suspended = false;
      await settle();
      assert.equal(v1.disposed, true);
    });

    test('disposeAll frees draining versions with messages still pinned', async () => {
      const h = make();
      const v1 = await h.version(1);
      h.runner.install(v1);
      h.message();
      const v2 = await h.version(2);
      h.runner.install(v2);
      h.runner.disposeAll();
      assert.equal(v1.disposed, true);
      assert.equal(v2.disposed, true);
      assert.equal(h.runner.current, null);
    });

    test('each run is counted per callback and version, with its latency', async () => {
      const h = make();
      const v1 = await h.version(1);
      h.runner.install(v1);
      for (let i = 0; i < 3; i++) h.message().suspended = false;
      const f = v1.figures.get('ksr_request_route');
      assert.equal(f?.calls, 3);
      assert.equal(f.failures, 0);
      assert.equal(f.buckets.reduce((a, b) => a + b, 0), 3);
      assert.ok(f.sum > 0);
    });
  });
}
