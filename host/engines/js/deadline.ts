/**
 * Timeouts for isolated-vm calls whose deadlines fall on a grid. isolated-vm keeps each call's
 * timer until its deadline passes, finished or not, and its timer thread wakes for each one:
 * with a deadline per message that is a wake-up and two context switches per message, which
 * under load cost more than the callback itself (docs/decisions.md, "Timeout deadlines").
 * Deadlines rounded up to a grid expire together, so the thread wakes a few times per grid
 * step instead.
 */

/**
 * The widest grid step, in ms. isolated-vm's timer thread frees the timers that expired
 * together by recursion, one level per timer: 250 ms of calls of an empty callback (50,000
 * timers) overflowed its stack and crashed the process (bench/js-engine.ts, CPU_MS=1000). At
 * 20 ms even 500,000 callbacks a second leave 10,000 per wake-up.
 */
const MAX_GRID_MS = 20;

/** The grid step for a CPU limit: a quarter of it (1..20 ms); 0 for no limit. */
export function deadlineGrid(cpuMs: number): number {
  return cpuMs > 0 ? Math.min(MAX_GRID_MS, Math.max(1, cpuMs / 4)) : 0;
}

/**
 * The timeout (whole ms, as isolated-vm takes it) for a call starting at `now` (ms on the
 * monotonic clock) that may run `ms`: at least `ms`, ending at most 1 ms after the first grid
 * point at or after now + ms. So a runaway callback runs at least `ms` and at most one grid
 * step (a quarter of cpu_ms) more.
 */
export function gridTimeout(now: number, ms: number, grid: number): number {
  const deadline = Math.ceil((now + ms) / grid) * grid;
  return Math.max(1, Math.ceil(deadline - now));
}
