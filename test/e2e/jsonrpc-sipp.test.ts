/**
 * KSR.jsonrpc call flows with sipp as the UAC and a real netstring JSON-RPC server: INVITE →
 * request → return_route → 200 → ACK; two requests chained (return_route sends the next one);
 * CANCEL while the request is in flight (487, and the later answer runs nothing). sipp fails a
 * call on any unexpected message, so "nothing is sent after" is checked by the scenarios.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { NetstringServer } from '../helpers/netstring-server.js';
import { until } from '../helpers/until.js';
import { ENGINES, startServer, type EngineName, type TestServer } from '../helpers/runtime.js';
import { freePort, runSipp, SIPP_FIXTURES } from '../helpers/sipp.js';

const CALLS = 10;

/** The R-URI user is the flow: answer, chain, cancel (the server answers "slow" after 1 s). */
function script(engine: EngineName): string {
  return engine === 'lua'
    ? `function ksr_request_route()
  if KSR.is_ACK() then return end
  KSR.tm.t_newtran()
  local mode = KSR.pv.get("$rU")
  KSR.pv.sets("$var(path)", "req")
  KSR.jsonrpc.request(mode == "cancel" and "slow" or "first", "[]", mode == "chain" and "ONE" or "ANSWER", "FAIL", "$var(r)")
  KSR.x.exit()
end
function ONE()
  KSR.pv.sets("$var(path)", KSR.pv.get("$var(path)") .. ",one")
  KSR.jsonrpc.request("second", "[]", "TWO", "FAIL", "$var(r)")
end
function TWO()
  KSR.pv.sets("$var(path)", KSR.pv.get("$var(path)") .. ",two")
  ANSWER()
end
function ANSWER()
  KSR.hdr.append_to_reply("X-Chain: " .. KSR.pv.get("$var(path)") .. "\\r\\n")
  KSR.tm.t_reply(200, "OK")
end
function FAIL()
  KSR.tm.t_reply(500, "RPC " .. KSR.pv.get("$var(r)"))
end
`
    : `function ksr_request_route() {
  if (KSR.is_ACK()) return;
  KSR.tm.t_newtran();
  const mode = KSR.pv.get("$rU");
  KSR.pv.sets("$var(path)", "req");
  KSR.jsonrpc.request(mode === "cancel" ? "slow" : "first", "[]", mode === "chain" ? "ONE" : "ANSWER", "FAIL", "$var(r)");
  KSR.x.exit();
}
function ONE() {
  KSR.pv.sets("$var(path)", KSR.pv.get("$var(path)") + ",one");
  KSR.jsonrpc.request("second", "[]", "TWO", "FAIL", "$var(r)");
}
function TWO() {
  KSR.pv.sets("$var(path)", KSR.pv.get("$var(path)") + ",two");
  ANSWER();
}
function ANSWER() {
  KSR.hdr.append_to_reply("X-Chain: " + KSR.pv.get("$var(path)") + "\\r\\n");
  KSR.tm.t_reply(200, "OK");
}
function FAIL() {
  KSR.tm.t_reply(500, "RPC " + KSR.pv.get("$var(r)"));
}
`;
}

async function withServer(engine: EngineName, fn: (s: TestServer, rpc: NetstringServer) => Promise<void>): Promise<void> {
  const rpc = await NetstringServer.start('A', (m, peer) => {
    if (m.method === 'slow') setTimeout(() => { peer.answer(m.id, { result: 'late' }); }, 1000);
    else peer.answer(m.id, { result: m.method });
  });
  const server = await startServer(engine, script(engine), {
    config: { modules: { jsonrpc: { servers: `127.0.0.1:${String(rpc.port)},1`, timeout: 3000 } } },
  });
  try {
    await until(() => server.rt.stats.get('jsonrpc:servers_connected') === 1, 3000, 'connected');
    await fn(server, rpc);
  } finally {
    await server.close();
    await rpc.stop();
  }
}

async function uac(server: TestServer, scenario: string, service: string): Promise<void> {
  const r = await runSipp([
    `127.0.0.1:${String(server.udpPort)}`, '-sf', join(SIPP_FIXTURES, scenario), '-s', service, '-i', '127.0.0.1', '-p', String(await freePort()),
    '-m', String(CALLS), '-r', String(CALLS), '-timeout', '30', '-timeout_error',
  ]);
  assert.equal(r.code, 0, r.output);
}

for (const engine of ENGINES) {
  describe(`jsonrpc + tm with sipp [${engine}]`, () => {
    test('INVITE → jsonrpc.request → return_route → 200 → ACK', async () => {
      await withServer(engine, async (server, rpc) => {
        await uac(server, 'async-invite-uac.xml', 'answer');
        assert.equal(rpc.requests().length, CALLS);
        assert.equal(server.rt.stats.get('jsonrpc:replies'), CALLS);
        assert.equal(server.rt.stats.get('tm:absorbed'), CALLS, 'every ACK matched its 200');
        assert.equal(server.rt.stats.get('tm:suspended'), 0);
      });
    });

    test('chained: return_route sends a second request, whose return_route answers', async () => {
      await withServer(engine, async (server, rpc) => {
        await uac(server, 'async-chain-uac.xml', 'chain');
        assert.deepEqual(rpc.requests().filter((q) => q.method === 'second').length, CALLS);
        assert.equal(server.rt.stats.get('jsonrpc:replies'), 2 * CALLS);
      });
    });

    test('CANCEL while the request is in flight: 487; the late answer runs nothing (gone)', async () => {
      await withServer(engine, async (server) => {
        await uac(server, 'async-cancel-uac.xml', 'cancel');
        await until(() => server.rt.stats.get('jsonrpc:gone') === CALLS, 3000, 'every answer found its transaction gone');
        assert.equal(server.rt.stats.get('tm:canceled'), CALLS);
        assert.equal(server.rt.stats.get('tm:local_replies'), CALLS, 'the 487s only');
      });
    });
  });
}
