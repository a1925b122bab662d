import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { runCli, startCli, portOf, parseReady } from '../helpers/cli.js';
import { writeScript } from '../helpers/runtime.js';
import { UdpPeer } from '../helpers/sip-client.js';

const OPTIONS_OK = 'function ksr_request_route()\n  KSR.sl.sl_send_reply(200, "OK")\nend\n';

describe('kemihost run', () => {
  test('prints one ready line, answers SIP over UDP, exits 0 on SIGTERM', async () => {
    const script = writeScript('lua', OPTIONS_OK);
    const run = await startCli(['run', script, '-l', 'udp:127.0.0.1:0', '-l', 'tcp:127.0.0.1:0', '--http', 'off']);
    const fields = parseReady(run.ready);
    assert.equal(fields.engine, 'lua');
    assert.equal(fields.script, script);
    assert.equal(fields.http, 'off');
    const peer = await UdpPeer.open();
    try {
      peer.request({}, portOf(run.ready, 'udp'));
      const reply = await peer.next();
      assert.equal(reply?.status, 200);
    } finally {
      peer.close();
    }
    assert.equal(await run.stop(), 0);
  });

  test('a config file is read; flags override it', async () => {
    const script = writeScript('lua', OPTIONS_OK);
    const cfg = `${script}.yaml`;
    writeFileSync(cfg, `script: ${script}\nlisten: [udp:127.0.0.1:1]\nhttp: { listen: off }\nmodules:\n  maxfwd: { max_limit: 20 }\n`);
    const run = await startCli(['run', '-c', cfg, '-l', 'udp:127.0.0.1:0']);
    assert.match(parseReady(run.ready).listen ?? '', /^udp:127\.0\.0\.1:\d+$/);
    assert.notEqual(portOf(run.ready, 'udp'), 1);
    assert.equal(await run.stop(), 0);
  });

  test('an unknown config key exits non-zero naming the key path', async () => {
    const cfg = writeScript('lua', '') + '.yaml';
    writeFileSync(cfg, 'modules:\n  maxfwd: { max_limitt: 20 }\n');
    const r = await runCli(['run', '-c', cfg]);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /modules\.maxfwd\.max_limitt/);
  });

  test('a config value of the wrong type names the key and the expected form', async () => {
    const cfg = writeScript('lua', '') + '.yaml';
    writeFileSync(cfg, 'limits: { cpu_ms: fast }\n');
    const r = await runCli(['run', '-c', cfg]);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /limits\.cpu_ms: .*number/i);
  });

  test('a bad --listen exits non-zero with the expected form', async () => {
    const r = await runCli(['run', writeScript('lua', OPTIONS_OK), '-l', 'sctp:1.2.3.4']);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /expected proto:host:port/);
  });

  test('a bad --log-level is refused by the command line', async () => {
    const r = await runCli(['run', writeScript('lua', OPTIONS_OK), '--log-level', 'loud']);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /error, warn, info, debug/);
  });

  test('a script with a syntax error exits non-zero with file:line', async () => {
    const script = writeScript('lua', 'function ksr_request_route()\n  if then\nend\n');
    const r = await runCli(['run', script, '-l', 'udp:127.0.0.1:0', '--http', 'off']);
    assert.notEqual(r.code, 0);
    assert.ok(r.stderr.includes(`${script}:2:`), r.stderr);
  });

  test('a script without ksr_request_route does not start', async () => {
    const script = writeScript('lua', 'function other() end\n');
    const r = await runCli(['run', script, '-l', 'udp:127.0.0.1:0', '--http', 'off']);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /does not define ksr_request_route/);
  });

  test('an address already in use is a clear start-up error', async () => {
    const peer = await UdpPeer.open();
    try {
      const r = await runCli(['run', writeScript('lua', OPTIONS_OK), '-l', `udp:127.0.0.1:${String(peer.port)}`, '--http', 'off']);
      assert.notEqual(r.code, 0);
      assert.match(r.stderr, /cannot listen on udp:127\.0\.0\.1:\d+/);
    } finally {
      peer.close();
    }
  });
});

describe('kemihost check', () => {
  test('a good script passes and lists its callbacks', async () => {
    const r = await runCli(['check', writeScript('lua', `${OPTIONS_OK}function ksr_reply_route() end\n`)]);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.equal(r.stdout, '');
    assert.match(r.stderr, /callbacks: ksr_request_route, ksr_reply_route; 0 error\(s\), 0 warning\(s\)/);
  });

  test('a missing file is an operational error (exit 1), not an internal one (70)', async () => {
    const r = await runCli(['check', '/nonexistent/kemihost-test.lua']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /cannot read \/nonexistent\/kemihost-test\.lua: ENOENT/);
  });

  test('unknown KSR names are listed with file:line and fail the check', async () => {
    const script = writeScript('lua', 'function ksr_request_route()\n  KSR.sl.sl_send_replyy(200, "OK")\n  KSR.nosuch.fn()\nend\n');
    const r = await runCli(['check', script]);
    assert.equal(r.code, 1);
    assert.ok(r.stdout.includes(`${script}:2: error: KSR.sl.sl_send_replyy is not a known KSR function`), r.stdout);
    assert.ok(r.stdout.includes(`${script}:3: error: KSR.nosuch.fn is not a known KSR function (not in Kamailio 5.6 either)`), r.stdout);
  });
});

describe('kemihost api', () => {
  test('--json lists every function with parameter and return types', async () => {
    const r = await runCli(['api', '--json']);
    assert.equal(r.code, 0, r.stderr);
    const api = JSON.parse(r.stdout) as { functions: { module: string; name: string; params: string[]; returns: string }[] };
    const reply = api.functions.find((f) => f.module === 'sl' && f.name === 'sl_send_reply');
    assert.deepEqual(reply && { params: reply.params, returns: reply.returns }, { params: ['int', 'str'], returns: 'int' });
    assert.ok(api.functions.some((f) => f.module === '' && f.name === 'is_method_in'));
  });

  test('text output shows typed signatures', async () => {
    const r = await runCli(['api']);
    assert.equal(r.code, 0);
    assert.match(r.stdout, /^xval KSR\.pv\.get\(str\)/m);
  });
});
