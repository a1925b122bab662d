/**
 * KSR.async (Kamailio's async module): hold a request and continue it later in a named route
 * with the same Context. It only talks to the message's owner (host/kemi/owner.ts), so the same
 * call holds a SIP request — its transaction is created if needed and suspended — or an HTTP
 * request taken by xhttp. A message that is gone by then (CANCEL, timeout, closed connection)
 * is logged and counted by Hold.resume; nothing runs and nothing is sent.
 *
 * async.sleep / ms_sleep continue the script *after the call*, as Kamailio's native
 * async_sleep does (Kamailio does not export them to KEMI): they wait in place
 * (host/kemi/wait.ts), in a Lua callback or an async JS callback.
 */
import { z } from 'zod';
import { Context } from '../host/kemi/context.js';
import { holdMessage, type GoneReport } from '../host/kemi/owner.js';
import type { Counter } from '../host/kemi/stats.js';
import { defineModule, fn, type ModuleHost, type ScriptHandle, type Xval } from '../host/kemi/types.js';
import { Wait, waitFn } from '../host/kemi/wait.js';

const MAX_SECONDS = 100;
const MAX_MS = 30_000;
/** the group task_route uses when no group is declared (Kamailio's first async worker group) */
const DEFAULT_GROUP = 'default';

const params = z
  .object({
    workers: z.number().int().min(0).default(1)
      .describe('accepted for compatibility with Kamailio: one event loop runs every timer, so the value changes nothing'),
    ms_timer: z.number().int().min(0).max(1000).default(0)
      .describe('resolution of ms_route delays in ms: a delay is rounded up to a multiple of it; 0 = 1 ms. Unlike Kamailio, ms_route works when it is 0'),
    return: z.number().int().default(0)
      .describe('what route, ms_route, task_route and task_group_route return after suspending (Kamailio: 0, the "stop" value); the script then calls KSR.x.exit()'),
    groups: z.array(z.string().min(1).refine((g) => !g.includes('=') || /(^|;)\s*name=[^;\s]+/.test(g), { message: 'expected a name or "name=<group>;workers=…"' })).default([])
      .describe('task groups for task_group_route/task_group_data: a name, or Kamailio\'s async_workers_group form "name=abc;workers=4;nonblock=0;usleep=0" (only name matters here: one event loop). task_route uses the first group, or "default" when none is declared'),
  })
  .strict();

interface TaskInfo {
  readonly data: string | null;
  readonly gname: string | null;
}

interface AsyncState {
  readonly host: ModuleHost;
  readonly script: ScriptHandle;
  readonly gone: GoneReport;
  readonly msTimer: number;
  readonly ret: number;
  readonly groups: ReadonlySet<string>;
  readonly firstGroup: string;
  /** pending delays, cleared on close */
  readonly timers: Set<NodeJS.Timeout>;
  readonly c: Readonly<Record<'suspended' | 'resumed' | 'gone' | 'tasks' | 'failures', Counter>>;
  /** $async(data) / $async(gname) while a task route runs */
  current: TaskInfo | null;
  closed: boolean;
}

/** "name=abc;workers=4" or "abc" → "abc" */
function groupName(spec: string): string {
  if (!spec.includes('=')) return spec.trim();
  for (const part of spec.split(';')) {
    const [k, v] = part.split('=', 2);
    if (k?.trim() === 'name' && v !== undefined && v.trim() !== '') return v.trim();
  }
  throw new Error(`async group "${spec}" has no name=`);
}

function complain(s: AsyncState, text: string, fields: Record<string, unknown> = {}): number {
  s.c.failures.value++;
  s.host.complain(text, fields);
  return -1;
}

/** Hold the message of ctx and run `route` on it after `ms`. */
function suspendFor(s: AsyncState, ctx: Context, fname: string, route: string, ms: number, gname: string | null): number {
  if (s.closed) return -1;
  if (!s.script.has(route)) return complain(s, `${fname}: the script defines no function named "${route}"`, { route });
  const hold = holdMessage(ctx);
  if (typeof hold === 'string') return complain(s, `${fname}: ${hold}`);
  s.c.suspended.value++;
  const timer: NodeJS.Timeout = s.host.boundary.timeout('module-timer', ms, () => {
    s.timers.delete(timer);
    const outer = s.current;
    s.current = gname === null ? null : { data: null, gname };
    if (hold.resume(route, s.gone)) s.c.resumed.value++;
    s.current = outer;
  }, null);
  s.timers.add(timer);
  return s.ret;
}

/** task_data: run `route` soon on a Context of its own; the current message goes on. */
function sendData(s: AsyncState, ctx: Context, fname: string, route: string, gname: string, data: string): number {
  if (s.closed) return -1;
  if (!s.script.has(route)) return complain(s, `${fname}: the script defines no function named "${route}"`, { route });
  s.c.tasks.value++;
  const src = ctx.src;
  const timer: NodeJS.Timeout = s.host.boundary.timeout('module-timer', 0, () => {
    s.timers.delete(timer);
    const outer = s.current;
    s.current = { data, gname };
    s.script.run(route, new Context('event', null, src));
    s.current = outer;
  }, null);
  s.timers.add(timer);
  return 1;
}

function group(s: AsyncState, fname: string, name: string): string | null {
  if (s.groups.has(name)) return name;
  complain(s, `${fname}: no async group named "${name}" (declare it in modules.async.groups)`, { group: name });
  return null;
}

function msDelay(s: AsyncState, ms: number): number {
  return s.msTimer > 1 ? Math.ceil(ms / s.msTimer) * s.msTimer : ms;
}

/**
 * sleep / ms_sleep: wait in place (host/waits.ts): the request is held (its transaction made
 * and suspended, as Kamailio's native async_sleep does), the callback goes on after the call,
 * which returns 1; -1 when it cannot wait (a plain JS function, a bad value) or is cut short.
 */
function sleepFor(s: AsyncState, fname: string, ms: number): number | Wait<number> {
  if (s.closed) return -1;
  // no abort signal: a wait cut short (limits.wait_ms, shutdown) is ended by the host, and this
  // timer, unref'd, only resolves a promise nobody reads any more
  return new Wait(fname, () => new Promise<number>((resolve) => { setTimeout(resolve, ms, 1).unref(); }), -1, true);
}

function taskAttr(s: AsyncState, name: string): Xval {
  if (name === 'data') return s.current?.data ?? null;
  if (name === 'gname') return s.current?.gname ?? null;
  return null;
}

/** KSR.async: suspend a request and resume it in a named route. */
export default defineModule({
  name: 'async',
  doc: 'Suspend a SIP request (its transaction) or an xhttp request and continue it later in a named route.',
  params,
  stats: ['suspended', 'resumed', 'gone', 'tasks', 'failures'],
  init: (host, p): AsyncState => {
    const names = p.groups.map(groupName);
    const gone = host.stat('gone');
    return {
      host,
      script: host.script,
      gone: { counter: gone, host },
      msTimer: p.ms_timer,
      ret: p.return,
      groups: new Set(names),
      firstGroup: names[0] ?? DEFAULT_GROUP,
      timers: new Set(),
      c: {
        suspended: host.stat('suspended'),
        resumed: host.stat('resumed'),
        gone,
        tasks: host.stat('tasks'),
        failures: host.stat('failures'),
      },
      current: null,
      closed: false,
    };
  },
  close: (s: AsyncState) => {
    s.closed = true;
    for (const t of s.timers) clearTimeout(t);
    s.timers.clear();
  },
  routeArgs: { route: [0], ms_route: [0], task_route: [0], task_group_route: [0], task_data: [0], task_group_data: [0] },
  functions: {
    route: fn(['str', 'int'], 'int', (s: AsyncState, ctx, name, sec) => {
      if (sec < 0 || sec > MAX_SECONDS) return complain(s, `KSR.async.route: seconds must be 0..${String(MAX_SECONDS)}`, { seconds: sec });
      return suspendFor(s, ctx, 'KSR.async.route', name, sec * 1000, null);
    }, 'Suspend the request (creating its transaction if needed) and run the named function on it after this many seconds (≤ 100); returns the "return" parameter (0), -1 on failure.'),
    ms_route: fn(['str', 'int'], 'int', (s: AsyncState, ctx, name, ms) => {
      if (ms < 0 || ms > MAX_MS) return complain(s, `KSR.async.ms_route: milliseconds must be 0..${String(MAX_MS)}`, { ms });
      return suspendFor(s, ctx, 'KSR.async.ms_route', name, msDelay(s, ms), null);
    }, 'Like route, with a delay in milliseconds (≤ 30000).'),
    task_route: fn(['str'], 'int', (s: AsyncState, ctx, name) => suspendFor(s, ctx, 'KSR.async.task_route', name, 0, s.firstGroup),
      'Suspend the request and run the named function on it as soon as the event loop is free ($async(gname): the first group).'),
    task_group_route: fn(['str', 'str'], 'int', (s: AsyncState, ctx, name, g) => {
      const gname = group(s, 'KSR.async.task_group_route', g);
      return gname === null ? -1 : suspendFor(s, ctx, 'KSR.async.task_group_route', name, 0, gname);
    }, 'Like task_route, in a declared group ($async(gname)).'),
    task_data: fn(['str', 'str'], 'int', (s: AsyncState, ctx, name, data) => sendData(s, ctx, 'KSR.async.task_data', name, s.firstGroup, data),
      'Run the named function soon without a message, with $async(data) set; the current request is not suspended; 1 ok.'),
    task_group_data: fn(['str', 'str', 'str'], 'int', (s: AsyncState, ctx, name, g, data) => {
      const gname = group(s, 'KSR.async.task_group_data', g);
      return gname === null ? -1 : sendData(s, ctx, 'KSR.async.task_group_data', name, gname, data);
    }, 'Like task_data, in a declared group.'),
    get_data: fn([], 'xval', (s: AsyncState) => s.current?.data ?? null, 'The data of the running task_data route ($async(data)), else null.'),
    get_gname: fn([], 'xval', (s: AsyncState) => s.current?.gname ?? null, 'The group of the running task route ($async(gname)), else null.'),
    sleep: waitFn(['int'], 'int', (s: AsyncState, _ctx, sec) => {
      if (sec < 0 || sec > MAX_SECONDS) return complain(s, `KSR.async.sleep: seconds must be 0..${String(MAX_SECONDS)}`, { seconds: sec });
      return sleepFor(s, 'KSR.async.sleep', sec * 1000);
    }, 'Wait in place this many seconds (≤ 100), the request held (its transaction suspended), then go on after the call: 1; -1 when it cannot wait here (Lua: any callback; JS: only an async function callback, with await) — kemihost: Kamailio exports it to native config only.'),
    ms_sleep: waitFn(['int'], 'int', (s: AsyncState, _ctx, ms) => {
      if (ms < 0 || ms > MAX_MS) return complain(s, `KSR.async.ms_sleep: milliseconds must be 0..${String(MAX_MS)}`, { ms });
      return sleepFor(s, 'KSR.async.ms_sleep', msDelay(s, ms));
    }, 'Like sleep, in milliseconds (≤ 30000).'),
  },
  pvs: {
    async: { get: (s: AsyncState, _ctx, name) => taskAttr(s, name), param: true, doc: 'in a task route: data (task_data) or gname (the group); else $null' },
  },
});
