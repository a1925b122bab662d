/**
 * KSR.jsonrpc on a real kemihost against real netstring JSON-RPC servers on 127.0.0.1, every
 * case on both engines from one table. The default script sends a request whose method is the
 * R-URI user and whose params are the X-Params header; return_route answers 200 with X-Result,
 * error_route 500 with X-Error. Assertions are on what the JSON-RPC servers received and on
 * what the SIP client received. From an xhttp callback: jsonrpc-xhttp.test.ts.
 */
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import type { SipMessage } from '../../host/sip/message.js';
import { encodeNetstring } from '../../host/jsonrpc/netstring.js';
import { NetstringServer, type Handler } from '../helpers/netstring-server.js';
import { until } from '../helpers/until.js';
import { ENGINES, routeScript, startServer, type EngineName, type TestServer } from '../helpers/runtime.js';
import { UdpPeer } from '../helpers/sip-client.js';

const LUA_ROUTES = `function RPC_OK()
  KSR.hdr.append_to_reply("X-Result: " .. KSR.pv.get("$var(result)") .. "\\r\\n")
  KSR.tm.t_reply(200, "OK")
end
function RPC_ERR()
  KSR.hdr.append_to_reply("X-Error: " .. KSR.pv.get("$var(result)") .. "\\r\\n")
  KSR.tm.t_reply(500, "RPC Failed")
end`;
const JS_ROUTES = `function RPC_OK() {
  KSR.hdr.append_to_reply("X-Result: " + KSR.pv.get("$var(result)") + "\\r\\n");
  KSR.tm.t_reply(200, "OK");
}
function RPC_ERR() {
  KSR.hdr.append_to_reply("X-Error: " + KSR.pv.get("$var(result)") + "\\r\\n");
  KSR.tm.t_reply(500, "RPC Failed");
}`;

const DEFAULT_LUA = `local rc = KSR.jsonrpc.request(KSR.pv.get("$rU"), KSR.pv.getvs("$hdr(X-Params)", ""), "RPC_OK", "RPC_ERR", "$var(result)")
  if rc ~= 0 then
    KSR.hdr.append_to_reply("X-Rc: " .. rc .. "\\r\\n")
    KSR.sl.sl_send_reply(503, "Not Sent")
  end
  KSR.x.exit()`;
const DEFAULT_JS = `const rc = KSR.jsonrpc.request(KSR.pv.get("$rU"), KSR.pv.getvs("$hdr(X-Params)", ""), "RPC_OK", "RPC_ERR", "$var(result)");
  if (rc !== 0) {
    KSR.hdr.append_to_reply("X-Rc: " + rc + "\\r\\n");
    KSR.sl.sl_send_reply(503, "Not Sent");
  }
  KSR.x.exit();`;

interface ServerSetup {
  readonly name: string;
  readonly priority: number;
  readonly handler?: Handler;
  /** configured, but nothing listens on its port at start-up */
  readonly down?: boolean;
}

interface Run {
  readonly engine: EngineName;
  readonly kh: TestServer;
  /** the JSON-RPC servers, by name (a down one is created, not listening) */
  readonly rpc: Readonly<Record<string, NetstringServer>>;
  /** send one request (method = R-URI user) and wait for its final reply */
  call(method: string, params?: string, waitMs?: number): Promise<SipMessage>;
  stat(name: string): number | undefined;
}

interface RpcCase {
  name: string;
  servers: readonly ServerSetup[];
  /** modules.jsonrpc besides servers */
  params?: Record<string, unknown>;
  /** other config sections */
  config?: Record<string, unknown>;
  /** body of ksr_request_route (the default script when absent) */
  lua?: string;
  js?: string;
  run(r: Run): Promise<void>;
}

async function finalReply(peer: UdpPeer, waitMs: number): Promise<SipMessage> {
  for (;;) {
    const m = await peer.next(waitMs);
    assert.ok(m !== null, 'no final reply received');
    if (m.status >= 200) return m;
  }
}

const hold: Handler = () => undefined;

/** the answer a server keeps back, by server */
const held = new Map<NetstringServer, () => void>();

function json(h: string | undefined): unknown {
  assert.ok(h !== undefined, 'header missing');
  return JSON.parse(h);
}

const cases: RpcCase[] = [
  {
    name: 'request → answer: return_route gets the JSON text of result; the server got a JSON-RPC 2.0 request',
    servers: [{ name: 'A', priority: 1 }],
    async run(r) {
      const reply = await r.call('get_user', '{"id": 1234, "name": "Petros"}');
      assert.equal(reply.status, 200);
      assert.deepEqual(json(reply.getHeader('X-Result')), { method: 'get_user', params: { id: 1234, name: 'Petros' }, server: 'A' });
      const [got] = r.rpc.A?.received ?? [];
      assert.ok(got !== undefined);
      assert.equal(got.jsonrpc, '2.0');
      assert.equal(got.method, 'get_user');
      assert.deepEqual(got.params, { id: 1234, name: 'Petros' });
      assert.equal(typeof got.id, 'number');
      assert.equal(r.stat('jsonrpc:requests'), 1);
      assert.equal(r.stat('jsonrpc:replies'), 1);
      assert.equal(r.stat('tm:created'), 1);
    },
  },
  {
    name: 'answers out of order on one connection reach the right message',
    servers: [
      {
        name: 'A',
        priority: 1,
        handler: (_m, peer, srv) => {
          const reqs = srv.requests();
          if (reqs.length < 3) return;
          for (const q of [...reqs].reverse()) peer.answer(q.id, { result: q.params });
        },
      },
    ],
    async run(r) {
      const replies = await Promise.all([1, 2, 3].map((n) => r.call('m', `[${String(n)}]`)));
      replies.forEach((rep, i) => {
        assert.equal(rep.status, 200);
        assert.deepEqual(json(rep.getHeader('X-Result')), [i + 1]);
      });
      const ids = r.rpc.A?.requests().map((q) => q.id) ?? [];
      assert.equal(new Set(ids).size, 3, 'distinct ids');
      assert.equal(r.rpc.A?.accepted, 1, 'one connection');
    },
  },
  {
    name: 'an error object runs error_route with its JSON text',
    servers: [{ name: 'A', priority: 1, handler: (m, peer) => { peer.answer(m.id, { error: { code: -32601, message: 'Method not found' } }); } }],
    async run(r) {
      const reply = await r.call('nope');
      assert.equal(reply.status, 500);
      assert.deepEqual(json(reply.getHeader('X-Error')), { code: -32601, message: 'Method not found' });
      assert.equal(r.stat('jsonrpc:errors'), 1);
      assert.equal(r.stat('jsonrpc:replies'), 0);
      assert.equal(r.rpc.A?.received[0]?.raw.params, undefined, 'no params member when params is ""');
    },
  },
  {
    name: 'a garbage frame drops the connection: pending requests fail with "failure", then it reconnects',
    servers: [{ name: 'A', priority: 1, handler: (_m, peer) => { peer.raw('this is not a netstring'); } }],
    params: { reconnect_interval: 50, timeout: 3000 },
    async run(r) {
      const t0 = performance.now();
      const reply = await r.call('m');
      assert.equal(reply.status, 500);
      assert.equal(reply.getHeader('X-Error'), 'failure');
      assert.ok(performance.now() - t0 < 1500, 'failed at once, not after the timeout');
      assert.equal(r.stat('jsonrpc:protocol_errors'), 1);
      assert.equal(r.stat('jsonrpc:failures'), 1);
      assert.equal(r.stat('jsonrpc:connection_failures'), 1);
      const srv = r.rpc.A;
      assert.ok(srv !== undefined);
      srv.handler = (m, peer) => { peer.answer(m.id, { result: 'ok again' }); };
      await until(() => srv.accepted === 2 && r.stat('jsonrpc:servers_connected') === 1, 3000, 'reconnection');
      const again = await r.call('m');
      assert.equal(again.status, 200);
      assert.equal(again.getHeader('X-Result'), '"ok again"');
    },
  },
  {
    name: 'a valid netstring that is not a JSON-RPC response is a protocol error too',
    servers: [{ name: 'A', priority: 1, handler: (_m, peer) => { peer.raw('3:[1],'); } }],
    params: { reconnect_interval: 50 },
    async run(r) {
      const reply = await r.call('m');
      assert.equal(reply.getHeader('X-Error'), 'failure');
      assert.equal(r.stat('jsonrpc:protocol_errors'), 1);
    },
  },
  {
    name: 'an oversized frame drops the connection (max_netstring_bytes); a small answer after reconnecting is taken',
    servers: [{ name: 'A', priority: 1, handler: (m, peer) => { peer.answer(m.id, { result: 'x'.repeat(200) }); } }],
    params: { reconnect_interval: 50, max_netstring_bytes: 100 },
    async run(r) {
      const reply = await r.call('m');
      assert.equal(reply.status, 500);
      assert.equal(reply.getHeader('X-Error'), 'failure');
      assert.equal(r.stat('jsonrpc:protocol_errors'), 1);
      const srv = r.rpc.A;
      assert.ok(srv !== undefined);
      srv.handler = (m, peer) => { peer.answer(m.id, { result: 'small' }); };
      await until(() => srv.accepted === 2 && r.stat('jsonrpc:servers_connected') === 1, 3000, 'reconnection');
      assert.equal((await r.call('m')).getHeader('X-Result'), '"small"');
    },
  },
  {
    name: 'an answer nested 100,000 deep: error_route gets "too_deep", counted; the connection stays and serves the next answer',
    servers: [{ name: 'A', priority: 1, handler: (m, peer) => { peer.raw(encodeNetstring(`{"jsonrpc":"2.0","id":${String(m.id)},"result":${'['.repeat(100_000)}${']'.repeat(100_000)}}`)); } }],
    async run(r) {
      const reply = await r.call('deep');
      assert.equal(reply.status, 500);
      assert.equal(reply.getHeader('X-Error'), 'too_deep');
      assert.equal(r.stat('jsonrpc:too_deep'), 1);
      assert.equal(r.stat('jsonrpc:protocol_errors'), 0);
      const srv = r.rpc.A;
      assert.ok(srv !== undefined);
      srv.handler = (m, peer) => { peer.answer(m.id, { result: 'fine' }); };
      assert.equal((await r.call('m')).getHeader('X-Result'), '"fine"');
      assert.equal(srv.accepted, 1, 'the same connection');
    },
  },
  {
    name: 'max_json_depth: an answer at the limit is taken, one level deeper is "too_deep"; one without a top-level id is a protocol error',
    servers: [{ name: 'A', priority: 1, handler: (m, peer) => {
      const noId = m.method === 'noid';
      const depth = noId ? 6 : Number(m.method);
      // the response object is level 1: result nests depth - 1 more
      peer.raw(encodeNetstring(`{"jsonrpc":"2.0",${noId ? '' : `"id":${String(m.id)},`}"result":${'['.repeat(depth - 1)}${']'.repeat(depth - 1)}}`));
    } }],
    params: { max_json_depth: 5, reconnect_interval: 50 },
    async run(r) {
      assert.equal((await r.call('5')).getHeader('X-Result'), '[[[[]]]]');
      assert.equal((await r.call('6')).getHeader('X-Error'), 'too_deep');
      assert.equal(r.stat('jsonrpc:too_deep'), 1);
      assert.equal(r.stat('jsonrpc:protocol_errors'), 0);
      assert.equal((await r.call('noid')).getHeader('X-Error'), 'failure');
      assert.equal(r.stat('jsonrpc:too_deep'), 2);
      assert.equal(r.stat('jsonrpc:protocol_errors'), 1);
    },
  },
  {
    name: 'no answer within timeout: error_route gets "timeout"; the late answer is counted as unmatched and ignored',
    servers: [{ name: 'A', priority: 1, handler: (m, peer) => { setTimeout(() => { peer.answer(m.id, { result: 'late' }); }, 300); } }],
    params: { timeout: 100 },
    async run(r) {
      const t0 = performance.now();
      const reply = await r.call('slow');
      const ms = performance.now() - t0;
      assert.equal(reply.status, 500);
      assert.equal(reply.getHeader('X-Error'), 'timeout');
      assert.ok(ms >= 95 && ms < 1000, `timed out after ${String(ms)} ms`);
      assert.equal(r.stat('jsonrpc:timeouts'), 1);
      await until(() => r.stat('jsonrpc:unmatched') === 1, 2000, 'the late answer');
      assert.equal(r.stat('jsonrpc:servers_connected'), 1, 'an unknown id does not close the connection');
    },
  },
  {
    name: 'request_timeout overrides the timeout parameter for one call; $avp works as result_var',
    servers: [{ name: 'A', priority: 1, handler: hold }],
    params: { timeout: 10_000 },
    lua: `KSR.jsonrpc.request_timeout("slow", "[]", "RPC_OK", "AVP_ERR", "$avp(res)", 80)
  KSR.x.exit()
end
function AVP_ERR()
  KSR.hdr.append_to_reply("X-Error: " .. KSR.pv.get("$avp(res)") .. "\\r\\n")
  KSR.tm.t_reply(500, "RPC Failed")`,
    js: `KSR.jsonrpc.request_timeout("slow", "[]", "RPC_OK", "AVP_ERR", "$avp(res)", 80);
  KSR.x.exit();
}
function AVP_ERR() {
  KSR.hdr.append_to_reply("X-Error: " + KSR.pv.get("$avp(res)") + "\\r\\n");
  KSR.tm.t_reply(500, "RPC Failed");`,
    async run(r) {
      const t0 = performance.now();
      const reply = await r.call('slow', '', 3000);
      assert.equal(reply.getHeader('X-Error'), 'timeout');
      assert.ok(performance.now() - t0 < 1000);
    },
  },
  {
    name: 'the top-priority server is down: the next group answers; when it comes back it is used again',
    servers: [
      { name: 'A', priority: 2, down: true },
      { name: 'B', priority: 1 },
    ],
    params: { reconnect_interval: 50, reconnect_max_interval: 100 },
    async run(r) {
      const a = r.rpc.A;
      assert.ok(a !== undefined);
      assert.equal(r.stat(`jsonrpc:server_127.0.0.1_${String(a.port)}_connected`), 0);
      assert.equal(r.stat(`jsonrpc:server_127.0.0.1_${String(r.rpc.B?.port)}_connected`), 1);
      for (let i = 0; i < 2; i++) {
        const reply = await r.call('m');
        assert.equal((json(reply.getHeader('X-Result')) as { server: string }).server, 'B');
      }
      await a.listen();
      await until(() => r.stat('jsonrpc:servers_connected') === 2, 3000, 'A back');
      assert.equal(r.stat(`jsonrpc:server_127.0.0.1_${String(a.port)}_connected`), 1);
      const reply = await r.call('m');
      assert.equal((json(reply.getHeader('X-Result')) as { server: string }).server, 'A');
      assert.equal(r.rpc.B?.requests().length, 2);
    },
  },
  {
    name: 'two servers in one group take requests round robin',
    servers: [
      { name: 'A', priority: 5 },
      { name: 'B', priority: 5 },
      { name: 'C', priority: 1 },
    ],
    async run(r) {
      const seen: string[] = [];
      for (let i = 0; i < 4; i++) seen.push((json((await r.call('m')).getHeader('X-Result')) as { server: string }).server);
      assert.ok(seen[0] !== seen[1], seen.join(','));
      assert.deepEqual(seen.slice(2), seen.slice(0, 2), seen.join(','));
      assert.equal(r.rpc.A?.requests().length, 2);
      assert.equal(r.rpc.B?.requests().length, 2);
      assert.equal(r.rpc.C?.requests().length, 0);
    },
  },
  {
    name: 'a server killed mid-request: "failure" at once; restarted, it is used again',
    servers: [{ name: 'A', priority: 1, handler: (_m, _peer, srv) => { void srv.stop(); } }],
    params: { reconnect_interval: 50, reconnect_max_interval: 100, timeout: 5000 },
    async run(r) {
      const t0 = performance.now();
      const reply = await r.call('m');
      assert.equal(reply.getHeader('X-Error'), 'failure');
      assert.ok(performance.now() - t0 < 2000, 'not after the timeout');
      const srv = r.rpc.A;
      assert.ok(srv !== undefined);
      await until(() => r.stat('jsonrpc:servers_connected') === 0, 2000, 'down');
      srv.handler = (m, peer) => { peer.answer(m.id, { result: 'restarted' }); };
      await srv.listen();
      await until(() => r.stat('jsonrpc:servers_connected') === 1, 3000, 'reconnected');
      assert.equal((await r.call('m')).getHeader('X-Result'), '"restarted"');
    },
  },
  {
    name: 'no server reachable at start-up: kemihost starts, requests fail fast with "failure" after the call returned 0',
    servers: [{ name: 'A', priority: 1, down: true }],
    params: { max_conn_attempts: 0 },
    lua: `local rc = KSR.jsonrpc.request("m", "{}", "RPC_OK", "ERR_RC", "$var(result)")
  KSR.pv.sets("$var(rc)", rc)
  KSR.x.exit()
end
function ERR_RC()
  KSR.hdr.append_to_reply("X-Rc: " .. KSR.pv.get("$var(rc)") .. "\\r\\n")
  RPC_ERR()`,
    js: `const rc = KSR.jsonrpc.request("m", "{}", "RPC_OK", "ERR_RC", "$var(result)");
  KSR.pv.sets("$var(rc)", String(rc));
  KSR.x.exit();
}
function ERR_RC() {
  KSR.hdr.append_to_reply("X-Rc: " + KSR.pv.get("$var(rc)") + "\\r\\n");
  RPC_ERR();`,
    async run(r) {
      const t0 = performance.now();
      const reply = await r.call('m');
      assert.ok(performance.now() - t0 < 1000, 'fast');
      assert.equal(reply.status, 500);
      assert.equal(reply.getHeader('X-Error'), 'failure');
      assert.equal(reply.getHeader('X-Rc'), '0', 'the call returned 0 and the error route ran afterwards');
      assert.equal(r.stat('jsonrpc:failures'), 1);
      await until(() => r.stat('jsonrpc:connection_failures') === 1, 2000, 'the one connection attempt failed');
      // max_conn_attempts 0: the server coming up later is never connected to
      const a = r.rpc.A;
      assert.ok(a !== undefined);
      await a.listen();
      await new Promise((res) => setTimeout(res, 200));
      assert.equal(a.accepted, 0);
      assert.equal(r.stat('jsonrpc:connection_failures'), 1);
    },
  },
  {
    name: 'a request in flight across a script reload finishes in the version that sent it',
    servers: [{ name: 'A', priority: 1, handler: (m, peer, srv) => { held.set(srv, () => { peer.answer(m.id, { result: 1 }); }); } }],
    params: { timeout: 5000 },
    lua: `KSR.jsonrpc.request("m", "[]", "V_OK", "RPC_ERR", "$var(result)")
  KSR.x.exit()
end
function V_OK()
  KSR.hdr.append_to_reply("X-Version: one\\r\\n")
  KSR.tm.t_reply(200, "OK")`,
    js: `KSR.jsonrpc.request("m", "[]", "V_OK", "RPC_ERR", "$var(result)");
  KSR.x.exit();
}
function V_OK() {
  KSR.hdr.append_to_reply("X-Version: one\\r\\n");
  KSR.tm.t_reply(200, "OK");`,
    async run(r) {
      const srv = r.rpc.A;
      assert.ok(srv !== undefined);
      const first = r.call('m', '', 5000);
      await srv.waitReceived(1);
      const path = r.kh.rt.scriptPath;
      writeFileSync(path, readFileSync(path, 'utf8').replace('X-Version: one', 'X-Version: two'));
      const outcome = await r.kh.rt.reload('rpc');
      assert.equal(outcome.ok, true);
      held.get(srv)?.();
      assert.equal((await first).getHeader('X-Version'), 'one', 'resumed in the version that suspended it');
      srv.handler = (m, peer) => { peer.answer(m.id, { result: 2 }); };
      assert.equal((await r.call('m')).getHeader('X-Version'), 'two');
    },
  },
  {
    name: 'no servers configured at all: "failure"',
    servers: [],
    async run(r) {
      const reply = await r.call('m');
      assert.equal(reply.getHeader('X-Error'), 'failure');
    },
  },
  {
    name: 'notification: sent without id, returns 1; -1 when no server is connected; the seed\'s single-quoted params',
    servers: [{ name: 'A', priority: 1 }],
    lua: `local rc = KSR.jsonrpc.notification("update_user", "{'id': 1234, 'name': 'Petros'}")
  KSR.hdr.append_to_reply("X-Rc: " .. rc .. "\\r\\n")
  KSR.sl.sl_send_reply(200, "OK")`,
    js: `const rc = KSR.jsonrpc.notification("update_user", "{'id': 1234, 'name': 'Petros'}");
  KSR.hdr.append_to_reply("X-Rc: " + rc + "\\r\\n");
  KSR.sl.sl_send_reply(200, "OK");`,
    params: { reconnect_interval: 10_000 },
    async run(r) {
      const reply = await r.call('x');
      assert.equal(reply.getHeader('X-Rc'), '1');
      const srv = r.rpc.A;
      assert.ok(srv !== undefined);
      await srv.waitReceived(1);
      assert.deepEqual(srv.received[0]?.raw, { jsonrpc: '2.0', method: 'update_user', params: { id: 1234, name: 'Petros' } });
      assert.equal(r.stat('jsonrpc:notifications'), 1);
      await srv.stop();
      await until(() => r.stat('jsonrpc:servers_connected') === 0, 2000, 'down');
      assert.equal((await r.call('x')).getHeader('X-Rc'), '-1');
      assert.equal(r.stat('jsonrpc:notifications'), 1);
    },
  },
  {
    name: 'bad arguments return -1 and hold nothing: params not JSON, unknown route, not a PV, timeout out of range',
    servers: [{ name: 'A', priority: 1 }],
    lua: `local r = {
    KSR.jsonrpc.request("m", "{oops", "RPC_OK", "RPC_ERR", "$var(result)"),
    KSR.jsonrpc.request("m", "42", "RPC_OK", "RPC_ERR", "$var(result)"),
    KSR.jsonrpc.request("m", "{}", "NO_SUCH", "RPC_ERR", "$var(result)"),
    KSR.jsonrpc.request("m", "{}", "RPC_OK", "RPC_ERR", "result"),
    KSR.jsonrpc.request("m", "{}", "RPC_OK", "RPC_ERR", "$ru_nope"),
    KSR.jsonrpc.request("", "{}", "RPC_OK", "RPC_ERR", "$var(result)"),
    KSR.jsonrpc.request_timeout("m", "{}", "RPC_OK", "RPC_ERR", "$var(result)", 0),
    KSR.jsonrpc.notification("m", "[") }
  KSR.hdr.append_to_reply("X-Rc: " .. table.concat(r, ",") .. "\\r\\n")
  KSR.sl.sl_send_reply(200, "OK")`,
    js: `const r = [
    KSR.jsonrpc.request("m", "{oops", "RPC_OK", "RPC_ERR", "$var(result)"),
    KSR.jsonrpc.request("m", "42", "RPC_OK", "RPC_ERR", "$var(result)"),
    KSR.jsonrpc.request("m", "{}", "NO_SUCH", "RPC_ERR", "$var(result)"),
    KSR.jsonrpc.request("m", "{}", "RPC_OK", "RPC_ERR", "result"),
    KSR.jsonrpc.request("m", "{}", "RPC_OK", "RPC_ERR", "$ru_nope"),
    KSR.jsonrpc.request("", "{}", "RPC_OK", "RPC_ERR", "$var(result)"),
    KSR.jsonrpc.request_timeout("m", "{}", "RPC_OK", "RPC_ERR", "$var(result)", 0),
    KSR.jsonrpc.notification("m", "[")];
  KSR.hdr.append_to_reply("X-Rc: " + r.join(",") + "\\r\\n");
  KSR.sl.sl_send_reply(200, "OK");`,
    async run(r) {
      const reply = await r.call('x');
      assert.equal(reply.status, 200);
      assert.equal(reply.getHeader('X-Rc'), '-1,-1,-1,-1,-1,-1,-1,-1');
      assert.equal(r.stat('jsonrpc:requests'), 0);
      assert.equal(r.stat('tm:created'), 0);
      await new Promise((res) => setTimeout(res, 50));
      assert.equal(r.rpc.A?.received.length, 0);
    },
  },
  {
    name: 'max_in_flight: a full connection takes no more; the next server in the group does, then "failure"',
    servers: [
      { name: 'A', priority: 1, handler: hold },
      { name: 'B', priority: 1, handler: hold },
    ],
    params: { max_in_flight: 1, timeout: 400 },
    async run(r) {
      const first = [r.call('m', '', 3000), r.call('m', '', 3000)];
      await until(() => (r.rpc.A?.received.length ?? 0) + (r.rpc.B?.received.length ?? 0) === 2, 2000, 'two in flight');
      const third = await r.call('m');
      assert.equal(third.getHeader('X-Error'), 'failure');
      assert.equal(r.rpc.A?.received.length, 1);
      assert.equal(r.rpc.B?.received.length, 1);
      for (const rep of await Promise.all(first)) assert.equal(rep.getHeader('X-Error'), 'timeout');
    },
  },
];

function scriptOf(c: RpcCase, engine: EngineName): string {
  return engine === 'lua'
    ? routeScript('lua', c.lua ?? DEFAULT_LUA, LUA_ROUTES)
    : routeScript('js', c.js ?? DEFAULT_JS, JS_ROUTES);
}

async function runCase(engine: EngineName, c: RpcCase): Promise<void> {
  const rpc: Record<string, NetstringServer> = {};
  const servers: string[] = [];
  try {
    for (const s of c.servers) {
      const srv = await NetstringServer.start(s.name, s.handler);
      // A down server: the port was just ours, nothing listens on it now (and listen() brings it back).
      if (s.down === true) await srv.stop();
      rpc[s.name] = srv;
      servers.push(`127.0.0.1:${String(srv.port)},${String(s.priority)}`);
    }
    const kh = await startServer(engine, scriptOf(c, engine), {
      config: { ...c.config, modules: { jsonrpc: { servers: servers.join(' '), ...c.params } } },
    });
    try {
      const up = c.servers.filter((s) => s.down !== true).length;
      await until(() => kh.rt.stats.get('jsonrpc:servers_connected') === up, 3000, `${String(up)} servers connected`);
      const run: Run = {
        engine,
        kh,
        rpc,
        stat: (name) => kh.rt.stats.get(name),
        async call(method, params, waitMs = 3000) {
          const peer = await UdpPeer.open();
          try {
            peer.request({ method: 'MESSAGE', ruri: `sip:${method}@127.0.0.1`, headers: params === undefined || params === '' ? [] : [`X-Params: ${params}`] }, kh.udpPort);
            return await finalReply(peer, waitMs);
          } finally {
            peer.close();
          }
        },
      };
      await c.run(run);
    } finally {
      await kh.close();
    }
  } finally {
    await Promise.all(Object.values(rpc).map((s) => s.stop()));
  }
}

for (const engine of ENGINES) {
  describe(`KSR.jsonrpc [${engine}]`, () => {
    for (const c of cases) {
      test(c.name, () => runCase(engine, c));
    }
  });
}
