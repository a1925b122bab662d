/**
 * Digest-authenticated REGISTERs (sipp -au/-ap, test/fixtures/sipp/register-auth-uac.xml: a
 * REGISTER, its 401 challenge, the REGISTER answering it, 200) against the example script's
 * auth shape (bench/scripts/register-auth.*: auth_db.auth_check on a SQLite subscriber table,
 * auth_challenge), the server pinned to core 0 and sipp to core 1, the call rate stepped up to
 * the highest with no failed call and < 0.1% retransmissions. Per target: that rate (calls/s,
 * each call two REGISTERs: the challenged one and the authenticated one), the server's CPU per
 * call there and at one rate all reach (SAME_RATE), where the ratios are taken. Kamailio 5.6
 * runs the same Lua and JS scripts (app_lua, app_jsdt) with the same table when installed.
 *
 *   node --no-node-snapshot --import tsx bench/auth.ts [lua|js|kamailio|kamailio_js ...]
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import { openDatabase } from '../host/db/database.js';
import { ensureSchema } from '../host/db/ensure-schema.js';
import { SUBSCRIBER_TABLE } from '../host/db/schema/subscriber.js';
import { freePort, runSipp } from '../test/helpers/sipp.js';
import { sippStats } from './sipp-stats.js';
import { childrenOf, cpuSeconds } from './lib/targets.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const SCENARIO = join(ROOT, 'test/fixtures/sipp/register-auth-uac.xml');
const STEP_SECONDS = 4;
const RATES = (process.env.BENCH_RATES ?? '1000,2000,4000,6000,8000,10000,12000,16000').split(',').map(Number);
/** CPU per call is compared at this rate, which every target reaches: at its own best rate each would spread its fixed costs differently */
const SAME_RATE = Number(process.env.BENCH_SAME_RATE ?? 4000);
const KAMAILIO = '/usr/sbin/kamailio';
const KAM_MODULES = '/usr/lib/x86_64-linux-gnu/kamailio/modules';

interface Target {
  readonly name: string;
  readonly proc: ChildProcess;
  readonly port: number;
  pids(): number[];
}



/** a subscriber table with alice@example.com / secret, as kamctl writes it */
async function subscriberDb(dir: string): Promise<string> {
  const file = join(dir, 'subscribers.db');
  const db = await openDatabase(`sqlite://${file}`, pino({ level: 'silent' }));
  await ensureSchema(db, [SUBSCRIBER_TABLE]);
  const md5 = (s: string): string => createHash('md5').update(s).digest('hex');
  await db.exec('INSERT INTO subscriber (username, domain, password, ha1, ha1b) VALUES (?, ?, ?, ?, ?)',
    ['alice', 'example.com', 'secret', md5('alice:example.com:secret'), md5('alice@example.com:example.com:secret')]);
  await db.close();
  return file;
}

async function startKemihost(engine: 'lua' | 'js', dbFile: string, dir: string): Promise<Target> {
  const port = await freePort();
  const cfg = join(dir, `kemihost-${engine}.yaml`);
  writeFileSync(cfg, JSON.stringify({ modules: { auth_db: { db_url: `sqlite://${dbFile}`, calculate_ha1: 1, password_column: 'password' } } }));
  const proc = spawn('taskset', ['-c', '0', process.execPath, '--no-node-snapshot', '--import', 'tsx', join(ROOT, 'host/cli.ts'), 'run',
    join(ROOT, `bench/scripts/register-auth.${engine}`), '-c', cfg, '-l', `udp:127.0.0.1:${String(port)}`, '--http', 'off', '--log-level', 'error'], { stdio: ['ignore', 'pipe', 'inherit'], cwd: ROOT });
  await new Promise<void>((resolve, reject) => {
    proc.stdout.on('data', (d: Buffer) => { if (d.toString().includes('kemihost ready')) resolve(); });
    proc.once('exit', (c) => { reject(new Error(`kemihost exited ${String(c)}`)); });
  });
  const pid = proc.pid ?? 0;
  return { name: `kemihost_${engine}`, proc, port, pids: () => [pid] };
}

async function startKamailio(engine: 'lua' | 'js', dbFile: string): Promise<Target | null> {
  const app = engine === 'lua' ? 'app_lua' : 'app_jsdt';
  if (!existsSync(KAMAILIO) || !existsSync(join(KAM_MODULES, `${app}.so`)) || !existsSync(join(KAM_MODULES, 'db_sqlite.so'))) return null;
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'kh-bench-kam-'));
  const cfg = join(dir, 'kamailio.cfg');
  // four slashes: db_sqlite reads the path after the third relative to -w
  writeFileSync(cfg, `#!KAMAILIO
listen=udp:127.0.0.1:${String(port)}
children=1
disable_tcp=yes
log_stderror=yes
debug=0
auto_aliases=no
mpath="${KAM_MODULES}"
loadmodule "sl.so"
loadmodule "pv.so"
loadmodule "kemix.so"
loadmodule "db_sqlite.so"
loadmodule "auth.so"
loadmodule "auth_db.so"
loadmodule "${app}.so"
modparam("auth_db", "db_url", "sqlite:///${dbFile}")
modparam("auth_db", "calculate_ha1", 1)
modparam("auth_db", "password_column", "password")
modparam("${app}", "load", "${join(ROOT, `bench/scripts/register-auth.${engine}`)}")
cfgengine "${engine === 'lua' ? 'lua' : 'jsdt'}"
`);
  const proc = spawn('taskset', ['-c', '0', KAMAILIO, '-f', cfg, '-DD', '-E', '-m', '256', '-M', '16', '-P', join(dir, 'k.pid'), '-Y', dir, '-w', dir], { stdio: ['ignore', 'ignore', 'pipe'] });
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

interface Step { readonly rate: number; readonly ok: boolean; readonly calls: number; readonly cpuUs: number }

async function step(t: Target, rate: number): Promise<Step> {
  const dir = mkdtempSync(join(tmpdir(), 'kh-bench-auth-'));
  const stf = join(dir, 'stat.csv');
  const calls = rate * STEP_SECONDS;
  const cpu0 = cpuSeconds(t.pids());
  const r = await runSipp([
    `127.0.0.1:${String(t.port)}`, '-sf', SCENARIO, '-i', '127.0.0.1', '-p', String(await freePort()), '-m', String(calls), '-r', String(rate),
    '-s', 'alice', '-au', 'alice', '-ap', 'secret', '-buff_size', '4194304', '-timeout', String(STEP_SECONDS * 4), '-timeout_error',
    '-trace_stat', '-stf', stf, '-fd', '1', '-l', String(rate * 2),
  ], STEP_SECONDS * 6000, ['taskset', '-c', '1']);
  const cpu = cpuSeconds(t.pids()) - cpu0;
  const s = sippStats(stf);
  return { rate, calls: s.ok, cpuUs: s.ok > 0 ? (cpu * 1e6) / s.ok : NaN, ok: r.code === 0 && s.failed === 0 && s.ok === calls && s.retrans < calls * 0.001 };
}

const results = new Map<string, number>();

async function bench(t: Target): Promise<void> {
  let best: Step | null = null;
  const steps: Step[] = [];
  for (const rate of RATES) {
    const s = await step(t, rate);
    steps.push(s);
    process.stderr.write(`# ${t.name} rate=${String(rate)} ok=${String(s.ok)} calls=${String(s.calls)} cpu_us=${s.cpuUs.toFixed(1)}\n`);
    if (!s.ok) break;
    best = s;
  }
  console.log(`auth_register_${t.name}_max_rate ${best === null ? '0' : String(best.rate)} calls/s`);
  console.log(`auth_register_${t.name}_cpu_per_call ${best === null ? 'NaN' : best.cpuUs.toFixed(1)} us`);
  const same = steps.find((x) => x.rate === SAME_RATE && x.ok);
  console.log(`auth_register_${t.name}_cpu_per_call_at_${String(SAME_RATE)} ${same === undefined ? 'NaN' : same.cpuUs.toFixed(1)} us`);
  results.set(t.name, same?.cpuUs ?? NaN);
}

const dir = mkdtempSync(join(tmpdir(), 'kh-bench-authdb-'));
const dbFile = await subscriberDb(dir);
const which = process.argv.slice(2);
for (const name of ['lua', 'js', 'kamailio', 'kamailio_js'] as const) {
  if (which.length > 0 && !which.includes(name)) continue;
  let t: Target | null;
  try {
    t = name === 'kamailio' ? await startKamailio('lua', dbFile) : name === 'kamailio_js' ? await startKamailio('js', dbFile) : await startKemihost(name, dbFile, dir);
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
for (const [ours, theirs] of [['kemihost_lua', 'kamailio_lua'], ['kemihost_js', 'kamailio_js']] as const) {
  const a = results.get(ours);
  const b = results.get(theirs);
  if (a !== undefined && b !== undefined && Number.isFinite(a) && Number.isFinite(b)) console.log(`auth_register_cpu_ratio_${ours.slice(9)}_vs_${theirs}_at_${String(SAME_RATE)} ${(a / b).toFixed(2)} x`);
}
