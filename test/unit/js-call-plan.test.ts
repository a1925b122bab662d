/**
 * The JS engine's call plans (host/engines/js/call-plan.ts), on real isolates: how many times
 * a callback crosses back to the host once its plan is learnt, and what happens when a
 * binding's prediction is wrong. What scripts see and what peers receive is tested on both
 * engines over real SIP in test/bindings/call-plan.test.ts.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CALL_DROP, CALL_EXIT, CALL_OK } from '../../host/engines/engine.js';
import { REVIEW_RUNS } from '../../host/engines/js/call-plan.js';
import { Context } from '../../host/kemi/context.js';
import { invite, RecordingOwner } from '../helpers/binding-harness.js';
import { harnessPerTest, SRC } from '../fixtures/js/js-harness.js';

const load = harnessPerTest();

/** A SIP Context on a parsed INVITE whose replies `sip` records. */
function sipContext(sip: RecordingOwner): Context {
  const ctx = new Context('sip', invite(['X-Custom: abc']), SRC);
  ctx.owner = sip;
  return ctx;
}

/** Crossings of each of `runs` runs of ksr_request_route, each on a new Context. */
function crossingsPerRun(e: ReturnType<typeof load>, runs: number, make: () => Context): number[] {
  const out: number[] = [];
  for (let i = 0; i < runs; i++) {
    const before = e.engine.crossings;
    assert.deepEqual(e.run('ksr_request_route', undefined, make()).result, CALL_OK);
    out.push(e.engine.crossings - before);
  }
  return out;
}

describe('JsEngine call plans', () => {
  it('the benchmark route crosses back to the host only while its plan is learnt', () => {
    const e = load(`function ksr_request_route() {
      const ru = KSR.pv.get("$ru"), fu = KSR.pv.get("$fu"), ci = KSR.pv.get("$ci");
      if (KSR.is_INVITE() && KSR.is_method_in("I")) {
        KSR.hdr.append_to_reply("X-Bench: 1\\r\\n");
        KSR.sl.sl_send_reply(200, "OK");
      }
    }`);
    const sip = new RecordingOwner();
    const crossings = crossingsPerRun(e, 5, () => sipContext(sip));
    // every call crosses while the plan is learnt (a call is taken on its second sighting)
    assert.deepEqual(crossings, [7, 7, 0, 0, 0]);
    assert.equal(sip.replies.length, 5);
    for (const r of sip.replies) assert.deepEqual(r, { code: 200, reason: 'OK', headers: ['X-Bench: 1\r\n'] });
  });

  it('a call that crosses after queued calls takes them along: one crossing for both', () => {
    const e = load(`function ksr_request_route() {
      KSR.hdr.append_to_reply("X-A: 1\\r\\n");
      KSR.hdr.append_to_reply("X-B: 2\\r\\n");
      KSR.sl.send_reply(200, "OK");
    }`);
    const sip = new RecordingOwner();
    assert.deepEqual(crossingsPerRun(e, 4, () => sipContext(sip)), [3, 3, 1, 1]);
    assert.equal(sip.replies.length, 4);
    for (const r of sip.replies) assert.deepEqual(r.headers, ['X-A: 1\r\n', 'X-B: 2\r\n']);
  });

  it('KSR.x.exit()/drop() end the callback inside the isolate; the host does its part after the queued calls', () => {
    const e = load(`function ksr_request_route() {
        KSR.hdr.append_to_reply("X-A: 1\\r\\n");
        KSR.sl.sl_send_reply(200, "OK");
        KSR.x.exit();
        KSR.sl.sl_send_reply(500, "Not Reached");
      }
      function dropper() { KSR.x.drop(); }`);
    const sip = new RecordingOwner();
    const results: unknown[] = [];
    const crossings: number[] = [];
    for (let i = 0; i < 4; i++) {
      const before = e.engine.crossings;
      const ctx = sipContext(sip);
      results.push(e.run('ksr_request_route', undefined, ctx).result);
      crossings.push(e.engine.crossings - before);
      assert.equal(ctx.stop, 'exit');
    }
    assert.deepEqual(crossings, [2, 2, 0, 0], 'exit itself never crosses');
    assert.deepEqual(results, [CALL_EXIT, CALL_EXIT, CALL_EXIT, CALL_EXIT]);
    assert.deepEqual(sip.replies.map((r) => [r.code, r.headers]), Array.from({ length: 4 }, () => [200, ['X-A: 1\r\n']]));
    const ctx = sipContext(sip);
    assert.deepEqual(e.run('dropper', undefined, ctx).result, CALL_DROP);
    assert.equal(ctx.dropped, true);
  });

  it('a call whose arguments change on every message stays out of the plan and keeps crossing', () => {
    const e = load(`let n = 0;
      function ksr_request_route() { KSR.hdr.append_to_reply("X-N: " + (n++) + "\\r\\n"); KSR.sl.sl_send_reply(200, "OK"); }`);
    const sip = new RecordingOwner();
    assert.deepEqual(crossingsPerRun(e, 5, () => sipContext(sip)), [2, 2, 1, 1, 1]);
    assert.deepEqual(sip.replies.map((r) => r.headers), [0, 1, 2, 3, 4].map((n) => [`X-N: ${String(n)}\r\n`]));
  });

  it('a read answered from the plan is not used after a call that changes something', () => {
    const e = load(`function ksr_request_route() {
      KSR.pv.sets("$var(a)", KSR.pv.get("$rU"));
      KSR.pv.sets("$rU", "carol");
      KSR.pv.sets("$var(b)", KSR.pv.get("$rU"));
    }`);
    for (let i = 0; i < 4; i++) {
      const ctx = sipContext(new RecordingOwner());
      assert.deepEqual(e.run('ksr_request_route', undefined, ctx).result, CALL_OK);
      assert.deepEqual([ctx.vars.get('a'), ctx.vars.get('b')], ['bob', 'carol'], `run ${String(i)}`);
    }
  });

  it('entries a callback stopped using are dropped at the next review; taking the branch again learns them again', () => {
    const e = load(`function ksr_request_route() {
      if (KSR.pv.get("$rU") === "bob") {
        KSR.pv.sets("$var(out)", KSR.pv.get("$ci") + "/" + KSR.pv.get("$fU") + "/" + KSR.pv.get("$si"));
      } else {
        KSR.pv.sets("$var(out)", "other:" + KSR.pv.get("$ci"));
      }
    }`);
    const bob = (): Context => sipContext(new RecordingOwner());
    const carol = (): Context => {
      const ctx = new Context('sip', invite([], { ruri: 'sip:carol@example.com' }), SRC);
      ctx.owner = new RecordingOwner();
      return ctx;
    };
    const out = (make: () => Context): unknown => {
      const ctx = make();
      assert.deepEqual(e.run('ksr_request_route', undefined, ctx).result, CALL_OK);
      return ctx.vars.get('out');
    };
    // bob's branch is learnt, then only carol's is taken for more than a review window
    for (let i = 0; i < 3; i++) assert.equal(out(bob), 'call-1@198.51.100.7/alice/198.51.100.7');
    const planned = e.engine.plannedCalls('ksr_request_route');
    for (let i = 0; i < REVIEW_RUNS * 2 + 10; i++) assert.equal(out(carol), 'other:call-1@198.51.100.7');
    assert.equal(planned, 4, '$rU, $ci, $fU, $si');
    assert.equal(e.engine.plannedCalls('ksr_request_route'), 2, 'bob\'s reads were dropped');
    // the renumbered plan still answers right, without crossing for what stays in it
    assert.deepEqual(crossingsPerRun(e, 3, carol), [1, 1, 1]);
    // bob's branch: learnt again ($fU and $si cross twice, then only the pv.sets)
    assert.deepEqual(crossingsPerRun(e, 4, bob), [3, 3, 1, 1]);
    for (let i = 0; i < 3; i++) assert.equal(out(bob), 'call-1@198.51.100.7/alice/198.51.100.7');
  });

  it('a script that tampers with Map and Array cannot make a planned call answer for another', () => {
    const e = load(`
      Map.prototype.get = function () { return 0; };
      Map.prototype.set = function () { return this; };
      Array.prototype.join = function () { return "0,0,0"; };
      for (let k = 0; k < 64; k++) Array.prototype[k] = { zero: 0, one: null, many: null };
      function ksr_request_route() {
        const fu = KSR.pv.get("$fU"), tu = KSR.pv.get("$tU");
        KSR.hdr.append_to_reply("X-U: " + fu + "," + tu + "," + KSR.is_INVITE() + "\\r\\n");
        KSR.sl.sl_send_reply(200, "OK");
      }`);
    const sip = new RecordingOwner();
    assert.deepEqual(crossingsPerRun(e, 4, () => sipContext(sip)), [5, 5, 0, 0]);
    assert.equal(sip.replies.length, 4);
    for (const r of sip.replies) assert.deepEqual(r, { code: 200, reason: 'OK', headers: ['X-U: alice,bob,true\r\n'] });
  });

  it('a wrong prediction is counted and logged; the call still runs', () => {
    const e = load(`function ksr_request_route() {
      KSR.pv.seti("$var(rc)", KSR.sl.sl_send_reply(200, "OK"));
    }`);
    // says it can reply, then fails to send: a SipActions breaking its own contract
    class LyingSip extends RecordingOwner {
      override canReply(): boolean {
        return true;
      }
    }
    const sip = new LyingSip(false);
    const rcs: unknown[] = [];
    for (let i = 0; i < 4; i++) {
      const ctx = sipContext(sip);
      e.run('ksr_request_route', undefined, ctx);
      rcs.push(ctx.vars.get('rc'));
    }
    // crossing: the real result; queued: the predicted one
    assert.deepEqual(rcs, [-1, -1, 1, 1]);
    assert.equal(sip.replies.length, 4, 'the reply was attempted every time');
    assert.equal(e.registry.stats.get('script:deferred_mismatch'), 2);
    const warned = e.records.filter((r) => r.msg === 'a deferred KSR call returned another result than the script was given (script:deferred_mismatch)');
    assert.equal(warned.length, 1, 'logged once, not per message');
    assert.equal(warned[0]?.function, 'KSR.sl.sl_send_reply');
  });
});
