/**
 * bin/kemihost.js supervises `kemihost run`: a server that was ready and then died (here: a JS
 * script's allocation so large that V8 aborts the process, docs/decisions.md) is started again
 * and serves on; an exit asked for by SIGTERM is not retried.
 */
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import { once } from 'node:events';
import { writeFileSync } from 'node:fs';
import { test } from 'node:test';
import { startCli } from '../helpers/cli.js';
import { routeScript, writeScript } from '../helpers/runtime.js';
import { UdpPeer } from '../helpers/sip-client.js';
import { until } from '../helpers/until.js';

/** A UDP port free now (the restarted server must bind the same one). */
async function freePort(): Promise<number> {
  const s = dgram.createSocket('udp4');
  s.bind(0, '127.0.0.1');
  await once(s, 'listening');
  const port = s.address().port;
  s.close();
  return port;
}

test('a server killed by a fatal V8 out-of-memory is started again and answers', async () => {
  const port = await freePort();
  const script = writeScript('js', routeScript('js', `
    if (KSR.pv.get("$rU") === "fatal") new Array(1e9).fill(0);
    KSR.sl.sl_send_reply(200, "OK");`));
  const cfg = `${script}.yaml`;
  writeFileSync(cfg, `listen: [udp:127.0.0.1:${String(port)}]\nhttp: { listen: off }\nlimits: { memory_mb: 64 }\n`);
  const server = await startCli(['run', script, '-c', cfg, '--log-level', 'error'], 30_000);
  const peer = await UdpPeer.open();
  try {
    peer.request({}, port);
    assert.equal((await peer.next(5000))?.status, 200);
    peer.request({ ruri: 'sip:fatal@127.0.0.1' }, port);
    await until(() => server.stderr().includes('starting it again'), 60_000, 'the supervisor\'s restart line');
    // the new process binds the same port; ask until it answers
    let answered = false;
    for (let i = 0; i < 60 && !answered; i++) {
      peer.request({}, port);
      answered = (await peer.next(500))?.status === 200;
    }
    assert.ok(answered, `the restarted server answers; stderr: ${server.stderr().slice(-400)}`);
    assert.equal(server.child.exitCode, null, 'the launcher itself is still running');
  } finally {
    peer.close();
    assert.equal(await server.stop(), 0, 'SIGTERM stops it for good');
  }
});
