/**
 * The servers a benchmark measures, started the same way everywhere: kemihost (Lua or JS) and
 * Kamailio 5.6 (app_lua or app_jsdt) on 127.0.0.1, pinned to core 0 (sipp runs on core 1), and
 * their CPU time read from /proc so CPU per message or call covers the whole process tree.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { freePort } from '../../test/helpers/sipp.js';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const KAMAILIO = '/usr/sbin/kamailio';
export const KAM_MODULES = '/usr/lib/x86_64-linux-gnu/kamailio/modules';
const CLK_TCK = 100;

export type Engine = 'lua' | 'js';

export interface Target {
  readonly name: string;
  readonly proc: ChildProcess;
  readonly port: number;
  /** the process and its children (Kamailio's workers) */
  pids(): number[];
}

/** User + system CPU seconds of these processes so far. */
export function cpuSeconds(pids: readonly number[]): number {
  let ticks = 0;
  for (const pid of pids) {
    try {
      const f = readFileSync(`/proc/${String(pid)}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
      ticks += Number(f[11]) + Number(f[12]);
    } catch {
      // gone
    }
  }
  return ticks / CLK_TCK;
}

export function childrenOf(pid: number): number[] {
  try {
    const kids = readFileSync(`/proc/${String(pid)}/task/${String(pid)}/children`, 'utf8').trim();
    return kids === '' ? [] : kids.split(' ').map(Number).flatMap((k) => [k, ...childrenOf(k)]);
  } catch {
    return [];
  }
}

/** kemihost with a script and config keys (written as a YAML file; listen, http and log are set here). */
export async function startKemihost(name: string, scriptPath: string, config: Record<string, unknown> = {}): Promise<Target> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'kh-bench-'));
  const cfg = join(dir, 'kemihost.yaml');
  writeFileSync(cfg, JSON.stringify({ listen: [`udp:127.0.0.1:${String(port)}`], http: { listen: 'off' }, log: { level: 'error' }, ...config }));
  // BENCH_NODE_ARGS: extra node flags for the server, e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof` to see where a call's CPU goes
  const extra = (process.env.BENCH_NODE_ARGS ?? '').split(' ').filter((a) => a !== '');
  const proc = spawn('taskset', ['-c', '0', process.execPath, '--no-node-snapshot', ...extra, '--import', 'tsx', join(ROOT, 'host/cli.ts'), 'run', scriptPath, '-c', cfg],
    { stdio: ['ignore', 'pipe', 'inherit'], cwd: ROOT });
  await new Promise<void>((resolve, reject) => {
    proc.stdout.on('data', (d: Buffer) => { if (d.toString().includes('kemihost ready')) resolve(); });
    proc.once('exit', (c) => { reject(new Error(`kemihost exited ${String(c)}`)); });
  });
  const pid = proc.pid ?? 0;
  return { name, proc, port, pids: () => [pid] };
}

export interface KamailioSpec {
  readonly engine: Engine;
  readonly scriptPath: string;
  /** modules to load besides the engine's (sl, pv, tm…) */
  readonly modules: readonly string[];
  /** `modparam("module", "name", value)` lines: [module, name, value] (strings are quoted) */
  readonly params?: readonly (readonly [string, string, string | number])[];
  /** core settings lines, e.g. "async_workers=1" */
  readonly core?: readonly string[];
}

/** Kamailio with the same script (app_lua, or app_jsdt for JS), one UDP worker; null when not installed. */
export async function startKamailio(name: string, spec: KamailioSpec): Promise<Target | null> {
  const app = spec.engine === 'lua' ? 'app_lua' : 'app_jsdt';
  const mods = [...spec.modules, app];
  if (!existsSync(KAMAILIO) || mods.some((m) => !existsSync(join(KAM_MODULES, `${m}.so`)))) return null;
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'kh-bench-kam-'));
  const cfg = join(dir, 'kamailio.cfg');
  const params = (spec.params ?? []).map(([m, n, v]) => `modparam("${m}", "${n}", ${typeof v === 'number' ? String(v) : JSON.stringify(v)})`);
  writeFileSync(cfg, [
    '#!KAMAILIO', `listen=udp:127.0.0.1:${String(port)}`, 'children=1', 'disable_tcp=yes', 'log_stderror=yes', 'debug=0', 'auto_aliases=no',
    ...(spec.core ?? []), `mpath="${KAM_MODULES}"`, ...mods.map((m) => `loadmodule "${m}.so"`), ...params,
    `modparam("${app}", "load", "${spec.scriptPath}")`, `cfgengine "${spec.engine === 'lua' ? 'lua' : 'jsdt'}"`, '',
  ].join('\n'));
  const proc = spawn('taskset', ['-c', '0', KAMAILIO, '-f', cfg, '-DD', '-E', '-m', '256', '-M', '16', '-P', join(dir, 'k.pid'), '-Y', dir, '-w', dir],
    { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  proc.stderr.on('data', (d: Buffer) => { err = (err + d.toString()).slice(-4000); });
  await sleep(1500);
  if (proc.exitCode !== null) {
    process.stderr.write(`kamailio did not start: ${err}\n`);
    return null;
  }
  const pid = proc.pid ?? 0;
  return { name, proc, port, pids: () => [pid, ...childrenOf(pid)] };
}

export async function stopTarget(t: Target): Promise<void> {
  t.proc.kill('SIGTERM');
  await sleep(500);
  if (t.proc.exitCode === null) t.proc.kill('SIGKILL');
}
