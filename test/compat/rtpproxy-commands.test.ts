/**
 * The rtpproxy commands and the SDP rewrite: Kamailio 5.6's rtpproxy module and kemihost, given
 * the same messages and flags, must send the relay the same commands (U, L, D, R, flags and
 * per-stream numbering) and, from the same answers, relay the same SDP (ports, a=rtcp, c=, o=,
 * IPv6, a stream on hold, a disabled stream, the nortpproxy mark) with the same return code.
 * The relay is a recording stand-in (test/helpers/fake-rtpproxy.ts); requests are forwarded
 * statelessly and the reply goes through ksr_reply_route.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { FakeRtpproxy } from '../helpers/fake-rtpproxy.js';
import { ENGINES, startServer } from '../helpers/runtime.js';
import { UdpPeer } from '../helpers/sip-client.js';
import { Kamailio, kamailioMissing } from './harness/kamailio.js';

const V4 = 'v=0\r\no=alice 1 1 IN IP4 192.0.2.10\r\ns=-\r\nc=IN IP4 192.0.2.10\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0 8 101\r\na=rtcp:4001\r\na=rtpmap:101 telephone-event/8000\r\n';
const TWO = 'v=0\r\no=alice 1 1 IN IP4 192.0.2.10\r\ns=-\r\nc=IN IP4 192.0.2.10\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\nm=video 4002 RTP/AVP 96\r\nc=IN IP4 192.0.2.11\r\na=rtpmap:96 H264/90000\r\n';
const V6 = 'v=0\r\no=alice 1 1 IN IP6 2001:db8::10\r\ns=-\r\nc=IN IP6 2001:db8::10\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n';
const HOLD = 'v=0\r\no=alice 1 2 IN IP4 192.0.2.10\r\ns=-\r\nc=IN IP4 0.0.0.0\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n';
const OFF = 'v=0\r\no=alice 1 1 IN IP4 192.0.2.10\r\ns=-\r\nc=IN IP4 192.0.2.10\r\nt=0 0\r\nm=video 0 RTP/AVP 96\r\nm=audio 4000 RTP/AVP 0\r\n';
const MARKED = `${V4}a=nortpproxy:yes\r\n`;

interface Case {
  readonly method: 'INVITE' | 'ACK' | 'BYE';
  readonly op: string;
  readonly flags: string;
  readonly sdp?: string;
  readonly toTag?: string;
  readonly ip?: string;
  /** the callee answers 200 with this SDP, and ksr_reply_route runs `replyOp` on it */
  readonly reply?: { readonly sdp: string; readonly op: string; readonly flags: string };
}

const CASES: readonly Case[] = [
  { method: 'INVITE', op: 'offer', flags: '', sdp: V4 },
  { method: 'INVITE', op: 'offer', flags: 'co', sdp: TWO },
  { method: 'INVITE', op: 'offer', flags: 'r', sdp: TWO },
  { method: 'INVITE', op: 'offer', flags: 'iewaz20', sdp: V4 },
  { method: 'INVITE', op: 'offer', flags: '13', sdp: V4 },
  { method: 'INVITE', op: 'offer', flags: 'x', sdp: V6 },
  { method: 'INVITE', op: 'offer', flags: '', sdp: V6 },
  { method: 'INVITE', op: 'offer', flags: 'c', sdp: HOLD },
  { method: 'INVITE', op: 'offer', flags: '', sdp: OFF },
  { method: 'INVITE', op: 'offer_ip', flags: 'co', sdp: V4, ip: '198.51.100.1' },
  { method: 'INVITE', op: 'manage', flags: 'co', sdp: V4 },
  { method: 'INVITE', op: 'offer', flags: 'l', sdp: V4 },
  { method: 'INVITE', op: 'offer', flags: 'l', sdp: V4, toTag: 'tt1' },
  { method: 'INVITE', op: 'offer', flags: '', sdp: V4, toTag: 'tt1' },
  { method: 'INVITE', op: 'offer', flags: 'co', sdp: MARKED },
  { method: 'INVITE', op: 'offer', flags: 'cof', sdp: MARKED },
  { method: 'INVITE', op: 'offer', flags: 'q', sdp: V4 },
  { method: 'INVITE', op: 'offer', flags: '2', sdp: V4 },
  { method: 'INVITE', op: 'record', flags: '', sdp: V4 },
  { method: 'ACK', op: 'answer', flags: 'co', sdp: V4, toTag: 'tt1' },
  { method: 'ACK', op: 'manage', flags: '', sdp: V4, toTag: 'tt1' },
  { method: 'BYE', op: 'destroy', flags: '', toTag: 'tt1' },
  { method: 'BYE', op: 'destroy', flags: 't1', toTag: 'tt1' },
  { method: 'BYE', op: 'manage', flags: '', toTag: 'tt1' },
  { method: 'INVITE', op: 'none', flags: '', sdp: V4, reply: { sdp: TWO, op: 'manage', flags: 'co' } },
  { method: 'INVITE', op: 'none', flags: '', sdp: V4, reply: { sdp: V4, op: 'offer', flags: '' } },
];

function script(engine: 'lua' | 'js', callee: number): string {
  const run = (lang: 'lua' | 'js'): string => {
    const ops: readonly [string, string][] = [
      ['offer', 'KSR.rtpproxy.rtpproxy_offer(f)'], ['offer_ip', 'KSR.rtpproxy.rtpproxy_offer_ip(f, ip)'],
      ['answer', 'KSR.rtpproxy.rtpproxy_answer(f)'], ['manage', 'KSR.rtpproxy.rtpproxy_manage(f)'],
      ['destroy', 'KSR.rtpproxy.rtpproxy_destroy(f)'], ['record', 'KSR.rtpproxy.start_recording()'],
    ];
    return lang === 'lua'
      ? ops.map(([name, callText]) => `  if op == "${name}" then return ${callText} end`).join('\n')
      : ops.map(([name, callText]) => `  if (op == "${name}") return ${callText};`).join('\n');
  };
  return engine === 'lua'
    ? `
function run()
  local op = KSR.hdr.get("X-Op") or ""
  local f = KSR.hdr.get("X-Flags") or ""
  local ip = KSR.hdr.get("X-Ip") or ""
${run('lua')}
  return 0
end
function ksr_request_route()
  KSR.hdr.append("X-Rc: " .. run() .. "\\r\\n")
  KSR.forward_uri("sip:127.0.0.1:${String(callee)}")
end
function ksr_reply_route()
  KSR.hdr.append("X-Rc: " .. run() .. "\\r\\n")
end
`
    : `
function run() {
  var op = KSR.hdr.get("X-Op") || "";
  var f = KSR.hdr.get("X-Flags") || "";
  var ip = KSR.hdr.get("X-Ip") || "";
${run('js')}
  return 0;
}
function ksr_request_route() {
  KSR.hdr.append("X-Rc: " + run() + "\\r\\n");
  KSR.forward_uri("sip:127.0.0.1:${String(callee)}");
}
function ksr_reply_route() {
  KSR.hdr.append("X-Rc: " + run() + "\\r\\n");
}
`;
}

interface Outcome {
  readonly commands: string[];
  readonly atCallee: string;
  readonly atCaller: string;
}

async function runCases(port: number, fake: FakeRtpproxy, caller: UdpPeer, callee: UdpPeer): Promise<Outcome[]> {
  const out: Outcome[] = [];
  for (const [i, c] of CASES.entries()) {
    fake.reset();
    const headers = [`X-Op: ${c.op}`, `X-Flags: ${c.flags}`, ...(c.ip === undefined ? [] : [`X-Ip: ${c.ip}`]), ...(c.sdp === undefined ? [] : ['Content-Type: application/sdp'])];
    caller.request({
      method: c.method, ruri: 'sip:bob@127.0.0.1', callId: `rtpp-case-${String(i)}`, fromTag: 'ftag', branch: `z9hG4bK-case-${String(i)}`,
      cseq: 1, cseqMethod: c.method, headers, ...(c.toTag === undefined ? {} : { toTag: c.toTag }), ...(c.sdp === undefined ? {} : { body: c.sdp }),
    }, port);
    const req = await callee.next(2000);
    assert.ok(req !== null, `case ${String(i)}: nothing forwarded`);
    const atCallee = `X-Rc: ${req.getHeader('X-Rc') ?? ''}\n${req.body.toString('latin1')}`;
    let atCaller = '';
    if (c.reply !== undefined) {
      const r = c.reply;
      const lines = ['SIP/2.0 200 OK', ...req.getHeaders('via').map((v) => `Via: ${v}`), `From: ${req.getHeader('from') ?? ''}`, `To: ${req.getHeader('to') ?? ''};tag=callee`,
        `Call-ID: ${req.callId}`, `CSeq: ${req.getHeader('cseq') ?? ''}`, `X-Op: ${r.op}`, `X-Flags: ${r.flags}`, 'Content-Type: application/sdp',
        `Content-Length: ${String(r.sdp.length)}`, '', r.sdp];
      callee.send(lines.join('\r\n'), port);
      const rep = await caller.next(2000);
      assert.ok(rep !== null, `case ${String(i)}: the 200 was not relayed`);
      atCaller = `X-Rc: ${rep.getHeader('X-Rc') ?? ''}\n${rep.body.toString('latin1')}`;
    }
    await new Promise((r) => setTimeout(r, 20)); // the relay's last record message
    out.push({ commands: [...fake.received], atCallee, atCaller });
  }
  return out;
}

for (const engine of ENGINES) {
  const title = `compat: rtpproxy commands and SDP rewrite [${engine}]`;
  const missing = kamailioMissing(engine);
  if (missing !== null) {
    if (process.env.CI === 'true') test(title, () => { assert.fail(missing); });
    else test(title, { skip: missing }, () => undefined);
    continue;
  }
  describe(title, () => {
    let fake: FakeRtpproxy | null = null;
    let caller: UdpPeer | null = null;
    let callee: UdpPeer | null = null;
    before(async () => { [fake, caller, callee] = await Promise.all([FakeRtpproxy.open(), UdpPeer.open(), UdpPeer.open()]); });
    after(async () => {
      caller?.close();
      callee?.close();
      await fake?.close();
    });

    test('the same messages make the same commands, SDPs and return codes', async () => {
      assert.ok(fake !== null && caller !== null && callee !== null);
      const modules = { sl: {}, rtpproxy: { rtpproxy_sock: `udp:127.0.0.1:${String(fake.port)}` } };
      const src = script(engine, callee.port);
      const kam = await Kamailio.start({ engine, script: src, modules });
      let oracle: Outcome[];
      try {
        oracle = await runCases(kam.port, fake, caller, callee);
      } finally {
        await kam.stop();
      }
      const server = await startServer(engine, src, { config: { modules: { rtpproxy: modules.rtpproxy } } });
      let got: Outcome[];
      try {
        got = await runCases(server.udpPort, fake, caller, callee);
      } finally {
        await server.close();
      }
      assert.ok(oracle.filter((o) => o.commands.length > 0).length >= 20, 'Kamailio sent commands for the cases');
      CASES.forEach((c, i) => {
        assert.deepEqual(got[i], oracle[i], `case ${String(i)}: ${c.method} ${c.op}(${JSON.stringify(c.flags)})`);
      });
    });
  });
}
