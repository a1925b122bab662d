/**
 * Timeouts for isolated-vm calls whose deadlines fall on a grid. isolated-vm keeps each call's
 * timer until its deadline passes, finished or not, and its timer thread wakes for each one:
 * with a deadline per message that is a wake-up and two context switches per message, which
 * under load cost more than the callback itself (docs/decisions.md, "Timeout deadlines").
 * Deadlines rounded up to a grid expire together, so the thread wakes a few times per grid
 * step instead.
 */

/** The widest grid step, in ms. */
const MAX_GRID_MS = 250;

/** The grid step for a CPU limit: a quarter of it (1..250 ms); 0 for no limit. */
export function deadlineGrid(cpuMs: number): number {
  return cpuMs > 0 ? Math.min(MAX_GRID_MS, Math.max(1, cpuMs / 4)) : 0;
}

/**
 * The timeout (whole ms, as isolated-vm takes it) for a call starting at `now` (ms on the
 * monotonic clock): at least `cpuMs`, ending at most 1 ms after the first grid point at or
 * after now + cpuMs. So a runaway callback runs at least cpu_ms and at most a quarter more.
 */
export function gridTimeout(now: number, cpuMs: number, grid: number): number {
  const deadline = Math.ceil((now + cpuMs) / grid) * grid;
  return Math.max(1, Math.ceil(deadline - now));
}
