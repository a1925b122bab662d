/**
 * The pure parts of the media relay clients: Kamailio's instance lists, its Call-ID hash and
 * weighted choice, the table of calls and their instance, the bounded bencode decoder, and where
 * a message's SDP is (a multipart's SDP part replaced in place).
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { callIdSum, RelayNode, RelaySets } from '../../host/media-relay/relay-set.js';
import { parseRelaySocks } from '../../host/media-relay/relay-url.js';
import { bdecode, BencodeError, bstr, isDict } from '../../host/rtpengine/bdecode.js';
import { CallTable } from '../../host/rtpengine/call-table.js';
import { parseSipMessage } from '../../host/sip/message.js';
import { sdpBody } from '../../host/sip/sdp-body.js';

const counters = (): RelayNode['counters'] => ({ requests: { value: 0 }, timeouts: { value: 0 }, errors: { value: 0 }, disabled: { value: 0 } });

describe('rtpengine_sock / rtpproxy_sock', () => {
  test('sets, weights, the default port, IPv6 in brackets', () => {
    const sets = parseRelaySocks(['udp:127.0.0.1:2223=2 udp:localhost:2224', '1 == udp6:[::1]:2225 udp:10.0.0.1', '1 == udp:10.0.0.1=5']);
    assert.deepEqual(sets, [
      { id: 0, urls: [
        { url: 'udp:127.0.0.1:2223', family: 4, host: '127.0.0.1', port: 2223, weight: 2 },
        { url: 'udp:localhost:2224', family: 4, host: 'localhost', port: 2224, weight: 1 },
      ] },
      { id: 1, urls: [
        { url: 'udp6:[::1]:2225', family: 6, host: '::1', port: 2225, weight: 1 },
        { url: 'udp:10.0.0.1', family: 4, host: '10.0.0.1', port: 22222, weight: 5 },
      ] },
    ]);
  });

  test('what Kamailio would ignore is refused with the reason', () => {
    for (const [value, why] of [
      ['unix:/var/run/rtpengine.sock', /only udp: and udp6:/],
      ['ws://127.0.0.1:8080/', /only udp: and udp6:/],
      ['tcp:127.0.0.1:2223', /must start with udp: or udp6:/],
      ['udp:127.0.0.1:99999', /bad port/],
      ['udp:127.0.0.1:2223=x', /bad weight/],
      ['x == udp:127.0.0.1:2223', /bad set id/],
      ['udp6:127.0.0.1:2223', /IPv4 address under udp6/],
      ['1 ==   ', /no instance/],
    ] as const) {
      assert.throws(() => parseRelaySocks([value]), why, value);
    }
  });
});

describe('choosing an instance', () => {
  test('the Call-ID hash: bytes summed as signed chars, low 8 bits', () => {
    assert.equal(callIdSum('a'), 97);
    assert.equal(callIdSum('abc'), (97 + 98 + 99) & 0xff);
    // "é" is C3 A9 in UTF-8: -61 + -87 = -148, as an unsigned int's low byte 108
    assert.equal(callIdSum('é'), 108);
  });

  test('weights cut the hash range; a disabled or tried instance is left out', () => {
    const a = new RelayNode(0, 0, parseRelaySocks(['udp:127.0.0.1:1'])[0]!.urls[0]!, '127.0.0.1', 2, counters());
    const b = new RelayNode(1, 0, parseRelaySocks(['udp:127.0.0.1:2'])[0]!.urls[0]!, '127.0.0.1', 1, counters());
    const sets = new RelaySets([a, b]);
    // sums 97 ('a'), 98 ('b'), 99 ('c') modulo 3 -> 1, 2, 0
    assert.equal(sets.select(0, 'a', new Set()), a);
    assert.equal(sets.select(0, 'b', new Set()), b);
    assert.equal(sets.select(0, 'c', new Set()), a);
    assert.equal(sets.select(0, 'b', new Set([b])), a);
    b.disable(Date.now() + 60_000);
    assert.equal(sets.select(0, 'b', new Set()), a);
    assert.equal(b.counters.disabled.value, 1);
    assert.equal(sets.usableCount(0), 1);
    a.disable(Infinity);
    assert.equal(sets.select(0, 'b', new Set()), null);
    assert.equal(sets.select(7, 'b', new Set()), null, 'an unknown set has none');
  });
});

describe('the table of calls', () => {
  const node = (i: number): RelayNode => new RelayNode(i, 0, parseRelaySocks([`udp:127.0.0.1:${String(i + 1)}`])[0]!.urls[0]!, '127.0.0.1', 1, counters());

  test('a call keeps its first instance; a delete without via-branch finds and forgets every branch', () => {
    const t = new CallTable(60_000, 100);
    const [a, b] = [node(0), node(1)];
    t.insert('c1', '', a);
    t.insert('c1', '', b);
    t.insert('c1', 'br1', b);
    assert.equal(t.lookup('c1', '', false), a);
    assert.equal(t.lookup('c1', 'br1', false), b);
    assert.equal(t.lookup('c1', 'br2', false), null);
    assert.equal(t.lookup('c2', '', true), null);
    t.remove('c1', 'br1');
    assert.equal(t.size, 1);
    t.insert('c1', 'br1', b);
    t.remove('c1', '');
    assert.equal(t.size, 0);
  });

  test('entries expire, and past the bound the oldest goes', () => {
    const t = new CallTable(1000, 2);
    const a = node(0);
    t.insert('old', '', a, 0);
    t.insert('mid', '', a, 500);
    assert.equal(t.lookup('old', '', false, 1500), null, 'expired');
    t.insert('new', '', a, 1500);
    t.insert('newer', '', a, 1500);
    assert.equal(t.size, 2);
    assert.equal(t.lookup('mid', '', false, 1500), null, 'evicted to stay within the bound');
    t.sweep(10_000);
    assert.equal(t.size, 0);
  });
});

describe('bencode from a peer', () => {
  test('a dictionary with bytes, integers, lists; no prototype', () => {
    const v = bdecode(Buffer.from('d6:result2:ok3:sdp5:v=0\r\n5:countli1ei-2ee9:__proto__d1:ai1eee'));
    assert.ok(isDict(v));
    assert.equal(bstr(v, 'result'), 'ok');
    assert.equal(bstr(v, 'sdp'), 'v=0\r\n');
    assert.deepEqual(v.count, [1, -2]);
    assert.equal(Object.getPrototypeOf(v), null);
    assert.ok(isDict(v.__proto__));
  });

  test('what is refused', () => {
    for (const bad of ['d3:sdp100:abce', 'i12.5e', 'd6:result2:ok', 'l'.repeat(40) + 'e'.repeat(40), 'i1ejunk', 'x', '', 'd1:ai1e']) {
      assert.throws(() => bdecode(Buffer.from(bad)), BencodeError, JSON.stringify(bad));
    }
  });
});

describe('the SDP of a message', () => {
  const msg = (ct: string | null, body: string) => parseSipMessage(Buffer.from([
    'INVITE sip:b@x SIP/2.0', 'Via: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bK1', 'From: <sip:a@x>;tag=1', 'To: <sip:b@x>', 'Call-ID: c', 'CSeq: 1 INVITE',
    ...(ct === null ? [] : [`Content-Type: ${ct}`]), `Content-Length: ${String(body.length)}`, '', body,
  ].join('\r\n')));

  test('application/sdp or no Content-Type: the body; another type: none', () => {
    const a = sdpBody(msg('application/sdp', 'v=0\r\n'));
    assert.ok(typeof a !== 'string' && a.sdp.toString() === 'v=0\r\n');
    assert.ok(typeof sdpBody(msg(null, 'v=0\r\n')) !== 'string');
    assert.equal(sdpBody(msg('text/plain', 'hi')), 'not SDP');
    assert.equal(sdpBody(msg('application/sdp', '')), 'no body');
  });

  test('multipart/mixed: the SDP part, replaced in place', () => {
    const body = '--b1\r\nContent-Type: text/plain\r\n\r\nhello\r\n--b1\r\nContent-Type: application/sdp\r\n\r\nv=0\r\nm=audio 1 RTP/AVP 0\r\n\r\n--b1--\r\n';
    const s = sdpBody(msg('multipart/mixed; boundary="b1"', body));
    assert.ok(typeof s !== 'string');
    assert.equal(s.sdp.toString(), 'v=0\r\nm=audio 1 RTP/AVP 0\r\n');
    assert.equal(s.replace(Buffer.from('v=0\r\nX\r\n')).toString(), body.replace('v=0\r\nm=audio 1 RTP/AVP 0\r\n', 'v=0\r\nX\r\n'));
    assert.equal(sdpBody(msg('multipart/mixed;boundary=b1', '--b1\r\nContent-Type: text/plain\r\n\r\nx\r\n--b1--\r\n')), 'no SDP part');
  });
});
