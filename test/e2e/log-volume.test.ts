/**
 * A flood of bad input writes a few short log lines, not one per message and never a copy of
 * the message (host/log.ts caps fields; ModuleHost.complain and the router's limiter rate-limit).
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { pino } from 'pino';
import { LOG_OPTIONS } from '../../host/log.js';
import { startServer } from '../helpers/runtime.js';
import { buildRequest, randomToken, UdpPeer } from '../helpers/sip-client.js';
import { until } from '../helpers/until.js';

const COUNT = 300;

test('300 replies with a malformed lower Via and 300 requests with a bad Max-Forwards: a few short lines', async () => {
  const lines: string[] = [];
  const log = pino({ level: 'info', ...LOG_OPTIONS }, { write: (line: string) => { lines.push(line); } });
  const server = await startServer('lua', readFileSync(new URL('../../scripts/default.lua', import.meta.url), 'utf8'), { log });
  const peer = await UdpPeer.open();
  try {
    const big = `X-Padding: ${'p'.repeat(4000)}`;
    for (let i = 0; i < COUNT; i++) {
      peer.send(
        [
          'SIP/2.0 200 OK',
          `Via: SIP/2.0/UDP 127.0.0.1:${String(server.udpPort)};branch=z9hG4bK${randomToken()}`,
          `Via: SIP/2.0/UDP ;;,,${'v'.repeat(2000)}`,
          `From: <sip:a@example.com>;tag=${randomToken()}`,
          `To: <sip:b@example.com>;tag=${randomToken()}`,
          `Call-ID: ${randomToken()}@test`,
          'CSeq: 1 OPTIONS',
          big,
          'Content-Length: 0',
          '',
          '',
        ].join('\r\n'),
        server.udpPort,
      );
      peer.send(buildRequest({ headers: [big], ruri: `sip:127.0.0.1:${String(server.udpPort)}` }, 'UDP', '127.0.0.1', peer.port).replace('Max-Forwards: 70', 'Max-Forwards: seventy'), server.udpPort);
    }
    await until(() => (server.rt.stats.get('core:bad_msg') ?? 0) >= COUNT && (server.rt.stats.get('core:rcv_requests') ?? 0) >= COUNT, 10_000);
  } finally {
    peer.close();
    await server.close();
  }
  const warnings = lines.filter((l) => (JSON.parse(l) as { level: number }).level >= 40);
  const bytes = lines.reduce((n, l) => n + l.length, 0);
  assert.ok(warnings.length <= 4, `at most a couple of warning lines per kind, got ${String(warnings.length)}`);
  assert.ok(lines.every((l) => l.length < 2000), 'no line carries the message');
  assert.ok(bytes < 5_000, `the whole log stays small, got ${String(bytes)} bytes`);
  assert.ok(warnings.some((l) => l.includes('malformed Via')), 'the dropped replies are logged once');
  assert.ok(warnings.some((l) => l.includes('Max-Forwards')), 'the bad Max-Forwards are logged once');
});
