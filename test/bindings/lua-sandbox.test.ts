/**
 * A Lua script cannot take the server down (issue 13), over real SIP on UDP: the calls that
 * used to end or block the process are absent from the safe library, the limits end a
 * callback with 500 and a counted statistic, and the next request is served. lua.stdlib: full
 * gives the whole library and still cannot swallow KSR.x.exit() or remove the CPU limit.
 * Lua only: the JS engine's sandbox is test/unit/js-engine-sandbox.test.ts.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ENGINES, startServer, type TestServer } from '../helpers/runtime.js';
import { UdpPeer } from '../helpers/sip-client.js';
import { testModule } from '../fixtures/lua/lua-harness.js';

const SKIP = ENGINES.includes('lua') ? false : 'KEMIHOST_TEST_ENGINES leaves out lua';
const MARK = join(tmpdir(), `kemihost-lua-sandbox-${String(process.pid)}`);

const ROUTES = `
function ksr_request_route()
  local u = KSR.pv.get("$rU")
  if u == "exit" then os.exit(3)
  elseif u == "execute" then os.execute("touch ${MARK}; sleep 5")
  elseif u == "popen" then io.popen("ls")
  elseif u == "loadlib" then package.loadlib("${MARK}.js", "f")
  elseif u == "rep" then local s = string.rep("x", 1e9)
  elseif u == "grow" then local t = {} for i = 1, 1e8 do t[i] = { i } end
  elseif u == "loop" then while true do end
  elseif u == "sleep" then
    for i = 1, 5 do KSR.t.sleep(30) end
    local x = 0
    for i = 1, 20000 do x = x + i end
  elseif u == "types" then
    u = table.concat({ type(os.execute), type(os.exit), type(io.write), type(package.loadlib), type(os.getenv("PATH")) }, " ")
  elseif u == "upvalue" then
    for i = 1, 3 do
      local _, f = debug.getupvalue(pcall, i)
      if type(f) == "function" then f(KSR.x.exit) end
    end
    pcall(KSR.x.exit)
    KSR.sl.sl_send_reply(500, "exit was swallowed")
  elseif u == "sethook" then
    pcall(debug.sethook)
    pcall(debug.sethook, function() end, "", 0)
    local x = 0
    for i = 1, 5e7 do x = x + i end
  end
  KSR.sl.sl_send_reply(200, "alive " .. u)
end
`;

async function ask(server: TestServer, user: string, waitMs = 4000): Promise<{ status: number; reason: string } | null> {
  const peer = await UdpPeer.open();
  try {
    peer.request({ ruri: `sip:${user}@127.0.0.1` }, server.udpPort);
    const reply = await peer.next(waitMs);
    return reply === null ? null : { status: reply.status, reason: reply.reason };
  } finally {
    peer.close();
  }
}

function withServer(config: Record<string, unknown>, body: (get: () => TestServer) => void): void {
  let server: TestServer | null = null;
  before(async () => {
    server = await startServer('lua', ROUTES, { config, modules: [testModule] });
  });
  after(async () => {
    await server?.close();
  });
  body(() => {
    assert.ok(server !== null);
    return server;
  });
}

describe('Lua sandbox over SIP: lua.stdlib safe [lua]', { skip: SKIP }, () => {
  withServer({ limits: { cpu_ms: 50 } }, (server) => {
    test('os.exit, os.execute, io.popen, package.loadlib are absent: 500 each, nothing ran, the server answers', async () => {
      for (const user of ['exit', 'execute', 'popen', 'loadlib']) {
        assert.equal((await ask(server(), user))?.status, 500, user);
      }
      assert.equal(existsSync(MARK), false, 'os.execute ran');
      assert.deepEqual(await ask(server(), 'ok'), { status: 200, reason: 'alive ok' });
      assert.equal(server().rt.stats.get('script:errors'), 4);
    });

    test('string.rep("x", 1e9) is refused at once: 500, script:memory_limit, the next request is served', async () => {
      const t0 = performance.now();
      assert.equal((await ask(server(), 'rep', 1000))?.status, 500);
      assert.ok(performance.now() - t0 < 1000);
      assert.equal(server().rt.stats.get('script:memory_limit'), 1);
      assert.deepEqual(await ask(server(), 'ok'), { status: 200, reason: 'alive ok' });
    });

    test('cpu_ms is CPU time: waiting 150 ms outside Lua is not stopped, a loop is', async () => {
      assert.deepEqual(await ask(server(), 'sleep'), { status: 200, reason: 'alive sleep' });
      assert.equal((await ask(server(), 'loop'))?.status, 500);
      assert.equal(server().rt.stats.get('script:cpu_limit'), 1);
      assert.deepEqual(await ask(server(), 'ok'), { status: 200, reason: 'alive ok' });
    });
  });
});

describe('Lua sandbox over SIP: memory_mb [lua]', { skip: SKIP }, () => {
  withServer({ limits: { cpu_ms: 20_000, memory_mb: 16 } }, (server) => {
    test('a table that grows past memory_mb: 500, script:memory_limit, the next request is served', async () => {
      assert.equal((await ask(server(), 'grow', 15_000))?.status, 500);
      assert.equal(server().rt.stats.get('script:memory_limit'), 1);
      assert.deepEqual(await ask(server(), 'ok'), { status: 200, reason: 'alive ok' });
    });
  });
});

describe('Lua sandbox over SIP: lua.stdlib full [lua]', { skip: SKIP }, () => {
  withServer({ limits: { cpu_ms: 50 }, lua: { stdlib: 'full' } }, (server) => {
    test('gives os.execute, os.exit, io, package and os.getenv', async () => {
      assert.deepEqual(await ask(server(), 'types'), { status: 200, reason: 'alive function function function function string' });
    });

    test('KSR.x.exit() is not swallowed through debug.getupvalue(pcall): no reply', async () => {
      assert.equal(await ask(server(), 'upvalue', 500), null);
      assert.equal(server().rt.stats.get('script:errors'), 0);
      assert.deepEqual(await ask(server(), 'ok'), { status: 200, reason: 'alive ok' });
    });

    test('debug.sethook cannot remove the CPU limit: the loop is stopped', async () => {
      assert.equal((await ask(server(), 'sethook'))?.status, 500);
      assert.equal(server().rt.stats.get('script:cpu_limit'), 1);
      assert.deepEqual(await ask(server(), 'ok'), { status: 200, reason: 'alive ok' });
    });
  });
});
