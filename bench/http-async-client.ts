/**
 * INVITE → t_newtran → KSR.http_async_client.query() to a local node:http server that answers
 * at once → the route replies 200 with X-Chain built from $http_rb → ACK, with sipp as the UAC
 * (test/fixtures/sipp/async-invite-uac.xml checks the header). Steps of 5 s at rising rates; the
 * highest with 0 failed calls (and < 0.1% retransmissions) is reported, with p50/p99 of the
 * HTTP round trip as the script saw it ($http_time(total) of one query in ten, logged by the route;
 * logging every one would cost the server more than the query).
 *
 *   node --no-node-snapshot --import tsx bench/http-async-client.ts [lua|js ...]
 *   BENCH_RATES=250,500 to change the steps
 *
 * Prints `http_async_client_calls_per_s_<engine> <n> calls/s`,
 * `http_async_client_rtt_p50_<engine> <µs> us` and `http_async_client_rtt_p99_<engine> <µs> us` (at that
 * rate), and the same at 500 calls/s (`…_at_500`), where nothing queues.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { sippStats } from './sipp-stats.js';
import { freePort, runSipp } from '../test/helpers/sipp.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const SCENARIO = join(ROOT, 'test/fixtures/sipp/async-invite-uac.xml');
const STEP_SECONDS = 5;
/** the step whose round trip is also printed: well below saturation */
const LIGHT_RATE = 500;
const RATES = (process.env.BENCH_RATES ?? '250,500,1000,1500,2000,2500,3000,4000').split(',').map(Number);

function script(engine: 'lua' | 'js', url: string): string {
  return engine === 'lua'
    ? `function ksr_request_route()
  if KSR.is_ACK() then return end
  KSR.tm.t_newtran()
  KSR.http_async_client.query("${url}", "REPORT")
  KSR.x.exit()
end
function REPORT()
  if string.sub(KSR.pv.get("$http_req_id"), -1) == "0" then KSR.info("httpt " .. KSR.pv.get("$http_time(total)")) end
  KSR.hdr.append_to_reply("X-Chain: " .. KSR.pv.getw("$http_rb") .. "\\r\\n")
  KSR.tm.t_reply(200, "OK")
end
`
    : `function ksr_request_route() {
  if (KSR.is_ACK()) return;
  KSR.tm.t_newtran();
  KSR.http_async_client.query("${url}", "REPORT");
  KSR.x.exit();
}
function REPORT() {
  if (String(KSR.pv.get("$http_req_id")).endsWith("0")) KSR.info("httpt " + KSR.pv.get("$http_time(total)"));
  KSR.hdr.append_to_reply("X-Chain: " + KSR.pv.getw("$http_rb") + "\\r\\n");
  KSR.tm.t_reply(200, "OK");
}
`;
}

interface Target {
  proc: ChildProcess;
  port: number;
  /** $http_time(total) values logged since the last take() */
  rtts: number[];
}

async function start(engine: 'lua' | 'js', url: string): Promise<Target> {
  const dir = mkdtempSync(join(tmpdir(), 'kh-bench-hac-'));
  const path = join(dir, `hac.${engine}`);
  writeFileSync(path, script(engine, url));
  const port = await freePort();
  const proc = spawn('taskset', ['-c', '0', process.execPath, '--no-node-snapshot', '--import', 'tsx', join(ROOT, 'host/cli.ts'), 'run',
    path, '-l', `udp:127.0.0.1:${String(port)}`, '--http', 'off', '--log-level', 'info'], { stdio: ['ignore', 'pipe', 'pipe'], cwd: ROOT });
  const t: Target = { proc, port, rtts: [] };
  await new Promise<void>((resolve, reject) => {
    // the script's log lines (stdout or stderr, one JSON record each) carry $http_time(total)
    const reader = (): ((d: Buffer) => void) => {
      let rest = '';
      return (d: Buffer) => {
        const lines = (rest + d.toString()).split('\n');
        rest = lines.pop() ?? '';
        for (const line of lines) {
          if (line.includes('kemihost ready')) resolve();
          const m = /httpt (\d+)/.exec(line);
          if (m !== null) t.rtts.push(Number(m[1]));
          else if (line.includes('"level":50') || line.includes('"level":60')) process.stderr.write(`${line}\n`);
        }
      };
    };
    proc.stdout.on('data', reader());
    proc.stderr.on('data', reader());
    proc.once('exit', (c) => { reject(new Error(`kemihost exited ${String(c)}`)); });
  });
  return t;
}

async function stop(t: Target): Promise<void> {
  t.proc.kill('SIGTERM');
  await sleep(300);
  if (t.proc.exitCode === null) t.proc.kill('SIGKILL');
}

async function step(t: Target, rate: number): Promise<{ ok: boolean; calls: number; failed: number; retrans: number; seconds: number }> {
  const calls = rate * STEP_SECONDS;
  const stf = join(mkdtempSync(join(tmpdir(), 'kh-bench-sipp-')), 'stat.csv');
  const t0 = performance.now();
  const r = await runSipp([
    `127.0.0.1:${String(t.port)}`, '-sf', SCENARIO, '-s', 'hac', '-i', '127.0.0.1', '-p', String(await freePort()),
    '-m', String(calls), '-r', String(rate), '-l', String(rate * 2), '-buff_size', '4194304',
    '-timeout', String(STEP_SECONDS * 4 + 10), '-timeout_error', '-trace_stat', '-stf', stf, '-fd', '1',
  ], (STEP_SECONDS * 6 + 20) * 1000, ['taskset', '-c', '1']);
  const seconds = (performance.now() - t0) / 1000;
  const s = sippStats(stf);
  return { calls: s.ok, failed: s.failed, retrans: s.retrans, seconds, ok: r.code === 0 && s.failed === 0 && s.ok === calls && s.retrans < calls * 0.001 };
}

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}

async function run(engine: 'lua' | 'js', url: string): Promise<void> {
  const t = await start(engine, url);
  try {
    await step(t, 100); // warm-up
    let best: { rate: number; cps: number; rtts: number[] } | null = null;
    let light: number[] | null = null;
    for (const rate of RATES) {
      t.rtts = [];
      const s = await step(t, rate);
      const rtts = [...t.rtts].sort((a, b) => a - b);
      process.stderr.write(`# ${engine} rate=${String(rate)} ok=${String(s.ok)} calls=${String(s.calls)} failed=${String(s.failed)} retrans=${String(s.retrans)} p50=${String(percentile(rtts, 50))}us p99=${String(percentile(rtts, 99))}us\n`);
      if (!s.ok) break;
      best = { rate, cps: rate, rtts };
      if (rate === LIGHT_RATE) light = rtts;
      await sleep(1000);
    }
    console.log(`http_async_client_calls_per_s_${engine} ${best === null ? '0' : String(best.cps)} calls/s`);
    console.log(`http_async_client_rtt_p50_${engine} ${best === null ? 'NaN' : String(percentile(best.rtts, 50))} us`);
    console.log(`http_async_client_rtt_p99_${engine} ${best === null ? 'NaN' : String(percentile(best.rtts, 99))} us`);
    // at the highest rate the round trip includes queueing in a saturated event loop; this one does not
    console.log(`http_async_client_rtt_p50_${engine}_at_${String(LIGHT_RATE)} ${light === null ? 'NaN' : String(percentile(light, 50))} us`);
    console.log(`http_async_client_rtt_p99_${engine}_at_${String(LIGHT_RATE)} ${light === null ? 'NaN' : String(percentile(light, 99))} us`);
  } finally {
    await stop(t);
  }
}

const server = http.createServer((_req, res) => {
  res.writeHead(200, { 'Content-Type': 'text/plain' });
  res.end('req');
});
server.keepAliveTimeout = 60_000;
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
const url = `http://127.0.0.1:${String((server.address() as AddressInfo).port)}/lookup`;
try {
  const which = process.argv.slice(2);
  for (const e of (['lua', 'js'] as const).filter((x) => which.length === 0 || which.includes(x))) await run(e, url);
  console.log(`# machine: ${String((await import('node:os')).cpus().length)} cores, load ${(await import('node:os')).loadavg().map((x) => x.toFixed(2)).join(' ')} (shared with other engineers' runs; the HTTP server runs in the bench process, unpinned)`);
} finally {
  server.closeAllConnections();
  server.close();
}
