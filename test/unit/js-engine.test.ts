/**
 * The JS engine's bridge on real isolates: KSR calls and their return types, invoke's argument
 * errors raised at the calling line, KSR.x.exit()/drop() that a script cannot swallow, runtime
 * errors with their location, nested callbacks, console.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CALL_DROP, CALL_EXIT, CALL_OK } from '../../host/engines/engine.js';
import { Context } from '../../host/kemi/context.js';
import { failureOf, harnessPerTest, SRC } from '../fixtures/js/js-harness.js';

const load = harnessPerTest();

describe('JsEngine: KSR calls', () => {
  it('maps every KEMI return type to its JS type', () => {
    const e = load(`
      function ksr_request_route() {
        const r = [KSR.t.int(), KSR.t.long(), KSR.t.str(), KSR.t.yes(), KSR.t.xnum(), KSR.t.xstr(), KSR.t.xnull(), KSR.t.none()];
        KSR.pv.sets("$var(types)", r.map((v) => v === null ? "null" : typeof v).join(","));
        KSR.pv.sets("$var(values)", JSON.stringify(r));
      }`);
    const { result, ctx } = e.run('ksr_request_route');
    assert.deepEqual(result, CALL_OK);
    assert.equal(ctx.vars.get('types'), 'number,number,string,boolean,number,string,null,undefined');
    assert.equal(ctx.vars.get('values'), JSON.stringify([7, 2 ** 40, 'text', true, 42, 'v', null, null]));
  });

  it('builds KSR from the registry: core on KSR, modules as objects, none for an empty module', () => {
    const e = load(`
      function ksr_request_route() {
        KSR.pv.sets("$var(shape)", [typeof KSR.info, typeof KSR.is_OPTIONS, typeof KSR.pv.get, typeof KSR.x.exit, typeof KSR.empty, typeof KSR.nope].join(","));
        KSR.pv.seti("$var(n)", 5);
        KSR.pv.sets("$var(got)", String(KSR.pv.get("$var(n)")) + ":" + typeof KSR.pv.get("$var(n)") + ":" + KSR.pv.get("$var(missing)"));
      }`);
    const { ctx } = e.run('ksr_request_route');
    assert.equal(ctx.vars.get('shape'), 'function,function,function,function,undefined,undefined');
    assert.equal(ctx.vars.get('got'), '5:number:null');
  });

  it('converts arguments as invoke does (number for str, numeric string for int)', () => {
    const e = load(`function ksr_request_route() { KSR.pv.sets("$var(e)", KSR.t.echo(12, "34", 1)); }`);
    assert.equal(e.run('ksr_request_route').ctx.vars.get('e'), '12/34/true');
  });

  it('passes four and more arguments; an omitted trailing xval is null', () => {
    const e = load(`function ksr_request_route() {
      KSR.pv.sets("$var(a)", KSR.t.four(200, "OK", "text/plain", "x"));
      KSR.pv.sets("$var(b)", KSR.t.four(200, "OK", "text/plain"));
      try { KSR.t.four(1, "a", "b", "c", "d"); } catch (err) { KSR.pv.sets("$var(c)", err.message); }
    }`);
    const { ctx } = e.run('ksr_request_route');
    assert.equal(ctx.vars.get('a'), '200/OK/text/plain/x');
    assert.equal(ctx.vars.get('b'), '200/OK/text/plain/null');
    assert.equal(ctx.vars.get('c'), "too many arguments to 'KSR.t.four' (4 expected, got 5)");
  });

  it('passes the argument of call() as the single string argument', () => {
    const e = load(`function ksr_xhttp_event(evname) { KSR.pv.sets("$var(ev)", evname + ":" + arguments.length); }`);
    assert.equal(e.run('ksr_xhttp_event', 'xhttp:request').ctx.vars.get('ev'), 'xhttp:request:1');
  });

  it('a side effect is visible to the next KSR call of the same callback', () => {
    const e = load(`function ksr_request_route() {
      KSR.hdr.append_to_reply("X-A: 1\\r\\n");
      KSR.pv.sets("$var(a)", "1");
      KSR.pv.sets("$var(b)", KSR.pv.get("$var(a)") + "2");
    }`);
    const { ctx } = e.run('ksr_request_route');
    assert.deepEqual(ctx.replyHeaders, ['X-A: 1\r\n']);
    assert.equal(ctx.vars.get('b'), '12');
  });
});

describe('JsEngine: bad arguments', () => {
  it('raises invoke\'s message as an Error at the calling line', () => {
    const e = load(`function ksr_request_route() {
  KSR.pv.sets("$var(a)", null);
}`, { path: 'scripts/bad-arg.js' });
    const f = failureOf(e.run('ksr_request_route').result);
    assert.equal(f.code, 'KEMI_ERR_SCRIPT_RUNTIME');
    assert.equal(f.message, "Error: bad argument #2 to 'KSR.pv.sets' (str expected, got null)");
    assert.equal(f.location, 'scripts/bad-arg.js:2:10');
    assert.match(f.stack ?? '', /^Error: bad argument #2[^\n]*\n {4}at ksr_request_route \(scripts\/bad-arg\.js:2:10\)$/);
  });

  it('names JS types, refuses extra arguments, and can be caught like any error', () => {
    const e = load(`function ksr_request_route() {
      const out = [];
      for (const f of [() => KSR.pv.get(() => 1), () => KSR.pv.get([1]), () => KSR.pv.get({}), () => KSR.pv.get(), () => KSR.pv.get(Symbol("s")), () => KSR.pv.get(1n), () => KSR.pv.get("$var(a)", 2)]) {
        try { f(); out.push("no error"); } catch (err) { out.push(err instanceof Error ? err.message : "not an Error"); }
      }
      KSR.pv.sets("$var(out)", out.join("\\n"));
    }`);
    const { result, ctx } = e.run('ksr_request_route');
    assert.deepEqual(result, CALL_OK);
    assert.deepEqual(String(ctx.vars.get('out')).split('\n'), [
      "bad argument #1 to 'KSR.pv.get' (str expected, got function)",
      "bad argument #1 to 'KSR.pv.get' (str expected, got array)",
      "bad argument #1 to 'KSR.pv.get' (str expected, got object)",
      "bad argument #1 to 'KSR.pv.get' (str expected, got no value)",
      "bad argument #1 to 'KSR.pv.get' (str expected, got symbol)",
      "bad argument #1 to 'KSR.pv.get' (str expected, got bigint)",
      "too many arguments to 'KSR.pv.get' (1 expected, got 2)",
    ]);
  });

  it('reports a host exception in a KSR function as an internal error, not a crash', () => {
    const e = load(`function ksr_request_route() { KSR.t.boom(); }`);
    const f = failureOf(e.run('ksr_request_route').result);
    assert.equal(f.message, "Error: internal error in 'KSR.t.boom': host bug");
    assert.equal(f.location, 'scripts/test.js:1:38');
  });
});

describe('JsEngine: KSR.x.exit() and KSR.x.drop()', () => {
  it('exit ends the callback: CALL_EXIT, nothing after it runs', () => {
    const e = load(`function ksr_request_route() { KSR.pv.sets("$var(a)", "1"); KSR.x.exit(); KSR.pv.sets("$var(b)", "1"); }`);
    const { result, ctx } = e.run('ksr_request_route');
    assert.deepEqual(result, CALL_EXIT);
    assert.equal(ctx.stop, 'exit');
    assert.equal(ctx.vars.get('a'), '1');
    assert.equal(ctx.vars.has('b'), false);
  });

  it('drop ends the callback and marks the message dropped', () => {
    const e = load(`function ksr_request_route() { KSR.x.drop(); KSR.pv.sets("$var(b)", "1"); }`);
    const { result, ctx } = e.run('ksr_request_route');
    assert.deepEqual(result, CALL_DROP);
    assert.equal(ctx.dropped, true);
    assert.equal(ctx.vars.has('b'), false);
  });

  it('a try/catch around exit cannot swallow it: later KSR calls throw it again', () => {
    const e = load(`
      let after = 0;
      function ksr_request_route() {
        try { KSR.x.exit(); } catch (err) { after++; KSR.err("caught " + err.message); }
        KSR.pv.sets("$var(b)", "1");
      }
      function swallow() {
        try { KSR.x.drop(); } catch { after++; }
        try { KSR.pv.sets("$var(c)", "1"); } catch { after++; }
        try { KSR.sl.sl_send_reply(200, "OK"); } catch { after++; }
      }
      function count() { KSR.pv.seti("$var(after)", after); }`);
    const first = e.run('ksr_request_route');
    assert.deepEqual(first.result, CALL_EXIT);
    assert.equal(first.ctx.vars.has('b'), false);
    const second = e.run('swallow');
    assert.deepEqual(second.result, CALL_DROP);
    assert.equal(second.ctx.vars.has('c'), false);
    assert.equal(second.ctx.replied, false);
    // The residual rule: plain JS after a caught stop runs (here: a global counter), KSR does not.
    assert.equal(e.run('count').ctx.vars.get('after'), 4);
    assert.ok(e.records.some((r) => r.msg === 'KSR call after KSR.x.exit()/drop() refused'));
  });

  it('exit inside finally wins over the error being thrown; a finally after exit cannot call KSR', () => {
    const e = load(`
      function inFinally() { try { throw new Error("boom"); } finally { KSR.x.exit(); } }
      function afterExit() { try { KSR.x.exit(); } finally { KSR.pv.sets("$var(f)", "1"); } }
      function returnInFinally() { try { KSR.x.drop(); } finally { return; } }`);
    assert.deepEqual(e.run('inFinally').result, CALL_EXIT);
    const r = e.run('afterExit');
    assert.deepEqual(r.result, CALL_EXIT);
    assert.equal(r.ctx.vars.has('f'), false);
    assert.deepEqual(e.run('returnInFinally').result, CALL_DROP);
  });

  it('a script looping on a swallowed exit still ends as exit (at the CPU limit)', () => {
    const e = load(`function ksr_request_route() { for (;;) { try { KSR.x.exit(); } catch {} } }`, { cpuMs: 30 });
    const { result, ctx } = e.run('ksr_request_route');
    assert.deepEqual(result, CALL_EXIT);
    assert.equal(ctx.stop, 'exit');
    assert.deepEqual(e.run('ksr_request_route').result, CALL_EXIT);
  });

  it('a stop in a nested callback ends only that callback', () => {
    const e = load(`
      function inner() { KSR.pv.sets("$var(i)", "1"); KSR.x.drop(); }
      function ksr_request_route() { KSR.pv.seti("$var(rc)", KSR.t.nested("inner")); KSR.pv.sets("$var(after)", "yes"); }`);
    const { result, ctx } = e.run('ksr_request_route');
    assert.deepEqual(result, CALL_OK);
    assert.equal(ctx.vars.get('rc'), 3);
    assert.equal(ctx.vars.get('after'), 'yes');
    assert.equal(ctx.stop, null);
    const inner = e.nested[0];
    assert.ok(inner);
    assert.equal(inner.dropped, true);
    assert.equal(inner.vars.get('i'), '1');
  });
});

describe('JsEngine: runtime errors', () => {
  it('reports path:line:column of the throw site and the stack', () => {
    const e = load(`function helper(o) {
  return o.field.x;
}
function ksr_request_route() {
  helper({});
}`, { path: 'scripts/rt.js' });
    const f = failureOf(e.run('ksr_request_route').result);
    assert.equal(f.code, 'KEMI_ERR_SCRIPT_RUNTIME');
    assert.equal(f.message, "TypeError: Cannot read properties of undefined (reading 'x')");
    assert.equal(f.location, 'scripts/rt.js:2:18');
    assert.equal(f.stack, `TypeError: Cannot read properties of undefined (reading 'x')
    at helper (scripts/rt.js:2:18)
    at ksr_request_route (scripts/rt.js:5:3)`);
  });

  it('makes thrown non-Error values readable', () => {
    const e = load(`
      function t42() { throw 42; }
      function tobj() { throw { a: 1 }; }
      function tnull() { throw null; }
      function tstr() { throw "plain text"; }
      function tundef() { throw undefined; }
      function tcustom() { throw new (class MyError extends Error { name = "MyError"; })("mine"); }
      function tgetter() { throw { get message() { throw new Error("nope"); }, toJSON() { throw 1; }, toString() { throw 2; } }; }`);
    const msg = (name: string): string => failureOf(e.run(name).result).message;
    assert.equal(msg('t42'), 'uncaught exception: 42');
    assert.equal(msg('tobj'), 'uncaught exception: {"a":1}');
    assert.equal(msg('tnull'), 'uncaught exception: null');
    assert.equal(msg('tstr'), 'uncaught exception: plain text');
    assert.equal(msg('tundef'), 'uncaught exception: undefined');
    assert.equal(msg('tcustom'), 'MyError: mine');
    assert.equal(failureOf(e.run('tcustom').result).location, 'scripts/test.js:7:34');
    assert.match(msg('tgetter'), /^uncaught exception: /);
  });
});

describe('JsEngine: a script tampering with the language', () => {
  it('cannot break argument errors, error reports or locations', () => {
    const e = load(`
      JSON.stringify = () => { throw new Error("no JSON"); };
      Error.captureStackTrace = () => {};
      Error.prepareStackTrace = () => "mine";
      Array.isArray = () => { throw new Error("no isArray"); };
      String.prototype.slice = () => "sliced";
      Object.prototype.toString = () => "tampered";
      Reflect.apply = () => { throw new Error("no apply"); };
      function badArg() {
        KSR.pv.sets("$var(a)", [1]);
      }
      function where() { KSR.pv.sets("$var(w)", KSR.t.where()); }
      function thrown() { throw { a: 1 }; }`, { path: 'scripts/tamper.js' });
    const f = failureOf(e.run('badArg').result);
    assert.equal(f.message, "Error: bad argument #2 to 'KSR.pv.sets' (str expected, got array)");
    assert.equal(f.location, 'scripts/tamper.js:10:16');
    assert.equal(e.run('where').ctx.vars.get('w'), 'scripts/tamper.js:12');
    assert.equal(failureOf(e.run('thrown').result).message, 'uncaught exception: {"a":1}');
  });
});

describe('JsEngine: location, console, nesting, lifecycle', () => {
  it('location() is the script line that made the current KSR call', () => {
    const e = load(`function ksr_request_route() {
  KSR.pv.sets("$var(here)", KSR.t.where());
  KSR.info("logged");
}`, { path: 'scripts/where.js' });
    const { ctx } = e.run('ksr_request_route');
    assert.equal(ctx.vars.get('here'), 'scripts/where.js:2');
    assert.equal(e.engine.location(), undefined);
    const line = e.records.find((r) => r.msg === 'logged');
    assert.equal(line?.at, 'scripts/where.js:3');
  });

  it('console.* go to the logger with the script location', () => {
    const e = load(`function ksr_request_route() {
  console.log("a", 1, { b: [2] }, null, undefined);
  console.error(new TypeError("bad"));
  console.warn("w"); console.info("i"); console.debug("d");
}`, { path: 'scripts/console.js' });
    e.run('ksr_request_route');
    const lines = e.records.filter((r) => r.module === 'script').map((r) => [r.level, r.msg, r.at]);
    assert.deepEqual(lines, [
      [30, 'a 1 {"b":[2]} null undefined', 'scripts/console.js:2'],
      [50, 'TypeError: bad', 'scripts/console.js:3'],
      [40, 'w', 'scripts/console.js:4'],
      [30, 'i', 'scripts/console.js:4'],
      [20, 'd', 'scripts/console.js:4'],
    ]);
  });

  it('runs a nested callback on its own Context and restores the outer one', () => {
    const e = load(`
      function inner() { KSR.pv.sets("$var(who)", "inner"); }
      function ksr_request_route() { KSR.pv.sets("$var(who)", "outer"); KSR.pv.seti("$var(rc)", KSR.t.nested("inner")); KSR.pv.sets("$var(after)", KSR.pv.get("$var(who)")); }`);
    const { ctx } = e.run('ksr_request_route');
    assert.equal(ctx.vars.get('rc'), 1);
    assert.equal(ctx.vars.get('after'), 'outer');
    assert.equal(e.nested[0]?.vars.get('who'), 'inner');
  });

  it('has() tells which callbacks exist; a missing one is a failure, not a throw', () => {
    const e = load(`function ksr_reply_route() {} var notAFunction = 1;`);
    assert.equal(e.engine.has('ksr_request_route'), false);
    assert.equal(e.engine.has('ksr_reply_route'), true);
    assert.equal(e.engine.has('notAFunction'), false);
    const f = failureOf(e.run('ksr_request_route').result);
    assert.match(f.message, /not defined/);
  });

  it('dispose() during a callback waits until it returns; then calls fail cleanly', () => {
    const e = load(`function ksr_request_route() { KSR.pv.seti("$var(rc)", KSR.t.nested("bye")); KSR.pv.sets("$var(after)", "ran"); }
      function bye() {}`);
    const ctx = new Context('event', null, SRC);
    // KSR.t.nested runs 'bye' through engine.call; dispose from inside a KSR function:
    const engine = e.engine;
    const origCall = engine.call.bind(engine);
    engine.call = (name, c, arg) => {
      if (name === 'bye') engine.dispose();
      return origCall(name, c, arg);
    };
    const { result } = e.run('ksr_request_route', undefined, ctx);
    assert.deepEqual(result, CALL_OK);
    assert.equal(ctx.vars.get('after'), 'ran');
    assert.equal(engine.has('ksr_request_route'), false);
    assert.match(failureOf(origCall('ksr_request_route', ctx)).message, /no script loaded/);
  });
});
