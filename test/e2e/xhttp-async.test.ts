/**
 * Async inside the HTTP handler: an xhttp request held through its owner (as the async
 * modules will do) and resumed in another route on the same Context. KSR.testasync is a
 * test-only binding that holds and resumes the way those modules will.
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import { describe, test } from 'node:test';
import { httpRequest } from '../helpers/http-client.js';
import { ENGINES, type EngineName } from '../helpers/runtime.js';
import { testAsyncModule } from '../helpers/test-async-module.js';
import { until } from '../helpers/until.js';
import { runXhttpCases, startXhttp, xhttpScript, type XhttpCase } from '../helpers/xhttp-cases.js';

const { module: testasync, record } = testAsyncModule();
const modules = [testasync];

const cases: XhttpCase[] = [
  {
    name: 'a held request is answered by the resumed route, on the same Context ($var kept)',
    modules,
    lua: 'KSR.pv.sets("$var(who)", "first:" .. evname)\nKSR.pv.seti("$var(rc)", KSR.testasync.hold("ksr_done", 60))',
    js: 'KSR.pv.sets("$var(who)", "first:" + evname);\nKSR.pv.seti("$var(rc)", KSR.testasync.hold("ksr_done", 60));',
    luaExtra: 'function ksr_done()\n  KSR.xhttp.xhttp_reply(200, "Later", "text/plain", KSR.pv.get("$var(who)") .. "|" .. KSR.pv.get("$var(rc)") .. "|" .. KSR.xhttp.get_hu())\nend',
    jsExtra: 'function ksr_done() {\n  KSR.xhttp.xhttp_reply(200, "Later", "text/plain", KSR.pv.get("$var(who)") + "|" + KSR.pv.get("$var(rc)") + "|" + KSR.xhttp.get_hu());\n}',
    requests: [{ path: '/slow?x=1', expect: { status: 200, reason: 'Later', body: 'first:xhttp:request|1|/slow?x=1' } }],
    stats: { 'xhttp:default_replies': 0, 'xhttp:replies': 1 },
  },
  {
    name: 'a resumed route that does not reply gets the default 500',
    modules,
    lua: 'KSR.testasync.hold("ksr_done", 20)',
    js: 'KSR.testasync.hold("ksr_done", 20);',
    luaExtra: 'function ksr_done()\nend',
    jsExtra: 'function ksr_done() {}',
    requests: [{ expect: { status: 500, reason: 'Internal Server Error' } }],
    stats: { 'xhttp:default_replies': 1 },
  },
  {
    name: 'a resumed route that fails gets 500',
    modules,
    lua: 'KSR.testasync.hold("ksr_done", 20)',
    js: 'KSR.testasync.hold("ksr_done", 20);',
    luaExtra: 'function ksr_done()\n  error("late boom")\nend',
    jsExtra: 'function ksr_done() { throw new Error("late boom"); }',
    requests: [{ expect: { status: 500 } }],
    stats: { 'xhttp:errors': 1, 'script:errors': 1 },
  },
  {
    name: 'a resumed route may hold again; the second resume replies',
    modules,
    lua: 'KSR.testasync.hold("ksr_step1", 20)',
    js: 'KSR.testasync.hold("ksr_step1", 20);',
    luaExtra: `function ksr_step1()
  KSR.pv.sets("$var(path)", "1")
  KSR.testasync.hold("ksr_step2", 20)
end
function ksr_step2()
  KSR.xhttp.xhttp_reply(200, "OK", "text/plain", KSR.pv.get("$var(path)") .. ",2")
end`,
    jsExtra: `function ksr_step1() {
  KSR.pv.sets("$var(path)", "1");
  KSR.testasync.hold("ksr_step2", 20);
}
function ksr_step2() {
  KSR.xhttp.xhttp_reply(200, "OK", "text/plain", KSR.pv.get("$var(path)") + ",2");
}`,
    requests: [{ expect: { status: 200, body: '1,2' } }],
  },
  {
    name: 'held past suspend_timeout_ms: 504, and the late resume runs nothing',
    modules,
    params: { suspend_timeout_ms: 100 },
    lua: `if KSR.xhttp.get_hu() == "/ran" then
  KSR.xhttp.xhttp_reply(200, "OK", "text/plain", tostring(KSR.pv.get("$shv(ran)") or "no"))
  return
end
KSR.testasync.hold("ksr_late", 250)`,
    js: `if (KSR.xhttp.get_hu() === "/ran") {
  KSR.xhttp.xhttp_reply(200, "OK", "text/plain", String(KSR.pv.get("$shv(ran)") ?? "no"));
  return;
}
KSR.testasync.hold("ksr_late", 250);`,
    luaExtra: 'function ksr_late()\n  KSR.pv.sets("$shv(ran)", "yes")\nend',
    jsExtra: 'function ksr_late() { KSR.pv.sets("$shv(ran)", "yes"); }',
    requests: [
      { path: '/held', expect: { status: 504, reason: 'Gateway Timeout' } },
      // after the late resume (250 ms from the hold)
      { path: '/ran', waitMs: 350, expect: { status: 200, body: 'no' } },
    ],
    stats: { 'xhttp:timeouts': 1, 'xhttp:default_replies': 0 },
  },
  {
    name: 'a request can be held once; a replied one cannot be held',
    modules,
    lua: `local a = KSR.testasync.hold_only()
local b = KSR.testasync.hold_only()
KSR.xhttp.xhttp_reply(200, "OK", "text/plain", a .. "," .. b)
KSR.pv.seti("$shv(c)", KSR.testasync.hold_only())`,
    js: `const a = KSR.testasync.hold_only();
const b = KSR.testasync.hold_only();
KSR.xhttp.xhttp_reply(200, "OK", "text/plain", a + "," + b);
KSR.pv.seti("$shv(c)", KSR.testasync.hold_only());`,
    requests: [{ expect: { status: 200, body: '1,-1' } }],
    stats: { 'xhttp:timeouts': 0 },
  },
  {
    name: 'KSR.async.ms_route holds an HTTP request and its route replies',
    lua: 'KSR.pv.sets("$var(t)", "async")\nKSR.async.ms_route("ksr_after", 30)\nKSR.x.exit()',
    js: 'KSR.pv.sets("$var(t)", "async");\nKSR.async.ms_route("ksr_after", 30);\nKSR.x.exit();',
    luaExtra: 'function ksr_after()\n  KSR.xhttp.xhttp_reply(200, "OK", "text/plain", KSR.pv.get("$var(t)") .. " " .. KSR.pv.get("$rm"))\nend',
    jsExtra: 'function ksr_after() { KSR.xhttp.xhttp_reply(200, "OK", "text/plain", KSR.pv.get("$var(t)") + " " + KSR.pv.get("$rm")); }',
    requests: [{ method: 'POST', body: 'x', expect: { status: 200, body: 'async POST' } }],
    stats: { 'xhttp:default_replies': 0, 'async:resumed': 1 },
  },
];

runXhttpCases('xhttp hold and resume', cases);

const HOLD = { lua: 'KSR.testasync.hold_only()', js: 'KSR.testasync.hold_only();' };
const DONE = {
  lua: 'function ksr_done()\n  KSR.pv.sets("$var(done)", "ran")\n  KSR.xhttp.xhttp_reply(200, "OK", "text/plain", "done")\nend',
  js: 'function ksr_done() { KSR.pv.sets("$var(done)", "ran"); KSR.xhttp.xhttp_reply(200, "OK", "text/plain", "done"); }',
};

function holdScript(engine: EngineName, body = HOLD[engine]): string {
  return xhttpScript(engine, body, DONE[engine]);
}

for (const engine of ENGINES) {
  describe(`xhttp hold and resume, called directly [${engine}]`, () => {
    test('the test resumes a held request: the route runs and its reply reaches the client', async () => {
      const server = await startXhttp(engine, holdScript(engine), { modules });
      try {
        const before = record.held.length;
        const pending = httpRequest(server.httpPort, { path: '/h' });
        await until(() => record.held.length > before);
        const ctx = record.held[record.held.length - 1];
        assert.ok(ctx !== undefined);
        assert.equal(ctx.suspended, true);
        assert.equal(record.resume(ctx, 'ksr_done'), true);
        const r = await pending;
        assert.equal(r.status, 200);
        assert.equal(r.body, 'done');
        assert.equal(ctx.suspended, false);
        assert.equal(ctx.vars.get('done'), 'ran');
        // done: a second resume finds nothing to resume
        assert.equal(record.resume(ctx, 'ksr_done'), false);
      } finally {
        await server.close();
      }
    });

    test('a callback that holds and then fails gets 500; the hold is cancelled', async () => {
      const body = engine === 'lua' ? 'KSR.testasync.hold_only()\nerror("after hold")' : 'KSR.testasync.hold_only();\nthrow new Error("after hold");';
      const server = await startXhttp(engine, holdScript(engine, body), { modules });
      try {
        const before = record.held.length;
        const r = await httpRequest(server.httpPort, {});
        assert.equal(r.status, 500);
        const ctx = record.held[before];
        assert.ok(ctx !== undefined);
        assert.equal(record.resume(ctx, 'ksr_done'), false);
      } finally {
        await server.close();
      }
    });

    test('a client that leaves while held: resume returns false and nothing runs', async () => {
      const server = await startXhttp(engine, holdScript(engine), { modules });
      try {
        const before = record.held.length;
        const req = http.get({ host: '127.0.0.1', port: server.httpPort, path: '/gone', agent: false });
        req.on('error', () => undefined);
        await until(() => record.held.length > before);
        req.destroy();
        const ctx = record.held[before];
        assert.ok(ctx !== undefined);
        await until(() => !ctx.suspended);
        assert.equal(record.resume(ctx, 'ksr_done'), false);
        assert.equal(ctx.vars.get('done'), undefined, 'the route must not have run');
      } finally {
        await server.close();
      }
    });

    test('closing the runtime answers a held request with 503', async () => {
      const server = await startXhttp(engine, holdScript(engine), { modules });
      const before = record.held.length;
      const pending = httpRequest(server.httpPort, {});
      await until(() => record.held.length > before);
      await server.close();
      const r = await pending;
      assert.equal(r.status, 503);
      assert.equal(r.reason, 'Service Unavailable');
    });
  });
}
