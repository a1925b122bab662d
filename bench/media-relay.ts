/**
 * Calls through rtpengine: sipp's built-in UAC (INVITE with SDP → 180 → 200 with SDP → ACK →
 * BYE → 200) to sipp's built-in UAS through the server, whose script sends the INVITE's SDP as
 * the offer, the 200's as the answer and deletes the session on the BYE — three NG exchanges a
 * call, each waited for in place. kemihost (Lua, JS) and Kamailio 5.6 (app_lua, one UDP worker)
 * run the same script, pinned to core 0; sipp and rtpengine share core 1. The rate is stepped up
 * (5 s a step) to the highest one with every call completed and < 0.1 % retransmissions.
 * `lua_no_relay` is kemihost with the same routing and no rtpengine call: the difference is what
 * relaying costs.
 *
 *   node --no-node-snapshot --import tsx bench/media-relay.ts [lua|js|kamailio|lua_no_relay ...]
 *   BENCH_RATES=100,200 to change the steps
 *
 * Prints `media_relay_<server>_max_rate <n> calls/s`, `media_relay_<server>_cpu_per_call <us> us`
 * (the server's processes, every thread) and `media_relay_<server>_rtpengine_cpu_per_call`.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { sippStats } from './sipp-stats.js';
import { childrenOf, cpuSeconds } from './lib/targets.js';
import { freePort, runSipp } from '../test/helpers/sipp.js';
import { startRtpengine, type RtpengineProcess } from '../test/helpers/rtpengine.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const STEP_SECONDS = 5;
const RATES = (process.env.BENCH_RATES ?? '100,200,400,600,800,1000,1300,1600,2000').split(',').map(Number);

/** `relay` false: the same routing without the rtpengine calls (what the relay adds is the difference) */
const script = (engine: 'lua' | 'js', uas: number, relay = true): string => (relay ? (s: string) => s : (s: string) => s.replace(/KSR\.rtpengine\.rtpengine_manage\(""\)/g, 'KSR.pv.get("$ci")'))(engine === 'lua'
  ? `function ksr_request_route()
  if KSR.is_INVITE() or KSR.is_BYE() then KSR.rtpengine.rtpengine_manage("") end
  if KSR.is_INVITE() then KSR.tm.t_on_reply("ONREPLY") end
  KSR.pv.sets("$du", "sip:127.0.0.1:${String(uas)}")
  KSR.tm.t_relay()
end
function ONREPLY()
  if KSR.pv.get("$rs") == 200 then KSR.rtpengine.rtpengine_manage("") end
end
`
  : `function ksr_request_route() {
  if (KSR.is_INVITE() || KSR.is_BYE()) KSR.rtpengine.rtpengine_manage("");
  if (KSR.is_INVITE()) KSR.tm.t_on_reply("ONREPLY");
  KSR.pv.sets("$du", "sip:127.0.0.1:${String(uas)}");
  KSR.tm.t_relay();
}
function ONREPLY() {
  if (KSR.pv.get("$rs") == 200) KSR.rtpengine.rtpengine_manage("");
}
`);

interface Target {
  readonly name: string;
  readonly proc: ChildProcess;
  readonly port: number;
  pids(): number[];
}



async function startKemihost(engine: 'lua' | 'js', rtpe: RtpengineProcess, uas: number, relay: boolean): Promise<Target> {
  const dir = mkdtempSync(join(tmpdir(), 'kh-bench-media-'));
  const file = join(dir, `media.${engine}`);
  writeFileSync(file, script(engine, uas, relay));
  const cfg = join(dir, 'kemihost.yaml');
  const port = await freePort();
  writeFileSync(cfg, `listen: ["udp:127.0.0.1:${String(port)}"]\nhttp: { listen: "off" }\nlog: { level: error }\nscript: ${JSON.stringify(file)}\nmodules:\n  rtpengine:\n    rtpengine_sock: "udp:127.0.0.1:${String(rtpe.ngPort)}"\n`);
  const proc = spawn('taskset', ['-c', '0', process.execPath, '--no-node-snapshot', '--import', 'tsx', join(ROOT, 'host/cli.ts'), 'run', '-c', cfg],
    { stdio: ['ignore', 'pipe', 'inherit'], cwd: ROOT });
  await new Promise<void>((resolve, reject) => {
    proc.stdout.on('data', (d: Buffer) => { if (d.toString().includes('kemihost ready')) resolve(); });
    proc.once('exit', (c) => { reject(new Error(`kemihost exited ${String(c)}`)); });
  });
  const pid = proc.pid ?? 0;
  return { name: `kemihost_${engine}${relay ? '' : '_no_relay'}`, proc, port, pids: () => [pid] };
}

async function startKamailio(rtpe: RtpengineProcess, uas: number): Promise<Target | null> {
  if (!existsSync('/usr/sbin/kamailio')) return null;
  const dir = mkdtempSync(join(tmpdir(), 'kh-bench-media-kam-'));
  const file = join(dir, 'media.lua');
  writeFileSync(file, script('lua', uas));
  const port = await freePort();
  const cfg = join(dir, 'kamailio.cfg');
  writeFileSync(cfg, `#!KAMAILIO
listen=udp:127.0.0.1:${String(port)}
children=1
disable_tcp=yes
log_stderror=yes
debug=0
auto_aliases=no
loadmodule "tm.so"
loadmodule "sl.so"
loadmodule "pv.so"
loadmodule "rtpengine.so"
loadmodule "app_lua.so"
modparam("rtpengine", "rtpengine_sock", "udp:127.0.0.1:${String(rtpe.ngPort)}")
modparam("app_lua", "load", "${file}")
cfgengine "lua"
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
  return { name: 'kamailio_lua', proc, port, pids: () => [pid, ...childrenOf(pid)] };
}

async function stop(t: Target): Promise<void> {
  t.proc.kill('SIGTERM');
  await sleep(500);
  if (t.proc.exitCode === null) t.proc.kill('SIGKILL');
}

interface Step { rate: number; ok: boolean; calls: number; failed: number; retrans: number; cpuUs: number; rtpeUs: number }

async function step(t: Target, rtpe: RtpengineProcess, uasPort: number, rate: number): Promise<Step> {
  const calls = rate * STEP_SECONDS;
  const dir = mkdtempSync(join(tmpdir(), 'kh-bench-sipp-'));
  const stf = join(dir, 'stat.csv');
  const budget = (STEP_SECONDS * 6 + 20) * 1000;
  const uas = runSipp(['-sn', 'uas', '-i', '127.0.0.1', '-p', String(uasPort), '-buff_size', '4194304', '-m', String(calls), '-timeout', String(STEP_SECONDS * 5 + 10)], budget, ['taskset', '-c', '1']);
  await sleep(300);
  const cpu0 = cpuSeconds(t.pids());
  const rtpe0 = cpuSeconds([rtpe.pid]);
  const uac = await runSipp([
    `127.0.0.1:${String(t.port)}`, '-sn', 'uac', '-s', 'bob', '-i', '127.0.0.1', '-p', String(await freePort()), '-d', '0',
    '-m', String(calls), '-r', String(rate), '-l', String(rate * 4), '-buff_size', '4194304',
    '-timeout', String(STEP_SECONDS * 4 + 10), '-timeout_error', '-trace_stat', '-stf', stf, '-fd', '1',
  ], budget, ['taskset', '-c', '1']);
  const cpu = cpuSeconds(t.pids()) - cpu0;
  const rtpeCpu = cpuSeconds([rtpe.pid]) - rtpe0;
  await uas;
  const s = sippStats(stf);
  return {
    rate, calls: s.ok, failed: s.failed, retrans: s.retrans,
    cpuUs: s.ok > 0 ? (cpu * 1e6) / s.ok : NaN, rtpeUs: s.ok > 0 ? (rtpeCpu * 1e6) / s.ok : NaN,
    ok: uac.code === 0 && s.failed === 0 && s.ok === calls && s.retrans < calls * 0.001,
  };
}

type Name = 'lua' | 'js' | 'kamailio' | 'lua_no_relay';

async function run(name: Name, rtpe: RtpengineProcess): Promise<void> {
  const uasPort = await freePort();
  const t = name === 'kamailio' ? await startKamailio(rtpe, uasPort)
    : name === 'lua_no_relay' ? await startKemihost('lua', rtpe, uasPort, false) : await startKemihost(name, rtpe, uasPort, true);
  if (t === null) return;
  try {
    let best: Step | null = null;
    for (const rate of RATES) {
      const s = await step(t, rtpe, uasPort, rate);
      process.stderr.write(`# ${t.name} rate=${String(rate)} ok=${String(s.ok)} calls=${String(s.calls)} failed=${String(s.failed)} retrans=${String(s.retrans)} cpu_us_per_call=${s.cpuUs.toFixed(1)} rtpengine_us_per_call=${s.rtpeUs.toFixed(1)}\n`);
      if (!s.ok) break;
      best = s;
      await sleep(1000);
    }
    console.log(`media_relay_${t.name}_max_rate ${best === null ? '0' : String(best.rate)} calls/s`);
    console.log(`media_relay_${t.name}_cpu_per_call ${best === null ? 'NaN' : best.cpuUs.toFixed(1)} us`);
    console.log(`media_relay_${t.name}_rtpengine_cpu_per_call ${best === null ? 'NaN' : best.rtpeUs.toFixed(1)} us`);
  } finally {
    await stop(t);
  }
}

const rtpe = await startRtpengine(null, { args: ['--num-threads=1'] });
if (rtpe === null) {
  process.stderr.write('# rtpengine is not installed: nothing to measure\n');
} else {
  spawn('taskset', ['-p', '-c', '1', String(rtpe.pid)], { stdio: 'ignore' });
  try {
    const which = process.argv.slice(2);
    for (const name of ['lua', 'js', 'kamailio', 'lua_no_relay'] as const) if (which.length === 0 || which.includes(name)) await run(name, rtpe);
  } finally {
    await rtpe.stop();
  }
}
console.log(`# machine: ${String(cpus().length)} cores, load ${loadavg().map((x) => x.toFixed(2)).join(' ')} (shared with other runs)`);
