/** sipp's `-trace_stat` file, read by the benchmarks that step a call rate. */
import { existsSync, readFileSync } from 'node:fs';

export interface SippCounts {
  /** successful calls, failed calls and retransmissions, cumulative */
  readonly ok: number;
  readonly failed: number;
  readonly retrans: number;
}

/** The last statistics line of a sipp `-trace_stat` CSV (";"-separated, header first); NaN when absent. */
export function sippStats(file: string): SippCounts {
  const lines = existsSync(file) ? readFileSync(file, 'utf8').trim().split('\n') : [];
  const head = (lines[0] ?? '').split(';');
  const last = (lines[lines.length - 1] ?? '').split(';');
  const col = (name: string): number => Number(last[head.indexOf(name)] ?? NaN);
  return { ok: col('SuccessfulCall(C)'), failed: col('FailedCall(C)'), retrans: col('Retransmissions(C)') };
}
