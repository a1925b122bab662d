/**
 * A call-rate sweep: one sipp run per rate (STEP_SECONDS long, bounded), stopping at the first
 * rate with a failed call, a missing call or ≥ 0.1 % retransmissions. The best clean rate and
 * the CPU per call there and at one rate every target reaches (where ratios are taken) are
 * printed as `name value unit` lines.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runSipp } from '../../test/helpers/sipp.js';
import { sippStats } from '../sipp-stats.js';
import { cpuSeconds, type Target } from './targets.js';

export const STEP_SECONDS = Number(process.env.BENCH_STEP_SECONDS ?? 4);

export interface Step {
  readonly rate: number;
  readonly ok: boolean;
  readonly calls: number;
  readonly cpuUs: number;
}

/**
 * One step: `sipp` with `args` (the target, scenario and its options; rate, count, statistics and
 * timeouts are added) at `rate` for STEP_SECONDS, CPU per successful call of `t` (and `extra`).
 */
export async function sippStep(t: Target, rate: number, args: readonly string[]): Promise<Step> {
  const dir = mkdtempSync(join(tmpdir(), 'kh-bench-step-'));
  const stf = join(dir, 'stat.csv');
  const calls = rate * STEP_SECONDS;
  const cpu0 = cpuSeconds(t.pids());
  const r = await runSipp([
    ...args, '-m', String(calls), '-r', String(rate), '-l', String(rate * 4), '-buff_size', '4194304',
    '-timeout', String(STEP_SECONDS * 4 + 10), '-timeout_error', '-trace_stat', '-stf', stf, '-fd', '1',
  ], (STEP_SECONDS * 6 + 20) * 1000, ['taskset', '-c', '1']);
  const cpu = cpuSeconds(t.pids()) - cpu0;
  const s = sippStats(stf);
  return { rate, calls: s.ok, cpuUs: s.ok > 0 ? (cpu * 1e6) / s.ok : NaN, ok: r.code === 0 && s.failed === 0 && s.ok === calls && s.retrans < calls * 0.001 };
}

/** Step up through `rates`; print `<prefix>_<target>_max_rate`, `_cpu_per_call` and `_cpu_per_call_at_<same>`; return the last. */
export async function sweep(prefix: string, t: Target, rates: readonly number[], same: number, step: (rate: number) => Promise<Step>): Promise<number> {
  let best: Step | null = null;
  let atSame = NaN;
  for (const rate of rates) {
    const s = await step(rate);
    process.stderr.write(`# ${t.name} rate=${String(rate)} ok=${String(s.ok)} calls=${String(s.calls)} cpu_us=${s.cpuUs.toFixed(1)}\n`);
    if (!s.ok) break;
    best = s;
    if (rate === same) atSame = s.cpuUs;
  }
  console.log(`${prefix}_${t.name}_max_rate ${best === null ? '0' : String(best.rate)} calls/s`);
  console.log(`${prefix}_${t.name}_cpu_per_call ${best === null ? 'NaN' : best.cpuUs.toFixed(1)} us`);
  console.log(`${prefix}_${t.name}_cpu_per_call_at_${String(same)} ${Number.isNaN(atSame) ? 'NaN' : atSame.toFixed(1)} us`);
  return atSame;
}

/** `<prefix>_cpu_ratio_<ours>_vs_<theirs>_at_<same> N x` for each pair measured. */
export function ratios(prefix: string, results: ReadonlyMap<string, number>, pairs: readonly (readonly [string, string])[], same: number): void {
  for (const [ours, theirs] of pairs) {
    const a = results.get(ours);
    const b = results.get(theirs);
    if (a !== undefined && b !== undefined && Number.isFinite(a) && Number.isFinite(b)) {
      console.log(`${prefix}_cpu_ratio_${ours}_vs_${theirs}_at_${String(same)} ${(a / b).toFixed(2)} x`);
    }
  }
}
