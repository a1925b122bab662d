/**
 * The JS engine's sandbox and limits on real isolates: no way back to Node, the CPU limit, the
 * memory limit (the isolate is rebuilt), deep recursion, load errors with their location.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import ivm from 'isolated-vm';
import { CALL_OK } from '../../host/engines/engine.js';
import { isKemiError, KemiError } from '../../host/errors.js';
import { failureOf, harnessPerTest } from '../fixtures/js/js-harness.js';

const load = harnessPerTest();

function loadError(source: string, path: string): KemiError {
  try {
    load(source, { path });
  } catch (e) {
    if (isKemiError(e)) return e;
    throw e;
  }
  assert.fail('the script loaded');
}

describe('JsEngine sandbox', () => {
  it('has no require, process, import or host timers', () => {
    const e = load(`
      function req() { require("fs"); }
      function exit() { process.exit(1); }
      function ctor() { return this.constructor.constructor("return process")(); }
      function viaKsr() { return KSR.pv.get.constructor("return process")(); }
      function timers() { setTimeout(() => {}, 1); }
      let imported = "pending";
      function dyn() {
        // the outcome arrives after the callback returned: kept in a global, read by the next one
        import("fs").then(() => { imported = "loaded"; }, (err) => { imported = "rejected: " + err.message; });
      }
      function report() { KSR.pv.sets("$var(import)", imported); }`);
    const msg = (name: string): string => failureOf(e.run(name).result).message;
    assert.equal(msg('req'), 'ReferenceError: require is not defined');
    assert.equal(msg('exit'), 'ReferenceError: process is not defined');
    assert.equal(msg('ctor'), 'ReferenceError: process is not defined');
    assert.equal(msg('viaKsr'), 'ReferenceError: process is not defined');
    assert.equal(msg('timers'), 'ReferenceError: setTimeout is not defined');
    assert.deepEqual(e.run('dyn').result, CALL_OK);
    assert.equal(e.run('report').ctx.vars.get('import'), 'rejected: Not supported');
  });

  it('globalThis holds the language, KSR, console and the script: nothing of the host', () => {
    const bare = new ivm.Isolate({ memoryLimit: 8 });
    const language = (bare.createContextSync().evalSync('Object.getOwnPropertyNames(globalThis).join(",")') as string).split(',');
    bare.dispose();
    const e = load(`
      function ksr_request_route() {
        const names = Reflect.ownKeys(globalThis).map(String);
        KSR.pv.sets("$var(names)", names.join(","));
        const leaks = [];
        for (const n of names) {
          const v = globalThis[n];
          if ((typeof v === "function" || typeof v === "object") && v !== null && v.constructor && v.constructor.constructor !== Function) leaks.push(n);
        }
        KSR.pv.sets("$var(leaks)", leaks.join(","));
        KSR.pv.sets("$var(global)", String(globalThis === KSR.pv.get.constructor("return this")()));
      }`);
    const { ctx } = e.run('ksr_request_route');
    const names = String(ctx.vars.get('names')).split(',');
    const allowed = new Set([...language.filter((n) => n !== 'WebAssembly'), 'KSR', 'console', 'ksr_request_route', 'Symbol(Symbol.toStringTag)']);
    assert.deepEqual(names.filter((n) => !allowed.has(n)), []);
    for (const n of ['process', 'require', 'module', 'global', 'Buffer', 'setTimeout', 'fetch', 'WebAssembly']) assert.ok(!names.includes(n), n);
    assert.equal(ctx.vars.get('leaks'), '');
    assert.equal(ctx.vars.get('global'), 'true');
  });

  it('Atomics.wait is gone: it could only block the server', () => {
    const e = load(`function ksr_request_route() { KSR.pv.sets("$var(w)", typeof Atomics.wait + "," + typeof Atomics.add); }`);
    assert.equal(e.run('ksr_request_route').ctx.vars.get('w'), 'undefined,function');
  });
});

describe('JsEngine limits', () => {
  it('ends a runaway loop at the CPU limit and stays usable', () => {
    const e = load(`function spin() {
  while (true) {}
}
function ksr_request_route() { KSR.pv.sets("$var(ok)", "1"); }`, { cpuMs: 50, path: 'scripts/spin.js' });
    const t0 = performance.now();
    const f = failureOf(e.run('spin').result);
    assert.ok(performance.now() - t0 < 2000);
    assert.equal(f.code, 'KEMI_ERR_CPU_LIMIT');
    assert.equal(f.message, 'script exceeded the CPU limit of 50 ms');
    assert.match(f.location ?? '', /^scripts\/spin\.js:2:\d+$/);
    const { result, ctx } = e.run('ksr_request_route');
    assert.deepEqual(result, CALL_OK);
    assert.equal(ctx.vars.get('ok'), '1');
  });

  it('ends a callback at the memory limit and rebuilds the isolate from the same source', () => {
    const e = load(`
      var calls = 0;
      function hog() { calls++; const keep = []; for (;;) keep.push(new Array(1e6).fill(1.5)); }
      function ksr_request_route() { calls++; KSR.pv.seti("$var(calls)", calls); }`, { memoryMb: 16, cpuMs: 5000 });
    assert.equal(e.run('ksr_request_route').ctx.vars.get('calls'), 1);
    const f = failureOf(e.run('hog').result);
    assert.equal(f.code, 'KEMI_ERR_MEMORY_LIMIT');
    assert.equal(f.message, 'script exceeded the memory limit of 16 MB');
    const { result, ctx } = e.run('ksr_request_route');
    assert.deepEqual(result, CALL_OK);
    // a fresh instance: the script's globals started over
    assert.equal(ctx.vars.get('calls'), 1);
    assert.ok(e.records.some((r) => r.msg === 'JS script instance rebuilt after its isolate was disposed'));
  });

  it('turns deep recursion into a normal RangeError', () => {
    const e = load(`function down(n) { return down(n + 1) + 1; }
function ksr_request_route() { down(0); }
function ok() {}`);
    const f = failureOf(e.run('ksr_request_route').result);
    assert.equal(f.code, 'KEMI_ERR_SCRIPT_RUNTIME');
    assert.equal(f.message, 'RangeError: Maximum call stack size exceeded');
    assert.match(f.location ?? '', /^scripts\/test\.js:1:\d+$/);
    assert.deepEqual(e.run('ok').result, CALL_OK);
  });
});

describe('JsEngine load errors', () => {
  it('a syntax error is KEMI_ERR_SCRIPT_LOAD with path:line:column', () => {
    const err = loadError('function ksr_request_route() {\n  let x = ;\n}\n', 'scripts/syntax.js');
    assert.equal(err.code, 'KEMI_ERR_SCRIPT_LOAD');
    assert.equal(err.location, 'scripts/syntax.js:2:11');
    assert.equal(err.message, "scripts/syntax.js:2:11: SyntaxError: Unexpected token ';'");
  });

  it('an error in the top level is a load error with its location', () => {
    const err = loadError('var a = 1;\nnull.x;\nfunction ksr_request_route() {}\n', 'scripts/top.js');
    assert.equal(err.code, 'KEMI_ERR_SCRIPT_LOAD');
    assert.equal(err.location, 'scripts/top.js:2:6');
    assert.match(err.message, /^scripts\/top\.js:2:6: TypeError: Cannot read properties of null/);
  });

  it('compile() reports a syntax error with path:line:column, like load()', () => {
    const e = load('function ok() {}');
    let err: unknown;
    try {
      e.engine.compile('function ksr_request_route() {\n  let x = ;\n}\n', 'scripts/syntax.js');
    } catch (caught) {
      err = caught;
    }
    assert.ok(isKemiError(err), 'a KemiError');
    assert.equal(err.code, 'KEMI_ERR_SCRIPT_LOAD');
    assert.equal(err.location, 'scripts/syntax.js:2:11');
    assert.equal(err.message, "scripts/syntax.js:2:11: SyntaxError: Unexpected token ';'");
  });

  it('compile() runs nothing: not the top level, not a function', () => {
    const e = load('function ok() {}');
    const t0 = performance.now();
    // each of these top levels would fail, log, or never end if it ran
    e.engine.compile('KSR.info("top level ran");\nnull.x;\nfunction ksr_request_route() { KSR.info("callback ran"); }\nksr_request_route();\nwhile (true) {}\n', 'scripts/effects.js');
    assert.ok(performance.now() - t0 < 2000);
    assert.deepEqual(e.records.filter((r) => String(r.msg).endsWith(' ran')), []);
    // the engine's own script is untouched
    assert.deepEqual(e.run('ok').result, CALL_OK);
    assert.equal(e.engine.has('ksr_request_route'), false);
  });

  it('exit in the top level does not load', () => {
    assert.match(loadError('KSR.x.exit();', 'scripts/exit.js').message, /KSR\.x\.exit\(\) called while loading/);
  });

  it('loads a realistic script from a file', () => {
    const path = 'test/fixtures/js/route.js';
    const e = load(readFileSync(path, 'utf8'), { path });
    assert.equal(e.engine.has('ksr_request_route'), true);
    const { result, ctx } = e.run('ksr_request_route');
    assert.deepEqual(result, CALL_OK);
    assert.equal(ctx.vars.get('route'), 'not-sip');
  });
});
