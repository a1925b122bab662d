/**
 * The HEPv3 encoder (host/siptrace/hep.ts) against the tests' decoder, for what the loopback
 * binding tests cannot reach: IPv6 addresses (compressed, with an IPv4 tail), mixed families,
 * the 64 KiB limit; and the trace destinations siptrace accepts.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { encodeHep3, HEP_PROTO_SIP, IPPROTO_TCP } from '../../host/siptrace/hep.js';
import { parseSockAddr, parseTraceUri } from '../../host/siptrace/dest.js';
import { decodeChunks, decodeHep3 } from '../helpers/hep.js';

const base = { ipProto: IPPROTO_TCP, srcPort: 5061, dstPort: 5060, timeMs: 1_700_000_000_123.456, protoType: HEP_PROTO_SIP, captureId: 7, correlationId: '', authKey: '', payload: Buffer.from('x') };

test('IPv6: family 10, chunks 0x0005/0x0006 of 16 bytes, compressed and IPv4-tailed forms', () => {
  for (const [src, want] of [['2001:db8::1', '2001:db8:0:0:0:0:0:1'], ['::ffff:10.1.2.3', '0:0:0:0:0:ffff:a01:203'], ['fe80::', 'fe80:0:0:0:0:0:0:0']] as const) {
    const b = encodeHep3({ ...base, srcIp: src, dstIp: '::1' });
    assert.ok(b !== null);
    const chunks = decodeChunks(b);
    assert.equal(chunks.find((c) => c.type === 5)?.data.length, 16);
    const h = decodeHep3(b);
    assert.equal(h.family, 10);
    assert.equal(h.ipProto, 6);
    const groups = [...(chunks.find((c) => c.type === 5)?.data ?? Buffer.alloc(0))];
    const hex = Array.from({ length: 8 }, (_, i) => ((groups[i * 2] ?? 0) * 256 + (groups[i * 2 + 1] ?? 0)).toString(16)).join(':');
    assert.equal(hex, want);
    assert.equal(h.sec, 1_700_000_000);
    assert.equal(h.usec, 123_456);
  }
});

test('mixed families and a payload over 64 KiB: no packet', () => {
  assert.equal(encodeHep3({ ...base, srcIp: '127.0.0.1', dstIp: '::1' }), null);
  assert.equal(encodeHep3({ ...base, srcIp: '127.0.0.1', dstIp: '127.0.0.1', payload: Buffer.alloc(70_000) }), null);
});

test('trace destinations: sip:IP[:port] over UDP; names, TCP and garbage are refused with a reason', () => {
  assert.deepEqual(parseTraceUri('sip:10.0.0.9'), { ip: '10.0.0.9', port: 5060 });
  assert.deepEqual(parseTraceUri('sip:[2001:db8::9]:9060;transport=udp'), { ip: '2001:db8::9', port: 9060 });
  assert.match(parseTraceUri('sip:homer.example.com:9060') as string, /IP address/);
  assert.match(parseTraceUri('sip:10.0.0.9:9060;transport=tcp') as string, /only UDP/);
  assert.match(parseTraceUri('10.0.0.9:9060') as string, /SIP URI/);
  assert.deepEqual(parseSockAddr('udp:127.0.0.1:5060'), { proto: 'udp', ip: '127.0.0.1', port: 5060 });
  assert.equal(parseSockAddr('tcp:127.0.0.1:5060'), null);
});
