/**
 * The Lua engine's CPU and memory limits on real fengari states: cpu_ms counts CPU time (not
 * time spent waiting), a backtracking pattern is stopped like a loop, library calls are
 * refused before they build past memory_mb, the `..` operator and a growing table are
 * stopped, and none of it can be swallowed by pcall. After each, the engine serves on.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CALL_OK, type CallResult, type ScriptFailure } from '../../host/engines/engine.js';
import { luaHarnessPerTest, type LuaHarness } from '../fixtures/lua/lua-harness.js';

const load = luaHarnessPerTest();

function failureOf(result: CallResult): ScriptFailure {
  if (result.ok) throw new Error(`expected a failure, got ${JSON.stringify(result)}`);
  return result.failure;
}

/** Run `name`, expect it to fail with `code` within `ms`; then the engine must still serve `ok`. */
function stopped(e: LuaHarness, name: string, code: ScriptFailure['code'], ms: number): ScriptFailure {
  const t0 = performance.now();
  const f = failureOf(e.run(name).result);
  const took = performance.now() - t0;
  assert.equal(f.code, code, f.message);
  assert.ok(took < ms, `took ${took.toFixed(0)} ms`);
  const next = e.run('ok');
  assert.deepEqual(next.result, CALL_OK);
  assert.equal(next.ctx.vars.get('ok'), '1');
  return f;
}

const OK = '\nfunction ok() KSR.pv.sets("$var(ok)", "1") end\nfunction check() KSR.pv.sets("$var(went_on)", tostring(went_on)) end';

describe('LuaEngine: cpu_ms is CPU time', () => {
  it('stops a runaway loop, with its line', () => {
    const e = load(`function spin()\n  while true do end\nend${OK}`, { cpuMs: 50 });
    const f = stopped(e, 'spin', 'KEMI_ERR_CPU_LIMIT', 2000);
    assert.equal(f.message, 'script exceeded the CPU limit of 50 ms');
    assert.equal(f.location, 'scripts/test.lua:2');
  });

  it('does not stop a callback that waits outside the Lua state longer than cpu_ms', () => {
    // 150 ms of waiting, then enough instructions that the hook looks at the clocks
    const e = load(`function ksr_request_route()
      for i = 1, 5 do KSR.t.sleep(30) end
      local x = 0
      for i = 1, 20000 do x = x + i end
      KSR.pv.sets("$var(done)", "yes")
    end`, { cpuMs: 50 });
    const { result, ctx } = e.run('ksr_request_route');
    assert.deepEqual(result, CALL_OK);
    assert.equal(ctx.vars.get('done'), 'yes');
  });

  it('counts CPU spent inside KSR calls', () => {
    const e = load(`function ksr_request_route() for i = 1, 100 do KSR.t.spin(5) end end${OK}`, { cpuMs: 50 });
    stopped(e, 'ksr_request_route', 'KEMI_ERR_CPU_LIMIT', 2000);
  });

  it('stops a backtracking pattern inside one string.find', () => {
    const e = load(`function ksr_request_route() string.find(string.rep("a", 120), ".-.-.-.-b") end${OK}`, { cpuMs: 50 });
    stopped(e, 'ksr_request_route', 'KEMI_ERR_CPU_LIMIT', 2000);
  });

  it('stops one table.sort of a big table; sorting still sorts', () => {
    const e = load(`big = {} for i = 1, 200000 do big[i] = (i * 7919) % 1000003 end
      function ksr_request_route() table.sort(big) end
      function small()
        local t = { 5, 3, 9, 1 } table.sort(t)
        local u = { "b", "c", "a" } table.sort(u, function(a, b) return a > b end)
        KSR.pv.sets("$var(sorted)", table.concat(t, ",") .. " " .. table.concat(u, ","))
        KSR.pv.sets("$var(err)", select(2, pcall(table.sort, { 1, "x", 3 })))
      end${OK}`, { cpuMs: 50 });
    stopped(e, 'ksr_request_route', 'KEMI_ERR_CPU_LIMIT', 1000);
    const { ctx } = e.run('small');
    assert.equal(ctx.vars.get('sorted'), '1,3,5,9 c,b,a');
    assert.match(String(ctx.vars.get('err')), /^attempt to compare (number with string|string with number)$/);
  });

  it('keeps firing: a loop of pcall around a loop is stopped', () => {
    const e = load(`function ksr_request_route() for i = 1, 1000 do pcall(function() while true do end end) went_on = true end end${OK}`, { cpuMs: 50 });
    stopped(e, 'ksr_request_route', 'KEMI_ERR_CPU_LIMIT', 2000);
    assert.equal(e.run('check').ctx.vars.get('went_on'), 'nil');
  });

  it('an error caught by pcall or xpcall leaves the limit in place (fengari lost the hook there; fengari-internals.ts)', () => {
    for (const catcher of ['pcall(error, "x")', 'xpcall(error, function(m) return m end, "x")', 'pcall(function() local t = nil; return t.x end)']) {
      const e = load(`function ksr_request_route() ${catcher} local x = 0 for i = 1, 5e7 do x = x + i end end${OK}`, { cpuMs: 50 });
      stopped(e, 'ksr_request_route', 'KEMI_ERR_CPU_LIMIT', 2000);
    }
  });

  it('a debug.sethook refused under pcall leaves the limit in place (lua.stdlib: full)', () => {
    const e = load(`function ksr_request_route() pcall(debug.sethook) pcall(debug.sethook, function() end, "", 0) local x = 0 for i = 1, 5e7 do x = x + i end end${OK}`, { cpuMs: 50, stdlib: 'full' });
    stopped(e, 'ksr_request_route', 'KEMI_ERR_CPU_LIMIT', 2000);
  });
});

describe('LuaEngine: memory_mb', () => {
  it('refuses string.rep("x", 1e9) before building it', () => {
    const e = load(`function ksr_request_route()\n  local s = string.rep("x", 1e9)\nend${OK}`);
    const f = stopped(e, 'ksr_request_route', 'KEMI_ERR_MEMORY_LIMIT', 200);
    assert.equal(f.message, 'script exceeded the memory limit of 128 MB (string.rep: 1000000000 bytes)');
    assert.equal(f.location, 'scripts/test.lua:2');
  });

  it('cannot be swallowed by pcall', () => {
    const e = load(`function ksr_request_route() pcall(string.rep, "x", 1e9) went_on = true end${OK}`);
    stopped(e, 'ksr_request_route', 'KEMI_ERR_MEMORY_LIMIT', 200);
    assert.equal(e.run('check').ctx.vars.get('went_on'), 'nil');
  });

  it('stops s = s .. s right after the result passes the limit', () => {
    const e = load(`function ksr_request_route() local s = "x" for i = 1, 28 do s = s .. s end end${OK}`, { memoryMb: 32 });
    const f = stopped(e, 'ksr_request_route', 'KEMI_ERR_MEMORY_LIMIT', 3000);
    assert.match(f.message, /\('\.\.': \d+ bytes\)$/);
  });

  it('stops a table that grows past the limit (the hook reads the heap)', () => {
    const e = load(`function ksr_request_route() local t = {} for i = 1, 2e6 do t[i] = { i } end end${OK}`, { memoryMb: 16, cpuMs: 20_000 });
    stopped(e, 'ksr_request_route', 'KEMI_ERR_MEMORY_LIMIT', 10_000);
  });

  const builders: Record<string, string> = {
    'table.concat of one big string many times': 'local t = {} for i = 1, 1000 do t[i] = big end table.concat(t)',
    'string.gsub with a function returning a big string': 'string.gsub(string.rep("a", 1000), "a", function() return big end)',
    'string.format of a big string many times': 'string.format(string.rep("%s", 100), table.unpack((function() local t = {} for i = 1, 100 do t[i] = big end return t end)()))',
    'table.unpack of a huge range': 'table.unpack({}, 1, 900000)',
    'string.rep with a separator': 'string.rep("", 1e7, big)',
  };
  for (const [name, code] of Object.entries(builders)) {
    it(`refuses ${name}`, () => {
      const e = load(`function ksr_request_route() local big = string.rep("x", 1000000) ${code} end${OK}`, { memoryMb: 32 });
      stopped(e, 'ksr_request_route', 'KEMI_ERR_MEMORY_LIMIT', 1000);
    });
  }

  it('lets an ordinary heavy callback through', () => {
    const e = load(`function ksr_request_route()
      local t = {}
      for i = 1, 20000 do t[i] = "entry " .. i end
      local s = table.concat(t, ",")
      local n = 0
      for w in s:upper():gmatch("%d+") do n = n + 1 end
      KSR.pv.seti("$var(n)", n)
      KSR.pv.seti("$var(len)", #string.format("%s|%s", s, s:gsub(",", ";")))
    end`, { cpuMs: 5000 });
    const { result, ctx } = e.run('ksr_request_route');
    assert.deepEqual(result, CALL_OK);
    assert.equal(ctx.vars.get('n'), 20000);
  });
});
