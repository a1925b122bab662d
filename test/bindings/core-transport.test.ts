/**
 * The transport tests and send flags of core KSR (is_UDP…is_WSX, set_reply_close & co.) and the
 * route-kind tests of tmx (t_is_*_route, tm.t_get_branch_index), both engines, real peers.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { runBindingCases, type BindingCase } from '../helpers/binding-cases.js';
import { NextHop } from '../helpers/next-hop.js';
import { ENGINES, routeScript, startServer, type EngineName } from '../helpers/runtime.js';
import { TcpPeer, UdpPeer } from '../helpers/sip-client.js';
import { until } from '../helpers/until.js';

const PROTO_TESTS = ['is_UDP', 'is_TCP', 'is_TLS', 'is_SCTP', 'is_WS', 'is_WSS', 'is_WSX', 'is_IPv4', 'is_IPv6'];
const protoLua = `KSR.hdr.append_to_reply("X-P: " .. ${PROTO_TESTS.map((f) => `tostring(KSR.${f}())`).join(' .. "," .. ')} .. "\\r\\n")\nKSR.sl.sl_send_reply(200, "OK")`;
const protoJs = `KSR.hdr.append_to_reply("X-P: " + [${PROTO_TESTS.map((f) => `KSR.${f}()`).join(', ')}].join(",") + "\\r\\n");\nKSR.sl.sl_send_reply(200, "OK");`;

/** a whole script: the request, branch, reply and failure routes each say which kind they are */
const KINDS = 'KSR.tmx.t_is_request_route() .. KSR.tmx.t_is_branch_route() .. KSR.tmx.t_is_failure_route() .. KSR.tmx.t_is_reply_route() .. "/" .. KSR.tm.t_get_branch_index()';
const KINDS_JS = '"" + KSR.tmx.t_is_request_route() + KSR.tmx.t_is_branch_route() + KSR.tmx.t_is_failure_route() + KSR.tmx.t_is_reply_route() + "/" + KSR.tm.t_get_branch_index()';
const kindsLua = `function ksr_request_route()
  KSR.hdr.append("X-Req: " .. ${KINDS} .. "\\r\\n")
  KSR.tm.t_on_branch("BRANCH")
  KSR.tm.t_on_reply("REPLY")
  KSR.tm.t_on_failure("FAILURE")
  KSR.tm.t_relay()
end
function BRANCH() KSR.hdr.append("X-Branch: " .. ${KINDS} .. "\\r\\n") end
function REPLY() KSR.hdr.append("X-Reply: " .. ${KINDS} .. "\\r\\n") end
function FAILURE()
  KSR.hdr.append_to_reply("X-Failure: " .. ${KINDS} .. "\\r\\n")
  KSR.tm.t_reply(500, "Failed")
end
function ksr_reply_route() KSR.hdr.append("X-Core-Reply: " .. KSR.tmx.t_is_reply_route() .. "\\r\\n") end
`;
const kindsJs = `function ksr_request_route() {
  KSR.hdr.append("X-Req: " + ${KINDS_JS} + "\\r\\n");
  KSR.tm.t_on_branch("BRANCH");
  KSR.tm.t_on_reply("REPLY");
  KSR.tm.t_on_failure("FAILURE");
  KSR.tm.t_relay();
}
function BRANCH() { KSR.hdr.append("X-Branch: " + ${KINDS_JS} + "\\r\\n"); }
function REPLY() { KSR.hdr.append("X-Reply: " + ${KINDS_JS} + "\\r\\n"); }
function FAILURE() {
  KSR.hdr.append_to_reply("X-Failure: " + ${KINDS_JS} + "\\r\\n");
  KSR.tm.t_reply(500, "Failed");
}
function ksr_reply_route() { KSR.hdr.append("X-Core-Reply: " + KSR.tmx.t_is_reply_route() + "\\r\\n"); }
`;

const INVITE = { method: 'INVITE', ruri: 'sip:bob@127.0.0.1:{next}' };

// is_dst_port against the port the request really arrived on ($Rp), and a port it did not
const dstLua = 'KSR.hdr.append_to_reply("X-D: " .. tostring(KSR.is_dst_port(KSR.pv.get("$Rp"))) .. "," .. tostring(KSR.is_dst_port(KSR.pv.get("$Rp") + 1)) .. "\\r\\n")\nKSR.sl.sl_send_reply(200, "OK")';
const dstJs = 'KSR.hdr.append_to_reply("X-D: " + KSR.is_dst_port(KSR.pv.get("$Rp")) + "," + KSR.is_dst_port(KSR.pv.get("$Rp") + 1) + "\\r\\n");\nKSR.sl.sl_send_reply(200, "OK");';

const cases: BindingCase[] = [
  { name: 'is_dst_port: the receiving port, not another', lua: dstLua, js: dstJs, expect: { status: 200, headers: { 'X-D': 'true,false' } } },
  { name: 'is_dst_port over TCP', lua: dstLua, js: dstJs, transport: 'tcp', expect: { status: 200, headers: { 'X-D': 'true,false' } } },
  { name: 'over UDP/IPv4', lua: protoLua, js: protoJs, expect: { status: 200, headers: { 'X-P': 'true,false,false,false,false,false,false,true,false' } } },
  { name: 'over TCP', lua: protoLua, js: protoJs, transport: 'tcp', expect: { status: 200, headers: { 'X-P': 'false,true,false,false,false,false,false,true,false' } } },
  {
    name: 'route kinds: request route, branch route (index 0), tm reply route, core reply route',
    lua: kindsLua, js: kindsJs, full: true, request: INVITE, next: { transport: 'udp' },
    expect: {
      status: 200,
      headers: { 'X-Reply': '-1-1-11/0', 'X-Core-Reply': '1' },
      forwarded: { headers: { 'X-Req': '1-1-1-1/0', 'X-Branch': '-11-1-1/0' } },
    },
  },
  {
    name: 'route kinds: failure route (one branch so far)',
    lua: kindsLua, js: kindsJs, full: true, request: INVITE, next: { transport: 'udp', answer: 486 },
    expect: { status: 500, headers: { 'X-Failure': '-1-11-1/1' } },
  },
];

runBindingCases('core transport tests, tmx route kinds', cases);

async function withServer(engine: EngineName, body: string, fn: (ports: { udp: number; tcp: number }) => Promise<void>): Promise<void> {
  const server = await startServer(engine, routeScript(engine, body));
  try {
    await fn({ udp: server.udpPort, tcp: server.tcpPort });
  } finally {
    await server.close();
  }
}

/** true when the server closed `peer` within ms */
async function closedWithin(peer: TcpPeer, ms: number): Promise<boolean> {
  return Promise.race([peer.closed.then(() => true), new Promise<boolean>((r) => setTimeout(() => { r(false); }, ms))]);
}

const script = (lua: string, js: string) => (engine: EngineName): string => (engine === 'lua' ? lua : js);

for (const engine of ENGINES) {
  describe(`core send flags over TCP [${engine}]`, () => {
    test('set_reply_close: the connection closes after the reply; without it, it stays', async () => {
      const body = script('if KSR.hdr.get("X-Close") then KSR.set_reply_close() end\nKSR.sl.sl_send_reply(404, "Nope")',
        'if (KSR.hdr.get("X-Close") !== null) KSR.set_reply_close();\nKSR.sl.sl_send_reply(404, "Nope");')(engine);
      await withServer(engine, body, async ({ tcp }) => {
        const closing = await TcpPeer.connect(tcp);
        closing.request({ headers: ['X-Close: 1'] });
        assert.equal((await closing.next())?.status, 404);
        assert.equal(await closedWithin(closing, 2000), true, 'closed by the server');
        const open = await TcpPeer.connect(tcp);
        open.request({});
        assert.equal((await open.next())?.status, 404);
        assert.equal(await closedWithin(open, 300), false, 'left open');
        open.close();
      });
    });

    test('set_reply_close on a relayed INVITE: 100 and the final reply on the connection, then it closes', async () => {
      const next = await NextHop.start('udp', 200);
      try {
        await withServer(engine, script('KSR.set_reply_close()\nKSR.tm.t_relay()', 'KSR.set_reply_close();\nKSR.tm.t_relay();')(engine), async ({ tcp }) => {
          const peer = await TcpPeer.connect(tcp);
          peer.request({ method: 'INVITE', ruri: `sip:bob@127.0.0.1:${String(next.port)}` });
          assert.equal((await peer.next())?.status, 100);
          assert.equal((await peer.next())?.status, 200, 'the 100 did not close it');
          assert.equal(await closedWithin(peer, 2000), true);
        });
      } finally {
        next.close();
      }
    });

    test('set_forward_no_connect: no TCP connection to the next hop, so t_relay and forward fail (-1); set_forward_close closes it after the request', async () => {
      const next = await NextHop.start('tcp', 200);
      const body = script(`local dst = "sip:127.0.0.1:${String(next.port)};transport=tcp"
        if KSR.hdr.get("X-Close") then
          KSR.set_forward_close()
          KSR.forward_uri(dst)
          return
        end
        KSR.set_forward_no_connect()
        KSR.setdsturi(dst)
        local a = KSR.tm.t_relay()
        local b = KSR.forward_uri(dst)
        KSR.hdr.append_to_reply("X-Rc: " .. a .. "," .. b .. "\\r\\n")
        KSR.sl.sl_send_reply(200, "OK")`,
      `const dst = "sip:127.0.0.1:${String(next.port)};transport=tcp";
        if (KSR.hdr.get("X-Close") !== null) {
          KSR.set_forward_close();
          KSR.forward_uri(dst);
          return;
        }
        KSR.set_forward_no_connect();
        KSR.setdsturi(dst);
        const a = KSR.tm.t_relay();
        const b = KSR.forward_uri(dst);
        KSR.hdr.append_to_reply("X-Rc: " + a + "," + b + "\\r\\n");
        KSR.sl.sl_send_reply(200, "OK");`)(engine);
      try {
        await withServer(engine, body, async ({ udp }) => {
          const uac = await UdpPeer.open();
          uac.request({ method: 'MESSAGE' }, udp);
          const r = await uac.next();
          assert.equal(r?.getHeader('X-Rc'), '-1,-1');
          assert.equal(next.received.length, 0, 'nothing reached the next hop');
          uac.request({ method: 'MESSAGE', headers: ['X-Close: 1'] }, udp);
          await until(() => next.received.length === 1, 2000, 'the forwarded MESSAGE');
          await until(() => next.closedByPeer === 1, 2000, 'the server closing the connection');
          uac.close();
        });
      } finally {
        next.close();
      }
    });
  });
}
