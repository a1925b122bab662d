/**
 * One fuzz campaign against a real runtime in this process: mutated SIP requests and replies
 * (with the server's own Via on top) over UDP and TCP, mutated HTTP requests on the xhttp
 * listener, and mutated netstring answers from a JSON-RPC server the script calls. Between
 * batches a well-formed probe must be answered; at the end nothing may have escaped to the
 * error boundary (core:uncaught_errors = 0) and memory must be back within a bound.
 * `npm test` runs a short campaign (test/fuzz/fuzz.test.ts); `npm run fuzz -- --count N --seed S`
 * a long one (test/fuzz/run.ts).
 */
import dgram from 'node:dgram';
import net from 'node:net';
import { once } from 'node:events';
import { parseSipMessage } from '../../host/sip/message.js';
import { NetstringServer } from '../helpers/netstring-server.js';
import { startServer, type EngineName, type TestServer } from '../helpers/runtime.js';
import { buildRequest, randomToken, UdpPeer } from '../helpers/sip-client.js';
import { mutateMessage, mutateNetstring, Rng } from './mutate.js';
import { FUZZ_SCRIPT } from './script.js';

export interface CampaignOptions {
  readonly engine: EngineName;
  readonly seed: number;
  /** mutated SIP datagrams; TCP streams, HTTP requests and JSON-RPC answers are a share of it */
  readonly count: number;
}

export interface CampaignResult {
  readonly sent: { udp: number; tcp: number; http: number; netstring: number };
  readonly probes: number;
  readonly probesAnswered: number;
  readonly uncaught: number;
  readonly rssGrowthMb: number;
  readonly stats: Record<string, number>;
}

const BATCH = 50;

/** A UAS for relayed requests: answers 200 to what parses, ignores the rest. */
async function openSink(): Promise<{ port: number; close(): void }> {
  const sock = dgram.createSocket('udp4');
  sock.bind(0, '127.0.0.1');
  await once(sock, 'listening');
  sock.on('message', (data, rinfo) => {
    try {
      const m = parseSipMessage(data);
      if (!m.isRequest || m.method === 'ACK') return;
      const head = [`SIP/2.0 200 OK`, ...m.getHeaders('via').map((v) => `Via: ${v}`), `From: ${m.getHeader('from') ?? ''}`,
        `To: ${m.getHeader('to') ?? ''};tag=sink`, `Call-ID: ${m.callId}`, `CSeq: ${m.getHeader('cseq') ?? ''}`, 'Content-Length: 0', '', ''];
      sock.send(head.join('\r\n'), rinfo.port, rinfo.address);
    } catch {
      // what the proxy relayed may be as broken as what it got: not the sink's concern
    }
  });
  return { port: sock.address().port, close: () => { sock.close(); } };
}

/** Message makers: each call gives fresh branches, tags and Call-IDs, so nothing is taken for a retransmission. */
function corpus(server: TestServer, sinkPort: number, peerPort: number): (() => string)[] {
  const via = (proto: string, port: number): string => `Via: SIP/2.0/${proto} 127.0.0.1:${String(port)};branch=z9hG4bK${randomToken()}`;
  const reply = (proto: string, port: number, code: string): string => [
    `SIP/2.0 ${code}`, via(proto, port), `Via: SIP/2.0/UDP 127.0.0.1:${String(peerPort)};branch=z9hG4bK${randomToken()};rport`,
    `From: <sip:a@example.com>;tag=${randomToken()}`, `To: <sip:b@example.com>;tag=${randomToken()}`, `Call-ID: ${randomToken()}@f`,
    'CSeq: 1 INVITE', 'Contact: <sip:b@127.0.0.1:5999>', 'Content-Length: 0', '', ''].join('\r\n');
  const sdp = 'v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0 8\r\na=rtpmap:0 PCMU/8000\r\n';
  const sink = `sip:bob@127.0.0.1:${String(sinkPort)}`;
  return [
    () => buildRequest({ method: 'OPTIONS', ruri: `sip:127.0.0.1:${String(server.udpPort)}` }, 'UDP', '127.0.0.1', peerPort),
    () => buildRequest({ method: 'INVITE', ruri: sink, body: sdp, headers: ['Content-Type: application/sdp', 'Contact: <sip:alice@127.0.0.1:5062>'] }, 'UDP', '127.0.0.1', peerPort),
    () => buildRequest({ method: 'REGISTER', ruri: 'sip:example.com', headers: ['Contact: <sip:alice@127.0.0.1:5062>;expires=60', 'Expires: 60', 'Authorization: Digest username="a", realm="r", nonce="n", uri="sip:x", response="0123"'] }, 'UDP', '127.0.0.1', peerPort),
    () => buildRequest({ method: 'MESSAGE', ruri: sink, body: 'hi', headers: ['Route: <sip:127.0.0.1;lr>', 'X-Rpc: 1'] }, 'UDP', '127.0.0.1', peerPort),
    () => buildRequest({ method: 'BYE', ruri: sink, toTag: 'b1', headers: ['Route: <sip:127.0.0.1;lr;ftag=x>'] }, 'UDP', '127.0.0.1', peerPort),
    () => reply('UDP', server.udpPort, '200 OK'),
    () => reply('UDP', server.udpPort, '180 Ringing'),
    () => reply('TCP', server.tcpPort, '486 Busy Here'),
  ];
}

const HTTP_CORPUS = [
  'GET /health HTTP/1.1\r\nHost: x\r\n\r\n',
  'POST /api/x HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 13\r\n\r\n{"a":[1,2,3]}',
  'GET /api//private/%2e%2e/./x?q=%zz HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n',
];

async function probe(server: TestServer, rng: Rng): Promise<boolean> {
  const peer = await UdpPeer.open();
  try {
    peer.request({ method: 'OPTIONS', headers: ['X-Probe: 1'], ruri: `sip:127.0.0.1:${String(server.udpPort)}`, callId: `probe-${String(rng.int(1e9))}` }, server.udpPort);
    return (await peer.next(3000))?.status === 200;
  } finally {
    peer.close();
  }
}

/** Write bytes on a fresh connection; resolve when the server closed it or soon after the write drained. */
async function streamOnce(port: number, data: Buffer[]): Promise<void> {
  const sock = net.connect({ port, host: '127.0.0.1' });
  sock.on('error', () => undefined);
  sock.on('data', () => undefined);
  await once(sock, 'connect').catch(() => undefined);
  for (const d of data) sock.write(d);
  await new Promise<void>((resolve) => {
    const t = setTimeout(() => { sock.destroy(); resolve(); }, 50);
    sock.once('close', () => { clearTimeout(t); resolve(); });
  });
}

export async function runCampaign(o: CampaignOptions): Promise<CampaignResult> {
  const rng = new Rng(o.seed);
  const sent = { udp: 0, tcp: 0, http: 0, netstring: 0 };
  const sink = await openSink();
  const rpc = await NetstringServer.start('fuzz', (msg, peer) => {
    if (typeof msg.id !== 'number') return;
    sent.netstring++;
    // mostly well-formed answers, so the connection lives long enough to take many requests
    if (rng.chance(0.03)) peer.destroy();
    else if (rng.chance(0.15)) peer.raw(mutateNetstring(rng, msg.id));
    else peer.answer(msg.id, rng.chance(0.8) ? { result: { ok: [1, 'x', null] } } : { error: { code: -1, message: 'no' } });
  });
  const server = await startServer(o.engine, FUZZ_SCRIPT[o.engine], {
    config: {
      http: { listen: '127.0.0.1:0' },
      limits: { cpu_ms: 500 },
      modules: {
        xhttp: { event_callback: 'ksr_xhttp_event' },
        jsonrpc: { servers: `127.0.0.1:${String(rpc.port)},1`, timeout: 200 },
        tm: { fr_timer: 300, fr_inv_timer: 500 },
      },
    },
  });
  const uac = await UdpPeer.open();
  const rss0 = process.memoryUsage().rss;
  let probes = 0;
  let answered = 0;
  try {
    const messages = corpus(server, sink.port, uac.port);
    const rpcCall = (): string => buildRequest({ method: 'MESSAGE', ruri: `sip:rpc@127.0.0.1:${String(server.udpPort)}`, headers: ['X-Rpc: 1'] }, 'UDP', '127.0.0.1', uac.port);
    for (let i = 0; i < o.count; i += BATCH) {
      for (let k = 0; k < BATCH && i + k < o.count; k++) {
        uac.send(mutateMessage(rng, rng.pick(messages)()), server.udpPort);
        sent.udp++;
      }
      // an intact JSON-RPC call per batch, so the server's (mutated) answers keep coming
      uac.send(rpcCall(), server.udpPort);
      if (rng.chance(0.2)) {
        await streamOnce(server.tcpPort, [mutateMessage(rng, rng.pick(messages)().replaceAll('SIP/2.0/UDP', 'SIP/2.0/TCP')), mutateMessage(rng, rng.pick(messages)())]);
        sent.tcp++;
      }
      if (rng.chance(0.2)) {
        await streamOnce(server.httpPort, [mutateMessage(rng, rng.pick(HTTP_CORPUS))]);
        sent.http++;
      }
      probes++;
      if (await probe(server, rng)) answered++;
    }
    // the last replies and timers settle before memory is read
    probes++;
    if (await probe(server, rng)) answered++;
  } finally {
    uac.close();
    sink.close();
    await server.close();
    await rpc.stop();
  }
  return {
    sent,
    probes,
    probesAnswered: answered,
    uncaught: server.rt.stats.get('core:uncaught_errors') ?? 0,
    rssGrowthMb: (process.memoryUsage().rss - rss0) / 1048576,
    stats: { ...server.rt.stats.snapshot('core'), ...server.rt.stats.snapshot('jsonrpc'), ...server.rt.stats.snapshot('script') },
  };
}
