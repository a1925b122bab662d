/**
 * At most one log line per key per interval, so a flood of bad packets from one source (or
 * one failing script line hit by every message) cannot flood the log. Counters still count
 * every event; the next line says how many were suppressed.
 */
const MAX_KEYS = 10_000;

export class LogLimiter {
  private readonly last = new Map<string, { at: number; suppressed: number }>();

  constructor(private readonly intervalMs: number) {}

  allow(key: string): boolean {
    const now = Date.now();
    const e = this.last.get(key);
    if (e !== undefined && now - e.at < this.intervalMs) {
      e.suppressed++;
      return false;
    }
    if (e === undefined && this.last.size >= MAX_KEYS) this.last.clear();
    if (e === undefined) this.last.set(key, { at: now, suppressed: 0 });
    else e.at = now;
    return true;
  }

  /** how many were suppressed since the previous allowed line for this key (then reset) */
  suppressed(key: string): number {
    const e = this.last.get(key);
    if (e === undefined) return 0;
    const n = e.suppressed;
    e.suppressed = 0;
    return n;
  }
}
