/**
 * sipp OPTIONS load against `kemihost run` pinned to core 0 (sipp on core 1), stepping the
 * rate up to the highest one with 0 failed calls and < 0.1% retransmissions. Prints, per
 * engine: the best clean rate and CPU µs per message measured from /proc at that rate.
 * With `kamailio` installed, the same scripts run under Kamailio in the same run: the Lua one
 * on app_lua, the JS one on app_jsdt (Duktape, the JS engine issue's reference).
 *
 *   node --no-node-snapshot --import tsx bench/sip-options.ts [bare|lua|js|kamailio|kamailio_js ...]
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { freePort, runSipp } from '../test/helpers/sipp.js';
import { childrenOf, cpuSeconds } from './lib/targets.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const SCENARIO = join(ROOT, 'test/fixtures/sipp/options-uac.xml');
const STEP_SECONDS = 5;
const RATES = (process.env.BENCH_RATES ?? '5000,10000,15000,20000,25000,30000,35000,40000').split(',').map(Number);

interface Target {
  name: string;
  proc: ChildProcess;
  port: number;
  /** pids whose CPU counts */
  pids: () => number[];
}



async function startKemihost(engine: 'lua' | 'js'): Promise<Target> {
  const port = await freePort();
  const proc = spawn('taskset', ['-c', '0', process.execPath, '--no-node-snapshot', '--import', 'tsx', join(ROOT, 'host/cli.ts'), 'run',
    join(ROOT, `bench/scripts/options.${engine}`), '-l', `udp:127.0.0.1:${String(port)}`, '--http', 'off', '--log-level', 'error'], { stdio: ['ignore', 'pipe', 'inherit'], cwd: ROOT });
  await new Promise<void>((resolve, reject) => {
    proc.stdout.on('data', (d: Buffer) => { if (d.toString().includes('kemihost ready')) resolve(); });
    proc.once('exit', (c) => { reject(new Error(`kemihost exited ${String(c)}`)); });
  });
  const pid = proc.pid ?? 0;
  return { name: `kemihost_${engine}`, proc, port, pids: () => [pid] };
}

async function startBare(): Promise<Target> {
  const port = await freePort();
  const proc = spawn('taskset', ['-c', '0', process.execPath, join(ROOT, 'bench/bare-responder.mjs'), String(port)], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise<void>((resolve) => proc.stdout.once('data', () => { resolve(); }));
  const pid = proc.pid ?? 0;
  return { name: 'node_bare_dgram', proc, port, pids: () => [pid] };
}

/** Kamailio with the same script: Lua (app_lua) or, the issue's JS reference, Duktape (app_jsdt). */
async function startKamailio(engine: 'lua' | 'js'): Promise<Target | null> {
  const mod = engine === 'lua' ? 'app_lua' : 'app_jsdt';
  if (!existsSync('/usr/sbin/kamailio') || !existsSync(`/usr/lib/x86_64-linux-gnu/kamailio/modules/${mod}.so`)) return null;
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'kh-bench-kam-'));
  const cfg = join(dir, 'kamailio.cfg');
  writeFileSync(cfg, `#!KAMAILIO
listen=udp:127.0.0.1:${String(port)}
children=1
disable_tcp=yes
log_stderror=yes
debug=0
auto_aliases=no
loadmodule "sl.so"
loadmodule "pv.so"
loadmodule "${mod}.so"
modparam("${mod}", "load", "${join(ROOT, `bench/scripts/options.${engine}`)}")
cfgengine "${engine === 'lua' ? 'lua' : 'jsdt'}"
`);
  const proc = spawn('taskset', ['-c', '0', '/usr/sbin/kamailio', '-f', cfg, '-DD', '-E', '-m', '256', '-M', '16', '-P', join(dir, 'k.pid'), '-Y', dir, '-w', dir], { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  proc.stderr.on('data', (d: Buffer) => { err = (err + d.toString()).slice(-4000); });
  await sleep(1500);
  if (proc.exitCode !== null) {
    process.stderr.write(`kamailio did not start: ${err}\n`);
    return null;
  }
  const pid = proc.pid ?? 0;
  return { name: `kamailio_${engine}`, proc, port, pids: () => [pid, ...childrenOf(pid)] };
}

interface Step { rate: number; ok: boolean; msgs: number; cpuUs: number; achieved: number; retrans: number; failed: number }

async function step(t: Target, rate: number): Promise<Step> {
  const dir = mkdtempSync(join(tmpdir(), 'kh-bench-'));
  const stf = join(dir, 'stat.csv');
  const calls = rate * STEP_SECONDS;
  const cpu0 = cpuSeconds(t.pids());
  const t0 = performance.now();
  const r = await runSipp([
    `127.0.0.1:${String(t.port)}`, '-sf', SCENARIO, '-i', '127.0.0.1', '-p', String(await freePort()), '-m', String(calls), '-r', String(rate),
    '-buff_size', '4194304', '-timeout', String(STEP_SECONDS * 4), '-timeout_error', '-trace_stat', '-stf', stf, '-fd', '1', '-l', String(rate * 2),
  ], STEP_SECONDS * 6000, ['taskset', '-c', '1']);
  const seconds = (performance.now() - t0) / 1000;
  const cpu = cpuSeconds(t.pids()) - cpu0;
  const lines = existsSync(stf) ? readFileSync(stf, 'utf8').trim().split('\n') : [];
  const head = (lines[0] ?? '').split(';');
  const last = (lines[lines.length - 1] ?? '').split(';');
  const col = (name: string): number => Number(last[head.indexOf(name)] ?? NaN);
  const ok = col('SuccessfulCall(C)');
  const failed = col('FailedCall(C)');
  const retrans = col('Retransmissions(C)');
  return {
    rate, msgs: ok, cpuUs: ok > 0 ? (cpu * 1e6) / ok : NaN, achieved: ok / seconds, retrans, failed,
    ok: r.code === 0 && failed === 0 && ok === calls && retrans < calls * 0.001,
  };
}

async function bench(t: Target): Promise<void> {
  let best: Step | null = null;
  for (const rate of RATES) {
    const s = await step(t, rate);
    process.stderr.write(`# ${t.name} rate=${String(rate)} ok=${String(s.ok)} answered=${String(s.msgs)} failed=${String(s.failed)} retrans=${String(s.retrans)} cpu_us=${s.cpuUs.toFixed(1)}\n`);
    if (!s.ok) break;
    best = s;
  }
  console.log(`sip_options_${t.name}_max_rate ${best === null ? '0' : String(best.rate)} msg/s`);
  console.log(`sip_options_${t.name}_cpu_per_msg ${best === null ? 'NaN' : best.cpuUs.toFixed(1)} us`);
  results.set(t.name, best?.cpuUs ?? NaN);
}

const results = new Map<string, number>();
const which = process.argv.slice(2);
const want = (n: string): boolean => which.length === 0 || which.includes(n);

for (const name of ['bare', 'lua', 'js', 'kamailio', 'kamailio_js'] as const) {
  if (!want(name)) continue;
  let t: Target | null;
  try {
    if (name === 'kamailio') t = await startKamailio('lua');
    else if (name === 'kamailio_js') t = await startKamailio('js');
    else t = name === 'bare' ? await startBare() : await startKemihost(name);
  } catch (e) {
    process.stderr.write(`# ${name}: not started (${(e as Error).message})\n`);
    continue;
  }
  if (t === null) continue;
  try {
    await bench(t);
  } finally {
    t.proc.kill('SIGTERM');
    await sleep(300);
    if (t.proc.exitCode === null) t.proc.kill('SIGKILL');
  }
}
const bare = results.get('node_bare_dgram');
const kam = results.get('kamailio_lua');
const kamJs = results.get('kamailio_js');
for (const e of ['lua', 'js']) {
  const ours = results.get(`kemihost_${e}`);
  if (kam !== undefined && ours !== undefined && Number.isFinite(kam) && Number.isFinite(ours)) {
    console.log(`sip_options_cpu_ratio_${e}_vs_kamailio ${(ours / kam).toFixed(2)} x`);
  }
  // the issue's JS reference: Kamailio running the same JS script on Duktape
  if (e === 'js' && kamJs !== undefined && ours !== undefined && Number.isFinite(kamJs) && Number.isFinite(ours)) {
    console.log(`sip_options_cpu_ratio_js_vs_kamailio_js ${(ours / kamJs).toFixed(2)} x`);
  }
  if (bare !== undefined && ours !== undefined && Number.isFinite(bare) && Number.isFinite(ours)) {
    console.log(`sip_options_cpu_over_bare_${e} ${(ours - bare).toFixed(1)} us`);
  }
}
