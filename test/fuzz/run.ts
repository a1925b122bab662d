/**
 * `npm run fuzz -- --count N [--seed S] [--engine lua|js]`: a long fuzz campaign; prints one
 * `name value unit` line per figure and exits non-zero when a fault escaped or a probe went
 * unanswered. A failure is replayed with the same seed.
 */
import { parseArgs } from 'node:util';
import { runCampaign } from './campaign.js';

const { values } = parseArgs({
  options: { count: { type: 'string', default: '100000' }, seed: { type: 'string' }, engine: { type: 'string', default: 'lua,js' } },
});
const seed = values.seed === undefined ? Math.floor(Math.random() * 2 ** 31) : Number(values.seed);
let failed = false;
for (const engine of values.engine.split(',')) {
  if (engine !== 'lua' && engine !== 'js') throw new Error(`--engine: lua or js, not ${engine}`);
  const t0 = performance.now();
  const r = await runCampaign({ engine, seed, count: Number(values.count) });
  const s = ((performance.now() - t0) / 1000).toFixed(1);
  process.stdout.write(`fuzz_${engine}_seed ${String(seed)} seed\nfuzz_${engine}_udp ${String(r.sent.udp)} datagrams\nfuzz_${engine}_tcp ${String(r.sent.tcp)} connections\n`);
  process.stdout.write(`fuzz_${engine}_http ${String(r.sent.http)} requests\nfuzz_${engine}_netstring ${String(r.sent.netstring)} answers\nfuzz_${engine}_time ${s} s\n`);
  process.stdout.write(`fuzz_${engine}_uncaught ${String(r.uncaught)} errors\nfuzz_${engine}_probes_unanswered ${String(r.probes - r.probesAnswered)} probes\nfuzz_${engine}_rss_growth ${r.rssGrowthMb.toFixed(1)} MiB\n`);
  if (r.uncaught > 0 || r.probesAnswered < r.probes) failed = true;
}
process.exitCode = failed ? 1 : 0;
