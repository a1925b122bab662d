/**
 * The prelude's functions that turn values, errors and stacks into text (prelude.ts inserts
 * this source into its closure; they use the intrinsics it captured first: apply, strSlice,
 * StringCtor, ErrorCtor…): what console.* prints, where the script is (path:line), and what
 * `run` reports for a callback that threw.
 */
export const PRELUDE_TEXT = String.raw`
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
/** run's status for what a callback threw: 's' for the stop that ended it, else 'e' and the error. */
function failed(e) {
  // The stop ending the callback is no error: the host knows which way it stopped.
  if (e === STOPS[1] || e === STOPS[2] || e === STOPS[3]) return 's';
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
  return 'e' + message.length + '|' + message + stack;
}
`;
