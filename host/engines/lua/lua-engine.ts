/**
 * The Lua engine on fengari: one lua_State per loaded script version. KSR is built as Lua
 * tables of host functions (lua_pushcfunction), callbacks are fetched by registry reference,
 * and every KSR call goes through host/kemi/invoke — the calling pattern that measured
 * fastest here (../shared/MEASUREMENTS.md).
 */
import { lauxlib, lua, lualib, to_jsstring, to_luastring, type LuaDebug, type LuaState } from 'fengari';
import { describeError, isKemiError, KemiError } from '../../errors.js';
import { Context, SCRIPT_STOP } from '../../kemi/context.js';
import { ForeignValue, invoke, luaTypeName } from '../../kemi/invoke.js';
import type { BoundFunction } from '../../kemi/registry.js';
import type { KemiType } from '../../kemi/types.js';
import {
  CALL_DROP,
  CALL_EXIT,
  CALL_OK,
  type CallResult,
  type EngineOptions,
  type ScriptEngine,
  type ScriptFailure,
} from '../engine.js';
import { decodeLuaString, encodeLuaString, pushJsString } from './lua-strings.js';
import { LUA_PRELUDE } from './prelude.js';

const REG = lua.LUA_REGISTRYINDEX;
/** The message handler lives at this stack index for the whole life of the state. */
const MSGH = 1;
/** Instructions between two checks of the CPU deadline. */
const HOOK_COUNT = 1000;
/** The script's top level may take longer than one callback (it builds tables, reads files). */
const LOAD_CPU_MS = 5000;

const NO_MESSAGE = new Context('event', null, { proto: 'udp', ip: '', port: 0, localIp: '', localPort: 0 });

export class LuaEngine implements ScriptEngine {
  readonly kind = 'lua' as const;
  private L: LuaState | null = null;
  /** the thread running the current KSR call (a coroutine's own state, not always this.L) */
  private callL: LuaState | null = null;
  private ctx: Context = NO_MESSAGE;
  private readonly refs = new Map<string, number>();
  private stopRef = 0;
  private deadline = Infinity;
  private cpuHit = false;
  private path = '';

  constructor(private readonly opts: EngineOptions) {}

  load(source: string, path: string): void {
    if (this.L !== null) throw new KemiError('KEMI_ERR_ENGINE', 'a Lua engine instance loads one script');
    this.path = path;
    const L = lauxlib.luaL_newstate();
    this.L = L;
    lualib.luaL_openlibs(L);
    lua.lua_createtable(L, 0, 0);
    this.stopRef = lauxlib.luaL_ref(L, REG);
    lua.lua_pushcfunction(L, this.messageHandler);
    if (this.opts.cpuMs > 0) lua.lua_sethook(L, this.cpuHook, lua.LUA_MASKCOUNT, HOOK_COUNT);

    this.runChunk(L, LUA_PRELUDE, '=kemihost-prelude', true);
    this.buildKsr(L);
    this.runChunk(L, source, `@${path}`, false);
  }

  has(name: string): boolean {
    const L = this.L;
    if (L === null) return false;
    const t = lua.lua_getglobal(L, to_luastring(name));
    lua.lua_pop(L, 1);
    return t === lua.LUA_TFUNCTION;
  }

  call(name: string, ctx: Context, arg?: string): CallResult {
    const L = this.L;
    if (L === null) return failure('KEMI_ERR_SCRIPT_RUNTIME', 'no script loaded', undefined);
    const ref = this.refs.get(name) ?? this.lookup(L, name);
    if (ref < 0) return failure('KEMI_ERR_SCRIPT_RUNTIME', `function '${name}' is not defined by ${this.path}`, undefined);

    // Save and restore: a KSR function may run another callback before returning.
    const outerCtx = this.ctx;
    const outerDeadline = this.deadline;
    const outerL = this.callL;
    this.ctx = ctx;
    this.callL = L;
    this.cpuHit = false;
    ctx.stop = null;
    if (this.opts.cpuMs > 0) this.deadline = performance.now() + this.opts.cpuMs;
    lua.lua_rawgeti(L, REG, ref);
    let nargs = 0;
    if (arg !== undefined) {
      lua.lua_pushstring(L, encodeLuaString(arg));
      nargs = 1;
    }
    const status = lua.lua_pcall(L, nargs, 0, MSGH);
    this.ctx = outerCtx;
    this.deadline = outerDeadline;
    this.callL = outerL;
    return status === lua.LUA_OK ? completed(ctx) : this.takeError(L, ctx);
  }

  location(): string | undefined {
    const L = this.callL;
    if (L === null) return undefined;
    const ar = {} as LuaDebug;
    // level 0 is the host function being called; level 1 the script line that called it
    if (lua.lua_getstack(L, 1, ar) === 0) return undefined;
    lua.lua_getinfo(L, to_luastring('Sl'), ar);
    const src = ar.short_src === null ? this.path : to_jsstring(ar.short_src);
    return `${src}:${String(ar.currentline)}`;
  }

  dispose(): void {
    if (this.L !== null) lua.lua_close(this.L);
    this.L = null;
    this.refs.clear();
  }

  private lookup(L: LuaState, name: string): number {
    let ref = -1;
    if (lua.lua_getglobal(L, to_luastring(name)) === lua.LUA_TFUNCTION) {
      ref = lauxlib.luaL_ref(L, REG);
    } else {
      lua.lua_pop(L, 1);
    }
    // Only found functions are cached, so a callback defined later at run time is still found.
    if (ref >= 0) this.refs.set(name, ref);
    return ref;
  }

  private runChunk(L: LuaState, source: string, chunkName: string, passStop: boolean): void {
    const status = lauxlib.luaL_loadbuffer(L, encodeLuaString(source), null, to_luastring(chunkName));
    if (status !== lua.LUA_OK) {
      const msg = this.popString(L);
      throw new KemiError('KEMI_ERR_SCRIPT_LOAD', msg, { location: locationOf(msg) });
    }
    let nargs = 0;
    if (passStop) {
      lua.lua_rawgeti(L, REG, this.stopRef);
      nargs = 1;
    }
    const outerCtx = this.ctx;
    this.ctx = NO_MESSAGE;
    this.callL = L;
    this.cpuHit = false;
    this.deadline = performance.now() + Math.max(this.opts.cpuMs, LOAD_CPU_MS);
    const run = lua.lua_pcall(L, nargs, 0, MSGH);
    this.ctx = outerCtx;
    this.callL = null;
    this.deadline = Infinity;
    if (run !== lua.LUA_OK) {
      const result = this.takeError(L, NO_MESSAGE);
      const msg = result.ok ? 'KSR.x.exit() called while loading the script' : result.failure.message;
      const location = result.ok ? undefined : result.failure.location;
      throw new KemiError('KEMI_ERR_SCRIPT_LOAD', msg, { location });
    }
  }

  /** Build the global KSR: one Lua table per module, one host function per KSR function. */
  private buildKsr(L: LuaState): void {
    lua.lua_createtable(L, 0, 64);
    const ksr = lua.lua_gettop(L);
    for (const mod of this.opts.registry.modules) {
      if (mod.name !== '') lua.lua_createtable(L, 0, mod.functions.length);
      const table = lua.lua_gettop(L);
      for (const fn of mod.functions) {
        lua.lua_pushcfunction(L, this.hostFunction(fn));
        lua.lua_setfield(L, table, to_luastring(fn.name));
      }
      if (mod.name !== '') lua.lua_setfield(L, ksr, to_luastring(mod.name));
    }
    lua.lua_setglobal(L, to_luastring('KSR'));
  }

  private hostFunction(fn: BoundFunction): (L: LuaState) => number {
    const returns = fn.returns;
    return (L) => {
      this.callL = L;
      const n = lua.lua_gettop(L);
      const args: unknown[] = [];
      for (let i = 1; i <= n; i++) args.push(toJs(L, i));
      let result: unknown;
      try {
        result = invoke(fn, this.ctx, args, luaTypeName);
      } catch (e) {
        return this.raise(L, e, fn);
      }
      return pushResult(L, returns, result);
    };
  }

  /** Turn a JS exception from a KSR function into a Lua error at the calling script line. */
  private raise(L: LuaState, e: unknown, fn: BoundFunction): never {
    if (e === SCRIPT_STOP) {
      lua.lua_rawgeti(L, REG, this.stopRef);
      return lua.lua_error(L);
    }
    let msg: string;
    if (isKemiError(e)) {
      msg = e.message;
    } else {
      this.opts.log.error({ err: e, function: fn.fullName }, 'internal error in a KSR function');
      msg = `internal error in '${fn.fullName}': ${describeError(e)}`;
    }
    const where = this.location();
    lua.lua_pushstring(L, encodeLuaString(where === undefined ? msg : `${where}: ${msg}`));
    return lua.lua_error(L);
  }

  private readonly cpuHook = (L: LuaState): void => {
    if (performance.now() <= this.deadline) return;
    this.cpuHit = true;
    this.deadline = -Infinity; // keep failing if the script somehow gets control back
    lua.lua_rawgeti(L, REG, this.stopRef);
    lua.lua_error(L);
  };

  /** Runs where the error happened: adds the traceback, passes the stop sentinel through. */
  private readonly messageHandler = (L: LuaState): number => {
    lua.lua_rawgeti(L, REG, this.stopRef);
    const isStop = lua.lua_rawequal(L, 1, -1);
    lua.lua_pop(L, 1);
    if (isStop) return 1;
    const t = lua.lua_type(L, 1);
    const msg = t === lua.LUA_TSTRING || t === lua.LUA_TNUMBER ? lua.lua_tostring(L, 1) : lauxlib.luaL_tolstring(L, 1);
    lauxlib.luaL_traceback(L, L, msg, 1);
    return 1;
  };

  private takeError(L: LuaState, ctx: Context): CallResult {
    lua.lua_rawgeti(L, REG, this.stopRef);
    const isStop = lua.lua_rawequal(L, -1, -2);
    lua.lua_pop(L, 1);
    if (isStop) {
      lua.lua_settop(L, MSGH);
      if (this.cpuHit) {
        const ms = String(this.opts.cpuMs);
        return failure('KEMI_ERR_CPU_LIMIT', `script exceeded the CPU limit of ${ms} ms`, undefined);
      }
      return ctx.stop === 'drop' ? CALL_DROP : CALL_EXIT;
    }
    const text = this.popString(L);
    lua.lua_settop(L, MSGH);
    const [message = text, ...rest] = text.split('\n');
    return failure('KEMI_ERR_SCRIPT_RUNTIME', message, locationOf(message), rest.join('\n'));
  }

  private popString(L: LuaState): string {
    const s = lua.lua_tostring(L, -1);
    lua.lua_pop(L, 1);
    return s === null ? 'unknown error (not a string)' : to_jsstring(s);
  }
}

/** A callback that returned: KSR.x.exit/drop may have been called and swallowed by the script. */
function completed(ctx: Context): CallResult {
  return ctx.stop === null ? CALL_OK : ctx.stop === 'exit' ? CALL_EXIT : CALL_DROP;
}

function toJs(L: LuaState, i: number): unknown {
  const t = lua.lua_type(L, i);
  if (t === lua.LUA_TSTRING) {
    const s = lua.lua_tostring(L, i);
    return s === null ? null : decodeLuaString(s);
  }
  if (t === lua.LUA_TNUMBER) return lua.lua_tonumber(L, i);
  if (t === lua.LUA_TNIL) return null;
  if (t === lua.LUA_TBOOLEAN) return lua.lua_toboolean(L, i);
  return new ForeignValue(to_jsstring(lua.lua_typename(L, t)));
}

function pushNumber(L: LuaState, n: number): void {
  if ((n | 0) === n) lua.lua_pushinteger(L, n);
  else lua.lua_pushnumber(L, n);
}

function pushResult(L: LuaState, returns: KemiType, r: unknown): number {
  switch (returns) {
    case 'none':
      return 0;
    case 'bool':
      lua.lua_pushboolean(L, r === true);
      return 1;
    case 'int':
    case 'long':
      pushNumber(L, typeof r === 'number' ? r : -1);
      return 1;
    case 'str':
    case 'xval':
      if (typeof r === 'string') pushJsString(L, r);
      else if (typeof r === 'number') pushNumber(L, r);
      else lua.lua_pushnil(L);
      return 1;
  }
}

/** "scripts/x.lua:12: attempt to…" → "scripts/x.lua:12" */
function locationOf(message: string): string | undefined {
  const m = /^(.*?:\d+):/.exec(message);
  return m?.[1];
}

function failure(code: ScriptFailure['code'], message: string, location: string | undefined, stack?: string): CallResult {
  return { ok: false, failure: { code, message, location, stack } };
}
