/**
 * The Lua engine's per-callback limits — CPU time (limits.cpu_ms) and memory
 * (limits.memory_mb) — and the stop that KSR.x.exit()/drop() or a limit puts on the running
 * callback. fengari has no CPU clock and no allocator to hook, so:
 *
 * - CPU: the count hook runs every HOOK_COUNT instructions (≈20 µs of Lua). It reads the wall
 *   clock (≈50 ns) and reads the CPU clock (≈0.6 µs) only once the wall clock says cpu_ms may
 *   have passed; it stops the callback when CPU time has. Library calls that do a lot of work
 *   in one instruction (a long string copy, a pattern match) report it through work().
 * - Memory: the growth of this process's heap (V8 heap + external memory, where Lua strings
 *   live) since the callback began, read by every 4th hook (≈0.25 µs), plus what library calls
 *   reserved since the last reading: those check the size they would produce before producing
 *   it (bounded-lib.ts), so one call cannot jump past the limit.
 *
 * A stop is a flag on the running callback, not only an error value: every KSR call, every
 * protected-call boundary (protected-calls.ts) and every hook raises it again, so no route
 * through the script's own code can swallow it. Callbacks nest (a KSR function may run another
 * callback), so frames form a stack; a frame object is reused, nothing is allocated per call.
 */
import v8 from 'node:v8';
import type { LuaState } from 'fengari';
import { threadCpuTimeMs } from '../cpu-clock.js';
import { setConcatSink, type ConcatSink } from './concat-guard.js';

export type StopKind = 'exit' | 'drop' | 'cpu' | 'memory';

/** Instructions between two runs of the hook. */
export const HOOK_COUNT = 1000;
/** Runs of the hook between two heap readings (a reading costs ≈0.25 µs, 1000 instructions ≈20 µs). */
const HEAP_READ_HOOKS = 4;
/** Library work units (a byte copied; a pattern step counts 16) between two looks at the clock. */
export const WORK_CHECK = 1 << 20;
/**
 * What one KSR call counts as: the clock is looked at every 16 KSR calls, so a loop of slow KSR
 * calls (a few instructions each, too few for the hook) is stopped too, at a cost of an
 * addition per call.
 */
export const KSR_CALL_WORK = WORK_CHECK >> 4;
/** Before a callback's first heap reading, at most this much may be reserved unread (see read). */
const FIRST_READ_BYTES = 1 << 20;
/** The CPU reading a callback starts from may be this old, in ms (see cpuAt). */
const CPU_READING_MAX_AGE_MS = 1;

let cpuReadAt = -Infinity;
let cpuRead = 0;

function readCpu(now: number): number {
  cpuRead = threadCpuTimeMs();
  cpuReadAt = now;
  return cpuRead;
}

/**
 * CPU time at wall time `now`, reading the clock at most once a ms: a reading costs more than a
 * short callback's whole bookkeeping. Between readings the last one plus the wall time since is
 * an upper bound while one thread runs, so a callback's CPU time is under-counted by < 1 ms.
 */
function cpuAt(now: number): number {
  return now - cpuReadAt > CPU_READING_MAX_AGE_MS ? readCpu(now) : cpuRead + (now - cpuReadAt);
}

/**
 * V8 ends the process when its heap passes heap_size_limit. memory_mb bounds one callback;
 * a script that keeps a little more in its globals on every message is bounded by this: past
 * this share of the process's limit, the callback running is stopped instead (the script's
 * state stays as it is; a reload starts it afresh).
 */
const PROCESS_HEAP_SHARE = 0.85;
/** heap_size_limit includes the young generation (3 × 16 MB on 64-bit); the abort comes when the old one is full. */
const YOUNG_GENERATION_BYTES = 48 * 1024 * 1024;
const heapLimit = v8.getHeapStatistics().heap_size_limit;
const processHeapLimit = Math.max(heapLimit / 2, heapLimit - YOUNG_GENERATION_BYTES) * PROCESS_HEAP_SHARE;
let processHeapFull = false;

function heapNow(): number {
  const h = v8.getHeapStatistics();
  processHeapFull = h.used_heap_size > processHeapLimit;
  return h.used_heap_size + h.external_memory;
}

/** Frame.detail of a stop by the process heap guard above */
export const HEAP_FULL = 'the process heap is near its limit';

/** One running callback (or the script's top level). */
export class Frame {
  stop: StopKind | null = null;
  /** what passed the memory limit, for the failure message */
  detail = '';
  /** file:line where a limit stopped it */
  location: string | undefined = undefined;
  cpuMs = 0;
  cpuStart = 0;
  /** wall time at which to read the CPU clock next */
  wallCheck = Infinity;
  /** heap at the start, estimated at the first reading; NaN before it */
  heapBase = NaN;
  /** heap growth at the last reading */
  measured = 0;
  /** bytes reserved by library calls since the last reading */
  reserved = 0;
  work = 0;
  hooks = 0;
  outerSink: ConcatSink | null = null;
}

/** A frame that never runs: the state between callbacks. */
const IDLE = new Frame();

export interface LimitHost {
  /** file:line of the running script at `level` (0 = the running function) */
  locate(L: LuaState, level: number): string | undefined;
  /** raise the stop sentinel as a Lua error */
  raiseStop(L: LuaState): never;
}

export class LuaLimits implements ConcatSink {
  private readonly frames: Frame[] = [IDLE];
  private depth = 0;
  frame: Frame = IDLE;

  /** memoryBytes 0 = no memory limit; a frame's cpuMs 0 = no CPU limit */
  constructor(private readonly memoryBytes: number, private readonly host: LimitHost) {}

  enter(cpuMs: number): Frame {
    this.depth++;
    let f = this.frames[this.depth];
    if (f === undefined) {
      f = new Frame();
      this.frames.push(f);
    }
    f.stop = null;
    f.detail = '';
    f.location = undefined;
    f.cpuMs = cpuMs;
    if (cpuMs > 0) {
      const now = performance.now();
      f.cpuStart = cpuAt(now);
      f.wallCheck = now + cpuMs;
    } else {
      f.wallCheck = Infinity;
    }
    f.heapBase = NaN;
    f.measured = 0;
    f.reserved = 0;
    f.work = 0;
    f.hooks = 0;
    f.outerSink = setConcatSink(this);
    this.frame = f;
    return f;
  }

  leave(): void {
    setConcatSink(this.frame.outerSink);
    this.depth--;
    this.frame = this.frames[this.depth] ?? IDLE;
  }

  /** CPU time the running frame has used so far, in ms (0 without a CPU limit): what a callback that waits has spent. */
  used(): number {
    const f = this.frame;
    return f === IDLE || f.cpuMs <= 0 ? 0 : cpuAt(performance.now()) - f.cpuStart;
  }

  get stopped(): boolean {
    return this.frame.stop !== null;
  }

  /** KSR.x.exit()/drop(): the callback is over, whatever the script does next. */
  markStop(kind: 'exit' | 'drop'): void {
    if (this.frame !== IDLE && this.frame.stop === null) this.frame.stop = kind;
  }

  raiseStop(L: LuaState): never {
    return this.host.raiseStop(L);
  }

  /** The count hook. */
  readonly hook = (L: LuaState): void => {
    const f = this.frame;
    if (f === IDLE) return;
    if (f.stop !== null) this.host.raiseStop(L);
    const now = performance.now();
    if (now >= f.wallCheck) this.checkCpu(L, f, now, 0);
    // heap readings every HEAP_READ_HOOKS runs: ~4000 instructions allocate little without a library call
    if (this.memoryBytes > 0 && ++f.hooks % HEAP_READ_HOOKS === 0) {
      this.read(f, 0);
      if (f.measured > this.memoryBytes || processHeapFull) this.stopWith(L, 'memory', 0, processHeapFull ? HEAP_FULL : '');
    }
  };

  /** Before a library call produces `bytes` (or pushes that much): refuse past the limit. */
  reserve(L: LuaState, bytes: number, what: string): void {
    const f = this.frame;
    const max = this.memoryBytes;
    if (f === IDLE) return;
    if (max > 0) {
      if (bytes > max) this.stopWith(L, 'memory', 1, `${what}: ${String(bytes)} bytes`);
      const r = f.reserved + bytes;
      if (f.measured + r > max || (Number.isNaN(f.heapBase) && r > FIRST_READ_BYTES)) {
        this.read(f, bytes);
        if (f.measured + bytes > max || processHeapFull) this.stopWith(L, 'memory', 1, processHeapFull ? HEAP_FULL : `${what}: ${String(bytes)} bytes`);
      } else {
        f.reserved = r;
      }
    }
    this.work(L, bytes);
  }

  /** After the VM built a string of `bytes` (concat-guard.ts): past the limit, stop now. */
  account(L: LuaState, bytes: number): void {
    const f = this.frame;
    const max = this.memoryBytes;
    if (f === IDLE || max <= 0) return;
    f.reserved += bytes;
    if (f.measured + f.reserved > max || (Number.isNaN(f.heapBase) && f.reserved > FIRST_READ_BYTES)) {
      this.read(f, 0);
      if (f.measured > max || processHeapFull) this.stopWith(L, 'memory', 0, processHeapFull ? HEAP_FULL : `'..': ${String(bytes)} bytes`);
    }
    this.work(L, bytes);
  }

  /** Library work done inside one instruction: look at the clock now and then. */
  work(L: LuaState, units: number): void {
    const f = this.frame;
    f.work += units;
    if (f.work < WORK_CHECK || f === IDLE) return;
    f.work = 0;
    this.check(L);
  }

  /** Check the limits now (after work the hook cannot see, like compiling a chunk). */
  check(L: LuaState): void {
    const f = this.frame;
    if (f === IDLE) return;
    if (f.stop !== null) this.host.raiseStop(L);
    const now = performance.now();
    if (now >= f.wallCheck) this.checkCpu(L, f, now, 1);
  }

  private checkCpu(L: LuaState, f: Frame, now: number, level: number): void {
    const used = readCpu(now) - f.cpuStart;
    if (used > f.cpuMs) this.stopWith(L, 'cpu', level, '');
    f.wallCheck = now + (f.cpuMs - used);
  }

  /**
   * Read the heap. The first reading of a callback takes its base as the heap now less what
   * was reserved so far (those objects exist now): reading early (FIRST_READ_BYTES) keeps
   * reserved garbage that the GC already freed from making the base too low.
   */
  private read(f: Frame, pending: number): void {
    const heap = heapNow();
    if (Number.isNaN(f.heapBase)) f.heapBase = heap - f.reserved;
    f.measured = heap - f.heapBase;
    f.reserved = pending;
  }

  private stopWith(L: LuaState, kind: 'cpu' | 'memory', level: number, detail: string): never {
    const f = this.frame;
    f.stop = kind;
    f.detail = detail;
    f.location = this.host.locate(L, level);
    return this.host.raiseStop(L);
  }
}
