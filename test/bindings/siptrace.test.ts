/**
 * KSR.siptrace on a real server, both engines from one table: a UAC (UDP socket) sends a
 * request; the script calls one siptrace function, then hlog("end") as a marker, then answers
 * "rc <result>". A capture peer (a UDP socket at duplicate_uri) receives the traces: the cases
 * decode every packet that came before the marker and check each HEP chunk against what the
 * UAC sent and where (addresses, ports, proto, capture id, payload bytes).
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { decodeHep3, isHep3, type HepFields } from '../helpers/hep.js';
import { rpc } from '../helpers/rpc.js';
import { ENGINES, startServer, type EngineName, type TestServer } from '../helpers/runtime.js';
import { TcpPeer, UdpPeer, buildRequest } from '../helpers/sip-client.js';
import { until } from '../helpers/until.js';

interface Seen {
  readonly server: TestServer;
  readonly uac: UdpPeer;
  /** the bytes the UAC sent */
  readonly sent: Buffer;
  /** what reached the capture peer before the marker */
  readonly traces: readonly Buffer[];
  /** the marker (hlog "end"), decoded; undefined in a case without one */
  readonly marker: HepFields | undefined;
  /** a second peer, for sip_trace_dst */
  readonly other: UdpPeer;
  /** the capture peer itself, for what comes after the marker */
  readonly capture: UdpPeer;
}

interface Case {
  readonly name: string;
  /** the call, the same text in Lua and JS */
  readonly call: string;
  readonly siptrace?: Record<string, unknown>;
  /** false: no duplicate_uri, so no marker either */
  readonly capture?: boolean;
  readonly rc: number;
  readonly check?: (s: Seen) => void | Promise<void>;
}

function script(engine: EngineName, call: string): string {
  return engine === 'lua'
    ? `function ksr_request_route()\n  local rc = ${call}\n  KSR.siptrace.hlog("end")\n  KSR.sl.sl_send_reply(200, "rc " .. rc)\nend\n`
    : `function ksr_request_route() {\n  const rc = ${call};\n  KSR.siptrace.hlog("end");\n  KSR.sl.sl_send_reply(200, "rc " + rc);\n}\n`;
}

/** the received request's chunks: from the UAC to our socket, over UDP/IPv4, SIP */
function assertReceived(h: HepFields, s: Seen, captureId = 1): void {
  assert.equal(h.family, 2, 'AF_INET');
  assert.equal(h.ipProto, 17, 'UDP');
  assert.equal(h.srcIp, '127.0.0.1');
  assert.equal(h.srcPort, s.uac.port, 'source: the UAC');
  assert.equal(h.dstIp, '127.0.0.1');
  assert.equal(h.dstPort, s.server.udpPort, 'destination: our socket that took it');
  assert.equal(h.protoType, 1, 'SIP');
  assert.equal(h.captureId, captureId);
  assert.ok(Math.abs(h.sec - Date.now() / 1000) < 10, 'a timestamp of now');
  assert.ok(h.usec < 1_000_000);
  assert.deepEqual(h.payload, s.sent, 'the request as the UAC sent it');
}

function only(s: Seen): HepFields {
  assert.equal(s.traces.length, 1, 'one trace before the marker');
  const b = s.traces[0] ?? Buffer.alloc(0);
  assert.ok(isHep3(b), 'a HEP3 packet');
  return decodeHep3(b);
}

const HEP = { hep_mode_on: 1, hep_version: 3, trace_on: 1, trace_to_database: 0 };

const CASES: readonly Case[] = [
  {
    name: 'sip_trace(): the request as received, HEPv3 chunks in Kamailio\'s order, no correlation id',
    call: 'KSR.siptrace.sip_trace()', siptrace: HEP, rc: 1,
    check: (s) => {
      const h = only(s);
      assertReceived(h, s);
      assert.equal(h.correlationId, undefined);
      assert.deepEqual(h.order, [1, 2, 3, 4, 7, 8, 9, 0x0a, 0x0b, 0x0c, 0x0f]);
    },
  },
  {
    name: 'sip_trace_dst_cid("", cid): duplicate_uri, correlation id and auth key chunks, hep_capture_id',
    call: 'KSR.siptrace.sip_trace_dst_cid("", "abc-123")', siptrace: { ...HEP, hep_capture_id: 2001, auth_key: 'secret' }, rc: 1,
    check: (s) => {
      const h = only(s);
      assertReceived(h, s, 2001);
      assert.equal(h.correlationId, 'abc-123');
      assert.equal(h.authKey, 'secret');
      assert.deepEqual(h.order, [1, 2, 3, 4, 7, 8, 9, 0x0a, 0x0b, 0x0c, 0x11, 0x0e, 0x0f]);
    },
  },
  {
    name: 'sip_trace_dst(uri): the trace goes to that destination, not to duplicate_uri',
    call: 'KSR.siptrace.sip_trace_dst(KSR.pv.get("$hdr(X-Dst)"))', siptrace: HEP, rc: 1,
    check: async (s) => {
      assert.equal(s.traces.length, 0);
      await until(() => s.other.raw.length === 1, 3000, 'the trace at the other peer');
      assertReceived(decodeHep3(s.other.raw[0] ?? Buffer.alloc(0)), s);
    },
  },
  {
    name: 'hep_mode_on=0: the request itself, byte for byte, as a datagram to duplicate_uri',
    call: 'KSR.siptrace.sip_trace()', siptrace: { ...HEP, hep_mode_on: 0 }, rc: 1,
    check: (s) => { assert.deepEqual(s.traces, [s.sent]); },
  },
  {
    name: 'trace_on=0 (the default): -1 and nothing sent',
    call: 'KSR.siptrace.sip_trace()', siptrace: { ...HEP, trace_on: 0 }, rc: -1,
    check: (s) => { assert.equal(s.traces.length, 0); },
  },
  {
    name: 'trace_on=0 with type "t": -1 and nothing sent',
    call: 'KSR.siptrace.sip_trace_dst_cid_type("", "", "t")', siptrace: { ...HEP, trace_on: 0 }, rc: -1,
    check: (s) => { assert.equal(s.traces.length, 0); },
  },
  {
    name: 'sip_trace_dst_cid_type(.., "t") on a request: the request, then its stateless reply (from our socket to the UAC, no cid)',
    call: 'KSR.siptrace.sip_trace_dst_cid_type("", "c1", "T")', siptrace: HEP, rc: 1,
    check: async (s) => {
      assert.equal(only(s).correlationId, 'c1');
      await until(() => s.capture.raw.length >= 3, 3000, 'the reply\'s trace after the marker');
      const h = decodeHep3(s.capture.raw[2] ?? Buffer.alloc(0));
      assert.equal(h.srcPort, s.server.udpPort);
      assert.equal(h.dstPort, s.uac.port);
      assert.equal(h.correlationId, undefined);
      assert.match(h.payload.toString(), /^SIP\/2\.0 200 rc 1\r\n/);
    },
  },
  {
    name: 'sip_trace_dst_cid_type(.., "d") on an OPTIONS: -1 (a dialog is traced from its INVITE)',
    call: 'KSR.siptrace.sip_trace_dst_cid_type("", "", "d")', siptrace: HEP, rc: -1,
    check: (s) => { assert.equal(s.traces.length, 0); },
  },
  {
    name: 'sip_trace_mode("m"): the message',
    call: 'KSR.siptrace.sip_trace_mode("m")', siptrace: HEP, rc: 1,
    check: (s) => { assertReceived(only(s), s); },
  },
  {
    name: 'sip_trace_dst with a host name: -1, nothing sent',
    call: 'KSR.siptrace.sip_trace_dst("sip:capture.example.com:9060")', siptrace: HEP, rc: -1,
    check: (s) => { assert.equal(s.traces.length, 0); },
  },
  {
    name: 'sip_trace_dst to an address family we have no socket for: -1 as Kamailio, counted in send_errors',
    call: 'KSR.siptrace.sip_trace_dst("sip:[::1]:9")', siptrace: HEP, rc: -1,
    check: (s) => { assert.equal(s.server.rt.stats.get('siptrace:send_errors'), 1); },
  },
  {
    name: 'no duplicate_uri: sip_trace() -1',
    call: 'KSR.siptrace.sip_trace()', siptrace: { ...HEP }, capture: false, rc: -1,
  },
  {
    name: 'hlog_cid: a HEP log record (type 100) from our socket to the capture peer',
    call: 'KSR.siptrace.hlog_cid("cid-9", "routing decided")', siptrace: HEP, rc: 1,
    check: (s) => {
      const h = only(s);
      assert.equal(h.protoType, 100);
      assert.equal(h.ipProto, 17);
      assert.equal(h.srcIp, '127.0.0.1');
      assert.equal(h.srcPort, s.server.udpPort, 'from our sending socket');
      assert.equal(h.correlationId, 'cid-9');
      assert.equal(h.payload.toString(), 'routing decided');
      assert.equal(s.marker?.correlationId, 'trace-callid', 'hlog without a cid: the Call-ID');
      assert.equal(s.marker.dstPort, h.dstPort);
    },
  },
];

async function run(engine: EngineName, c: Case): Promise<void> {
  const capture = await UdpPeer.open();
  const other = await UdpPeer.open();
  const uac = await UdpPeer.open();
  const dup = c.capture === false ? {} : { duplicate_uri: `sip:127.0.0.1:${String(capture.port)}` };
  const server = await startServer(engine, script(engine, c.call), { config: { modules: { siptrace: { ...c.siptrace, ...dup } } } });
  try {
    const sent = Buffer.from(buildRequest({ callId: 'trace-callid', headers: [`X-Dst: sip:127.0.0.1:${String(other.port)}`] }, 'UDP', '127.0.0.1', uac.port));
    uac.send(sent, server.udpPort);
    const reply = await uac.next(3000);
    assert.equal(reply?.reason, `rc ${String(c.rc)}`);
    let marker: HepFields | undefined;
    let traces: Buffer[] = [];
    if (c.capture !== false) {
      const isMarker = (b: Buffer): boolean => isHep3(b) && decodeHep3(b).payload.toString() === 'end';
      await until(() => capture.raw.some(isMarker), 3000, 'the hlog marker');
      const at = capture.raw.findIndex(isMarker);
      traces = capture.raw.slice(0, at);
      marker = decodeHep3(capture.raw[at] ?? Buffer.alloc(0));
      assert.equal(marker.protoType, 100);
    }
    await c.check?.({ server, uac, sent, traces, marker, other, capture });
  } finally {
    for (const p of [capture, other, uac]) p.close();
    await server.close();
  }
}

for (const engine of ENGINES) {
  describe(`siptrace [${engine}]`, () => {
    for (const c of CASES) test(c.name, () => run(engine, c));

    test('a request over TCP: proto 6, from the connection\'s port to our TCP socket, the framed bytes', async () => {
      const capture = await UdpPeer.open();
      const server = await startServer(engine, script(engine, 'KSR.siptrace.sip_trace_dst_cid("", "tcp-1")'), {
        config: { modules: { siptrace: { ...HEP, duplicate_uri: `sip:127.0.0.1:${String(capture.port)}` } } },
      });
      const uac = await TcpPeer.connect(server.tcpPort);
      try {
        const sent = Buffer.from(buildRequest({}, 'TCP', '127.0.0.1', uac.localPort));
        uac.write(sent);
        assert.equal((await uac.next(3000))?.reason, 'rc 1');
        await until(() => capture.raw.length >= 2, 3000, 'the trace and the marker');
        const h = decodeHep3(capture.raw[0] ?? Buffer.alloc(0));
        assert.equal(h.ipProto, 6);
        assert.equal(h.srcPort, uac.localPort);
        assert.equal(h.dstPort, server.tcpPort);
        assert.equal(h.correlationId, 'tcp-1');
        assert.deepEqual(h.payload, sent);
      } finally {
        uac.sock.destroy();
        capture.close();
        await server.close();
      }
    });

    test('type "t" with t_relay: the request in, the relayed request, the reply in, the reply out — each with its own two ends', async () => {
      const capture = await UdpPeer.open();
      const uas = await UdpPeer.open();
      const uac = await UdpPeer.open();
      const relay = engine === 'lua'
        ? `function ksr_request_route()\n  KSR.siptrace.sip_trace_dst_cid_type("", "tx-1", "t")\n  KSR.pv.sets("$du", "sip:127.0.0.1:${String(uas.port)}")\n  KSR.tm.t_relay()\nend\n`
        : `function ksr_request_route() {\n  KSR.siptrace.sip_trace_dst_cid_type("", "tx-1", "t");\n  KSR.pv.sets("$du", "sip:127.0.0.1:${String(uas.port)}");\n  KSR.tm.t_relay();\n}\n`;
      const server = await startServer(engine, relay, { config: { modules: { siptrace: { ...HEP, duplicate_uri: `sip:127.0.0.1:${String(capture.port)}` } } } });
      try {
        const sent = Buffer.from(buildRequest({ method: 'MESSAGE', body: 'hi', headers: ['Content-Type: text/plain'] }, 'UDP', '127.0.0.1', uac.port));
        uac.send(sent, server.udpPort);
        const req = await uas.next(3000);
        assert.ok(req !== null);
        const answer = ['SIP/2.0 202 Accepted', ...req.getHeaders('via').map((v) => `Via: ${v}`), `From: ${req.getHeader('from') ?? ''}`,
          `To: ${req.getHeader('to') ?? ''};tag=uas`, `Call-ID: ${req.callId}`, `CSeq: ${req.getHeader('cseq') ?? ''}`, 'Content-Length: 0', '', ''].join('\r\n');
        uas.send(answer, server.udpPort);
        assert.equal((await uac.next(3000))?.status, 202);
        await until(() => capture.raw.length >= 4, 3000, 'four traces');
        const [reqIn, reqOut, rplIn, rplOut] = capture.raw.map((b) => decodeHep3(b));
        const ends = (h: HepFields | undefined): string => `${String(h?.srcPort)}>${String(h?.dstPort)}`;
        const at = server.udpPort;
        assert.deepEqual([reqIn, reqOut, rplIn, rplOut].map(ends), [`${String(uac.port)}>${String(at)}`, `${String(at)}>${String(uas.port)}`, `${String(uas.port)}>${String(at)}`, `${String(at)}>${String(uac.port)}`]);
        assert.deepEqual(reqIn?.payload, sent);
        assert.deepEqual(reqOut?.payload, uas.raw[0], 'the request as relayed');
        assert.equal(rplIn?.payload.toString(), answer);
        assert.deepEqual(rplOut?.payload, uac.raw[0], 'the reply as relayed');
        // as Kamailio's tm callbacks: the correlation id only on the message sip_trace was called on
        assert.deepEqual([reqIn, reqOut, rplIn, rplOut].map((h) => h?.correlationId), ['tx-1', undefined, undefined, undefined]);
        assert.equal(server.rt.stats.get('siptrace:traced_requests'), 2);
        assert.equal(server.rt.stats.get('siptrace:traced_replies'), 2);
      } finally {
        for (const p of [capture, uas, uac]) p.close();
        await server.close();
      }
    });

    test('RPC siptrace.status: off stops the traces, on starts them again, check answers', async () => {
      const capture = await UdpPeer.open();
      const uac = await UdpPeer.open();
      const server = await startServer(engine, script(engine, 'KSR.siptrace.sip_trace()'), {
        config: { rpc: { listen: '127.0.0.1:0' }, modules: { siptrace: { ...HEP, duplicate_uri: `sip:127.0.0.1:${String(capture.port)}` } } },
      });
      try {
        const send = async (): Promise<string | undefined> => {
          uac.request({}, server.udpPort);
          return (await uac.next(3000))?.reason;
        };
        assert.equal((await rpc(server.rt, 'siptrace.status', ['off'])).result, 'Disabled');
        assert.equal(await send(), 'rc -1');
        assert.equal((await rpc(server.rt, 'siptrace.status', ['check'])).result, 'Disabled');
        assert.equal((await rpc(server.rt, 'siptrace.status', ['on'])).result, 'Enabled');
        assert.equal(await send(), 'rc 1');
        assert.equal((await rpc(server.rt, 'siptrace.status', ['sideways'])).error?.code, -32602);
        assert.equal(server.rt.stats.get('siptrace:traced_requests'), 1);
      } finally {
        capture.close();
        uac.close();
        await server.close();
      }
    });
  });
}

describe('siptrace config', () => {
  for (const [key, value, why] of [
    ['hep_version', 2, /version 3/],
    ['trace_to_database', 1, /siptrace\.trace_to_database/],
    ['duplicate_uri', 'sip:capture.example.com', /IP address/],
    ['duplicate_uri', 'sip:127.0.0.1:9060;transport=tcp', /only UDP/],
  ] as const) {
    test(`${key}=${String(value)} is refused at start`, async () => {
      await assert.rejects(startServer('lua', script('lua', '1'), { config: { modules: { siptrace: { [key]: value } } } }), why);
    });
  }
});
