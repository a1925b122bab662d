/**
 * The isolated-vm handle objects (Isolate, Context, Reference, Script, ExternalCopy, Callback)
 * of every disposed engine, kept reachable for the life of the process. When such an object
 * becomes garbage, isolated-vm frees it from a V8 weak callback that needs its per-thread
 * environment; at a natural process exit Node's last GC can run after isolated-vm has torn that
 * environment down, and the process aborts ("IsolateEnvironment::GetCurrent(): Assertion
 * `environment != nullptr' failed"). Never letting them become garbage avoids that. What stays
 * is the small host-side wrapper objects, about ten per engine (the isolates themselves and
 * their heaps are freed by dispose()). docs/decisions.md, "isolated-vm handle lifetime".
 */
const retired: unknown[] = [];
/**
 * Past this many, the oldest half is let go: a script that runs out of memory on every message
 * (its isolate rebuilt each time) must not grow the list for ever. Objects dropped long before
 * the process ends are collected by an ordinary GC, which is safe; only exit-time is not.
 */
const RETIRED_MAX = 20_000;

export function retire(handles: readonly unknown[]): void {
  retired.push(...handles);
  if (retired.length > RETIRED_MAX) retired.splice(0, RETIRED_MAX / 2);
}
