/**
 * `GET /metrics` in the Prometheus text exposition format (version 0.0.4), written by hand:
 * every module statistic, the callbacks of each live script version (calls, failures, latency
 * histogram), the versions themselves, and a few process figures. Rendered on request from
 * counters the hot path already keeps; nothing here runs per message.
 */
import { LATENCY_BUCKETS, type ScriptVersion } from '../reload/version.js';
import type { ScriptRunner } from '../script-runner.js';
import { trafficKey } from '../sip/traffic.js';
import type { Stats } from '../kemi/stats.js';

export const METRICS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

export interface MetricsSource {
  readonly stats: Stats;
  readonly script: ScriptRunner;
  readonly startedAt: Date;
}

/** A metric name part: [a-zA-Z0-9_] only. */
function namePart(s: string): string {
  return s.replace(/[^a-zA-Z0-9_]/g, '_');
}

function labelValue(s: string): string {
  return s.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

function labels(l: Record<string, string>): string {
  const parts = Object.entries(l).map(([k, v]) => `${k}="${labelValue(v)}"`);
  return parts.length === 0 ? '' : `{${parts.join(',')}}`;
}

function num(n: number): string {
  if (Number.isNaN(n)) return 'NaN';
  if (n === Infinity) return '+Inf';
  if (n === -Infinity) return '-Inf';
  return String(n);
}

class Writer {
  private readonly lines: string[] = [];

  family(name: string, type: 'counter' | 'gauge' | 'histogram', help: string): void {
    this.lines.push(`# HELP ${name} ${help.replace(/\\/g, '\\\\').replace(/\n/g, '\\n')}`, `# TYPE ${name} ${type}`);
  }

  sample(name: string, l: Record<string, string>, value: number): void {
    this.lines.push(`${name}${labels(l)} ${num(value)}`);
  }

  text(): string {
    return `${this.lines.join('\n')}\n`;
  }
}

/** The counters of host/sip/traffic.ts, as two labelled families instead of one family each. */
function traffic(w: Writer, snap: Record<string, number>): void {
  const requests = 'kemihost_sip_requests_total';
  const replies = 'kemihost_sip_replies_total';
  const keys = Object.keys(snap).sort();
  w.family(requests, 'counter', 'SIP requests received (in) and sent (out) by method, retransmissions included (core:rcv_requests_<method>, core:snt_requests_<method>)');
  for (const key of keys) {
    const t = trafficKey(key);
    if (t?.kind === 'requests') w.sample(requests, { direction: t.direction, method: t.what }, snap[key] ?? 0);
  }
  w.family(replies, 'counter', 'SIP replies received (in) and sent (out) by class, retransmissions included (core:rcv_replies_<N>xx, core:snt_replies_<N>xx)');
  for (const key of keys) {
    const t = trafficKey(key);
    if (t?.kind === 'replies') w.sample(replies, { direction: t.direction, class: t.what }, snap[key] ?? 0);
  }
}

function moduleStats(w: Writer, stats: Stats): void {
  const snap = stats.snapshot('all');
  traffic(w, snap);
  for (const key of Object.keys(snap).sort()) {
    if (trafficKey(key) !== null) continue;
    const i = key.indexOf(':');
    const mod = namePart(key.slice(0, i) === '' ? 'core' : key.slice(0, i));
    const stat = namePart(key.slice(i + 1));
    const gauge = stats.isGauge(key);
    const name = gauge ? `kemihost_${mod}_${stat}` : `kemihost_${mod}_${stat}_total`;
    w.family(name, gauge ? 'gauge' : 'counter', `statistic ${key} (stats.get_statistics)`);
    w.sample(name, {}, snap[key] ?? 0);
  }
}

function versions(w: Writer, script: ScriptRunner): ScriptVersion[] {
  const cur = script.current;
  const live = [...script.drainingVersions, ...(cur === null ? [] : [cur])];
  w.family('kemihost_script_version_info', 'gauge', 'the script version serving new messages (value 1), with its content hash');
  if (cur !== null) w.sample('kemihost_script_version_info', { version: String(cur.number), sha256: cur.source.sha256, path: cur.source.path }, 1);
  w.family('kemihost_script_versions_draining', 'gauge', 'replaced script versions kept until their suspended messages are done');
  w.sample('kemihost_script_versions_draining', {}, live.length - (cur === null ? 0 : 1));
  w.family('kemihost_script_suspended', 'gauge', 'suspended messages pinned to a script version');
  for (const v of live) w.sample('kemihost_script_suspended', { version: String(v.number) }, v.suspended);
  return live;
}

function callbacks(w: Writer, live: readonly ScriptVersion[]): void {
  const calls = 'kemihost_script_callback_duration_seconds';
  w.family(calls, 'histogram', 'time spent in script callbacks (ksr_request_route, ksr_reply_route, event and resume routes), by script version');
  for (const v of live) {
    for (const [name, f] of v.figures) {
      const base = { callback: name, version: String(v.number) };
      let cumulative = 0;
      LATENCY_BUCKETS.forEach((le, i) => {
        cumulative += f.buckets[i] ?? 0;
        w.sample(`${calls}_bucket`, { ...base, le: String(le) }, cumulative);
      });
      w.sample(`${calls}_bucket`, { ...base, le: '+Inf' }, f.calls);
      w.sample(`${calls}_sum`, base, f.sum);
      w.sample(`${calls}_count`, base, f.calls);
    }
  }
  const failures = 'kemihost_script_callback_failures_total';
  w.family(failures, 'counter', 'script callbacks that ended in an error or a limit, by script version');
  for (const v of live) {
    for (const [name, f] of v.figures) w.sample(failures, { callback: name, version: String(v.number) }, f.failures);
  }
}

function process_(w: Writer, startedAt: Date): void {
  const mem = process.memoryUsage();
  w.family('kemihost_uptime_seconds', 'gauge', 'seconds since the server started');
  w.sample('kemihost_uptime_seconds', {}, Math.floor((Date.now() - startedAt.getTime()) / 1000));
  w.family('process_resident_memory_bytes', 'gauge', 'resident set size of the process');
  w.sample('process_resident_memory_bytes', {}, mem.rss);
  w.family('nodejs_heap_used_bytes', 'gauge', 'V8 heap in use (script isolates not included)');
  w.sample('nodejs_heap_used_bytes', {}, mem.heapUsed);
}

export function renderMetrics(src: MetricsSource): string {
  const w = new Writer();
  moduleStats(w, src.stats);
  callbacks(w, versions(w, src.script));
  process_(w, src.startedAt);
  return w.text();
}
