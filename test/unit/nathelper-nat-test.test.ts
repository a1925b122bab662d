/**
 * nat_uac_test's source-address tests where a loopback peer cannot be the source: a private
 * (32) or WebSocket (64) one — the function on a Context whose message came from such a source.
 * The other bits are tested with real peers (test/bindings/nathelper.test.ts) and against
 * Kamailio (test/compat/nathelper.test.ts).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Context } from '../../host/kemi/context.js';
import { srcAlias, srcUri } from '../../host/nathelper/contact.js';
import { natUacTest } from '../../host/nathelper/nat-test.js';
import { isPrivate, sameHost } from '../../host/nathelper/private-net.js';
import { parseSipMessage } from '../../host/sip/message.js';
import type { Source } from '../../host/sip/types.js';
import { buildRequest } from '../helpers/sip-client.js';

function ctxFrom(src: Source): Context {
  const host = src.ip.includes(':') ? `[${src.ip}]` : src.ip;
  const msg = parseSipMessage(Buffer.from(buildRequest({ headers: [`Contact: <sip:a@${host}:${String(src.port)}>`] }, 'UDP', host, src.port)));
  msg.rcv = src;
  return new Context('sip', msg, src);
}

const none = (): undefined => undefined;

test('32: a private source address is NAT, a public one is not', () => {
  const base = { proto: 'udp', port: 5060, localIp: '192.0.2.2', localPort: 5060 } as const;
  assert.equal(natUacTest(ctxFrom({ ...base, ip: '10.20.30.40' }), 32, true, none), 1);
  assert.equal(natUacTest(ctxFrom({ ...base, ip: '100.64.1.1' }), 32, true, none), 1);
  assert.equal(natUacTest(ctxFrom({ ...base, ip: '198.51.100.7' }), 32, true, none), -1);
  assert.equal(natUacTest(ctxFrom({ ...base, ip: '192.0.0.200' }), 32, false, none), -1, 'nat_addr_mode 0');
  assert.equal(natUacTest(ctxFrom({ ...base, ip: '192.0.0.200' }), 32, true, none), 1, 'nat_addr_mode 1');
});

test('64: a request over a WebSocket is NAT, over UDP or TCP it is not', () => {
  const base = { ip: '198.51.100.7', port: 5060, localIp: '192.0.2.2', localPort: 5060 } as const;
  assert.equal(natUacTest(ctxFrom({ ...base, proto: 'ws' }), 64, true, none), 1);
  assert.equal(natUacTest(ctxFrom({ ...base, proto: 'wss' }), 64, true, none), 1);
  assert.equal(natUacTest(ctxFrom({ ...base, proto: 'tcp' }), 64, true, none), -1);
});

test('private ranges at their edges; IPv6 hosts compared as addresses', () => {
  assert.deepEqual(['172.15.255.255', '172.16.0.0', '172.31.255.255', '172.32.0.0', '100.63.255.255', '100.127.255.255', '192.0.0.7', '192.0.0.8', '300.1.1.1'].map((a) => isPrivate(a, false)), [0, 1, 1, 0, 0, 1, 1, 0, -1]);
  assert.ok(sameHost('[2001:db8::1]', '2001:0db8:0:0::1'));
  assert.ok(!sameHost('example.com', '192.0.2.1'));
});

test('the source as fix_nated_register and the alias write it: transport unless UDP, IPv6 in brackets', () => {
  const base = { port: 5070, localIp: '192.0.2.2', localPort: 5060 } as const;
  assert.equal(srcUri(ctxFrom({ ...base, ip: '198.51.100.7', proto: 'udp' })), 'sip:198.51.100.7:5070');
  assert.equal(srcUri(ctxFrom({ ...base, ip: '198.51.100.7', proto: 'tcp' })), 'sip:198.51.100.7:5070;transport=tcp');
  assert.equal(srcUri(ctxFrom({ ...base, ip: '2001:db8::7', proto: 'tls' })), 'sip:[2001:db8::7]:5070;transport=tls');
  assert.equal(srcAlias(ctxFrom({ ...base, ip: '2001:db8::7', proto: 'wss' })), '[2001:db8::7]~5070~6');
});
