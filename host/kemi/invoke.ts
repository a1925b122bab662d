/**
 * One argument check and conversion for every KSR call from either engine (Kamailio's
 * sr_kemi_lua_exec_func_ex). Engines convert their values to JS first (nil/undefined → null)
 * and name them in their own language for the message:
 *   bad argument #2 to 'KSR.xhttp.xhttp_reply' (str expected, got nil)
 */
import { KemiError } from '../errors.js';
import type { Context } from './context.js';
import type { BoundFunction } from './registry.js';
import type { KemiType } from './types.js';
import { SipParseError } from '../sip/message.js';

/** How an engine names a value's type in its own language ('nil' in Lua, 'null' in JS). */
export type TypeNamer = (value: unknown) => string;

/** A script value with no JS equivalent (a Lua table, a function…), kept only to be named. */
export class ForeignValue {
  constructor(readonly typeName: string) {}
}

export const luaTypeName: TypeNamer = (v) => {
  if (v === null || v === undefined) return 'nil';
  if (v instanceof ForeignValue) return v.typeName;
  return typeof v;
};

export const jsTypeName: TypeNamer = (v) => {
  if (v === null) return 'null';
  if (v instanceof ForeignValue) return v.typeName;
  if (Array.isArray(v)) return 'array';
  return typeof v;
};

function badArgument(fn: BoundFunction, i: number, expected: KemiType, got: string): KemiError {
  return new KemiError(
    'KEMI_ERR_BAD_ARGUMENT',
    `bad argument #${String(i + 1)} to '${fn.fullName}' (${expected} expected, got ${got})`,
  );
}

/** Convert one argument to the declared type, or undefined when it cannot be. */
function convert(type: KemiType, v: unknown): unknown {
  switch (type) {
    case 'str':
      if (typeof v === 'string') return v;
      // Kamailio's Lua binding accepts a number where a string is expected (lua_isstring).
      if (typeof v === 'number' && Number.isFinite(v)) return String(v);
      return undefined;
    case 'int':
    case 'long':
      if (typeof v === 'number') return Number.isFinite(v) ? Math.trunc(v) : undefined;
      if (typeof v === 'string' && /^\s*[-+]?\d+\s*$/.test(v)) return parseInt(v, 10);
      return undefined;
    case 'bool':
      if (typeof v === 'boolean') return v;
      if (typeof v === 'number') return v !== 0;
      return undefined;
    case 'xval':
      if (v === null || v === undefined) return null;
      if (typeof v === 'string') return v;
      if (typeof v === 'number' && Number.isFinite(v)) return v;
      return undefined;
    case 'none':
      return undefined;
  }
}

/**
 * Check and convert `args` in place, then call the function. Throws KemiError
 * (KEMI_ERR_BAD_ARGUMENT) which the engine raises as a script error; the ScriptStop sentinel
 * from KSR.x.exit passes through untouched.
 */
export function invoke(fn: BoundFunction, ctx: Context, args: unknown[], typeName: TypeNamer): unknown {
  const params = fn.params;
  if (args.length > params.length) {
    throw new KemiError(
      'KEMI_ERR_BAD_ARGUMENT',
      `too many arguments to '${fn.fullName}' (${String(params.length)} expected, got ${String(args.length)})`,
    );
  }
  for (let i = 0; i < params.length; i++) {
    const type = params[i] as KemiType;
    if (i >= args.length) {
      if (type === 'xval') {
        args.push(null);
        continue;
      }
      throw badArgument(fn, i, type, 'no value');
    }
    const v = args[i];
    const c = convert(type, v);
    if (c === undefined) throw badArgument(fn, i, type, typeName(v));
    args[i] = c;
  }
  try {
    return fn.impl(ctx, args);
  } catch (e) {
    // a part of the message read only now is malformed (a Via below the top one, say): the
    // call fails as Kamailio's do on a message they cannot parse, it does not end the script
    if (e instanceof SipParseError) return failureValue(fn.returns);
    throw e;
  }
}

/** What a function returns when the message it reads is malformed (Kamailio's -1 / false / $null). */
function failureValue(type: KemiType): unknown {
  switch (type) {
    case 'int':
    case 'long':
      return -1;
    case 'bool':
      return false;
    case 'str':
    case 'xval':
      return null;
    case 'none':
      return undefined;
  }
}
