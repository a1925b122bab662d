/**
 * JavaScript run inside every isolate before the user's script (as a closure, so nothing of it
 * is global except what it installs on purpose: `KSR` and `console`). It captures the
 * intrinsics it needs first, so a script that later replaces `JSON`, `Error` or
 * `Array.prototype` methods can confuse only its own error text, never the bridge.
 *
 * Closure arguments: $0 the host console sink (level, text, location; level 'late' reports a
 * refused late KSR call, text its name), $1 the KSR table ([module, name, flags, failure
 * value] per function: flags 1 may be in a call plan, 2 changes nothing, 4/8 ends the callback
 * as KSR.x.exit/drop do; the failure value is what a refused call returns), $2 the
 * script path, $3 the one sync ivm.Callback behind every KSR function: (table index,
 * ...arguments), $4 the same for a KSR call made while deferred calls are queued: (queued
 * slots "slot,slot,…", table index, ...arguments), the host runs the queue, then the call; $5
 * where an async callback's end is reported: (callback id, "<queued slots>|<status>").
 * Returns { run, resolve, where, take, hits, resume, forget } for the host.
 *
 * Waiting in place (host/waits.ts): an `async function` callback gets an id from the host
 * (run's last argument; 0 for a plain one, or one run by another callback's KSR call). A KSR
 * call that waits (table flag 16) answers WAIT instead of a result; the wrapper then returns
 * a promise the script awaits, and `resume(id, value)` later settles it. V8 runs the
 * continuation in the microtask checkpoint that ends that host call, while the host still has
 * the callback's frame: so KSR calls are allowed while LIVE is that callback's id, and the
 * callback's end (its promise settling) is reported through $5, also inside the same call.
 *
 * KSR only while a callback runs (or the top level, until the host takes its queue): a promise
 * continuation or an async function's tail runs after `run` has returned (V8 runs microtasks
 * when the outermost call into the isolate ends), when the host has already finished with
 * the callback's message; by then a KSR call could only act out of order on a message that is
 * done, or on another. Such a call is refused: it returns the function's failure value (-1,
 * false, null), does nothing, and is reported once per callback.
 *
 * Call plans (host/engines/js/call-plan.ts): a run is given the answers of its callback's plan
 * by slot, and the plan's keys when they changed. A call found in the plan is answered here:
 * PURE always, READ while nothing has changed yet in this run (FRESH), DEFERRED by queueing
 * the slot and returning the predicted result (DEFERRED_UNCHANGED: only while FRESH).
 * KSR.x.exit()/drop() (flags 4/8) queue "f<index>" and end the run here. The queue goes to
 * the host with the next KSR call that crosses ($4) and with run's result; take(done) hands it
 * over after a run that was stopped (CPU limit) or after the script's top level.
 *
 * Host → isolate protocol of a KSR function's callback (it never lets a host exception cross):
 * - returns the converted result;
 * - throws a string: the error message (bad argument, internal error) — raised here as an
 *   Error whose stack starts at the script line that made the KSR call;
 * - throws a number: KSR.x.exit() (1) / KSR.x.drop() (2) stopped the callback, or it ran past
 *   its CPU limit (3, counting its KSR calls: the host's deadline).
 *
 * Arguments that are not primitives are replaced by `{ t: typeName }` before they cross, so a
 * function or symbol (which isolated-vm cannot copy) gets invoke's ordinary "bad argument"
 * message and a large object is never deep-copied just to be refused.
 */
import { PRELUDE_TEXT } from './prelude-text.js';

export const PRELUDE_FILE = 'kemihost:prelude';

export const PRELUDE_SOURCE = String.raw`'use strict';
const hostLog = $0, table = $1, PATH = $2, host = $3, flushThen = $4, asyncEnded = $5;
const G = globalThis;
const ErrorCtor = Error;
const captureStackTrace = ErrorCtor.captureStackTrace;
const ErrorProto = ErrorCtor.prototype;
const { apply, defineProperty, deleteProperty, getOwnPropertyDescriptor } = Reflect;
const freeze = Object.freeze;
const isArray = Array.isArray;
// the plan's lookups (slotOf, install): a script that replaces Map or Array methods, or puts
// indexes on Array.prototype, must not be able to make a call answer for another
const MapCtor = Map;
const mapGet = MapCtor.prototype.get, mapSet = MapCtor.prototype.set;
const stringify = JSON.stringify;
const parseJson = JSON.parse;
// a top-level const/let binding is not a property of the global object: read it by name with a
// function made in the global scope (FunctionCtor and reExec captured before the script runs)
const FunctionCtor = Function;
const reExec = RegExp.prototype.exec;
const IDENT = /^[A-Za-z_$][A-Za-z0-9_$]*$/;
const StringCtor = String;
const isPrototypeOf = Object.prototype.isPrototypeOf;
const objectToString = Object.prototype.toString;
const strSlice = String.prototype.slice;
const PromiseCtor = Promise;
const promiseThen = Promise.prototype.then;
const mapDelete = Map.prototype.delete;
const getPrototypeOf = Object.getPrototypeOf;
const AsyncFunctionProto = getPrototypeOf(async function () {});

// Only the language and KSR: WebAssembly is not the language; with no other thread,
// Atomics.wait could only block the server.
deleteProperty(G, 'WebAssembly');
deleteProperty(G, 'console');
deleteProperty(Atomics, 'wait');
deleteProperty(Atomics, 'waitAsync');

${PRELUDE_TEXT}
function arg(a) {
  const t = typeof a;
  if (t === 'object') return a === null ? null : { t: isArray(a) ? 'array' : 'object' };
  if (t === 'function' || t === 'symbol' || t === 'bigint') return { t };
  return a;
}

function stopError(message) {
  const e = new ErrorCtor(message);
  defineProperty(e, 'name', { value: 'KsrStop' });
  defineProperty(e, 'stack', { value: 'KsrStop: ' + message });
  return freeze(e);
}
const STOPS = [
  undefined,
  stopError('KSR.x.exit() ended the callback'),
  stopError('KSR.x.drop() ended the callback'),
  stopError('the CPU limit ended the callback'),
];

// The running callback's plan (see the top): per KSR function index, how to find a call's
// slot (byArgs); kind and answer by slot. Not used once a stop was seen, so every later KSR
// call crosses and is refused by the host as before.
let PLAN = null, KINDS = null, ANSWERS = null, HITS = null, STOPPED = false, FRESH = true;
// runs in progress; the top level counts as one until the host takes its queue. 0: a KSR call is late
let ACTIVE = 1, LATE_REPORTED = false;
// the async callback the host is driving now (its id), whose continuations may call KSR; 0: none
let LIVE = 0;
// async callback id → the resolve function of the KSR call it awaits
const WAITS = new MapCtor();
// what the host answers for a call that waits (prelude table flag 16); no KSR function returns it
const WAIT = '\u0000kemihost:wait\u0000';
// deferred calls queued and not yet handed to the host: "slot,slot,…", and how many
let QUEUE = '', QUEUED = 0;
const MAX_QUEUED = 64;
const PURE = 0, READ = 1, DEFERRED = 2, DEFERRED_UNCHANGED = 3;
// callback index → { byFn: [per function index: { zero, one, many } or null], kinds: [kind by
// slot], hits: [uses by slot since the host last asked (hits())] }; arrays without holes
const PLANS = new MapCtor();

/** The key of a call with two or more arguments: typed primitives; null if not cacheable. */
function argsKey(args) {
  let key = '';
  for (let k = 0; k < args.length; k++) {
    const a = args[k], t = typeof a;
    if (a !== null && t !== 'string' && t !== 'number' && t !== 'boolean') return null;
    key += t[0] + a + '\u0001';
  }
  return key;
}

/**
 * The slot of a call in a function's part of the plan, or undefined. No argument: one slot;
 * one: a Map by the argument itself (a script's constant string is already hashed, and
 * 1 and "1" are different keys); more: by argsKey.
 */
function slotOf(f, args) {
  const n = args.length;
  if (n === 0) return f.zero;
  if (n === 1) return f.one === null ? undefined : apply(mapGet, f.one, [args[0]]);
  if (f.many === null) return undefined;
  const key = argsKey(args);
  return key === null ? undefined : apply(mapGet, f.many, [key]);
}

function takeQueue() {
  const q = QUEUE;
  QUEUE = '';
  QUEUED = 0;
  return q;
}

function fromHost(e, w) {
  if (typeof e === 'number') {
    STOPPED = true;
    return STOPS[e] ?? e;
  }
  if (typeof e === 'string') {
    const err = new ErrorCtor(e);
    captureStackTrace(err, w);
    return err;
  }
  return e;
}

/** A KSR call made when no callback runs (see the top): refused, reported once per callback. */
function late(i, w) {
  if (!LATE_REPORTED) {
    LATE_REPORTED = true;
    const mod = table[i][0];
    try {
      hostLog('late', 'KSR.' + (mod === '' ? '' : mod + '.') + table[i][1], where(w));
    } catch {}
  }
  return table[i][3];
}

/** What a KSR call that waits gives the script: a promise the host settles with resume(id, value). */
function waitFor(id) {
  return new PromiseCtor((settle) => { apply(mapSet, WAITS, [id, settle]); });
}

function wrap(name, i, planned, effectFree, stops, waits) {
  const w = {
    [name]() {
      if (ACTIVE === 0 && LIVE === 0) return late(i, w);
      if (stops !== 0 && !STOPPED && arguments.length === 0) {
        // KSR.x.exit()/drop(): end the callback here; the host does its part after what came
        // before (a queued reply is sent, then the stop), without a crossing of its own
        QUEUE = QUEUED === 0 ? 'f' + i : QUEUE + ',f' + i;
        QUEUED++;
        STOPPED = true;
        FRESH = false;
        throw STOPS[stops];
      }
      if (planned && PLAN !== null && !STOPPED) {
        const f = PLAN[i];
        const slot = f === null ? undefined : slotOf(f, arguments);
        if (slot !== undefined) {
          const kind = KINDS[slot], v = ANSWERS[slot];
          if (kind === PURE || (kind === READ && FRESH)) {
            HITS[slot]++;
            return v;
          }
          if ((kind === DEFERRED || (kind === DEFERRED_UNCHANGED && FRESH)) && v !== null && QUEUED < MAX_QUEUED) {
            QUEUE = QUEUED === 0 ? '' + slot : QUEUE + ',' + slot;
            QUEUED++;
            FRESH = false;
            HITS[slot]++;
            return v;
          }
        }
      }
      if (!effectFree) FRESH = false;
      let r;
      try {
        if (QUEUED !== 0) {
          // what was queued came first: the host runs it, then this call, in one crossing
          const a = [takeQueue(), i];
          for (let k = 0; k < arguments.length; k++) a[k + 2] = arg(arguments[k]);
          r = apply(flushThen, undefined, a);
        } else {
          switch (arguments.length) {
            case 0: r = host(i); break;
            case 1: r = host(i, arg(arguments[0])); break;
            case 2: r = host(i, arg(arguments[0]), arg(arguments[1])); break;
            case 3: r = host(i, arg(arguments[0]), arg(arguments[1]), arg(arguments[2])); break;
            default: {
              const a = [i];
              for (let k = 0; k < arguments.length; k++) a[k + 1] = arg(arguments[k]);
              r = apply(host, undefined, a);
            }
          }
        }
      } catch (e) {
        throw fromHost(e, w);
      }
      // a call that waits in place: the host began the wait and answered WAIT
      if (waits && r === WAIT) return waitFor(LIVE);
      return r;
    },
  }[name];
  return w;
}

const KSR = {};
for (let i = 0; i < table.length; i++) {
  const mod = table[i][0], name = table[i][1];
  let target = KSR;
  if (mod !== '') {
    target = KSR[mod];
    if (target === undefined) target = KSR[mod] = {};
  }
  const flags = table[i][2];
  target[name] = wrap(name, i, (flags & 1) !== 0, (flags & 2) !== 0, (flags & 4) !== 0 ? 1 : (flags & 8) !== 0 ? 2 : 0, (flags & 16) !== 0);
}

const hidden = { writable: true, enumerable: false, configurable: true };
defineProperty(G, 'KSR', { ...hidden, value: KSR });
defineProperty(G, 'console', {
  ...hidden,
  value: { log: logger('info'), info: logger('info'), warn: logger('warn'), error: logger('error'), debug: logger('debug') },
});

const fns = [];

/**
 * Index of a global function the host may call, or -1: a global property (function
 * declarations, var) read by its descriptor, or a top-level const/let binding (Kamailio's
 * app_jsdt accepts "const ksr_request_route = function…"); neither read runs script code.
 */
function resolve(name) {
  const d = getOwnPropertyDescriptor(G, name);
  const f = d === undefined ? lexical(name) : d.value;
  if (typeof f !== 'function') return -1;
  fns[fns.length] = f;
  // index × 2, plus 1 for an async function: one that may wait in place
  return (fns.length - 1) * 2 + (getPrototypeOf(f) === AsyncFunctionProto ? 1 : 0);
}

function lexical(name) {
  if (apply(reExec, IDENT, [name]) === null) return undefined;
  try {
    return FunctionCtor('return typeof ' + name + ' === "function" ? ' + name + ' : undefined;')();
  } catch {
    return undefined; // not yet initialised (a binding read before its declaration ran)
  }
}

/** Make the isolate's copy of a callback's plan: JSON of [function index, arguments, kind] (or null) by slot. */
function install(i, keysJson) {
  const keys = parseJson(keysJson), byFn = [], kinds = [], hits = [];
  for (let k = 0; k < table.length; k++) byFn[k] = null;
  for (let slot = 0; slot < keys.length; slot++) {
    kinds[slot] = -1;
    hits[slot] = 0;
    const k = keys[slot];
    if (k === null) continue;
    const fi = k[0], args = k[1];
    let f = byFn[fi];
    if (f === null) f = byFn[fi] = { zero: undefined, one: null, many: null };
    if (args.length === 0) f.zero = slot;
    else if (args.length === 1) apply(mapSet, f.one ??= new MapCtor(), [args[0], slot]);
    else apply(mapSet, f.many ??= new MapCtor(), [argsKey(args), slot]);
    kinds[slot] = k[2];
  }
  apply(mapSet, PLANS, [i, { byFn, kinds, hits }]);
}

/** How often each slot of a callback's plan was used since the last time: "n,n,…"; '' without a plan. */
function hits(i) {
  const p = apply(mapGet, PLANS, [i]);
  if (p === undefined) return '';
  const counts = p.hits;
  let out = '';
  for (let slot = 0; slot < counts.length; slot++) {
    out += (slot === 0 ? '' : ',') + counts[slot];
    counts[slot] = 0;
  }
  return out;
}

/** Answer from callback i's plan in this run: its keys installed when the host sent them, its answers (JSON). */
function usePlan(i, answers, keys) {
  if (keys !== null) install(i, keys);
  const p = apply(mapGet, PLANS, [i]);
  if (answers !== null && p !== undefined) {
    // JSON text: a string crosses as a primitive, cheaper than a copied array
    ANSWERS = parseJson(answers);
    PLAN = p.byFn;
    KINDS = p.kinds;
    HITS = p.hits;
  }
}

/**
 * Run one callback. undefined when it returned and queued nothing; else
 * "<queued slots>|<status>": 'r' it returned, 's' KSR.x.exit()/drop() ended it, 'w' an async
 * callback (id ≠ 0) has not ended yet (its end comes through asyncEnded), or 'e' and
 * "<message length>|<message><stack>": the script's own error, or its thrown value made readable.
 */
function run(i, argument, answers, keys, id) {
  const f = fns[i];
  if (ACTIVE === 0) LATE_REPORTED = false;
  const outerPlan = PLAN, outerKinds = KINDS, outerAnswers = ANSWERS, outerHits = HITS, outerStopped = STOPPED, outerFresh = FRESH, outerLive = LIVE;
  const nested = ACTIVE !== 0;
  ACTIVE++;
  STOPPED = false;
  FRESH = true;
  PLAN = null;
  LIVE = id;
  // a nested run starts from a KSR call, which handed the queue over: it is empty here
  QUEUE = '';
  QUEUED = 0;
  usePlan(i, answers, keys);
  let status = 'r';
  let result;
  try {
    if (argument === null) result = f();
    else result = f(argument);
  } catch (e) {
    status = failed(e);
  } finally {
    ACTIVE--;
    if (nested) {
      PLAN = outerPlan;
      KINDS = outerKinds;
      ANSWERS = outerAnswers;
      HITS = outerHits;
      STOPPED = outerStopped;
      FRESH = outerFresh;
      LIVE = outerLive;
    } else {
      // the outermost run leaves LIVE set: its continuations run right after it returns, with
      // no plan (what resume installed for an earlier continuation is not theirs)
      PLAN = KINDS = ANSWERS = HITS = null;
      STOPPED = false;
      FRESH = true;
    }
  }
  if (id !== 0 && status === 'r') {
    apply(promiseThen, result, [() => { ended(id, 'r'); }, (e) => { ended(id, failed(e)); }]);
    return takeQueue() + '|w';
  }
  if (status === 'r' && QUEUED === 0) return undefined;
  return takeQueue() + '|' + status;
}

/** An async callback's promise settled: no KSR call of its code is allowed any more. */
function ended(id, status) {
  if (LIVE === id) {
    LIVE = 0;
    PLAN = KINDS = ANSWERS = HITS = null;
  }
  const out = takeQueue() + '|' + status;
  try {
    asyncEnded(id, out);
  } catch {}
}

/**
 * The KSR call async callback 'id' (callback index i) awaits returned 'value': it goes on (1), or
 * it awaits nothing (0). Its continuation runs when this call ends, with the plan of the
 * callback and the answers the host computed now (as run has them), until the next host call.
 */
function resume(id, value, i, answers, keys) {
  const settle = apply(mapGet, WAITS, [id]);
  if (settle === undefined) return 0;
  apply(mapDelete, WAITS, [id]);
  LIVE = id;
  QUEUE = '';
  QUEUED = 0;
  STOPPED = false;
  FRESH = true;
  PLAN = KINDS = ANSWERS = HITS = null;
  usePlan(i, answers, keys);
  settle(value);
  return 1;
}

/** Async callback 'id' will never go on (its message is gone): let go of what it awaits. */
function forget(id) {
  apply(mapDelete, WAITS, [id]);
}

/**
 * Hand the queue over after a run that did not return (CPU limit, termination) or after the top
 * level. 'done': no callback runs any more, so from now on a KSR call is late; and a run that was
 * terminated skipped its 'finally', so the state it would have restored is reset here.
 */
function take(done) {
  if (done) {
    ACTIVE = 0;
    PLAN = KINDS = ANSWERS = HITS = null;
    STOPPED = false;
    FRESH = true;
  }
  return takeQueue();
}

return { run, resolve, where: () => where(undefined), take, hits, resume, forget };
`;
