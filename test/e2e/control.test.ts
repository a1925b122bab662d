/**
 * The control side as an operator runs it: the real `kemihost run --rpc …` process, reloaded by
 * SIGHUP and by `kemihost rpc app_lua.reload` / `app_jsdt.reload` (a real child process each),
 * a broken script refused with its file:line on the operator's terminal, statistics read with
 * `kemihost rpc stats.get_statistics`, `GET /metrics` scraped and parsed after real SIP
 * traffic, and the token guard.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { parseReady, portOf, runCli, startCli, type Running } from '../helpers/cli.js';
import { parsePrometheus, type Sample } from '../helpers/prometheus.js';
import { rpc, rpcResult } from '../helpers/rpc.js';
import { ENGINES, type EngineName } from '../helpers/runtime.js';
import { UdpPeer } from '../helpers/sip-client.js';
import { freePort } from '../helpers/sipp.js';
import { until } from '../helpers/until.js';

/** Version n answers every request "200 OK v<n>". */
function script(engine: EngineName, n: number): string {
  return engine === 'lua'
    ? `function ksr_request_route()\n  KSR.sl.sl_send_reply(200, "OK v${String(n)}")\nend\n`
    : `function ksr_request_route() {\n  KSR.sl.sl_send_reply(200, "OK v${String(n)}");\n}\n`;
}

const BROKEN = {
  lua: 'function ksr_request_route()\n  KSR.sl.sl_send_reply(200, "OK")\n  local x = = 1\nend\n',
  js: 'function ksr_request_route() {\n  KSR.sl.sl_send_reply(200, "OK");\n  let x = = 1;\n}\n',
};

function only(samples: readonly Sample[], name: string, labels: Record<string, string>): Sample {
  const found = samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
  assert.equal(found.length, 1, `${name} ${JSON.stringify(labels)}: ${String(found.length)} samples`);
  return found[0] as Sample;
}

for (const engine of ENGINES) {
  describe(`control RPC and metrics, as an operator runs them [${engine}]`, () => {
    const dir = mkdtempSync(join(tmpdir(), 'kemihost-control-'));
    const path = join(dir, `route.${engine}`);
    let server: Running;
    let rpcAt = '';
    let sipPort = 0;
    let peer: UdpPeer;

    before(async () => {
      writeFileSync(path, script(engine, 1));
      server = await startCli(['run', path, '-l', 'udp:127.0.0.1:0', '--http', 'off', '--rpc', '127.0.0.1:0', '--log-level', 'error']);
      rpcAt = parseReady(server.ready).rpc ?? '';
      sipPort = portOf(server.ready, 'udp');
      peer = await UdpPeer.open();
    });
    after(async () => {
      peer.close();
      assert.equal(await server.stop(), 0);
    });

    async function ask(): Promise<string> {
      peer.request({ method: 'OPTIONS' }, sipPort);
      const r = await peer.next();
      assert.ok(r !== null, 'no reply');
      return r.reason;
    }
    const version = async (): Promise<number> => ((await rpcResult(rpcAt, 'script.info')) as { current: { version: number } }).current.version;

    test('the ready line names the RPC address, on loopback', () => {
      assert.match(rpcAt, /^127\.0\.0\.1:\d+$/);
    });

    test('SIGHUP reloads the script', async () => {
      assert.equal(await ask(), 'OK v1');
      writeFileSync(path, script(engine, 2));
      server.child.kill('SIGHUP');
      await until(async () => (await version()) === 2);
      assert.equal(await ask(), 'OK v2');
    });

    test('kemihost rpc <engine>.reload reloads and prints the version now serving', async () => {
      writeFileSync(path, script(engine, 3));
      const method = engine === 'lua' ? 'app_lua.reload' : 'app_jsdt.reload';
      const r = await runCli(['rpc', '--rpc-address', rpcAt, method]);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /"version": 3/);
      assert.match(r.stdout, /"reloaded": true/);
      assert.equal(await ask(), 'OK v3');
    });

    test('a broken script: kemihost rpc exits 1 with file:line, the old version keeps answering', async () => {
      writeFileSync(path, BROKEN[engine]);
      const r = await runCli(['rpc', '--rpc-address', rpcAt, 'script.reload']);
      assert.equal(r.code, 1);
      assert.match(r.stderr, /script\.reload: error -32000: reload failed: .*:3/);
      assert.match(r.stderr, /KEMI_ERR_SCRIPT_LOAD/);
      assert.equal(await ask(), 'OK v3');
      assert.equal(await version(), 3);
      // the failure is not retried per message: it is counted once
      const stats = await runCli(['rpc', '--rpc-address', rpcAt, 'stats.get_statistics', 'script:reload_failures']);
      assert.equal(stats.code, 0, stats.stderr);
      assert.match(stats.stdout, /script:reload_failures = 1/);
      writeFileSync(path, script(engine, 3));
    });

    test('an unknown method and a bad parameter get JSON-RPC errors, and a non-zero exit', async () => {
      const unknown = await runCli(['rpc', '--rpc-address', rpcAt, 'no.such_method']);
      assert.equal(unknown.code, 1);
      assert.match(unknown.stderr, /error -32601/);
      const bad = await rpc(rpcAt, 'stats.get_statistics', ['nosuchmodule']);
      assert.equal(bad.error?.code, -32602);
      assert.match(bad.error.message, /nosuchmodule/);
    });

    test('GET /metrics after real traffic: SIP by method and class, callbacks by version, all valid Prometheus text', async () => {
      const before_ = parsePrometheus(await (await fetch(`http://${rpcAt}/metrics`)).text()).samples;
      const optionsIn = (s: readonly Sample[]): number => s.find((x) => x.name === 'kemihost_sip_requests_total' && x.labels.direction === 'in' && x.labels.method === 'OPTIONS')?.value ?? 0;
      const repliesOut = (s: readonly Sample[]): number => s.find((x) => x.name === 'kemihost_sip_replies_total' && x.labels.direction === 'out' && x.labels.class === '2xx')?.value ?? 0;
      for (let i = 0; i < 5; i++) assert.equal(await ask(), 'OK v3');
      const res = await fetch(`http://${rpcAt}/metrics`);
      assert.equal(res.status, 200);
      assert.match(res.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
      const { types, samples } = parsePrometheus(await res.text());
      assert.equal(optionsIn(samples) - optionsIn(before_), 5);
      assert.equal(repliesOut(samples) - repliesOut(before_), 5);
      const current = only(samples, 'kemihost_script_version_info', {});
      assert.equal(current.labels.version, String(await version()));
      assert.equal(types.get('kemihost_script_callback_duration_seconds'), 'histogram');
      const count = only(samples, 'kemihost_script_callback_duration_seconds_count', { callback: 'ksr_request_route', version: current.labels.version });
      assert.ok(count.value >= 5, `calls on the serving version: ${String(count.value)}`);
      assert.equal(only(samples, 'kemihost_script_reload_failures_total', {}).value, 1);
      assert.ok(only(samples, 'kemihost_script_reloads_total', {}).value >= 2);
    });
  });
}

describe('the token guard', () => {
  const token = 'sixteen-chars-or-more-0123';

  test('with rpc.token every request needs the bearer token; kemihost rpc takes it from --token or $KEMIHOST_RPC_TOKEN', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kemihost-token-'));
    const cfg = join(dir, 'kemihost.yaml');
    const port = await freePort();
    writeFileSync(cfg, `listen: [udp:127.0.0.1:0]\nhttp: { listen: "off" }\nrpc: { listen: "127.0.0.1:${String(port)}", token: ${token} }\n`);
    writeFileSync(join(dir, 'r.lua'), script('lua', 1));
    const server = await startCli(['run', join(dir, 'r.lua'), '-c', cfg, '--log-level', 'error']);
    try {
      const at = `127.0.0.1:${String(port)}`;
      const anon = await fetch(`http://${at}/`, { method: 'POST', body: '{"jsonrpc":"2.0","id":1,"method":"core.version"}' });
      assert.equal(anon.status, 401);
      assert.equal((await fetch(`http://${at}/metrics`)).status, 401);
      const wrong = await rpc(at, 'core.version', [], 'x'.repeat(token.length)).catch((e: unknown) => e);
      assert.match(String(wrong), /refused the call: a token is needed/);
      const byFlag = await runCli(['rpc', '--rpc-address', at, '--token', token, 'core.version']);
      assert.equal(byFlag.code, 0, byFlag.stderr);
      assert.match(byFlag.stdout, /kemihost/);
      const byFile = await runCli(['rpc', '-c', cfg, 'core.uptime']);
      assert.equal(byFile.code, 0, byFile.stderr);
      assert.match(byFile.stdout, /uptime/);
      const noToken = await runCli(['rpc', '--rpc-address', at, 'core.version']);
      assert.equal(noToken.code, 1);
      assert.match(noToken.stderr, /refused the call/);
    } finally {
      assert.equal(await server.stop(), 0);
    }
  });

  test('kemihost rpc -c with a config whose rpc.listen is off says so instead of guessing an address', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kemihost-token-'));
    const cfg = join(dir, 'kemihost.yaml');
    writeFileSync(cfg, 'rpc: { listen: "off" }\n');
    const r = await runCli(['rpc', '-c', cfg, 'core.version']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /rpc\.listen is off/);
  });

  test('a non-loopback control listener without a token is refused at start, naming the key', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kemihost-token-'));
    writeFileSync(join(dir, 'r.lua'), script('lua', 1));
    const r = await runCli(['run', join(dir, 'r.lua'), '-l', 'udp:127.0.0.1:0', '--http', 'off', '--rpc', '0.0.0.0:0']);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /rpc\.token/);
    assert.match(r.stderr, /non-loopback/);
  });
});
