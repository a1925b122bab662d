/**
 * The concatenation operator `..` builds its result inside the VM (fengari's lvm.js
 * luaV_concat), not in a library function that bounded-lib.ts could check beforehand, and
 * `s = s .. s` reaches a gigabyte in 30 steps, well inside one hook interval. luaV_concat
 * stores every result through lobject.setsvalue2s, looked up on the module object at each
 * call, so wrapping that export sees every result: one of CONCAT_MIN_BYTES or more is
 * accounted to the running engine right after it is built, and a result past the memory limit
 * stops the callback before the next instruction. The check follows the allocation: one
 * concatenation can pass the limit by what its own operands add up to (documented in
 * docs/lua.md).
 */
import type { LuaState } from 'fengari';
import { lobject, type TString } from './fengari-internals.js';

export interface ConcatSink {
  account(L: LuaState, bytes: number): void;
}

/** Shorter results are not worth a call: the hook's heap reading sees them. */
const CONCAT_MIN_BYTES = 1024;

let sink: ConcatSink | null = null;

const store = lobject.setsvalue2s;
lobject.setsvalue2s = (L: LuaState, idx: number, ts: TString): void => {
  store(L, idx, ts);
  const n = ts.realstring.length;
  if (n >= CONCAT_MIN_BYTES && sink !== null) sink.account(L, n);
};

/** Make `s` the engine that concatenations are accounted to; returns the previous one. */
export function setConcatSink(s: ConcatSink | null): ConcatSink | null {
  const outer = sink;
  sink = s;
  return outer;
}
