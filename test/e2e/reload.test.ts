/**
 * Hot reload through the control RPC and --watch, against a real runtime: what a SIP peer
 * receives says which version answered. A broken script leaves the old one answering and the
 * RPC says why (file:line); shared state ($shv, htable) survives a reload, script globals do
 * not; twenty reloads in a row leave no engine behind.
 */
import assert from 'node:assert/strict';
import { renameSync, writeFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { rpc, rpcResult } from '../helpers/rpc.js';
import { ENGINES, startServer, type EngineName, type TestServer } from '../helpers/runtime.js';
import { UdpPeer } from '../helpers/sip-client.js';
import { until } from '../helpers/until.js';

/** Version n answers "OK v<n> g=<script global> s=<$shv> h=<htable>" to every request. */
function script(engine: EngineName, n: number): string {
  const v = String(n);
  return engine === 'lua'
    ? `hits = 0
function ksr_request_route()
  hits = hits + 1
  local shv = KSR.pv.getvn("$shv(n)", 0) + 1
  KSR.pv.seti("$shv(n)", shv)
  local ht = KSR.htable.sht_inc("t", "n")
  KSR.sl.sl_send_reply(200, string.format("OK v${v} g=%d s=%d h=%d", hits, shv, ht))
end
`
    : `let hits = 0;
function ksr_request_route() {
  hits++;
  const shv = KSR.pv.getvn("$shv(n)", 0) + 1;
  KSR.pv.seti("$shv(n)", shv);
  const ht = KSR.htable.sht_inc("t", "n");
  KSR.sl.sl_send_reply(200, "OK v${v} g=" + hits + " s=" + shv + " h=" + ht);
}
`;
}

/** A script whose line 3 does not compile. */
const BROKEN = {
  lua: 'function ksr_request_route()\n  KSR.sl.sl_send_reply(200, "OK")\n  local x = = 1\nend\n',
  js: 'function ksr_request_route() {\n  KSR.sl.sl_send_reply(200, "OK");\n  let x = = 1;\n}\n',
};

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

/**
 * A weak reference to the engine serving now, taken in a plain function: a local of the async
 * test itself would stay in its suspended frame and keep the last engine alive.
 */
function weakEngine(server: TestServer): WeakRef<object> {
  const e = server.rt.script.current?.engine;
  assert.ok(e !== undefined);
  return new WeakRef(e);
}

const CONFIG = { rpc: { listen: '127.0.0.1:0' }, modules: { htable: { tables: { t: { initval: 0 } } } } };

for (const engine of ENGINES) {
  describe(`hot reload [${engine}]`, () => {
    let peer: UdpPeer;
    before(async () => { peer = await UdpPeer.open(); });
    after(() => { peer.close(); });

    /** The reason phrase of the reply to one OPTIONS. */
    async function ask(server: TestServer): Promise<string> {
      peer.request({}, server.udpPort);
      const r = await peer.next();
      assert.ok(r !== null, 'no reply');
      assert.equal(r.status, 200);
      return r.reason;
    }

    test('RPC reload: the next message runs the new version; $shv and htable survive, script globals do not', async () => {
      const server = await startServer(engine, script(engine, 1), { config: CONFIG });
      try {
        assert.equal(await ask(server), 'OK v1 g=1 s=1 h=1');
        assert.equal(await ask(server), 'OK v1 g=2 s=2 h=2');
        writeFileSync(server.rt.scriptPath, script(engine, 2));
        const res = (await rpcResult(server.rt, engine === 'lua' ? 'app_lua.reload' : 'app_jsdt.reload')) as {
          reloaded: boolean;
          current: { version: number; path: string; sha256: string; loaded_at: string };
          draining: unknown[];
        };
        assert.equal(res.reloaded, true);
        assert.equal(res.current.version, 2);
        assert.equal(res.current.path, server.rt.scriptPath);
        assert.match(res.current.sha256, /^[0-9a-f]{64}$/);
        assert.ok(!Number.isNaN(Date.parse(res.current.loaded_at)));
        assert.deepEqual(res.draining, []);
        assert.equal(await ask(server), 'OK v2 g=1 s=3 h=3');
        // the neutral name works for either engine; the same content makes a new version all the same
        const again = (await rpcResult(server.rt, 'script.reload')) as { current: { version: number } };
        assert.equal(again.current.version, 3);
        assert.equal(server.rt.stats.get('script:reloads'), 2);
        assert.equal(server.rt.stats.get('script:disposed_versions'), 2);
      } finally {
        await server.close();
      }
    });

    test('a broken script: the old one keeps answering, the RPC says where, the failure is counted, a later good reload works', async () => {
      const server = await startServer(engine, script(engine, 1), { config: CONFIG });
      try {
        writeFileSync(server.rt.scriptPath, BROKEN[engine]);
        const r = await rpc(server.rt, 'script.reload');
        assert.equal(r.error?.code, -32000);
        const data = r.error.data as { code: string; location: string; serving: { version: number } };
        assert.equal(data.code, 'KEMI_ERR_SCRIPT_LOAD');
        assert.match(data.location, new RegExp(`${server.rt.scriptPath.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}:3(:\\d+)?$`));
        assert.match(r.error.message, /:3/);
        assert.equal(data.serving.version, 1);
        assert.equal(await ask(server), 'OK v1 g=1 s=1 h=1');
        assert.equal(server.rt.stats.get('script:reload_failures'), 1);

        // no required callback: a probe failure, not a runtime one
        writeFileSync(server.rt.scriptPath, engine === 'lua' ? 'x = 1\n' : 'const x = 1;\n');
        const probe = await rpc(server.rt, 'script.reload');
        assert.equal((probe.error?.data as { code: string }).code, 'KEMI_ERR_SCRIPT_PROBE');
        assert.equal(server.rt.stats.get('script:reload_failures'), 2);
        const info = (await rpcResult(server.rt, 'script.info')) as { last_error: { code: string; trigger: string } | null };
        assert.equal(info.last_error?.code, 'KEMI_ERR_SCRIPT_PROBE');
        assert.equal(info.last_error.trigger, 'rpc');

        writeFileSync(server.rt.scriptPath, script(engine, 2));
        const ok = (await rpcResult(server.rt, 'script.reload')) as { current: { version: number } };
        assert.equal(ok.current.version, 2, 'failed attempts take no version number');
        assert.equal(await ask(server), 'OK v2 g=1 s=2 h=2');
        assert.equal(server.rt.stats.get('script:errors'), 0, 'no message ever met a half-loaded script');
      } finally {
        await server.close();
      }
    });

    test('reloads are serialized: a burst of concurrent requests yields consistent versions and no error', async () => {
      const server = await startServer(engine, script(engine, 1), { config: CONFIG });
      try {
        const outcomes = await Promise.all(Array.from({ length: 8 }, () => server.rt.reload('rpc')));
        assert.ok(outcomes.every((o) => o.ok));
        // requests that arrive while one waits or runs share the next one: at most two builds
        const builds = server.rt.stats.get('script:reloads') ?? 0;
        assert.ok(builds >= 1 && builds <= 2, `builds: ${String(builds)}`);
        const last = 1 + builds;
        assert.equal(server.rt.script.current?.number, last);
        assert.ok(outcomes.every((o) => o.current.version >= 2 && o.current.version <= last));
        assert.equal(server.rt.stats.get('script:disposed_versions'), builds);
        assert.match(await ask(server), /^OK v1 g=1 /);
      } finally {
        await server.close();
      }
    });

    test('twenty reloads in a row dispose every replaced engine, and nothing keeps one alive', async () => {
      const server = await startServer(engine, script(engine, 1), { config: CONFIG });
      try {
        const replaced: WeakRef<object>[] = [];
        for (let i = 2; i <= 21; i++) {
          replaced.push(weakEngine(server));
          writeFileSync(server.rt.scriptPath, script(engine, i));
          const r = await server.rt.reload('rpc');
          assert.equal(r.ok, true);
          assert.equal(await ask(server), `OK v${String(i)} g=1 s=${String(i - 1)} h=${String(i - 1)}`);
        }
        assert.equal(server.rt.stats.get('script:disposed_versions'), 20);
        assert.deepEqual(server.rt.script.drainingVersions, []);
        assert.equal(server.rt.script.current?.number, 21);
        // memory: a replaced engine must be collectable (an isolated-vm callback that closed
        // over the engine once kept every one of them, ~150 KiB per reload)
        for (let k = 0; k < 3; k++) {
          await new Promise((r) => setTimeout(r, 10));
          gc();
        }
        const alive = replaced.filter((w) => w.deref() !== undefined).length;
        assert.equal(alive, 0, `${String(alive)} of 20 replaced engines still reachable after GC`);
      } finally {
        await server.close();
      }
    });

    test('--watch: a write and an editor\'s save-by-rename each reload; a save without change does not', async () => {
      const server = await startServer(engine, script(engine, 1), { config: { ...CONFIG, reload: { watch: true, debounce_ms: 50 } } });
      const path = server.rt.scriptPath;
      try {
        writeFileSync(path, script(engine, 2));
        await until(() => server.rt.script.current?.number === 2);
        assert.match(await ask(server), /^OK v2 /);

        // vim/VS Code style: write a new file beside, rename it over the script (a new inode)
        writeFileSync(`${path}.tmp`, script(engine, 3));
        renameSync(`${path}.tmp`, path);
        await until(() => server.rt.script.current?.number === 3);
        assert.match(await ask(server), /^OK v3 /);

        // and the watch still follows the new file after the rename
        writeFileSync(path, script(engine, 4));
        await until(() => server.rt.script.current?.number === 4);

        writeFileSync(path, script(engine, 4));
        await new Promise((r) => setTimeout(r, 300));
        assert.equal(server.rt.script.current?.number, 4, 'same content: no new version');

        writeFileSync(path, BROKEN[engine]);
        await until(() => server.rt.stats.get('script:reload_failures') === 1);
        assert.match(await ask(server), /^OK v4 /);
      } finally {
        await server.close();
      }
    });
  });
}
