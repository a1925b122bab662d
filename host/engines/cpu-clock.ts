/**
 * CPU time in ms: what limits.cpu_ms counts, so that a callback slowed down by a loaded machine
 * (or waiting outside the script) is not stopped early.
 */
import { openSync, readSync } from 'node:fs';

/**
 * CPU time of this process (user + system, every thread). One reading costs ≈0.6 µs (a
 * getrusage call), so engines read it only when the elapsed time says the limit may have passed.
 * The JS engine counts this one: isolated-vm may run a script's code on a thread of its own.
 */
export function cpuTimeMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

/** The calling thread's /proc schedstat, opened on first use (null: not Linux, fall back). */
let schedstat: number | null | undefined;
const buf = Buffer.alloc(64);

/**
 * CPU time of the calling thread alone, in ms (Linux: /proc/thread-self/schedstat, ns precision,
 * ≈3 µs a reading; elsewhere the process's). The Lua engine runs on the thread that calls it, so
 * V8's background threads (concurrent GC and compilers, busy on a loaded machine) are not
 * counted against a Lua callback — with the process's time a callback waiting 150 ms in a KSR
 * call was stopped at cpu_ms 50 at load 20.
 */
export function threadCpuTimeMs(): number {
  if (schedstat === undefined) {
    try {
      schedstat = openSync('/proc/thread-self/schedstat', 'r');
    } catch {
      schedstat = null;
    }
  }
  if (schedstat === null) return cpuTimeMs();
  const n = readSync(schedstat, buf, 0, buf.length, 0);
  const text = buf.toString('latin1', 0, n);
  return Number(text.slice(0, text.indexOf(' '))) / 1e6;
}
