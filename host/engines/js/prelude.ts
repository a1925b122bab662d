/**
 * JavaScript run inside every isolate before the user's script (as a closure, so nothing of it
 * is global except what it installs on purpose: `KSR` and `console`). It captures the
 * intrinsics it needs first, so a script that later replaces `JSON`, `Error` or
 * `Array.prototype` methods can confuse only its own error text, never the bridge.
 *
 * Closure arguments: $0 the host console sink (level, text, location), $1 the KSR table
 * ([module, name, pure] per function), $2 the script path, $3 the one sync ivm.Callback behind
 * every KSR function: (table index, ...arguments). Returns { run, resolve, where } for the host.
 *
 * Host → isolate protocol of a KSR function's callback (it never lets a host exception cross):
 * - returns the converted result;
 * - throws a string: the error message (bad argument, internal error) — raised here as an
 *   Error whose stack starts at the script line that made the KSR call;
 * - throws a number: KSR.x.exit() (1) / KSR.x.drop() (2) stopped the callback.
 *
 * Arguments that are not primitives are replaced by `{ t: typeName }` before they cross, so a
 * function or symbol (which isolated-vm cannot copy) gets invoke's ordinary "bad argument"
 * message and a large object is never deep-copied just to be refused.
 */
export const PRELUDE_FILE = 'kemihost:prelude';

export const PRELUDE_SOURCE = String.raw`'use strict';
const hostLog = $0, table = $1, PATH = $2, host = $3;
const G = globalThis;
const ErrorCtor = Error;
const captureStackTrace = ErrorCtor.captureStackTrace;
const ErrorProto = ErrorCtor.prototype;
const { apply, defineProperty, deleteProperty, getOwnPropertyDescriptor } = Reflect;
const freeze = Object.freeze;
const isArray = Array.isArray;
const stringify = JSON.stringify;
const parseJson = JSON.parse;
const StringCtor = String;
const isPrototypeOf = Object.prototype.isPrototypeOf;
const objectToString = Object.prototype.toString;
const strSlice = String.prototype.slice;

// Only the language and KSR: WebAssembly is not the language; with no other thread,
// Atomics.wait could only block the server.
deleteProperty(G, 'WebAssembly');
deleteProperty(G, 'console');
deleteProperty(Atomics, 'wait');
deleteProperty(Atomics, 'waitAsync');

function cut(s, n) {
  return s.length > n ? apply(strSlice, s, [0, n]) + '…' : s;
}

function isError(v) {
  return v !== null && typeof v === 'object' && apply(isPrototypeOf, ErrorProto, [v]);
}

/** A readable text for any value: console arguments and thrown non-Error values. */
function show(v) {
  try {
    switch (typeof v) {
      case 'string':
        return v;
      case 'function':
        return '[function ' + StringCtor(v.name) + ']';
      case 'object':
        if (v === null) return 'null';
        if (isError(v)) return StringCtor(v.name) + ': ' + StringCtor(v.message);
        try {
          const s = stringify(v);
          if (typeof s === 'string') return s;
        } catch {}
        return apply(objectToString, v, []);
      default:
        return StringCtor(v);
    }
  } catch {
    return '[unprintable value]';
  }
}

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
const STOPS = [undefined, stopError('KSR.x.exit() ended the callback'), stopError('KSR.x.drop() ended the callback')];

// Answers the host computed before this callback for pure KSR calls (see js-engine.ts,
// "prefetch"): key → value. Not used once a stop was seen, so every later KSR call crosses
// and is refused by the host as before.
let PRE = null, STOPPED = false;

/** The prefetch key of a pure call: function index and typed primitive arguments; null if not cacheable. */
function preKey(i, args) {
  let key = i + '|';
  for (let k = 0; k < args.length; k++) {
    const a = args[k], t = typeof a;
    if (a !== null && t !== 'string' && t !== 'number' && t !== 'boolean') return null;
    key += t[0] + a + '\u0001';
  }
  return key;
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

function wrap(name, i, pure) {
  const w = {
    [name]() {
      if (pure && PRE !== null && !STOPPED) {
        const key = preKey(i, arguments);
        if (key !== null && PRE.has(key)) return PRE.get(key);
      }
      try {
        switch (arguments.length) {
          case 0: return host(i);
          case 1: return host(i, arg(arguments[0]));
          case 2: return host(i, arg(arguments[0]), arg(arguments[1]));
          case 3: return host(i, arg(arguments[0]), arg(arguments[1]), arg(arguments[2]));
          default: {
            const a = [i];
            for (let k = 0; k < arguments.length; k++) a[k + 1] = arg(arguments[k]);
            return apply(host, undefined, a);
          }
        }
      } catch (e) {
        throw fromHost(e, w);
      }
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
  target[name] = wrap(name, i, table[i][2] === 1);
}

function prepare(_e, sites) {
  for (let k = 0; k < sites.length; k++) {
    const s = sites[k];
    if (s.getFileName() === PATH) return PATH + ':' + StringCtor(s.getLineNumber());
  }
  return undefined;
}

/** "path:line" of the innermost script frame below 'skip' (the user's line, not ours). */
function where(skip) {
  const savedPrepare = ErrorCtor.prepareStackTrace, savedLimit = ErrorCtor.stackTraceLimit;
  try {
    ErrorCtor.prepareStackTrace = prepare;
    ErrorCtor.stackTraceLimit = 32;
    const holder = {};
    captureStackTrace(holder, skip);
    const at = holder.stack;
    return typeof at === 'string' ? at : undefined;
  } catch {
    return undefined;
  } finally {
    try {
      ErrorCtor.prepareStackTrace = savedPrepare;
      ErrorCtor.stackTraceLimit = savedLimit;
    } catch {}
  }
}

/** V8 renders a stack on first read: read it with V8's own format, not the script's. */
function standardStack(e) {
  let saved, swapped = false;
  try {
    saved = ErrorCtor.prepareStackTrace;
    ErrorCtor.prepareStackTrace = undefined;
    swapped = true;
  } catch {}
  try {
    return e.stack;
  } finally {
    if (swapped) {
      try {
        ErrorCtor.prepareStackTrace = saved;
      } catch {}
    }
  }
}

function logger(level) {
  const f = function () {
    let text = '';
    for (let k = 0; k < arguments.length; k++) text += (k === 0 ? '' : ' ') + show(arguments[k]);
    hostLog(level, cut(text, 16384), where(f));
  };
  return f;
}
const hidden = { writable: true, enumerable: false, configurable: true };
defineProperty(G, 'KSR', { ...hidden, value: KSR });
defineProperty(G, 'console', {
  ...hidden,
  value: { log: logger('info'), info: logger('info'), warn: logger('warn'), error: logger('error'), debug: logger('debug') },
});

const fns = [];

/** Index of a global function the host may call, or -1. Reads the property: runs no script code. */
function resolve(name) {
  const d = getOwnPropertyDescriptor(G, name);
  if (d === undefined || typeof d.value !== 'function') return -1;
  fns[fns.length] = d.value;
  return fns.length - 1;
}

/**
 * Run one callback. undefined when it returned, '' when KSR.x.exit()/drop() ended it, else
 * "<message length>|<message><stack>": the script's own error, or its thrown value made readable.
 */
function run(i, argument, pre) {
  const f = fns[i];
  const outerPre = PRE, outerStopped = STOPPED;
  STOPPED = false;
  PRE = null;
  if (pre !== undefined) {
    // JSON text: a string crosses as a primitive, cheaper than a copied array
    const a = parseJson(pre);
    PRE = new Map();
    for (let k = 0; k + 1 < a.length; k += 2) PRE.set(a[k], a[k + 1]);
  }
  try {
    if (argument === undefined) f();
    else f(argument);
    return undefined;
  } catch (e) {
    // The stop ending the callback is no error: the host knows which way it stopped.
    if (e === STOPS[1] || e === STOPS[2]) return '';
    let message, stack = '';
    try {
      if (isError(e)) {
        const name = e.name, msg = e.message, s = standardStack(e);
        message = StringCtor(name) + (msg === '' || msg === undefined ? '' : ': ' + StringCtor(msg));
        if (typeof s === 'string') stack = cut(s, 8192);
      } else {
        message = 'uncaught exception: ' + show(e);
      }
    } catch {
      message = 'uncaught exception (describing it failed)';
    }
    message = cut(message, 2048);
    return message.length + '|' + message + stack;
  } finally {
    PRE = outerPre;
    STOPPED = outerStopped;
  }
}

return { run, resolve, where: () => where(undefined) };
`;
