/**
 * xhttp throughput: `kemihost run` pinned to core 0 with an event callback that replies
 * xhttp_reply(200, "OK", "text/plain", "ok"), loaded by wrk on core 1 (1 thread, 50
 * keep-alive connections). Prints per engine: requests/s and the p50 / p99 latency wrk reports.
 * A short warm-up run comes first so the JIT has settled before the measured one.
 *
 *   node --no-node-snapshot --import tsx bench/xhttp.ts [lua|js ...]
 *   BENCH_SECONDS=10 (measured run), BENCH_CONNECTIONS=50
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from '../test/helpers/sipp.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 50);
const WARMUP_SECONDS = 3;

const SCRIPTS = {
  lua: 'function ksr_request_route()\nend\nfunction ksr_xhttp_event(evname)\n  KSR.xhttp.xhttp_reply(200, "OK", "text/plain", "ok")\nend\n',
  js: 'function ksr_request_route() {}\nfunction ksr_xhttp_event(evname) {\n  KSR.xhttp.xhttp_reply(200, "OK", "text/plain", "ok");\n}\n',
} as const;

type Engine = keyof typeof SCRIPTS;

async function startKemihost(engine: Engine, dir: string): Promise<{ proc: ChildProcess; port: number }> {
  const script = join(dir, `xhttp.${engine}`);
  writeFileSync(script, SCRIPTS[engine]);
  const cfg = join(dir, 'xhttp.yaml');
  writeFileSync(cfg, 'log: { level: error }\nmodules:\n  xhttp: { event_callback: ksr_xhttp_event }\n');
  const port = await freePort();
  const sipPort = await freePort();
  const proc = spawn('taskset', ['-c', '0', process.execPath, '--no-node-snapshot', '--import', 'tsx', join(ROOT, 'host/cli.ts'), 'run', script,
    '-c', cfg, '--http', `127.0.0.1:${String(port)}`, '-l', `udp:127.0.0.1:${String(sipPort)}`], { stdio: ['ignore', 'pipe', 'inherit'], cwd: ROOT });
  await new Promise<void>((resolve, reject) => {
    proc.stdout.on('data', (d: Buffer) => { if (d.toString().includes('kemihost ready')) resolve(); });
    proc.once('exit', (c) => { reject(new Error(`kemihost (${engine}) exited ${String(c)} before ready`)); });
  });
  return { proc, port };
}

interface WrkResult {
  rps: number;
  p50Ms: number;
  p99Ms: number;
  errors: string;
}

/** "812.00us" / "1.23ms" / "1.02s" → ms */
function toMs(v: string): number {
  const m = /^([\d.]+)(us|ms|s)$/.exec(v.trim());
  if (m === null) return NaN;
  const n = Number(m[1]);
  return m[2] === 'us' ? n / 1000 : m[2] === 's' ? n * 1000 : n;
}

async function wrk(port: number, seconds: number): Promise<WrkResult> {
  const proc = spawn('taskset', ['-c', '1', 'wrk', '-t1', `-c${String(CONNECTIONS)}`, `-d${String(seconds)}s`, '--latency', `http://127.0.0.1:${String(port)}/`], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  proc.stdout.on('data', (d: Buffer) => (out += d.toString()));
  const code = await new Promise<number | null>((resolve) => proc.once('exit', resolve));
  if (code !== 0) throw new Error(`wrk exited ${String(code)}: ${out}`);
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1] ?? NaN);
  const p50 = /^\s+50%\s+(\S+)/m.exec(out)?.[1] ?? '';
  const p99 = /^\s+99%\s+(\S+)/m.exec(out)?.[1] ?? '';
  // wrk counts non-2xx/3xx replies and socket errors separately: a fast wrong answer must show.
  const errors = [/Non-2xx or 3xx responses: \d+/.exec(out)?.[0], /Socket errors: .*/.exec(out)?.[0]].filter((x) => x !== undefined).join('; ');
  return { rps, p50Ms: toMs(p50), p99Ms: toMs(p99), errors };
}

async function benchEngine(engine: Engine, dir: string): Promise<void> {
  let target: { proc: ChildProcess; port: number };
  try {
    target = await startKemihost(engine, dir);
  } catch (e) {
    process.stdout.write(`# xhttp_${engine}: not run (${(e as Error).message})\n`);
    return;
  }
  try {
    await wrk(target.port, WARMUP_SECONDS);
    const r = await wrk(target.port, SECONDS);
    process.stdout.write(`xhttp_${engine}_rps ${r.rps.toFixed(0)} req/s\n`);
    process.stdout.write(`xhttp_${engine}_p50 ${r.p50Ms.toFixed(2)} ms\n`);
    process.stdout.write(`xhttp_${engine}_p99 ${r.p99Ms.toFixed(2)} ms\n`);
    if (r.errors !== '') process.stdout.write(`# xhttp_${engine}: ${r.errors}\n`);
  } finally {
    target.proc.kill('SIGTERM');
    await new Promise((resolve) => target.proc.once('exit', resolve));
  }
}

const wanted = process.argv.slice(2).filter((a): a is Engine => a === 'lua' || a === 'js');
const dir = mkdtempSync(join(tmpdir(), 'kh-bench-xhttp-'));
process.stdout.write(`# wrk -t1 -c${String(CONNECTIONS)} -d${String(SECONDS)}s on core 1, kemihost on core 0; loadavg ${(await import('node:os')).loadavg().map((l) => l.toFixed(2)).join(' ')}\n`);
for (const engine of wanted.length > 0 ? wanted : (['lua', 'js'] as const)) await benchEngine(engine, dir);
