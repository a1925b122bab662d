/**
 * KSR calls made after their callback returned: a promise continuation, or an async function
 * after `await`. V8 runs them when the outermost call into the isolate ends, when the host is
 * done with the message; they are refused (the function's failure value, nothing done, logged
 * once per callback), and they never reach another message's Context. The callback's own
 * outcome stands. On real isolates, and once over real SIP.
 */
import assert from 'node:assert/strict';
import { describe, it, test } from 'node:test';
import { CALL_OK } from '../../host/engines/engine.js';
import { Context } from '../../host/kemi/context.js';
import { invite, RecordingOwner } from '../helpers/binding-harness.js';
import { routeScript, startServer } from '../helpers/runtime.js';
import { UdpPeer } from '../helpers/sip-client.js';
import { failureOf, harnessPerTest, SRC } from '../fixtures/js/js-harness.js';

const load = harnessPerTest();

function sipContext(sip: RecordingOwner): Context {
  const ctx = new Context('sip', invite(), SRC);
  ctx.owner = sip;
  return ctx;
}

/** The log records of refused late calls. */
function lateRecords(records: readonly Record<string, unknown>[]): Record<string, unknown>[] {
  return records.filter((r) => typeof r.function === 'string' && String(r.msg).startsWith('KSR call refused: made after its callback returned'));
}

describe('JsEngine: KSR calls after the callback returned', () => {
  it('a promise continuation cannot reply: -1, nothing sent, the callback\'s own reply stands', () => {
    const e = load(`
      let late = "not run";
      function ksr_request_route() {
        Promise.resolve().then(() => { late = KSR.sl.sl_send_reply(200, "late"); });
        KSR.sl.sl_send_reply(404, "Own");
      }
      function report() { KSR.pv.sets("$var(late)", String(late)); }`);
    const sip = new RecordingOwner();
    const { result } = e.run('ksr_request_route', undefined, sipContext(sip));
    assert.deepEqual(result, CALL_OK);
    assert.deepEqual(sip.replies.map((r) => [r.code, r.reason]), [[404, 'Own']]);
    assert.equal(e.run('report').ctx.vars.get('late'), '-1');
    const logged = lateRecords(e.records);
    assert.equal(logged.length, 1);
    assert.equal(logged[0]!.function, 'KSR.sl.sl_send_reply');
    assert.equal(logged[0]!.at, 'scripts/test.js:4');
  });

  it('an async callback stops acting at its first await: every later KSR call returns its failure value', () => {
    const e = load(`
      let got = null;
      async function ksr_request_route() {
        KSR.pv.sets("$var(s)", "before");
        await null;
        got = [KSR.pv.sets("$var(s)", "after"), KSR.sl.sl_send_reply(200, "late"), KSR.is_INVITE(), KSR.pv.get("$ru"), KSR.x.exit(), KSR.t.str()];
      }
      function report() { KSR.pv.sets("$var(got)", JSON.stringify(got.map((v) => v === undefined ? "undefined" : v))); }`);
    const sip = new RecordingOwner();
    const { result, ctx } = e.run('ksr_request_route', undefined, sipContext(sip));
    // KSR.x.exit() after await did not stop anything: the callback had returned
    assert.deepEqual(result, CALL_OK);
    assert.equal(ctx.vars.get('s'), 'before');
    assert.deepEqual(sip.replies, []);
    assert.equal(e.run('report').ctx.vars.get('got'), JSON.stringify(['undefined', -1, false, null, 'undefined', null]));
    // six refused calls, one line for the callback
    assert.equal(lateRecords(e.records).length, 1);
  });

  it('an async callback that rejects still fails, with the throw site', () => {
    const e = load(`
      async function rejects() { await null; throw new Error("async boom"); }`);
    const f = failureOf(e.run('rejects').result);
    assert.equal(f.message, 'Error: async boom');
    assert.equal(f.location, 'scripts/test.js:2:52');
  });

  it('a continuation queued by a nested callback acts on neither message', () => {
    const e = load(`
      function inner() { Promise.resolve().then(() => KSR.pv.sets("$var(who)", "late")); KSR.pv.sets("$var(who)", "inner"); }
      function ksr_request_route() { KSR.pv.seti("$var(rc)", KSR.t.nested("inner")); }`);
    const { result, ctx } = e.run('ksr_request_route');
    assert.deepEqual(result, CALL_OK);
    assert.equal(ctx.vars.get('rc'), 1);
    assert.equal(ctx.vars.has('who'), false, 'the outer message');
    assert.equal(e.nested[0]?.vars.get('who'), 'inner', 'the inner message');
  });

  it('a continuation left by a callback stopped at the CPU limit never acts on the next message', () => {
    const e = load(`
      function spin() {
        Promise.resolve().then(() => KSR.pv.sets("$var(from)", "spin"));
        for (;;) {}
      }
      function exits() {
        Promise.resolve().then(() => KSR.pv.sets("$var(from)", "exits"));
        KSR.x.exit();
      }
      function next() { KSR.pv.sets("$var(mine)", "1"); }`, { cpuMs: 30 });
    const spun = e.run('spin');
    assert.equal(failureOf(spun.result).code, 'KEMI_ERR_CPU_LIMIT');
    const after = e.run('next');
    assert.deepEqual(after.result, CALL_OK);
    assert.deepEqual([...after.ctx.vars.keys()], ['mine']);
    const exited = e.run('exits');
    assert.equal(exited.ctx.vars.has('from'), false);
    const next = e.run('next');
    assert.deepEqual([...next.ctx.vars.keys()], ['mine']);
    assert.equal(spun.ctx.vars.has('from'), false);
  });

  it('the top level may use KSR in its own continuations until it is loaded', () => {
    const e = load(`Promise.resolve().then(() => KSR.info("top level continuation"));
      function ksr_request_route() {}`);
    assert.ok(e.records.some((r) => r.msg === 'top level continuation'));
    assert.deepEqual(lateRecords(e.records), []);
  });
});

test('over SIP: a late reply is never sent; the next reply the peer gets is for its next request', async () => {
  const server = await startServer('js', routeScript('js', `
    Promise.resolve().then(() => KSR.sl.sl_send_reply(200, "Late"));
    KSR.sl.sl_send_reply(404, "Own " + KSR.pv.get("$ci"));`));
  try {
    const peer = await UdpPeer.open();
    try {
      for (const callId of ['first@test', 'second@test']) {
        peer.request({ callId }, server.udpPort);
        const reply = await peer.next(3000);
        assert.equal(reply?.status, 404);
        assert.equal(reply.reason, `Own ${callId}`);
      }
    } finally {
      peer.close();
    }
  } finally {
    await server.close();
  }
});
