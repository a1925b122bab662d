/**
 * The JS engine's console.* lines as the runtime wires them (root logger → registry, engine
 * logger with module 'engine'): every line carries the key `module` once, console lines and
 * KSR.info lines alike under module 'script'. Checked on the raw JSON lines, since JSON.parse
 * keeps only the last of two equal keys.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { pino } from 'pino';
import { routeScript, startServer } from '../helpers/runtime.js';
import { UdpPeer } from '../helpers/sip-client.js';

function moduleKeys(line: string): number {
  return line.split('"module":').length - 1;
}

describe('JS console lines', () => {
  test('carry one module key, module "script", with the script location', async () => {
    const lines: string[] = [];
    const log = pino({ level: 'info' }, { write: (line: string) => { lines.push(line); } });
    const body = 'console.log("from console", 1);\nKSR.info("from info");\nKSR.sl.sl_send_reply(200, "OK");';
    const server = await startServer('js', routeScript('js', body), { log });
    try {
      const peer = await UdpPeer.open();
      try {
        peer.request({}, server.udpPort);
        assert.equal((await peer.next(3000))?.status, 200);
      } finally {
        peer.close();
      }
    } finally {
      await server.close();
    }
    const consoleLine = lines.find((l) => l.includes('"msg":"from console 1"'));
    const infoLine = lines.find((l) => l.includes('"msg":"from info"'));
    assert.ok(consoleLine !== undefined && infoLine !== undefined, 'both lines were logged');
    assert.equal(moduleKeys(consoleLine), 1, consoleLine);
    const parsed = JSON.parse(consoleLine) as Record<string, unknown>;
    assert.equal(parsed.module, 'script');
    assert.match(String(parsed.at), /script-\d+\.js:2$/);
    assert.equal(moduleKeys(infoLine), 1, infoLine);
    assert.deepEqual(lines.filter((l) => moduleKeys(l) > 1), [], 'no line with the key twice');
  });
});
