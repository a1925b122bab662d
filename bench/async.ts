/**
 * INVITE → t_newtran → KSR.async.ms_route("RESUME", 10) → t_reply(200) → ACK, with sipp as the
 * UAC: `kemihost run` pinned to core 0, sipp on core 1 (-buff_size 4194304), the rate stepped
 * up to the highest one with 0 failed calls and < 0.1% retransmissions. Then memory: 50,000
 * INVITEs held at once (KSR.async.route with a 100 s delay), RSS of the kemihost process.
 *
 *   node --no-node-snapshot --import tsx bench/async.ts [lua|js ...]
 *   BENCH_RATES=1000,2000 BENCH_HOLD=50000 to change the steps / the number held
 *
 * Prints `async_invite_<engine>_max_rate <n> calls/s`, `async_invite_<engine>_cpu_per_call`,
 * and `async_invite_rss_50k_suspended <MiB> MiB` (Lua engine; the idle RSS too, for reference).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { sippStats } from './sipp-stats.js';
import { freePort, runSipp } from '../test/helpers/sipp.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const CALL_SCENARIO = join(ROOT, 'test/fixtures/sipp/async-invite-uac.xml');
const HOLD_SCENARIO = join(ROOT, 'test/fixtures/sipp/async-hold-uac.xml');
const STEP_SECONDS = 5;
const RATES = (process.env.BENCH_RATES ?? '1000,2000,3000,4000,5000,6000,7000,8000,10000,12000').split(',').map(Number);
const HOLD = Number(process.env.BENCH_HOLD ?? 50_000);
const HOLD_RATE = 5000;
const CLK_TCK = 100;

/** R-URI user "hold": suspended for 100 s; anything else: 10 ms, then 200 (X-Chain: the scenario checks it). */
const SCRIPTS = {
  lua: `function ksr_request_route()
  if KSR.is_ACK() then return end
  KSR.tm.t_newtran()
  if KSR.pv.get("$rU") == "hold" then KSR.async.route("RESUME", 100) else KSR.async.ms_route("RESUME", 10) end
  KSR.x.exit()
end
function RESUME()
  KSR.hdr.append_to_reply("X-Chain: req\\r\\n")
  KSR.tm.t_reply(200, "OK")
end
`,
  js: `function ksr_request_route() {
  if (KSR.is_ACK()) return;
  KSR.tm.t_newtran();
  if (KSR.pv.get("$rU") === "hold") KSR.async.route("RESUME", 100); else KSR.async.ms_route("RESUME", 10);
  KSR.x.exit();
}
function RESUME() {
  KSR.hdr.append_to_reply("X-Chain: req\\r\\n");
  KSR.tm.t_reply(200, "OK");
}
`,
};

interface Target {
  engine: 'lua' | 'js';
  proc: ChildProcess;
  port: number;
}

function cpuSeconds(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${String(pid)}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(f[11]) + Number(f[12])) / CLK_TCK;
  } catch {
    return NaN;
  }
}

function rssMiB(pid: number): number {
  const status = readFileSync(`/proc/${String(pid)}/status`, 'utf8');
  const m = /^VmRSS:\s+(\d+) kB/m.exec(status);
  return Number(m?.[1] ?? NaN) / 1024;
}

async function start(engine: 'lua' | 'js'): Promise<Target> {
  const dir = mkdtempSync(join(tmpdir(), 'kh-bench-async-'));
  const script = join(dir, `async.${engine}`);
  writeFileSync(script, SCRIPTS[engine]);
  const port = await freePort();
  const proc = spawn('taskset', ['-c', '0', process.execPath, '--no-node-snapshot', '--import', 'tsx', join(ROOT, 'host/cli.ts'), 'run',
    script, '-l', `udp:127.0.0.1:${String(port)}`, '--http', 'off', '--log-level', 'error'], { stdio: ['ignore', 'pipe', 'inherit'], cwd: ROOT });
  await new Promise<void>((resolve, reject) => {
    proc.stdout.on('data', (d: Buffer) => { if (d.toString().includes('kemihost ready')) resolve(); });
    proc.once('exit', (c) => { reject(new Error(`kemihost exited ${String(c)}`)); });
  });
  return { engine, proc, port };
}

async function stop(t: Target): Promise<void> {
  t.proc.kill('SIGTERM');
  await sleep(300);
  if (t.proc.exitCode === null) t.proc.kill('SIGKILL');
}

interface Step { rate: number; ok: boolean; calls: number; failed: number; retrans: number; cpuUs: number }

async function sipp(t: Target, scenario: string, service: string, calls: number, rate: number): Promise<{ code: number | null; ok: number; failed: number; retrans: number }> {
  const dir = mkdtempSync(join(tmpdir(), 'kh-bench-sipp-'));
  const stf = join(dir, 'stat.csv');
  const seconds = Math.ceil(calls / rate);
  const r = await runSipp([
    `127.0.0.1:${String(t.port)}`, '-sf', scenario, '-s', service, '-i', '127.0.0.1', '-p', String(await freePort()),
    '-m', String(calls), '-r', String(rate), '-l', String(Math.max(calls, rate * 2)), '-buff_size', '4194304',
    '-timeout', String(seconds * 4 + 10), '-timeout_error', '-trace_stat', '-stf', stf, '-fd', '1',
  ], (seconds * 6 + 20) * 1000, ['taskset', '-c', '1']);
  return { code: r.code, ...sippStats(stf) };
}

async function step(t: Target, rate: number): Promise<Step> {
  const calls = rate * STEP_SECONDS;
  const pid = t.proc.pid ?? 0;
  const cpu0 = cpuSeconds(pid);
  const r = await sipp(t, CALL_SCENARIO, 'call', calls, rate);
  const cpu = cpuSeconds(pid) - cpu0;
  return {
    rate, calls: r.ok, failed: r.failed, retrans: r.retrans, cpuUs: r.ok > 0 ? (cpu * 1e6) / r.ok : NaN,
    ok: r.code === 0 && r.failed === 0 && r.ok === calls && r.retrans < calls * 0.001,
  };
}

async function maxRate(engine: 'lua' | 'js'): Promise<void> {
  const t = await start(engine);
  try {
    await sipp(t, CALL_SCENARIO, 'call', 2000, 1000); // warm-up
    let best: Step | null = null;
    for (const rate of RATES) {
      const s = await step(t, rate);
      process.stderr.write(`# ${engine} rate=${String(rate)} ok=${String(s.ok)} calls=${String(s.calls)} failed=${String(s.failed)} retrans=${String(s.retrans)} cpu_us_per_call=${s.cpuUs.toFixed(1)}\n`);
      if (!s.ok) break;
      best = s;
      await sleep(1000); // let the step's transactions finish their timers
    }
    console.log(`async_invite_${engine}_max_rate ${best === null ? '0' : String(best.rate)} calls/s`);
    console.log(`async_invite_${engine}_cpu_per_call ${best === null ? 'NaN' : best.cpuUs.toFixed(1)} us`);
  } finally {
    await stop(t);
  }
}

async function holdMemory(engine: 'lua' | 'js'): Promise<void> {
  const t = await start(engine);
  try {
    const pid = t.proc.pid ?? 0;
    await sleep(500);
    const idle = rssMiB(pid);
    const r = await sipp(t, HOLD_SCENARIO, 'hold', HOLD, HOLD_RATE);
    await sleep(2000);
    const held = rssMiB(pid);
    process.stderr.write(`# hold ${engine}: sipp exit=${String(r.code)} answered_100=${String(r.ok)} failed=${String(r.failed)} retrans=${String(r.retrans)}\n`);
    if (r.ok !== HOLD) process.stderr.write(`# hold ${engine}: only ${String(r.ok)} of ${String(HOLD)} INVITEs got their 100 Trying\n`);
    const label = HOLD === 50_000 ? '50k' : String(HOLD);
    console.log(`async_invite_rss_idle_${engine} ${idle.toFixed(1)} MiB`);
    console.log(`async_invite_rss_${label}_suspended${engine === 'lua' ? '' : `_${engine}`} ${held.toFixed(1)} MiB`);
    console.log(`async_invite_bytes_per_suspended_${engine} ${(((held - idle) * 1024 * 1024) / Math.max(1, r.ok)).toFixed(0)} B`);
  } finally {
    await stop(t);
  }
}

const which = process.argv.slice(2);
const engines = (['lua', 'js'] as const).filter((e) => which.length === 0 || which.includes(e));
for (const e of engines) await maxRate(e);
for (const e of engines) await holdMemory(e);
console.log(`# machine: ${String((await import('node:os')).cpus().length)} cores, load ${(await import('node:os')).loadavg().map((x) => x.toFixed(2)).join(' ')} (shared with other engineers' runs)`);
