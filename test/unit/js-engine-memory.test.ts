/**
 * The JS engine's memory limit (limits.memory_mb) against allocations of every shape, made by a
 * callback itself or by one running inside a KSR call (a nested callback): the callback fails
 * with KEMI_ERR_MEMORY_LIMIT and the next one runs on a fresh instance, or V8 refuses the
 * allocation with a RangeError and the instance lives on. Over SIP the request gets 500 and
 * script:memory_limit counts it. One allocation V8 cannot survive (a hash table growing past the
 * heap) ends the process, with V8's report, instead of hanging it (docs/decisions.md, "Out of
 * memory in a script").
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, it, test } from 'node:test';
import { CALL_OK } from '../../host/engines/engine.js';
import { portOf } from '../helpers/cli.js';
import { routeScript, startServer, writeScript } from '../helpers/runtime.js';
import { UdpPeer } from '../helpers/sip-client.js';
import { failureOf, harnessPerTest } from '../fixtures/js/js-harness.js';

const load = harnessPerTest();

interface Shape {
  readonly name: string;
  readonly code: string;
  /** 'limit': the memory limit (the instance is rebuilt); else V8's RangeError (it lives on) */
  readonly expect: string;
}

const SHAPES: readonly Shape[] = [
  { name: 'many small objects', code: 'const k = []; for (;;) k.push({ a: k.length, b: [1, 2, 3] });', expect: 'limit' },
  { name: 'strings built by concatenation and kept', code: 'let s = "x"; const k = []; for (;;) { s = s + "abcdefgh" + k.length; if (s.length > 1e6) { k.push(s); s = "x"; } }', expect: 'limit' },
  { name: 'arrays of a million numbers kept', code: 'const k = []; for (;;) k.push(new Array(1e6).fill(1.5));', expect: 'limit' },
  { name: 'results of KSR calls kept', code: 'KSR.pv.sets("$var(big)", "x".repeat(100000)); const k = []; for (;;) k.push(KSR.pv.get("$var(big)"));', expect: 'limit' },
  { name: 'one string doubled', code: 'let s = "x"; for (;;) s += s;', expect: 'RangeError: Invalid string length' },
  { name: 'one huge typed array', code: 'new Float64Array(1e9);', expect: 'RangeError: Array buffer allocation failed' },
  { name: 'deep recursion', code: 'function down(n) { return [down(n + 1)]; } down(0);', expect: 'RangeError: Maximum call stack size exceeded' },
];

describe('JsEngine memory limit: every allocation shape', () => {
  for (const shape of SHAPES) {
    for (const where of ['callback', 'KSR call'] as const) {
      it(`${shape.name}, in a ${where}`, () => {
        const e = load(`
          var calls = 0;
          function hog() { ${shape.code} }
          function viaKsr() { KSR.pv.seti("$var(rc)", KSR.t.nested("hog")); }
          function count() { calls++; KSR.pv.seti("$var(calls)", calls); }`, { memoryMb: 32, cpuMs: 10_000 });
        assert.equal(e.run('count').ctx.vars.get('calls'), 1);
        const r = e.run(where === 'callback' ? 'hog' : 'viaKsr');
        if (shape.expect === 'limit') {
          // in a KSR call too: the isolate is gone under the outer callback as well
          const f = failureOf(r.result);
          assert.equal(f.code, 'KEMI_ERR_MEMORY_LIMIT');
          assert.equal(f.message, 'script exceeded the memory limit of 32 MB');
          assert.equal(e.run('count').ctx.vars.get('calls'), 1, 'a fresh instance');
        } else {
          if (where === 'callback') assert.equal(failureOf(r.result).message, shape.expect);
          else {
            assert.deepEqual(r.result, CALL_OK);
            assert.equal(r.ctx.vars.get('rc'), -1, 'the nested callback failed');
          }
          assert.equal(e.run('count').ctx.vars.get('calls'), 2, 'the same instance');
        }
      });
    }
  }
});

test('over SIP: 500, script:memory_limit, and the next request runs on a fresh instance', async () => {
  const server = await startServer('js', routeScript('js', `
    calls++;
    if (KSR.pv.get("$rU") === "hog") { const k = []; for (;;) k.push({ a: k.length, b: [1, 2, 3] }); }
    KSR.sl.sl_send_reply(200, "calls " + calls);`, 'var calls = 0;'), { config: { limits: { memory_mb: 64, cpu_ms: 10_000 } } });
  try {
    const peer = await UdpPeer.open();
    try {
      const ask = async (user: string): Promise<string> => {
        peer.request({ ruri: `sip:${user}@127.0.0.1` }, server.udpPort);
        const reply = await peer.next(20_000);
        return `${String(reply?.status)} ${reply?.reason ?? ''}`;
      };
      assert.equal(await ask('a'), '200 calls 1');
      assert.equal(await ask('a'), '200 calls 2');
      assert.equal(await ask('hog'), '500 Server Internal Error');
      assert.equal(server.rt.stats.get('script:memory_limit'), 1);
      assert.equal(await ask('a'), '200 calls 1');
    } finally {
      peer.close();
    }
  } finally {
    await server.close();
  }
});

/** `kemihost run …` started without bin/kemihost.js, so that the PID held is the server's own (a hung server ignores SIGTERM). */
async function startServerProcess(args: string[]): Promise<{ child: ChildProcess; port: number; stderr: () => string }> {
  const cli = fileURLToPath(new URL('../../host/cli.ts', import.meta.url));
  const child = spawn(process.execPath, ['--no-node-snapshot', '--import', import.meta.resolve('tsx'), cli, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const ready = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`no ready line within 20 s; stderr: ${err}`));
    }, 20_000);
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      const line = out.split('\n').find((l) => l.startsWith('kemihost ready'));
      if (line !== undefined) {
        clearTimeout(timer);
        resolve(line);
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`exited with ${String(code)} before ready; stderr: ${err}`));
    });
  });
  return { child, port: portOf(ready, 'udp'), stderr: () => err };
}

test('an allocation V8 cannot survive ends the process (SIGABRT) instead of hanging it', async () => {
  const script = writeScript('js', routeScript('js', `
    if (KSR.pv.get("$rU") === "fatal") new Array(1e9).fill(0);
    KSR.sl.sl_send_reply(200, "OK");`));
  const cfg = `${script}.yaml`;
  writeFileSync(cfg, 'listen: [udp:127.0.0.1:0]\nhttp: { listen: off }\nlimits: { memory_mb: 64 }\n');
  const server = await startServerProcess(['run', script, '-c', cfg, '--log-level', 'error']);
  const exited = once(server.child, 'exit');
  // it used to hang here for good, ignoring SIGTERM: a hang is killed by its PID and fails the test
  const timer = setTimeout(() => server.child.kill('SIGKILL'), 60_000);
  try {
    const peer = await UdpPeer.open();
    try {
      peer.request({}, server.port);
      assert.equal((await peer.next(5000))?.status, 200);
      peer.request({ ruri: 'sip:fatal@127.0.0.1' }, server.port);
      const [code, signal] = (await exited) as [number | null, NodeJS.Signals | null];
      assert.deepEqual({ code, signal }, { code: null, signal: 'SIGABRT' }, `stderr: ${server.stderr().slice(-500)}`);
    } finally {
      peer.close();
    }
  } finally {
    clearTimeout(timer);
    if (server.child.exitCode === null && server.child.signalCode === null) {
      server.child.kill('SIGKILL');
      await exited;
    }
  }
});
