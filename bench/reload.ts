/**
 * Hot reload cost: a Runtime (in this process) reloaded 200 times with a new script each time,
 * nothing suspended, so every replaced version is disposed at the swap. Prints the time of one
 * reload (build + probe + swap, p50 and p99) and the resident memory after 20 and after 200
 * reloads, each after a full GC: if replaced engines leaked, the second figure would be far
 * above the first.
 *
 *   node --no-node-snapshot --import tsx bench/reload.ts [lua|js ...]
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { pino } from 'pino';
import { validateConfig } from '../host/config.js';
import { Runtime } from '../host/runtime.js';

const RELOADS = Number(process.env.BENCH_RELOADS ?? 200);
const EARLY = 20;

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

function script(kind: 'lua' | 'js', n: number): string {
  // a few hundred lines, so building a version is not trivially small
  const filler = Array.from({ length: 200 }, (_, i) => (kind === 'lua' ? `local f${String(i)} = function() return ${String(i + n)} end` : `const f${String(i)} = () => ${String(i + n)};`)).join('\n');
  return kind === 'lua'
    ? `${filler}\nfunction ksr_request_route()\n  KSR.sl.sl_send_reply(200, "OK v${String(n)}")\nend\n`
    : `${filler}\nfunction ksr_request_route() {\n  KSR.sl.sl_send_reply(200, "OK v${String(n)}");\n}\n`;
}

function rssMiB(): number {
  gc();
  gc();
  return process.memoryUsage().rss / 1048576;
}

async function run(kind: 'lua' | 'js'): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'kemihost-bench-reload-'));
  const path = join(dir, `route.${kind}`);
  writeFileSync(path, script(kind, 0));
  const rt = await Runtime.start({
    config: validateConfig({ listen: ['udp:127.0.0.1:0'], http: { listen: 'off' } }),
    scriptPath: path,
    log: pino({ level: 'silent' }),
  });
  const times: number[] = [];
  let early = 0;
  for (let i = 1; i <= RELOADS; i++) {
    writeFileSync(path, script(kind, i));
    const t0 = performance.now();
    const r = await rt.reload('rpc');
    times.push(performance.now() - t0);
    if (!r.ok) throw new Error(`reload ${String(i)} failed: ${r.error.message}`);
    if (i === EARLY) early = rssMiB();
  }
  const late = rssMiB();
  if (rt.script.drainingVersions.length !== 0) throw new Error('versions left draining with nothing suspended');
  await rt.close();
  times.sort((a, b) => a - b);
  const q = (p: number): number => times[Math.min(times.length - 1, Math.floor(p * times.length))] ?? NaN;
  console.log(`reload_${kind}_p50 ${q(0.5).toFixed(2)} ms`);
  console.log(`reload_${kind}_p99 ${q(0.99).toFixed(2)} ms`);
  console.log(`reload_${kind}_rss_after_${String(EARLY)} ${early.toFixed(1)} MiB`);
  console.log(`reload_${kind}_rss_after_${String(RELOADS)} ${late.toFixed(1)} MiB`);
  const m = process.memoryUsage();
  process.stderr.write(`# heapUsed ${(m.heapUsed / 1048576).toFixed(1)} MiB external ${(m.external / 1048576).toFixed(1)} MiB arrayBuffers ${(m.arrayBuffers / 1048576).toFixed(1)} MiB\n`);
}

const which = process.argv.slice(2);
for (const kind of ['lua', 'js'] as const) {
  if (which.length > 0 && !which.includes(kind)) continue;
  await run(kind);
}
