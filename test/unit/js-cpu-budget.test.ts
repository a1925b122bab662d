/**
 * The JS engine's CPU budget (host/engines/js/cpu-budget.ts), checked at every KSR call:
 * elapsed time does not spend it, CPU time does. A busy loop on the host stands in for a
 * callback's work.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { threadCpuTimeMs } from '../../host/engines/cpu-clock.js';
import { budgetSpent, startBudget, type CpuBudget } from '../../host/engines/js/cpu-budget.js';

/**
 * Spend `ms` of this thread's CPU time. The budget counts the process's CPU time but rechecks
 * only once as much wall time has passed (checkAt); burning by the process's clock could end
 * early on wall time while V8's background threads add theirs, and the check would rightly not
 * run yet. One thread's CPU time never runs ahead of the wall clock.
 */
function burnCpu(ms: number): void {
  const end = threadCpuTimeMs() + ms;
  while (threadCpuTimeMs() < end);
}

describe('JS engine CPU budget', () => {
  it('elapsed time does not spend it: a callback descheduled for a second is within a 50 ms budget', () => {
    const b: CpuBudget = { cpuStart: 0, checkAt: 0 };
    const t0 = performance.now();
    startBudget(b, t0, 50);
    // what a crossing sees after a second of wall time in which the process got no CPU
    assert.equal(budgetSpent(b, t0 + 1000, 50), false);
    // it rechecks only once the rest of the budget could have been used
    assert.ok(b.checkAt > t0 + 1000 && b.checkAt <= t0 + 1050, String(b.checkAt - t0));
  });

  it('CPU time spends it, KSR calls and script code alike', () => {
    const b: CpuBudget = { cpuStart: 0, checkAt: 0 };
    startBudget(b, performance.now(), 30);
    burnCpu(35);
    assert.equal(budgetSpent(b, performance.now(), 30), true);
  });

  it('the clock is read only once the budget could be spent (a crossing costs no system call before)', () => {
    const b: CpuBudget = { cpuStart: 0, checkAt: 0 };
    const t0 = performance.now();
    startBudget(b, t0, 100);
    // as if the callback had used all the CPU time in the world: only a reading would tell
    b.cpuStart = -1e12;
    assert.equal(budgetSpent(b, t0 + 1, 100), false, 'no reading 1 ms in');
    assert.equal(budgetSpent(b, b.checkAt, 100), true, 'a reading once 100 ms could have been used');
  });
});
