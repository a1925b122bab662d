/**
 * lookup → t_relay forks in parallel to every contact of the AoR, on both engines: three UAS
 * peers each get the INVITE (the best q in the R-URI first), each branch with its own
 * $T_branch_idx and branch flags in the branch route; the first 200 goes upstream and the
 * others are CANCELled; when all fail the failure route runs once. append_branch adds branches
 * the same way; append_branches 0 sends to the best contact only.
 */
import assert from 'node:assert/strict';
import type { SipMessage } from '../../host/sip/message.js';
import { runFlowCases, type FlowCase, type FlowEnv } from '../helpers/flow-cases.js';
import type { UdpPeer } from '../helpers/sip-client.js';
import { registerSpec } from './registrar-script.js';

const LUA = `
function ksr_request_route()
  if KSR.is_REGISTER() then
    if KSR.hdr.is_present("X-Nat") > 0 then KSR.setbflag(6) end
    KSR.registrar.save("location", 0)
    return
  end
  if KSR.is_ACK() or KSR.is_CANCEL() then
    if KSR.tm.t_check_trans() > 0 then KSR.tm.t_relay() end
    return
  end
  local rc = KSR.registrar.lookup("location")
  if rc < 0 then
    KSR.sl.send_reply(404, "Not Found")
    return
  end
  local extra = KSR.hdr.get("X-Append")
  if extra ~= nil then KSR.corex.append_branch_uri(extra) end
  KSR.tm.t_on_branch("BRANCH")
  KSR.tm.t_on_failure("FAIL")
  KSR.tm.t_relay()
end
function BRANCH()
  KSR.hdr.append("X-Branch: " .. KSR.pv.get("$T_branch_idx") .. " " .. tostring(KSR.isbflagset(6)) .. "\\r\\n")
end
function FAIL()
  KSR.hdr.append_to_reply("X-Failed: " .. KSR.pv.get("$T_reply_code") .. "\\r\\n")
  KSR.tm.t_reply(480, "All Failed")
end
`;

const JS = `
function ksr_request_route() {
  if (KSR.is_REGISTER()) {
    if (KSR.hdr.is_present("X-Nat") > 0) KSR.setbflag(6);
    KSR.registrar.save("location", 0);
    return;
  }
  if (KSR.is_ACK() || KSR.is_CANCEL()) {
    if (KSR.tm.t_check_trans() > 0) KSR.tm.t_relay();
    return;
  }
  var rc = KSR.registrar.lookup("location");
  if (rc < 0) {
    KSR.sl.send_reply(404, "Not Found");
    return;
  }
  var extra = KSR.hdr.get("X-Append");
  if (extra !== null) KSR.corex.append_branch_uri(extra);
  KSR.tm.t_on_branch("BRANCH");
  KSR.tm.t_on_failure("FAIL");
  KSR.tm.t_relay();
}
function BRANCH() {
  KSR.hdr.append("X-Branch: " + KSR.pv.get("$T_branch_idx") + " " + KSR.isbflagset(6) + "\\r\\n");
}
function FAIL() {
  KSR.hdr.append_to_reply("X-Failed: " + KSR.pv.get("$T_reply_code") + "\\r\\n");
  KSR.tm.t_reply(480, "All Failed");
}
`;

const TM = { tm: { retr_timer1: 40, retr_timer2: 160, fr_timer: 2000 } };

function contactOf(p: UdpPeer, q: string): string {
  return `<sip:bob@127.0.0.1:${String(p.port)}>;q=${q}`;
}

/** Register each UAS under bob with its q (and X-Nat for the flagged one). */
async function registerAll(env: FlowEnv, qs: readonly string[], natIndex = -1): Promise<void> {
  for (let i = 0; i < qs.length; i++) {
    const p = env.uas[i] as UdpPeer;
    const r = await env.send(registerSpec('bob', [contactOf(p, qs[i] ?? '1')], { callId: `reg-${String(i)}`, headers: i === natIndex ? ['X-Nat: 1'] : [] }));
    assert.equal(r.status, 200);
  }
}

async function next(peer: UdpPeer, pred: (m: SipMessage) => boolean, what: string, timeoutMs = 2000): Promise<SipMessage> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const m = await peer.next(Math.max(1, end - Date.now()));
    assert.ok(m !== null, `${what} not received`);
    if (pred(m)) return m;
  }
}

const isReq = (method: string) => (m: SipMessage): boolean => m.isRequest && m.method === method;
const isReply = (code: number, method = 'INVITE') => (m: SipMessage): boolean => !m.isRequest && m.status === code && m.cseq.method === method;

function answer(env: FlowEnv, uas: UdpPeer, req: SipMessage, code: number, reason: string, tag: string): void {
  const lines = [`SIP/2.0 ${String(code)} ${reason}`, ...req.getHeaders('via').map((v) => `Via: ${v}`), `From: ${req.getHeader('from') ?? ''}`];
  lines.push(`To: ${req.getHeader('to') ?? ''}${req.to.tag === '' ? `;tag=${tag}` : ''}`, `Call-ID: ${req.callId}`, `CSeq: ${req.getHeader('cseq') ?? ''}`, 'Content-Length: 0', '', '');
  uas.send(lines.join('\r\n'), env.server.udpPort);
}

const invite = { method: 'INVITE', ruri: 'sip:bob@example.com', to: '<sip:bob@example.com>', callId: 'fork@test', fromTag: 'uac' };

const cases: FlowCase[] = [
  {
    name: 'three contacts: three branches by q, each its index and flags; the first 200 wins, the others get CANCEL',
    lua: LUA, js: JS, full: true, uas: 3, config: { modules: TM },
    async flow(env) {
      const [u0, u1, u2] = env.uas as [UdpPeer, UdpPeer, UdpPeer];
      await registerAll(env, ['0.5', '0.9', '0.1'], 0);
      env.uac.request(invite, env.server.udpPort);
      const i1 = await next(u1, isReq('INVITE'), 'INVITE at the best contact');
      const i0 = await next(u0, isReq('INVITE'), 'INVITE at the second');
      const i2 = await next(u2, isReq('INVITE'), 'INVITE at the third');
      assert.equal(i1.ruri, `sip:bob@127.0.0.1:${String(u1.port)}`);
      assert.deepEqual(i1.getHeaders('x-branch'), ['0 false']);
      assert.deepEqual(i0.getHeaders('x-branch'), ['1 true'], 'the NATed contact\'s branch flag, on its branch only');
      assert.deepEqual(i2.getHeaders('x-branch'), ['2 false']);
      for (const [p, r] of [[u0, i0], [u1, i1], [u2, i2]] as const) answer(env, p, r, 180, 'Ringing', `t${String(p.port)}`);
      answer(env, u0, i0, 200, 'OK', `t${String(u0.port)}`);
      const ok = await next(env.uac, isReply(200), 'the 200');
      assert.equal(ok.to.tag, `t${String(u0.port)}`);
      const c1 = await next(u1, isReq('CANCEL'), 'CANCEL at the best contact');
      const c2 = await next(u2, isReq('CANCEL'), 'CANCEL at the third');
      assert.equal(c1.topVia.branch, i1.topVia.branch);
      assert.equal(c2.topVia.branch, i2.topVia.branch);
      assert.equal((await u0.next(300))?.method === 'CANCEL', false, 'the winner gets no CANCEL');
    },
  },
  {
    name: 'every branch fails: the failure route runs once, after the last, with the best code',
    lua: LUA, js: JS, full: true, uas: 3, config: { modules: TM },
    async flow(env) {
      const [u0, u1, u2] = env.uas as [UdpPeer, UdpPeer, UdpPeer];
      await registerAll(env, ['1', '0.5', '0.2']);
      env.uac.request(invite, env.server.udpPort);
      const reqs = await Promise.all([u0, u1, u2].map((p) => next(p, isReq('INVITE'), 'INVITE')));
      answer(env, u0, reqs[0] as SipMessage, 503, 'Unavailable', 'a');
      answer(env, u1, reqs[1] as SipMessage, 486, 'Busy Here', 'b');
      assert.equal(await env.uac.next(200).then((m) => m?.status === 480), false, 'no final while a branch is pending');
      answer(env, u2, reqs[2] as SipMessage, 603, 'Decline', 'c');
      const fin = await next(env.uac, isReply(480), 'the failure route\'s 480');
      assert.equal(fin.getHeader('x-failed'), '603');
      for (let m = await env.uac.next(300); m !== null; m = await env.uac.next(300)) {
        assert.equal(m.status, 480, 'no other final reply (a 480 again is its retransmission: the UAC sends no ACK)');
      }
    },
  },
  {
    name: 'append_branch_uri adds a branch beside lookup\'s; append_branches 0 leaves lookup\'s others out',
    lua: LUA, js: JS, full: true, uas: 3, config: { modules: { ...TM, registrar: { append_branches: 0 } } },
    async flow(env) {
      const [u0, u1, u2] = env.uas as [UdpPeer, UdpPeer, UdpPeer];
      await registerAll(env, ['1', '0.5']);
      env.uac.request({ ...invite, headers: [`X-Append: sip:extra@127.0.0.1:${String(u2.port)}`] }, env.server.udpPort);
      const a = await next(u0, isReq('INVITE'), 'INVITE at the best contact');
      const c = await next(u2, isReq('INVITE'), 'INVITE at the appended URI');
      assert.equal(c.ruri, `sip:extra@127.0.0.1:${String(u2.port)}`);
      assert.deepEqual(c.getHeaders('x-branch'), ['1 false']);
      assert.equal(await u1.next(300), null, 'the second contact is not tried');
      answer(env, u0, a, 200, 'OK', 'a');
      await next(env.uac, isReply(200), 'the 200');
    },
  },
  {
    name: 'a contact registered through a Path: its branch goes to the first hop with the Path as Route',
    lua: LUA, js: JS, full: true, uas: 1, config: { modules: { ...TM, registrar: { use_path: 1, path_mode: 0 } } },
    async flow(env) {
      const [edge] = env.uas as [UdpPeer];
      const hop = `<sip:127.0.0.1:${String(edge.port)};lr>`;
      const r = await env.send(registerSpec('bob', ['<sip:bob@192.0.2.7:5060>'], { headers: [`Path: ${hop}`] }));
      assert.equal(r.status, 200);
      env.uac.request(invite, env.server.udpPort);
      const inv = await next(edge, isReq('INVITE'), 'INVITE at the Path hop');
      assert.equal(inv.ruri, 'sip:bob@192.0.2.7:5060', 'the R-URI is the contact');
      assert.deepEqual(inv.getHeaders('route'), [hop]);
      answer(env, edge, inv, 486, 'Busy Here', 'e');
      await next(env.uac, isReply(480), 'the failure route\'s 480');
    },
  },
];

runFlowCases('lookup and t_relay: parallel forking', cases);
