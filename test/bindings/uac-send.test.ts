/**
 * KSR.uac.uac_req_send with $uac_req(...) on both engines: the request route describes a
 * request and sends it to a real UDP peer, which answers 200, 404, or 401 and then checks the
 * digest itself (node:crypto). Asserted: what the peer received (method, R-URI, From, To,
 * Call-ID, CSeq, extra headers, body), the return code, and what the event callback saw — it
 * reports by sending an INFO of its own with $uac_req(evcode), evtype and $rs in X-Ev.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import dgram from 'node:dgram';
import { once } from 'node:events';
import { describe, test } from 'node:test';
import { parseSipMessage, type SipMessage } from '../../host/sip/message.js';
import { answerTo, NextHop } from '../helpers/next-hop.js';
import { ENGINES, startServer } from '../helpers/runtime.js';
import { UdpPeer } from '../helpers/sip-client.js';
import { until } from '../helpers/until.js';

const md5 = (s: string): string => createHash('md5').update(s).digest('hex');

type Answer = 'ok' | '404' | 'challenge' | 'none';

interface Case {
  name: string;
  /** $uac_req(key) = value, in order: strings with KSR.pv.sets, numbers with seti; "{far}" is the peer's port */
  set: readonly (readonly [string, string | number])[];
  answer: Answer;
  rc: number;
  /** what the peer must have received, in order: the requests' methods */
  methods: readonly string[];
  /** the X-Ev of each INFO the event callback sent */
  events: readonly string[];
  check?: (reqs: readonly SipMessage[], farPort: number) => void;
  /** the peer must have received nothing else within this time, ms: an absence cannot be awaited */
  quiet?: number;
  /** modules.tm (short timers for a timeout) */
  tm?: Record<string, number>;
}

const MESSAGE: Case['set'] = [
  ['method', 'MESSAGE'], ['ruri', 'sip:bob@127.0.0.1:{far}'], ['furi', 'sip:alice@example.com'], ['turi', 'sip:bob@example.net'],
  ['hdrs', 'X-A: 1\r\nContent-Type: text/plain\r\n'], ['body', 'hello'], ['callid', 'cid-1@test'],
];

const cases: Case[] = [
  {
    name: 'a MESSAGE as described: R-URI, From (with a tag), To, Call-ID, CSeq 10, headers, body; 1; the callback sees 200',
    set: [...MESSAGE, ['evroute', 1], ['evparam', 'p1']],
    answer: 'ok', rc: 1, methods: ['MESSAGE', 'INFO'], events: ['uac:reply,200,1,200,p1'],
    check: ([m], far) => {
      assert.ok(m !== undefined);
      assert.equal(m.ruri, `sip:bob@127.0.0.1:${String(far)}`);
      assert.match(m.getHeader('from') ?? '', /^<sip:alice@example\.com>;tag=[0-9a-f]+$/);
      assert.equal(m.getHeader('to'), '<sip:bob@example.net>');
      assert.equal(m.callId, 'cid-1@test');
      assert.equal(m.getHeader('cseq'), '10 MESSAGE');
      assert.equal(m.getHeader('x-a'), '1');
      assert.equal(m.getHeader('content-type'), 'text/plain');
      assert.equal(m.getHeader('max-forwards'), '70');
      assert.equal(m.body.toString(), 'hello');
    },
  },
  {
    name: 'furi and turi default to the R-URI; no evroute: no callback',
    set: [['method', 'OPTIONS'], ['ruri', 'sip:bob@127.0.0.1:{far}']],
    answer: 'ok', rc: 1, methods: ['OPTIONS'], events: [], quiet: 300,
    check: ([m], far) => {
      assert.ok(m !== undefined);
      assert.equal(m.getHeader('to'), `<sip:bob@127.0.0.1:${String(far)}>`);
      assert.match(m.getHeader('from') ?? '', new RegExp(`^<sip:bob@127\\.0\\.0\\.1:${String(far)}>;tag=`));
      assert.equal(m.body.length, 0);
    },
  },
  {
    name: 'a 401 is answered once with auser / apasswd (CSeq 11, same Call-ID and From-tag); the callback runs for the 401 and the 200',
    set: [...MESSAGE, ['auser', 'alice'], ['apasswd', 's3cret'], ['evroute', 1]],
    answer: 'challenge', rc: 1, methods: ['MESSAGE', 'INFO', 'MESSAGE', 'INFO'], events: ['uac:reply,401,1,401,nil', 'uac:reply,200,1,200,nil'],
    check: (reqs) => {
      const [first, second] = reqs.filter((r) => r.method === 'MESSAGE');
      assert.ok(first !== undefined && second !== undefined);
      assert.equal(second.getHeader('cseq'), '11 MESSAGE');
      assert.equal(second.callId, first.callId);
      assert.equal(second.from.tag, first.from.tag);
      assert.equal(second.body.toString(), 'hello');
      assert.equal(second.getHeader('x-a'), '1');
    },
  },
  {
    name: 'evroute 2: the callback for a failure only (404)',
    set: [...MESSAGE, ['evroute', 2]],
    answer: '404', rc: 1, methods: ['MESSAGE', 'INFO'], events: ['uac:reply,404,1,404,nil'],
  },
  {
    name: 'evroute 2 and no answer: the callback for the timeout (408, evtype 2, no reply to read)',
    set: [...MESSAGE, ['evroute', 2]],
    tm: { retr_timer1: 20, retr_timer2: 80 },
    answer: 'none', rc: 1, methods: ['MESSAGE', 'INFO'], events: ['uac:reply,408,2,nil,nil'],
  },
  {
    name: 'no method: -1, nothing sent',
    set: [['ruri', 'sip:bob@127.0.0.1:{far}']],
    answer: 'ok', rc: -1, methods: [], events: [],
  },
  {
    name: 'INVITE (no INVITE client transaction of our own here): -1, nothing sent',
    set: [['method', 'INVITE'], ['ruri', 'sip:bob@127.0.0.1:{far}']],
    answer: 'ok', rc: -1, methods: [], events: [],
  },
  {
    name: 'a host name in the R-URI (no DNS here): -1, nothing sent',
    set: [['method', 'MESSAGE'], ['ruri', 'sip:bob@far.example']],
    answer: 'ok', rc: -1, methods: [], events: [],
  },
  {
    name: 'hdrs that are not header lines: -1; a string for evroute is refused (its value stays 0)',
    set: [['method', 'MESSAGE'], ['ruri', 'sip:bob@127.0.0.1:{far}'], ['hdrs', 'not a header'], ['evroute', 'x']],
    answer: 'ok', rc: -1, methods: [], events: [],
  },
];

function setLines(engine: 'lua' | 'js', c: Case, far: number): string {
  return c.set.map(([k, v]) => {
    const val = typeof v === 'number' ? String(v) : JSON.stringify(v.replaceAll('{far}', String(far)));
    return `KSR.pv.${typeof v === 'number' ? 'seti' : 'sets'}("$uac_req(${k})", ${val})${engine === 'js' ? ';' : ''}`;
  }).join('\n');
}

const script = (engine: 'lua' | 'js', c: Case, far: number): string => (engine === 'lua'
  ? `function ksr_request_route()
  KSR.pv.unset("$uac_req(all)")
  ${setLines(engine, c, far)}
  local rc = KSR.uac.uac_req_send()
  KSR.hdr.append_to_reply("X-Rc: " .. rc .. "\\r\\n")
  KSR.sl.sl_send_reply(200, "OK")
end
function ksr_uac_event(evname)
  local ev = evname .. "," .. KSR.pv.get("$uac_req(evcode)") .. "," .. KSR.pv.get("$uac_req(evtype)") .. "," .. tostring(KSR.pv.get("$rs")) .. "," .. tostring(KSR.pv.get("$uac_req(evparam)"))
  KSR.pv.sets("$uac_req(method)", "INFO")
  KSR.pv.sets("$uac_req(hdrs)", "X-Ev: " .. ev .. "\\r\\n")
  KSR.pv.unset("$uac_req(body)")
  KSR.pv.unset("$uac_req(apasswd)")
  KSR.pv.seti("$uac_req(evroute)", 0)
  KSR.uac.uac_req_send()
end`
  : `function ksr_request_route() {
  KSR.pv.unset("$uac_req(all)");
  ${setLines(engine, c, far)}
  var rc = KSR.uac.uac_req_send();
  KSR.hdr.append_to_reply("X-Rc: " + rc + "\\r\\n");
  KSR.sl.sl_send_reply(200, "OK");
}
function ksr_uac_event(evname) {
  var p = KSR.pv.get("$uac_req(evparam)");
  var rs = KSR.pv.get("$rs");
  var ev = evname + "," + KSR.pv.get("$uac_req(evcode)") + "," + KSR.pv.get("$uac_req(evtype)") + "," + (rs === null ? "nil" : rs) + "," + (p === null ? "nil" : p);
  KSR.pv.sets("$uac_req(method)", "INFO");
  KSR.pv.sets("$uac_req(hdrs)", "X-Ev: " + ev + "\\r\\n");
  KSR.pv.unset("$uac_req(body)");
  KSR.pv.unset("$uac_req(apasswd)");
  KSR.pv.seti("$uac_req(evroute)", 0);
  KSR.uac.uac_req_send();
}`);

/** Digest parameters of an Authorization value. */
function params(v: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const m of v.replace(/^Digest\s+/i, '').matchAll(/([a-z]+)=(?:"([^"]*)"|([^,\s]+))/gi)) out.set((m[1] ?? '').toLowerCase(), m[2] ?? m[3] ?? '');
  return out;
}

/** The far end: records every request; answers INFO 200 and the others as the case says. */
async function farEnd(answer: Answer): Promise<{ port: number; reqs: SipMessage[]; close: () => void }> {
  const reqs: SipMessage[] = [];
  const sock = dgram.createSocket('udp4');
  const nonce = 'n0nce-42';
  sock.on('message', (d, ri) => {
    const m = parseSipMessage(d);
    if (!m.isRequest) return;
    // a retransmission is not a new request
    if (reqs.some((r) => r.topVia.branch === m.topVia.branch)) return;
    reqs.push(m);
    const send = (text: string): void => { sock.send(text, ri.port, ri.address); };
    if (m.method === 'INFO' || answer === 'ok') return send(answerTo(m, 200));
    if (answer === 'none') return undefined;
    if (answer === '404') return send(answerTo(m, 404, 'Not Found'));
    const auth = m.getHeader('authorization');
    if (auth === undefined) {
      send(answerTo(m, 401, 'Unauthorized').replace('Content-Length: 0', `WWW-Authenticate: Digest realm="far.example", nonce="${nonce}", qop="auth"\r\nContent-Length: 0`));
      return;
    }
    const p = params(auth);
    const ha1 = md5('alice:far.example:s3cret');
    const want = md5(`${ha1}:${nonce}:${p.get('nc') ?? ''}:${p.get('cnonce') ?? ''}:auth:${md5(`${m.method}:${p.get('uri') ?? ''}`)}`);
    const ok = p.get('response') === want && p.get('username') === 'alice' && p.get('uri') === m.ruri;
    send(answerTo(m, ok ? 200 : 403, ok ? 'OK' : 'Bad Digest'));
  });
  sock.bind(0, '127.0.0.1');
  await once(sock, 'listening');
  return { port: sock.address().port, reqs, close: () => { sock.close(); } };
}

for (const engine of ENGINES) {
  describe(`KSR.uac.uac_req_send [${engine}]`, () => {
    for (const c of cases) {
      test(c.name, async () => {
        const far = await farEnd(c.answer);
        const server = await startServer(engine, script(engine, c, far.port), { config: { modules: { uac: { event_callback: 'ksr_uac_event' }, ...(c.tm === undefined ? {} : { tm: c.tm }) } } });
        const peer = await UdpPeer.open();
        try {
          peer.request({ method: 'OPTIONS' }, server.udpPort);
          const r = await peer.next(3000);
          assert.equal(r?.getHeader('x-rc'), String(c.rc), 'uac_req_send returned');
          await until(() => far.reqs.length >= c.methods.length, 4000, `${String(c.methods.length)} requests at the peer`);
          if (c.quiet !== undefined) await new Promise((res) => setTimeout(res, c.quiet));
          assert.deepEqual(far.reqs.map((m) => m.method), c.methods, 'requests at the peer');
          assert.deepEqual(far.reqs.filter((m) => m.method === 'INFO').map((m) => m.getHeader('x-ev')), c.events, 'what the event callback saw');
          c.check?.(far.reqs, far.port);
        } finally {
          peer.close();
          await server.close();
          far.close();
        }
      });
    }
  });
}

/** Over TCP (;transport=tcp): the server opens the connection; the reply comes back on it. */
const OVER_TCP: Case = {
  name: 'over TCP',
  set: [['method', 'MESSAGE'], ['ruri', 'sip:bob@127.0.0.1:{far};transport=tcp'], ['body', 'hello'], ['evroute', 1]],
  answer: 'ok', rc: 1, methods: ['MESSAGE', 'INFO'], events: ['uac:reply,200,1,200,nil'],
};

for (const engine of ENGINES) {
  test(`KSR.uac.uac_req_send [${engine}]: ;transport=tcp opens a connection, the callback sees the 200`, async () => {
    const far = await NextHop.start('tcp', 200);
    const server = await startServer(engine, script(engine, OVER_TCP, far.port), { config: { modules: { uac: { event_callback: 'ksr_uac_event' } } } });
    const peer = await UdpPeer.open();
    try {
      peer.request({ method: 'OPTIONS' }, server.udpPort);
      assert.equal((await peer.next(3000))?.getHeader('x-rc'), '1');
      const info = await far.request(2, 3000);
      const [message] = far.received;
      assert.ok(message !== undefined);
      assert.equal(message.method, 'MESSAGE');
      assert.match(message.getHeader('via') ?? '', /^SIP\/2\.0\/TCP /);
      assert.equal(message.body.toString(), 'hello');
      assert.equal(info?.getHeader('x-ev'), OVER_TCP.events[0]);
    } finally {
      peer.close();
      await server.close();
      far.close();
    }
  });
}
