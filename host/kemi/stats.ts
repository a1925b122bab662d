/**
 * Module statistics ("module:counter"), like Kamailio's stats.get_statistics. A Counter is a
 * plain object so the hot path increments a field, never looks up a name.
 */
export interface Counter {
  value: number;
}

export class Stats {
  private readonly counters = new Map<string, Counter>();
  /** keys of figures that go up and down (in flight now): gauges in /metrics, never reset */
  private readonly gauges = new Set<string>();

  counter(module: string, name: string): Counter {
    const key = `${module}:${name}`;
    let c = this.counters.get(key);
    if (c === undefined) {
      c = { value: 0 };
      this.counters.set(key, c);
    }
    return c;
  }

  /** A counter that holds a level rather than a count (transactions active, servers connected). */
  gauge(module: string, name: string): Counter {
    const c = this.counter(module, name);
    this.gauges.add(`${module}:${name}`);
    return c;
  }

  isGauge(key: string): boolean {
    return this.gauges.has(key);
  }

  get(key: string): number | undefined {
    return this.counters.get(key)?.value;
  }

  /** All counters, or those of one module, or one `module:counter`. */
  snapshot(filter = 'all'): Record<string, number> {
    const out: Record<string, number> = {};
    for (const [key, c] of this.counters) {
      if (filter === 'all' || key === filter || key.startsWith(`${filter}:`)) out[key] = c.value;
    }
    return out;
  }

  reset(): void {
    for (const c of this.counters.values()) c.value = 0;
  }
}
