/**
 * The NG requests themselves: Kamailio 5.6's rtpengine module and kemihost, given the same SIP
 * message and the same flag string, must send rtpengine the same dictionary (decoded and
 * compared whole: flags, lists, codec entries, transport-protocol, tags in the order the command
 * needs, via-branch, received-from, the SDP) and return the same code. A stand-in NG peer
 * (test/helpers/fake-ng-peer.ts) records what each sends.
 */
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import { once } from 'node:events';
import { after, before, describe, test } from 'node:test';
import { bdecode, type BValue } from '../../host/rtpengine/bdecode.js';
import { FakeNgPeer } from '../helpers/fake-ng-peer.js';
import { ENGINES, startServer } from '../helpers/runtime.js';
import { until } from '../helpers/until.js';
import { Kamailio, kamailioMissing } from './harness/kamailio.js';

interface Case {
  readonly method: string;
  readonly op: 'offer' | 'answer' | 'delete' | 'query' | 'block' | 'play' | 'manage';
  readonly flags: string;
  readonly toTag?: string;
}

const CASES: readonly Case[] = [
  { method: 'INVITE', op: 'offer', flags: '' },
  { method: 'INVITE', op: 'offer', flags: 'trust-address replace-origin replace-session-connection ICE=remove RTP/AVP' },
  { method: 'INVITE', op: 'offer', flags: 'codec-strip-PCMA codec-offer-G722 transcode-PCMU codec-transcode-opus codec-mask-all codec-set-X codec-except-Y' },
  { method: 'INVITE', op: 'offer', flags: 'SDES-off T38-decode T.38=force rtcp-mux-demux replace=origin direction=internal direction=external internal TOS=184 repacketize=20 delete-delay=5 via-branch=1' },
  { method: 'INVITE', op: 'offer', flags: 'RTP AVP SRTP' },
  { method: 'INVITE', op: 'offer', flags: 'UDP/TLS/RTP/SAVPF DTLS=passive AVPF' },
  { method: 'INVITE', op: 'offer', flags: 'to-tag=xyz from-tag=abc call-id=other directional label=foo' },
  { method: 'INVITE', op: 'offer', flags: '', toTag: 'tt1' },
  { method: 'INVITE', op: 'offer', flags: 'force-answer', toTag: 'tt1' },
  { method: 'INVITE', op: 'offer', flags: 'via-branch=auto' },
  { method: 'INVITE', op: 'offer', flags: 'via-branch=2' },
  { method: 'INVITE', op: 'offer', flags: '  two  spaces  x=y  RTP=1 TOS delete-delay' },
  { method: 'INVITE', op: 'offer', flags: 'a =ignored b' },
  { method: 'INVITE', op: 'manage', flags: 'record-call=on' },
  { method: 'ACK', op: 'answer', flags: '', toTag: 'tt1' },
  { method: 'ACK', op: 'manage', flags: '', toTag: 'tt1' },
  { method: 'BYE', op: 'delete', flags: '', toTag: 'tt1' },
  { method: 'BYE', op: 'delete', flags: 'to-tag', toTag: 'tt1' },
  { method: 'BYE', op: 'manage', flags: '', toTag: 'tt1' },
  { method: 'INVITE', op: 'block', flags: 'directional' },
  { method: 'INVITE', op: 'block', flags: '' },
  { method: 'INVITE', op: 'play', flags: 'file=/x.wav' },
  { method: 'INVITE', op: 'query', flags: '', toTag: 'tt1' },
  { method: 'OPTIONS', op: 'manage', flags: '' },
];

const LUA = `
function ksr_request_route()
  local flags = KSR.hdr.get("X-Flags") or ""
  local op = KSR.hdr.get("X-Op")
  local rc
  if op == "offer" then rc = KSR.rtpengine.rtpengine_offer(flags)
  elseif op == "answer" then rc = KSR.rtpengine.rtpengine_answer(flags)
  elseif op == "delete" then rc = KSR.rtpengine.rtpengine_delete(flags)
  elseif op == "query" then rc = KSR.rtpengine.rtpengine_query(flags)
  elseif op == "block" then rc = KSR.rtpengine.block_media(flags)
  elseif op == "play" then rc = KSR.rtpengine.play_media(flags)
  else rc = KSR.rtpengine.rtpengine_manage(flags) end
  KSR.hdr.append_to_reply("X-Rc: " .. rc .. "\\r\\n")
  KSR.sl.sl_send_reply(200, "OK")
end
`;
const JS = `
function ksr_request_route() {
  var flags = KSR.hdr.get("X-Flags") || "";
  var op = KSR.hdr.get("X-Op");
  var rc;
  if (op == "offer") rc = KSR.rtpengine.rtpengine_offer(flags);
  else if (op == "answer") rc = KSR.rtpengine.rtpengine_answer(flags);
  else if (op == "delete") rc = KSR.rtpengine.rtpengine_delete(flags);
  else if (op == "query") rc = KSR.rtpengine.rtpengine_query(flags);
  else if (op == "block") rc = KSR.rtpengine.block_media(flags);
  else if (op == "play") rc = KSR.rtpengine.play_media(flags);
  else rc = KSR.rtpengine.rtpengine_manage(flags);
  KSR.hdr.append_to_reply("X-Rc: " + rc + "\\r\\n");
  KSR.sl.sl_send_reply(200, "OK");
}
`;

const SDP = 'v=0\r\no=- 1 1 IN IP4 192.0.2.10\r\ns=-\r\nc=IN IP4 192.0.2.10\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0 8\r\n';

/** a decoded request with its strings as text and its keys sorted */
function text(v: BValue): unknown {
  if (Buffer.isBuffer(v)) return v.toString('latin1');
  if (typeof v === 'number') return v;
  if (Array.isArray(v)) return v.map(text);
  return Object.fromEntries(Object.keys(v).sort().map((k) => [k, text(v[k] as BValue)]));
}

interface Outcome {
  readonly rc: string;
  readonly ng: unknown;
}

/** Send each case to the server at `port` and record the code it returned and what the NG peer got. */
async function runCases(port: number, ng: FakeNgPeer): Promise<Outcome[]> {
  const sock = dgram.createSocket('udp4');
  sock.bind(0, '127.0.0.1');
  await once(sock, 'listening');
  const me = sock.address().port;
  const out: Outcome[] = [];
  try {
    for (const [i, c] of CASES.entries()) {
      const body = c.method === 'INVITE' || c.method === 'ACK' ? SDP : '';
      const msg = [
        `${c.method} sip:bob@127.0.0.1 SIP/2.0`, `Via: SIP/2.0/UDP 127.0.0.1:${String(me)};branch=z9hG4bK-case${String(i)}`, 'Max-Forwards: 70',
        'From: <sip:alice@example.com>;tag=ftag', `To: <sip:bob@example.com>${c.toTag === undefined ? '' : `;tag=${c.toTag}`}`,
        `Call-ID: ng-case-${String(i)}`, `CSeq: 1 ${c.method}`, `X-Flags: ${c.flags}`, `X-Op: ${c.op}`,
        ...(body === '' ? [] : ['Content-Type: application/sdp']), `Content-Length: ${String(body.length)}`, '', body,
      ].join('\r\n');
      const before = ng.received.length;
      let rc = 'none';
      const replied = new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, c.method === 'ACK' ? 400 : 3000);
        sock.once('message', (m) => {
          clearTimeout(timer);
          rc = /\r\nX-Rc: (\S+)/.exec(m.toString())?.[1] ?? 'none';
          resolve();
        });
      });
      sock.send(msg, port, '127.0.0.1');
      await replied;
      if (rc !== '-1') await until(() => ng.received.length > before, 1000, `the NG request of case ${String(i)}`).catch(() => undefined);
      const got = ng.received.slice(before);
      out.push({ rc, ng: got.map((b) => text(bdecode(b))) });
    }
  } finally {
    sock.close();
  }
  return out;
}

for (const engine of ENGINES) {
  const title = `compat: rtpengine NG requests [${engine}]`;
  const missing = kamailioMissing(engine);
  if (missing !== null) {
    if (process.env.CI === 'true') test(title, () => { assert.fail(missing); });
    else test(title, { skip: missing }, () => undefined);
    continue;
  }
  describe(title, () => {
    let ng: FakeNgPeer | null = null;
    before(async () => { ng = await FakeNgPeer.open(); });
    after(async () => { await ng?.close(); });

    test('the same flags make the same NG request, and the same return code', async () => {
      assert.ok(ng !== null);
      const modules = { tm: {}, sl: {}, rtpengine: { rtpengine_sock: `udp:127.0.0.1:${String(ng.port)}` } };
      const script = engine === 'lua' ? LUA : JS;
      const kam = await Kamailio.start({ engine, script, modules });
      let oracle: Outcome[];
      try {
        oracle = await runCases(kam.port, ng);
      } finally {
        await kam.stop();
      }
      const server = await startServer(engine, script, { config: { modules: { rtpengine: modules.rtpengine } } });
      let got: Outcome[];
      try {
        got = await runCases(server.udpPort, ng);
      } finally {
        await server.close();
      }
      assert.ok(oracle.filter((o) => o.rc === '1').length >= 20, 'Kamailio accepted the cases it should');
      CASES.forEach((c, i) => {
        assert.deepEqual(got[i], oracle[i], `case ${String(i)}: ${c.method} ${c.op}(${JSON.stringify(c.flags)})`);
      });
    });
  });
}
