/**
 * The Lua engine's sandbox on real fengari states: what the safe and full libraries hold, a
 * stop (KSR.x.exit/drop, a limit) that no route through the script's code can swallow, load()
 * of text chunks only, compile() that runs nothing, print to the log. Limits: see
 * lua-engine-limits.test.ts.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { lauxlib, lua, lualib, type LuaState } from 'fengari';
import { CALL_DROP, CALL_EXIT, CALL_OK, type CallResult, type ScriptFailure } from '../../host/engines/engine.js';
import { LuaEngine } from '../../host/engines/lua/lua-engine.js';
import { isKemiError, type KemiError } from '../../host/errors.js';
import { luaHarnessPerTest } from '../fixtures/lua/lua-harness.js';

const load = luaHarnessPerTest();

function failureOf(result: CallResult): ScriptFailure {
  if (result.ok) throw new Error(`expected a failure, got ${JSON.stringify(result)}`);
  return result.failure;
}

/** A Lua function listing the keys of each named table, into $var(<name>). */
const LIST = `
local function keys(t)
  local out = {}
  for k in pairs(t) do out[#out + 1] = tostring(k) end
  table.sort(out)
  return table.concat(out, ",")
end
function list(names)
  for name in names:gmatch("[^,]+") do
    local t = name == "_G" and _G or _G[name]
    KSR.pv.sets("$var(" .. name .. ")", type(t) == "table" and keys(t) or type(t))
  end
end
`;

describe('LuaEngine safe library (lua.stdlib: safe)', () => {
  it('holds the language and its pure libraries, nothing that reaches files, processes or the host', () => {
    const e = load(LIST);
    const { ctx } = e.run('list', '_G,os,io,package,debug,string,table,coroutine,utf8');
    assert.equal(ctx.vars.get('_G'), [
      'KSR', '_G', '_VERSION', 'assert', 'collectgarbage', 'coroutine', 'debug', 'error', 'getmetatable', 'ipairs',
      'list', 'load', 'math', 'next', 'os', 'pairs', 'pcall', 'print', 'rawequal', 'rawget', 'rawlen', 'rawset',
      'require', 'select', 'setmetatable', 'string', 'table', 'tonumber', 'tostring', 'type', 'utf8', 'xpcall',
    ].join(','));
    assert.equal(ctx.vars.get('os'), 'clock,date,difftime,time');
    assert.equal(ctx.vars.get('io'), 'nil');
    assert.equal(ctx.vars.get('package'), 'nil');
    assert.equal(ctx.vars.get('debug'), 'traceback');
    assert.equal(ctx.vars.get('string'), 'byte,char,find,format,gmatch,gsub,len,lower,match,pack,packsize,rep,reverse,sub,unpack,upper');
    assert.equal(ctx.vars.get('table'), 'concat,insert,move,pack,remove,sort,unpack');
    assert.equal(ctx.vars.get('coroutine'), 'create,isyieldable,resume,running,status,wrap,yield');
    assert.equal(ctx.vars.get('utf8'), 'char,charpattern,codepoint,codes,len,offset');
  });

  it('os.exit, os.execute, io.popen and the file functions are absent: calling one is a script error', () => {
    const e = load(`
      function exit() os.exit(3) end
      function execute() os.execute("touch /tmp/kemihost-must-not-exist") end
      function popen() io.popen("ls") end
      function files() dofile("/etc/hostname") end
      function ok() KSR.pv.sets("$var(ok)", "1") end`);
    assert.match(failureOf(e.run('exit').result).message, /attempt to call a nil value \(field 'exit'\)/);
    assert.match(failureOf(e.run('execute').result).message, /attempt to call a nil value \(field 'execute'\)/);
    assert.match(failureOf(e.run('popen').result).message, /attempt to index a nil value \(global 'io'\)/);
    assert.match(failureOf(e.run('files').result).message, /attempt to call a nil value \(global 'dofile'\)/);
    assert.equal(e.run('ok').ctx.vars.get('ok'), '1');
  });

  it('require returns the built-in libraries and loads no file', () => {
    const e = load(`function ksr_request_route()
      KSR.pv.sets("$var(same)", tostring(require("string") == string))
      local ok, err = pcall(require, "socket")
      KSR.pv.sets("$var(err)", err)
    end`);
    const { ctx } = e.run('ksr_request_route');
    assert.equal(ctx.vars.get('same'), 'true');
    assert.equal(ctx.vars.get('err'), "module 'socket' not found: the safe Lua library loads no files (lua.stdlib: full does)");
  });

  it('load compiles text chunks of at most 64 KiB, in the same restricted environment; binary chunks are refused', () => {
    const e = load(`function ksr_request_route()
      KSR.pv.sets("$var(env)", tostring(load("return os.exit == nil and io == nil and KSR ~= nil")()))
      KSR.pv.sets("$var(bin)", select(2, load("\\27Lua\\83\\0")))
      KSR.pv.sets("$var(big)", select(2, load(string.rep(" ", 70000))))
      local parts = { "return ", "6 * 7" }
      local i = 0
      KSR.pv.sets("$var(reader)", tostring(load(function() i = i + 1; return parts[i] end)()))
    end`);
    const { result, ctx } = e.run('ksr_request_route');
    assert.deepEqual(result, CALL_OK);
    assert.equal(ctx.vars.get('env'), 'true');
    assert.match(String(ctx.vars.get('bin')), /attempt to load a binary chunk \(mode is 't'\)/);
    assert.equal(ctx.vars.get('big'), 'chunk of 70000 bytes is too large for load (at most 65536)');
    assert.equal(ctx.vars.get('reader'), '42');
  });

  it('print goes to the log with the script line; os.clock is CPU time', () => {
    const e = load(`function ksr_request_route()
      print("hello", 1, nil)
      local c0 = os.clock()
      KSR.t.sleep(60)
      KSR.pv.sets("$var(cpu)", tostring(os.clock() - c0))
    end`);
    const { ctx } = e.run('ksr_request_route');
    const line = e.records.find((r) => r.msg === 'hello\t1\tnil');
    assert.equal(line?.at, 'scripts/test.lua:2');
    assert.ok(Number(ctx.vars.get('cpu')) < 0.03, `os.clock advanced ${String(ctx.vars.get('cpu'))} s during a 60 ms sleep`);
  });

  it('looks callbacks up without running the script: a trap in _G\'s __index is not triggered', () => {
    const e = load('setmetatable(_G, { __index = function() local x = 0 for i = 1, 5e7 do x = x + i end end })\nfunction ksr_request_route() end');
    const t0 = performance.now();
    assert.equal(e.engine.has('ksr_reply_route'), false);
    assert.match(failureOf(e.run('ksr_reply_route').result).message, /function 'ksr_reply_route' is not defined/);
    assert.ok(performance.now() - t0 < 50);
  });
});

describe('LuaEngine full library (lua.stdlib: full)', () => {
  it('gives the whole of fengari\'s library: io, os.execute/exit/getenv, package, debug', () => {
    const e = load(`${LIST}
      function probe()
        KSR.pv.sets("$var(types)", table.concat({ type(io.write), type(os.execute), type(os.exit), type(package.loadlib), type(debug.getupvalue), type(dofile) }, ","))
        KSR.pv.sets("$var(path)", type(os.getenv("PATH")))
        KSR.pv.sets("$var(exec)", tostring(os.execute("true")))
      end`, { stdlib: 'full' });
    const { ctx } = e.run('probe');
    assert.equal(ctx.vars.get('types'), 'function,function,function,function,function,function');
    assert.equal(ctx.vars.get('path'), 'string');
    assert.equal(ctx.vars.get('exec'), 'true');
  });

  it('refuses debug.sethook: the count hook enforces the limits', () => {
    const e = load('function ksr_request_route() debug.sethook(function() end, "", 0) end', { stdlib: 'full' });
    assert.match(failureOf(e.run('ksr_request_route').result).message, /debug\.sethook is not available/);
  });

  it('debug.getupvalue(pcall) finds nothing: there is no raw pcall to recover', () => {
    const e = load(`function ksr_request_route()
      for _, f in ipairs({ pcall, xpcall, coroutine.resume, load }) do
        if debug.getupvalue(f, 1) ~= nil then KSR.pv.sets("$var(found)", "yes") end
      end
    end`, { stdlib: 'full' });
    const { result, ctx } = e.run('ksr_request_route');
    assert.deepEqual(result, CALL_OK);
    assert.equal(ctx.vars.get('found'), undefined);
  });
});

/** Every protected call a script has, each trying to swallow a stop; `swallowed` proves the script went on. */
const SWALLOW: Record<string, string> = {
  pcall: 'pcall(KSR.x.exit)',
  xpcall: 'xpcall(KSR.x.exit, function(e) swallowed = "handler" return e end)',
  'coroutine.resume': 'coroutine.resume(coroutine.create(function() KSR.x.exit() end))',
  'coroutine.wrap in pcall': 'pcall(coroutine.wrap(function() KSR.x.exit() end))',
  'pcall after a yield': 'local co = coroutine.create(function() pcall(function() coroutine.yield() KSR.x.exit() end) swallowed = "in coroutine" end) coroutine.resume(co) coroutine.resume(co)',
  'load reader': 'load(function() KSR.x.exit() end)',
  'gsub callback': 'pcall(string.gsub, "a", "a", function() KSR.x.exit() end)',
  'sort comparator': 'pcall(table.sort, { 3, 2, 1 }, function() KSR.x.exit() end)',
  'what debug.getupvalue(pcall) finds': 'local _, raw = debug.getupvalue(pcall, 1); (raw or pcall)(KSR.x.exit)',
};

describe('LuaEngine: KSR.x.exit() cannot be swallowed', () => {
  for (const [route, code] of Object.entries(SWALLOW)) {
    it(`not by ${route} (lua.stdlib: full)`, () => {
      const e = load(`
        function ksr_request_route() ${code} swallowed = swallowed or "yes" KSR.pv.sets("$var(after)", "ran") end
        function check() KSR.pv.sets("$var(swallowed)", tostring(swallowed)) end`, { stdlib: 'full' });
      const { result, ctx } = e.run('ksr_request_route');
      assert.deepEqual(result, CALL_EXIT);
      assert.equal(ctx.vars.get('after'), undefined);
      assert.equal(e.run('check').ctx.vars.get('swallowed'), 'nil', 'the script went on after the stop');
    });
  }

  it('a stopped callback\'s KSR calls do nothing even if the script got a raw pcall, and it ends as CALL_EXIT / CALL_DROP', () => {
    const e = load(`
      function exit() rawpcall(KSR.x.exit) rawpcall(KSR.pv.sets, "$var(after)", "ran") rawpcall(KSR.x.drop) went_on = true end
      function drop() rawpcall(KSR.x.drop) rawpcall(KSR.sl.sl_send_reply, 200, "OK") went_on = true end
      function check() KSR.pv.sets("$var(went_on)", tostring(went_on)) end`);
    giveRawPcall(e.engine);
    const exit = e.run('exit');
    assert.deepEqual(exit.result, CALL_EXIT);
    assert.equal(exit.ctx.vars.get('after'), undefined);
    const drop = e.run('drop');
    assert.deepEqual(drop.result, CALL_DROP);
    assert.equal(drop.ctx.replied, false);
    // the raw pcall did swallow: only the KSR guard stood between the script and the message
    assert.equal(e.run('check').ctx.vars.get('went_on'), 'true');
  });
});

/** What no script can get: fengari's own pcall, given as the global `rawpcall`. */
function giveRawPcall(engine: LuaEngine): void {
  const other = lauxlib.luaL_newstate();
  lualib.luaopen_base(other);
  lua.lua_getfield(other, -1, new TextEncoder().encode('pcall'));
  const raw = lua.lua_tocfunction(other, -1);
  assert.ok(raw !== null);
  const L = Reflect.get(engine, 'L') as LuaState;
  lua.lua_pushcfunction(L, raw);
  lua.lua_setglobal(L, new TextEncoder().encode('rawpcall'));
}

describe('LuaEngine.compile', () => {
  function compileError(source: string, path: string): KemiError {
    try {
      LuaEngine.compile(source, path);
    } catch (e) {
      if (isKemiError(e)) return e;
      throw e;
    }
    assert.fail('compiled');
  }

  it('a syntax error is KEMI_ERR_SCRIPT_LOAD with file:line', () => {
    const err = compileError('function ksr_request_route()\n  local x = = 1\nend\n', 'scripts/bad.lua');
    assert.equal(err.code, 'KEMI_ERR_SCRIPT_LOAD');
    assert.equal(err.location, 'scripts/bad.lua:2');
    assert.match(err.message, /^scripts\/bad\.lua:2: unexpected symbol near '='/);
  });

  it('runs nothing of the script', () => {
    LuaEngine.compile('while true do end\nerror("ran")\nos.exit(3)\n', 'scripts/top.lua');
  });
});
