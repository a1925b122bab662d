/**
 * Waiting in place against the named-route form, and Kamailio's named-route form beside them,
 * in one run: INVITE → (in place: KSR.async.ms_sleep(10) and the callback goes on | named:
 * t_newtran + KSR.async.ms_route("RESUME", 10)) → t_reply(200) with X-Chain → ACK, sipp as the
 * UAC on core 1, the server on core 0. Each target runs the same rate steps; a step passes with
 * every call completed, none failed and < 0.1% retransmissions. Then memory: 50,000 INVITEs
 * waiting at once (in place: KSR.async.sleep(25); named: KSR.async.route(…, 100)), RSS.
 *
 *   node --no-node-snapshot --import tsx bench/wait-in-place.ts [lua|js ...]
 *   BENCH_RATES=500,1000,2000  BENCH_HOLD=50000
 *
 * Prints, per engine and form: `wait_<form>_<server>_<engine>_max_rate <n> calls/s`,
 * `..._cpu_per_call <µs> us` (at the highest rate all passed), `..._cpu_per_call_at_1000`, and
 * `wait_<form>_kemihost_<engine>_rss_50k <MiB> MiB`, and the in-place / named CPU ratio.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { sippStats } from './sipp-stats.js';
import { cpuSeconds, ROOT, startKamailio, startKemihost, stopTarget, type Engine, type Target } from './lib/targets.js';
import { freePort, runSipp } from '../test/helpers/sipp.js';

const CALL_SCENARIO = join(ROOT, 'test/fixtures/sipp/async-invite-uac.xml');
const HOLD_SCENARIO = join(ROOT, 'test/fixtures/sipp/async-hold-uac.xml');
const STEP_SECONDS = 5;
const RATES = (process.env.BENCH_RATES ?? '500,1000,2000,3000').split(',').map(Number);
const HOLD = Number(process.env.BENCH_HOLD ?? 50_000);
const HOLD_RATE = 5000;

type Form = 'in_place' | 'named';

/** R-URI user "hold": waits long (the memory step); anything else 10 ms, then 200 with X-Chain. */
const SCRIPTS: Record<Form, Record<Engine, string>> = {
  in_place: {
    lua: `function ksr_request_route()
  if KSR.is_ACK() then return end
  if KSR.pv.get("$rU") == "hold" then KSR.async.sleep(25) else KSR.async.ms_sleep(10) end
  KSR.hdr.append_to_reply("X-Chain: req\\r\\n")
  KSR.tm.t_reply(200, "OK")
end
`,
    js: `async function ksr_request_route() {
  if (KSR.is_ACK()) return;
  if (KSR.pv.get("$rU") === "hold") await KSR.async.sleep(25); else await KSR.async.ms_sleep(10);
  KSR.hdr.append_to_reply("X-Chain: req\\r\\n");
  KSR.tm.t_reply(200, "OK");
}
`,
  },
  named: {
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
  },
};

function scriptFile(form: Form, engine: Engine): string {
  const path = join(mkdtempSync(join(tmpdir(), 'kh-bench-wait-')), `wait.${engine}`);
  writeFileSync(path, SCRIPTS[form][engine]);
  return path;
}

function rssMiB(pid: number): number {
  const m = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${String(pid)}/status`, 'utf8'));
  return Number(m?.[1] ?? NaN) / 1024;
}

async function sipp(t: Target, scenario: string, service: string, calls: number, rate: number): Promise<{ code: number | null; ok: number; failed: number; retrans: number }> {
  const stf = join(mkdtempSync(join(tmpdir(), 'kh-bench-sipp-')), 'stat.csv');
  const seconds = Math.ceil(calls / rate);
  const r = await runSipp([
    `127.0.0.1:${String(t.port)}`, '-sf', scenario, '-s', service, '-i', '127.0.0.1', '-p', String(await freePort()),
    '-m', String(calls), '-r', String(rate), '-l', String(Math.max(calls, rate * 2)), '-buff_size', '4194304',
    '-timeout', String(seconds * 4 + 10), '-timeout_error', '-trace_stat', '-stf', stf, '-fd', '1',
  ], (seconds * 6 + 20) * 1000, ['taskset', '-c', '1']);
  return { code: r.code, ...sippStats(stf) };
}

/** CPU per call is compared at this rate, which every target passes (lower rates cost more per call: fixed timers). */
const REFERENCE_RATE = 1000;

/** The highest passing rate and the CPU per call there, and at REFERENCE_RATE. */
async function sweep(label: string, t: Target): Promise<void> {
  await sipp(t, CALL_SCENARIO, 'call', 1000, 500); // warm-up
  let best: { rate: number; cpuUs: number } | null = null;
  for (const rate of RATES) {
    const calls = rate * STEP_SECONDS;
    const cpu0 = cpuSeconds(t.pids());
    const r = await sipp(t, CALL_SCENARIO, 'call', calls, rate);
    const cpuUs = r.ok > 0 ? ((cpuSeconds(t.pids()) - cpu0) * 1e6) / r.ok : NaN;
    const ok = r.code === 0 && r.failed === 0 && r.ok === calls && r.retrans < calls * 0.001;
    process.stderr.write(`# ${label} rate=${String(rate)} ok=${String(ok)} calls=${String(r.ok)} failed=${String(r.failed)} retrans=${String(r.retrans)} cpu_us_per_call=${cpuUs.toFixed(1)}\n`);
    if (!ok) break;
    if (rate === REFERENCE_RATE) {
      console.log(`${label}_cpu_per_call_at_${String(REFERENCE_RATE)} ${cpuUs.toFixed(1)} us`);
      cpuAt.set(label, cpuUs);
    }
    best = { rate, cpuUs };
    await sleep(1000);
  }
  console.log(`${label}_max_rate ${best === null ? '0' : String(best.rate)} calls/s`);
  console.log(`${label}_cpu_per_call ${best === null ? 'NaN' : best.cpuUs.toFixed(1)} us`);
}

const cpuAt = new Map<string, number>();

async function holdMemory(form: Form, engine: Engine): Promise<void> {
  const t = await startKemihost(`kemihost-${engine}`, scriptFile(form, engine), { limits: { wait_ms: 60_000 } });
  try {
    const pid = t.pids()[0] ?? 0;
    await sleep(500);
    const idle = rssMiB(pid);
    const r = await sipp(t, HOLD_SCENARIO, 'hold', HOLD, HOLD_RATE);
    await sleep(1000);
    const held = rssMiB(pid);
    if (r.ok !== HOLD) process.stderr.write(`# hold ${form} ${engine}: only ${String(r.ok)} of ${String(HOLD)} INVITEs got their 100 Trying\n`);
    const label = HOLD === 50_000 ? '50k' : String(HOLD);
    console.log(`wait_${form}_kemihost_${engine}_rss_${label} ${held.toFixed(1)} MiB`);
    console.log(`wait_${form}_kemihost_${engine}_bytes_per_waiting ${(((held - idle) * 1024 * 1024) / Math.max(1, r.ok)).toFixed(0)} B`);
  } finally {
    await stopTarget(t);
  }
}

const which = process.argv.slice(2);
const engines = (['lua', 'js'] as const).filter((e) => which.length === 0 || which.includes(e));
for (const engine of engines) {
  for (const form of ['in_place', 'named'] as const) {
    const t = await startKemihost(`kemihost-${engine}`, scriptFile(form, engine));
    try {
      await sweep(`wait_${form}_kemihost_${engine}`, t);
    } finally {
      await stopTarget(t);
    }
  }
  const k = await startKamailio(`kamailio-${engine}`, {
    engine, scriptPath: scriptFile('named', engine), modules: ['tm', 'tmx', 'sl', 'pv', 'async'], params: [['async', 'ms_timer', 1]],
    // async's delayed routes run in the core's async task workers, none by default
    core: ['async_workers=1'],
  });
  if (k === null) {
    process.stderr.write(`# kamailio (${engine}) not available: no figures beside\n`);
  } else {
    try {
      await sweep(`wait_named_kamailio_${engine}`, k);
    } finally {
      await stopTarget(k);
    }
  }
  const ratio = (cpuAt.get(`wait_in_place_kemihost_${engine}`) ?? NaN) / (cpuAt.get(`wait_named_kemihost_${engine}`) ?? NaN);
  console.log(`wait_in_place_vs_named_cpu_at_${String(REFERENCE_RATE)}_${engine} ${ratio.toFixed(2)} x`);
}
for (const engine of engines) {
  await holdMemory('in_place', engine);
  await holdMemory('named', engine);
}
console.log(`# machine: ${String(cpus().length)} cores, load ${loadavg().map((x) => x.toFixed(2)).join(' ')} (shared with other engineers' runs)`);
