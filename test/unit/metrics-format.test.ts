/**
 * /metrics rendering, checked with a strict reader of the Prometheus text format: names a
 * scraper accepts whatever a module calls its statistics, escaped label values, gauges for
 * in-flight figures, and histograms whose buckets are cumulative and end in +Inf = _count.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { pino } from 'pino';
import { CALL_OK, type ScriptEngine } from '../../host/engines/engine.js';
import { Stats } from '../../host/kemi/stats.js';
import { ScriptVersion } from '../../host/reload/version.js';
import { renderMetrics } from '../../host/rpc/metrics.js';
import { ScriptRunner } from '../../host/script-runner.js';
import { SipTraffic } from '../../host/sip/traffic.js';
import { parsePrometheus, type Sample } from '../helpers/prometheus.js';

/** An engine that answers every callback: the rendering is under test here, not the engines. */
function idleEngine(): ScriptEngine {
  return { kind: 'lua', load: () => undefined, compile: () => undefined, has: () => true, call: () => CALL_OK, location: () => undefined, dispose: () => undefined };
}

function only(samples: readonly Sample[], name: string, labels: Record<string, string> = {}): Sample {
  const found = samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
  assert.equal(found.length, 1, `${name} ${JSON.stringify(labels)}: ${String(found.length)} samples`);
  return found[0] as Sample;
}

test('module statistics, script versions and callback histograms render as valid Prometheus text', () => {
  const stats = new Stats();
  stats.counter('core', 'rcv_requests').value = 7;
  stats.gauge('tm', 'active').value = 2;
  stats.counter('odd-mod', 'a.b').value = 1;
  const runner = new ScriptRunner(pino({ level: 'silent' }), stats);
  const v1 = new ScriptVersion(1, idleEngine(), { path: '/srv/a "quoted"\\path\n.lua', sha256: 'ab'.repeat(32) });
  runner.install(v1);
  const figures = v1.figuresFor('ksr_request_route');
  for (const ms of [0.005, 0.02, 0.3, 4, 2000]) figures.observe(ms, true);
  v1.figuresFor('RESUME').observe(0.1, false);

  const { types, samples } = parsePrometheus(renderMetrics({ stats, script: runner, startedAt: new Date(Date.now() - 5000) }));

  assert.equal(only(samples, 'kemihost_core_rcv_requests_total').value, 7);
  assert.equal(types.get('kemihost_core_rcv_requests_total'), 'counter');
  assert.equal(only(samples, 'kemihost_tm_active').value, 2);
  assert.equal(types.get('kemihost_tm_active'), 'gauge');
  assert.equal(only(samples, 'kemihost_odd_mod_a_b_total').value, 1);

  const info = only(samples, 'kemihost_script_version_info');
  assert.equal(info.labels.version, '1');
  assert.equal(info.labels.path, '/srv/a "quoted"\\path\n.lua', 'escaped and read back intact');
  assert.equal(only(samples, 'kemihost_script_versions_draining').value, 0);
  assert.equal(only(samples, 'kemihost_script_suspended', { version: '1' }).value, 0);

  const h = 'kemihost_script_callback_duration_seconds';
  assert.equal(types.get(h), 'histogram');
  const labels = { callback: 'ksr_request_route', version: '1' };
  const buckets = samples.filter((s) => s.name === `${h}_bucket` && s.labels.callback === 'ksr_request_route');
  let last = 0;
  for (const b of buckets) {
    assert.ok(b.value >= last, 'buckets are cumulative');
    last = b.value;
  }
  assert.equal(buckets.at(-1)?.labels.le, '+Inf');
  assert.equal(last, 5);
  assert.equal(only(samples, `${h}_count`, labels).value, 5);
  // 0.005 ms and 0.02 ms fall in the two smallest buckets (10 µs, 25 µs); 2 s only in +Inf
  assert.equal(only(samples, `${h}_bucket`, { ...labels, le: '0.00001' }).value, 1);
  assert.equal(only(samples, `${h}_bucket`, { ...labels, le: '0.000025' }).value, 2);
  assert.equal(only(samples, `${h}_bucket`, { ...labels, le: '1' }).value, 4);
  assert.ok(Math.abs(only(samples, `${h}_sum`, labels).value - 2.004325) < 1e-9);
  assert.equal(only(samples, 'kemihost_script_callback_failures_total', { callback: 'RESUME' }).value, 1);
  assert.ok(only(samples, 'kemihost_uptime_seconds').value >= 4);
});

test('a replaced version with suspended messages is reported as draining until it is disposed', () => {
  const stats = new Stats();
  const runner = new ScriptRunner(pino({ level: 'silent' }), stats);
  const v1 = new ScriptVersion(1, idleEngine(), { path: 'a.lua', sha256: '0'.repeat(64) });
  runner.install(v1);
  v1.suspended = 3;
  runner.install(new ScriptVersion(2, idleEngine(), { path: 'a.lua', sha256: '1'.repeat(64) }));
  const { samples } = parsePrometheus(renderMetrics({ stats, script: runner, startedAt: new Date() }));
  assert.equal(only(samples, 'kemihost_script_versions_draining').value, 1);
  assert.equal(only(samples, 'kemihost_script_suspended', { version: '1' }).value, 3);
  assert.equal(only(samples, 'kemihost_script_version_info').labels.version, '2');
});

test('the reader used above rejects what a scraper would', () => {
  assert.throws(() => parsePrometheus('x 1'), /newline/);
  assert.throws(() => parsePrometheus('x 1\n'), /no TYPE/);
  assert.throws(() => parsePrometheus('# TYPE x counter\nx{a="1} 1\n'), /label/);
  assert.throws(() => parsePrometheus('# TYPE x counter\nx one\n'), /not a sample/);
});

test('SIP traffic by method and reply class: counted from parsed messages in and raw buffers out, rendered as labelled families', () => {
  const stats = new Stats();
  const t = new SipTraffic(stats);
  t.requestIn('INVITE');
  t.requestIn('INVITE');
  t.requestIn('FOO'); // not a counted method: "other", no new counter
  t.replyIn(183);
  t.replyIn(486);
  t.out(Buffer.from('SIP/2.0 200 OK\r\nVia: x\r\n\r\n'));
  t.out(Buffer.from('SIP/2.0 503 Service Unavailable\r\n\r\n'));
  t.out(Buffer.from('OPTIONS sip:a@b SIP/2.0\r\n\r\n'));
  t.out(Buffer.from('XYZZYXYZZYXYZZYXYZZY sip:a@b SIP/2.0\r\n\r\n'));
  assert.equal(stats.get('core:rcv_requests_invite'), 2);
  assert.equal(stats.get('core:rcv_requests_other'), 1);
  assert.equal(stats.get('core:rcv_requests_foo'), undefined);
  assert.equal(stats.get('core:rcv_replies_1xx'), 1);
  assert.equal(stats.get('core:rcv_replies_4xx'), 1);
  assert.equal(stats.get('core:snt_replies_2xx'), 1);
  assert.equal(stats.get('core:snt_replies_5xx'), 1);
  assert.equal(stats.get('core:snt_requests_options'), 1);
  assert.equal(stats.get('core:snt_requests_other'), 1);

  const runner = new ScriptRunner(pino({ level: 'silent' }), stats);
  const { types, samples } = parsePrometheus(renderMetrics({ stats, script: runner, startedAt: new Date() }));
  assert.equal(types.get('kemihost_sip_requests_total'), 'counter');
  assert.equal(only(samples, 'kemihost_sip_requests_total', { direction: 'in', method: 'INVITE' }).value, 2);
  assert.equal(only(samples, 'kemihost_sip_requests_total', { direction: 'out', method: 'OPTIONS' }).value, 1);
  assert.equal(only(samples, 'kemihost_sip_replies_total', { direction: 'in', class: '4xx' }).value, 1);
  assert.equal(only(samples, 'kemihost_sip_replies_total', { direction: 'out', class: '2xx' }).value, 1);
  assert.equal(types.get('kemihost_core_rcv_requests_invite_total'), undefined, 'not also as one family per counter');
});

test('jsonrpc connection states are gauges, per server and in all', () => {
  const stats = new Stats();
  stats.gauge('jsonrpc', 'servers_connected').value = 1;
  stats.gauge('jsonrpc', 'server_10.0.0.1_9999_connected').value = 1;
  stats.counter('jsonrpc', 'requests').value = 3;
  const runner = new ScriptRunner(pino({ level: 'silent' }), stats);
  const { types, samples } = parsePrometheus(renderMetrics({ stats, script: runner, startedAt: new Date() }));
  assert.equal(types.get('kemihost_jsonrpc_servers_connected'), 'gauge');
  assert.equal(only(samples, 'kemihost_jsonrpc_server_10_0_0_1_9999_connected').value, 1);
  assert.equal(types.get('kemihost_jsonrpc_server_10_0_0_1_9999_connected'), 'gauge');
  assert.equal(types.get('kemihost_jsonrpc_requests_total'), 'counter');
});
