/**
 * The Lua engine on fengari: one lua_State per loaded script version. KSR is built as Lua
 * tables of host functions (lua_pushcfunction), callbacks are fetched by registry reference,
 * and every KSR call goes through host/kemi/invoke — the calling pattern that measured
 * fastest here (../shared/MEASUREMENTS.md).
 *
 * What a script can reach is lua-stdlib.ts (lua.stdlib: safe by default); the CPU and memory
 * limits and the stop of KSR.x.exit()/drop() are lua-limits.ts: once a callback is stopped,
 * every further KSR call of it raises the stop again and does nothing, and its result is
 * CALL_EXIT/CALL_DROP (or the limit's failure) whatever the script does.
 *
 * Every callback runs in a coroutine of its own (lua_resume), so a KSR call that waits in place
 * (host/waits.ts) yields it and the host resumes it with the call's result; a coroutine that
 * returned normally is kept for the next callback.
 */
import { lauxlib, lua, to_jsstring, to_luastring, type LuaDebug, type LuaState } from 'fengari';
import { describeError, isKemiError, KemiError } from '../../errors.js';
import { Context, SCRIPT_STOP } from '../../kemi/context.js';
import { invoke, luaTypeName } from '../../kemi/invoke.js';
import type { BoundFunction } from '../../kemi/registry.js';
import type { KemiType } from '../../kemi/types.js';
import { Wait } from '../../kemi/wait.js';
import type { WaitTicket } from '../../waits.js';
import {
  CALL_DROP,
  CALL_EXIT,
  CALL_OK,
  type CallResult,
  type EngineOptions,
  type ScriptEngine,
} from '../engine.js';
import { completed, failure, locationOf, newThread, popString, pushResult, rawGlobal, toJs } from './lua-stack.js';
import { Frame, HEAP_FULL, HOOK_COUNT, KSR_CALL_WORK, LuaLimits, WORK_CHECK } from './lua-limits.js';
import { openStdlib } from './lua-stdlib.js';
import { encodeLuaString } from './lua-strings.js';

const REG = lua.LUA_REGISTRYINDEX;
/** The message handler lives at this stack index for the whole life of the state. */
const MSGH = 1;
const MB = 1024 * 1024;
/** How far up the stack a limit's location looks for a line of the script. */
const LOCATE_LEVELS = 8;
/** The script's top level may take longer than one callback (it builds its tables). */
const LOAD_CPU_MS = 5000;

const NO_MESSAGE = new Context('event', null, { proto: 'udp', ip: '', port: 0, localIp: '', localPort: 0 });

export class LuaEngine implements ScriptEngine {
  readonly kind = 'lua' as const;
  private L: LuaState | null = null;
  /** the thread running the current KSR call (a coroutine's own state, not always this.L) */
  private callL: LuaState | null = null;
  private ctx: Context = NO_MESSAGE;
  /** the coroutine of the callback running now, and its name */
  private cbThread: LuaState | null = null;
  private route = '';
  /** callbacks running, nested (a KSR function may run another callback) */
  private depth = 0;
  /** a coroutine that returned normally, kept for the next callback */
  private spare: LuaState | null = null;
  /** set by a KSR call that yields for a Wait, taken when lua_resume returns */
  private waiting: { ticket: WaitTicket; returns: KemiType } | null = null;
  private readonly refs = new Map<string, number>();
  private stopRef = 0;
  private path = '';
  private readonly limits: LuaLimits;

  constructor(private readonly opts: EngineOptions) {
    this.limits = new LuaLimits(opts.memoryMb * MB, {
      locate: (L, level) => this.locate(L, level),
      raiseStop: (L) => this.raiseStop(L),
    });
  }

  /** ScriptEngine.compile: in a bare state of its own, so this engine stays as it was. */
  compile(source: string, path: string): void {
    LuaEngine.compile(source, path);
  }

  /**
   * Compile a script without running any of it (`kemihost check`). Throws KemiError
   * KEMI_ERR_SCRIPT_LOAD with file:line on a syntax error.
   */
  static compile(source: string, path: string): void {
    const L = lauxlib.luaL_newstate();
    try {
      if (lauxlib.luaL_loadbuffer(L, encodeLuaString(source), null, to_luastring(`@${path}`)) !== lua.LUA_OK) {
        const msg = popString(L);
        throw new KemiError('KEMI_ERR_SCRIPT_LOAD', msg, { location: locationOf(msg) });
      }
    } finally {
      lua.lua_close(L);
    }
  }

  load(source: string, path: string): void {
    if (this.L !== null) throw new KemiError('KEMI_ERR_ENGINE', 'a Lua engine instance loads one script');
    this.path = path;
    const L = lauxlib.luaL_newstate();
    this.L = L;
    lua.lua_createtable(L, 0, 0);
    this.stopRef = lauxlib.luaL_ref(L, REG);
    lua.lua_pushcfunction(L, this.messageHandler);
    openStdlib(L, this.opts.luaStdlib ?? 'safe', this.limits, (L1, text) => {
      this.opts.log.info({ at: this.locate(L1, 1) }, text);
    });
    // Always on: it enforces cpu_ms and memory_mb and keeps raising a stop.
    lua.lua_sethook(L, this.limits.hook, lua.LUA_MASKCOUNT, HOOK_COUNT);
    this.buildKsr(L);
    this.runChunk(L, source, `@${path}`);
  }

  has(name: string): boolean {
    const L = this.L;
    if (L === null) return false;
    const t = rawGlobal(L, name);
    lua.lua_pop(L, 1);
    return t === lua.LUA_TFUNCTION;
  }

  call(name: string, ctx: Context, arg?: string): CallResult {
    const L = this.L;
    if (L === null) return failure('KEMI_ERR_SCRIPT_RUNTIME', 'no script loaded', undefined);
    const ref = this.refs.get(name) ?? this.lookup(L, name);
    if (ref < 0) return failure('KEMI_ERR_SCRIPT_RUNTIME', `function '${name}' is not defined by ${this.path}`, undefined);

    // Every callback runs in a coroutine of its own, so a KSR call can wait in place (it yields).
    const co = this.spare ?? newThread(L);
    this.spare = null;
    ctx.stop = null;
    lua.lua_rawgeti(co, REG, ref);
    let nargs = 0;
    if (arg !== undefined) {
      lua.lua_pushstring(co, encodeLuaString(arg));
      nargs = 1;
    }
    return this.runSegment(co, ctx, name, nargs, 0, this.opts.cpuMs);
  }

  /**
   * Run a callback's coroutine until it returns, fails or waits. Save and restore what is
   * running: a KSR function may run another callback before returning. `spent`: the CPU time
   * the callback used before it waited (cpu_ms counts its running, not its waiting).
   */
  private runSegment(co: LuaState, ctx: Context, route: string, nargs: number, spent: number, cpuMs: number): CallResult {
    const L = this.L as LuaState;
    const outerCtx = this.ctx;
    const outerL = this.callL;
    const outerThread = this.cbThread;
    const outerRoute = this.route;
    this.ctx = ctx;
    this.callL = co;
    this.cbThread = co;
    this.route = route;
    this.depth++;
    const frame = this.limits.enter(cpuMs > 0 ? Math.max(0.001, cpuMs - spent) : 0);
    let result: CallResult;
    try {
      const status = lua.lua_resume(co, L, nargs);
      result = this.segmentResult(co, status, frame, ctx, route, spent);
    } finally {
      this.limits.leave();
      this.depth--;
      this.ctx = outerCtx;
      this.callL = outerL;
      this.cbThread = outerThread;
      this.route = outerRoute;
    }
    return result;
  }

  private segmentResult(co: LuaState, status: number, frame: Frame, ctx: Context, route: string, spent: number): CallResult {
    if (status === lua.LUA_YIELD) {
      const wait = this.waiting;
      this.waiting = null;
      if (wait === null) {
        // coroutine.yield() at the callback's own level: nothing can resume it
        return failure('KEMI_ERR_SCRIPT_RUNTIME', 'coroutine.yield() called outside a coroutine of the script', this.locate(co, 0));
      }
      wait.ticket.suspended(new LuaSuspension(this, co, ctx, route, wait.returns, spent + this.limits.used()));
      return CALL_OK;
    }
    if (frame.stop !== null) {
      const r = this.stopResult(co, frame);
      if (status === lua.LUA_OK) this.spare = co;
      return r;
    }
    if (status === lua.LUA_OK) {
      lua.lua_settop(co, 0);
      this.spare = co;
      return completed(ctx);
    }
    return this.threadError(co);
  }

  /** Suspension.resume of a waiting callback: the call returns `value` and the coroutine goes on. */
  continueThread(co: LuaState, ctx: Context, route: string, returns: KemiType, value: unknown, spent: number): CallResult {
    if (this.L === null) return failure('KEMI_ERR_SCRIPT_RUNTIME', 'the script version was disposed while the callback waited', undefined);
    const n = pushResult(co, returns, value);
    return this.runSegment(co, ctx, route, n, spent, this.opts.cpuMs);
  }

  /** A KSR call returned a Wait: yield the callback's coroutine, or say why it cannot and return the failure value. */
  private waitHere(L: LuaState, fn: BoundFunction, w: Wait): number {
    const host = this.opts.waits;
    let reason: string;
    if (host === undefined) {
      reason = 'waiting in place is not available here';
    } else if (L !== this.cbThread) {
      reason = 'only a callback itself can wait, not a coroutine of the script or its top level';
    } else if (this.depth !== 1) {
      reason = 'a callback run by another KSR call cannot wait';
    } else if (!lua.lua_isyieldable(L)) {
      reason = 'it is called from a metamethod or a library callback (table.sort, string.gsub) that cannot yield';
    } else {
      const ticket = host.begin(this.ctx, this.route, w);
      if (typeof ticket !== 'string') {
        this.waiting = { ticket, returns: fn.returns };
        return lua.lua_yield(L, 0);
      }
      reason = ticket;
    }
    host?.refuse(w, reason, this.location());
    return pushResult(L, fn.returns, w.failure);
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
    this.spare = null;
    this.refs.clear();
  }

  private lookup(L: LuaState, name: string): number {
    let ref = -1;
    if (rawGlobal(L, name) === lua.LUA_TFUNCTION) {
      ref = lauxlib.luaL_ref(L, REG);
    } else {
      lua.lua_pop(L, 1);
    }
    // Only found functions are cached, so a callback defined later at run time is still found.
    if (ref >= 0) this.refs.set(name, ref);
    return ref;
  }

  private runChunk(L: LuaState, source: string, chunkName: string): void {
    const status = lauxlib.luaL_loadbuffer(L, encodeLuaString(source), null, to_luastring(chunkName));
    if (status !== lua.LUA_OK) {
      const msg = popString(L);
      throw new KemiError('KEMI_ERR_SCRIPT_LOAD', msg, { location: locationOf(msg) });
    }
    const outerCtx = this.ctx;
    this.ctx = NO_MESSAGE;
    this.callL = L;
    const frame = this.limits.enter(Math.max(this.opts.cpuMs, LOAD_CPU_MS));
    const run = lua.lua_pcall(L, 0, 0, MSGH);
    const result = frame.stop !== null ? this.stopResult(L, frame) : run === lua.LUA_OK ? CALL_OK : this.takeError(L);
    this.limits.leave();
    this.ctx = outerCtx;
    this.callL = null;
    if (result !== CALL_OK) {
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
      // a stopped callback's KSR calls do nothing: they only raise the stop again
      const frame = this.limits.frame;
      if (frame.stop !== null) return this.raiseStop(L);
      if ((frame.work += KSR_CALL_WORK) >= WORK_CHECK) this.limits.work(L, 0);
      const n = lua.lua_gettop(L);
      const args: unknown[] = [];
      for (let i = 1; i <= n; i++) args.push(toJs(L, i));
      let result: unknown;
      try {
        result = invoke(fn, this.ctx, args, luaTypeName);
      } catch (e) {
        return this.raise(L, e, fn);
      }
      if (result instanceof Wait) return this.waitHere(L, fn, result);
      return pushResult(L, returns, result);
    };
  }

  /** Turn a JS exception from a KSR function into a Lua error at the calling script line. */
  private raise(L: LuaState, e: unknown, fn: BoundFunction): never {
    if (e === SCRIPT_STOP) {
      this.limits.markStop(this.ctx.stop === 'drop' ? 'drop' : 'exit');
      return this.raiseStop(L);
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

  /** The stop is a flag on the frame (lua-limits.ts); the sentinel is only what unwinds. */
  private raiseStop(L: LuaState): never {
    lua.lua_rawgeti(L, REG, this.stopRef);
    return lua.lua_error(L);
  }

  /** file:line of the nearest script line at or above `level` of L's stack. */
  private locate(L: LuaState, level: number): string | undefined {
    const ar = {} as LuaDebug;
    for (let i = level; i < level + LOCATE_LEVELS && lua.lua_getstack(L, i, ar) !== 0; i++) {
      lua.lua_getinfo(L, to_luastring('Sl'), ar);
      if (ar.currentline > 0) return `${ar.short_src === null ? this.path : to_jsstring(ar.short_src)}:${String(ar.currentline)}`;
    }
    return undefined;
  }

  /** Runs where the error happened: adds the traceback, passes a stop through. */
  private readonly messageHandler = (L: LuaState): number => {
    if (this.limits.stopped) return 1;
    const t = lua.lua_type(L, 1);
    const msg = t === lua.LUA_TSTRING || t === lua.LUA_TNUMBER ? lua.lua_tostring(L, 1) : lauxlib.luaL_tolstring(L, 1);
    lauxlib.luaL_traceback(L, L, msg, 1);
    return 1;
  };

  /** A stopped callback's result, whatever its status: the script cannot have swallowed the stop. */
  private stopResult(L: LuaState, f: Frame): CallResult {
    lua.lua_settop(L, L === this.L ? MSGH : 0);
    switch (f.stop) {
      case 'drop':
        return CALL_DROP;
      case 'cpu':
        return failure('KEMI_ERR_CPU_LIMIT', `script exceeded the CPU limit of ${String(this.opts.cpuMs)} ms`, f.location);
      case 'memory': {
        if (f.detail === HEAP_FULL) return failure('KEMI_ERR_MEMORY_LIMIT', `script stopped: ${HEAP_FULL}`, f.location);
        const detail = f.detail === '' ? '' : ` (${f.detail})`;
        return failure('KEMI_ERR_MEMORY_LIMIT', `script exceeded the memory limit of ${String(this.opts.memoryMb)} MB${detail}`, f.location);
      }
      default:
        return CALL_EXIT;
    }
  }

  /**
   * A callback's coroutine that failed: its stack is kept where the error happened, so the
   * traceback is read from there (lua_resume has no message handler). The coroutine is dead.
   */
  private threadError(co: LuaState): CallResult {
    const L = this.L as LuaState;
    const t = lua.lua_type(co, -1);
    const msg = t === lua.LUA_TSTRING || t === lua.LUA_TNUMBER ? lua.lua_tostring(co, -1) : lauxlib.luaL_tolstring(co, -1);
    lauxlib.luaL_traceback(L, co, msg, 0);
    return this.takeError(L);
  }

  private takeError(L: LuaState): CallResult {
    const text = popString(L);
    lua.lua_settop(L, MSGH);
    const [message = text, ...rest] = text.split('\n');
    return failure('KEMI_ERR_SCRIPT_RUNTIME', message, locationOf(message), rest.join('\n'));
  }
}

/**
 * A callback waiting in place (host/waits.ts): its coroutine and what it needs to go on. A class,
 * not closures: 50,000 may wait at once, and every byte of each counts.
 */
class LuaSuspension {
  constructor(
    private readonly engine: LuaEngine,
    private readonly co: LuaState,
    private readonly ctx: Context,
    private readonly route: string,
    private readonly returns: KemiType,
    /** CPU time the callback used before it waited */
    private readonly spent: number,
  ) {}

  resume(value: unknown): CallResult {
    return this.engine.continueThread(this.co, this.ctx, this.route, this.returns, value, this.spent);
  }

  /** Nothing to free: the coroutine is referenced only from here. */
  abandon(): void {}
}
