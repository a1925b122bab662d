/**
 * limits.cpu_ms in the JS engine: CPU time, KSR calls included, not elapsed time
 * (docs/decisions.md, "cpu_ms is CPU time"). Two mechanisms, because only isolated-vm can
 * interrupt the script's own code and its timeout is wall-clock:
 *
 * - At every crossing (a KSR call) the host checks the CPU time the callback has used
 *   (budgetSpent) and stops it past cpu_ms, whatever the wall clock says.
 * - isolated-vm's timeout, which counts only time inside the isolate (it pauses during KSR
 *   calls), is WALL_FACTOR × cpu_ms of wall time: a loop of the script's own code that makes
 *   no KSR call is stopped then, loaded machine or not.
 *
 * Cost: a callback costs a few µs and a CPU clock reading nearly one, so a callback starts from a
 * reading at most a few ms old, shared by all (which counts at most that much CPU time too
 * many), and a crossing reads the clock only once the callback could have used its budget
 * (checkAt, assuming the process uses at most one core meanwhile).
 */
import { cpuTimeMs } from '../cpu-clock.js';

/** A callback's CPU budget: where it started (CPU ms) and when it could first be spent (wall ms, performance.now()). */
export interface CpuBudget {
  cpuStart: number;
  checkAt: number;
}

/** How old (wall ms) the shared starting reading may be, at most, and at most a tenth of cpu_ms. */
const BASELINE_MS = 5;
let baseWall = -Infinity;
let baseCpu = 0;

/** Start a callback's budget at wall time `now` (performance.now()). */
export function startBudget(b: CpuBudget, now: number, cpuMs: number): void {
  if (now - baseWall > Math.min(BASELINE_MS, cpuMs / 10)) {
    baseCpu = cpuTimeMs();
    baseWall = now;
  }
  b.cpuStart = baseCpu;
  b.checkAt = baseWall + cpuMs;
}

/** Whether the callback has used more than cpuMs of CPU time; reads the clock only once it could have. */
export function budgetSpent(b: CpuBudget, now: number, cpuMs: number): boolean {
  if (now < b.checkAt) return false;
  const used = cpuTimeMs() - b.cpuStart;
  if (used > cpuMs) return true;
  b.checkAt = now + (cpuMs - used);
  return false;
}

/**
 * isolated-vm's timeout for a callback is this many times cpu_ms (wall clock, inside the
 * isolate). It is the only way to interrupt the script's own code, and it cannot tell a busy
 * loop from a callback that is slow because the machine is: a callback on a core it shares
 * with seven other busy threads still finishes what one cpu_ms of CPU time allows. Machine load
 * cannot be told in advance well enough to do better (the scheduler shares a core between
 * process groups first); a KSR call checks the CPU time itself.
 */
export const WALL_FACTOR = 8;
