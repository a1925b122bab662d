/**
 * The JS engine's timeouts (host/engines/js/deadline.ts): never shorter than asked, at most
 * one grid step longer, and the calls of one grid step share their deadline to within the
 * 1 ms that isolated-vm's whole-ms timeouts allow.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { deadlineGrid, gridTimeout } from '../../host/engines/js/deadline.js';

describe('JS engine timeout deadlines', () => {
  it('the grid is a quarter of the limit, within 1..20 ms, and none without a limit', () => {
    assert.deepEqual([0, 2, 30, 60, 100, 5000].map(deadlineGrid), [0, 1, 7.5, 15, 20, 20]);
  });

  for (const cpuMs of [1, 30, 100, 1000, 60_000]) {
    it(`cpu_ms ${String(cpuMs)}: at least the limit, at most a grid step (and 1 ms) more; one deadline per grid step`, () => {
      const grid = deadlineGrid(cpuMs);
      // calls every 0.137 ms across 3 grid steps, from an arbitrary clock offset
      for (let now = 12_345.678; now < 12_345.678 + 3 * grid; now += 0.137) {
        const t = gridTimeout(now, cpuMs, grid);
        assert.ok(Number.isInteger(t), `whole ms: ${String(t)}`);
        assert.ok(t >= cpuMs, `${String(t)} >= ${String(cpuMs)}`);
        assert.ok(t <= cpuMs + grid + 1, `${String(t)} <= ${String(cpuMs + grid + 1)}`);
        // the deadline lies within 1 ms after a grid point: calls of one step expire together
        const pastGridPoint = (now + t) % grid;
        assert.ok(pastGridPoint < 1 + 1e-6 || grid - pastGridPoint < 1e-6, `deadline ${String(pastGridPoint)} ms past a grid point`);
      }
    });
  }
});
