/**
 * The control RPC methods, with Kamailio's names and result shapes where Kamailio has the
 * method (app_lua.*, app_jsdt.*, stats.*, core.*, system.listMethods), plus `script.reload` and
 * `script.info`, which work whatever the engine. As in Kamailio, app_lua.* exist only when the
 * script is Lua and app_jsdt.* only when it is JavaScript.
 */
import type { EngineKind } from '../engines/engine.js';
import { apiList } from '../kemi/api-docs.js';
import type { KemiRegistry } from '../kemi/registry.js';
import type { Stats } from '../kemi/stats.js';
import type { Reloader, ReloadOutcome } from '../reload/reloader.js';
import type { ScriptRunner } from '../script-runner.js';
import { PACKAGE_VERSION, VERSION_LINE } from './about.js';
import { INVALID_PARAMS, RELOAD_FAILED, RpcError, type RpcMethodDef } from './jsonrpc.js';

/** What the methods may use of the runtime. */
export interface RpcHost {
  readonly engineKind: EngineKind;
  readonly registry: KemiRegistry;
  readonly stats: Stats;
  readonly script: ScriptRunner;
  readonly reloader: Reloader;
  readonly startedAt: Date;
}

function reloadResult(o: ReloadOutcome): unknown {
  if (!o.ok) {
    const where = o.error.location === null ? '' : ` (${o.error.location})`;
    throw new RpcError(RELOAD_FAILED, `reload failed: ${o.error.message}${where}`, {
      code: o.error.code,
      message: o.error.message,
      location: o.error.location,
      serving: o.current,
    });
  }
  return { reloaded: o.changed, current: o.current, draining: o.draining };
}

/** Kamailio's reload takes an optional script index; there is one script, index 0 (-1 = all). */
function checkIndex(params: readonly unknown[], method: string): void {
  if (params.length === 0) return;
  const i = params[0];
  if (params.length > 1 || (i !== 0 && i !== -1)) {
    throw new RpcError(INVALID_PARAMS, `${method} takes at most one parameter, the script index: 0 (or -1), the only script loaded`);
  }
}

function apiListResult(host: RpcHost): unknown {
  const fns = apiList(host.registry).functions;
  return {
    msize: fns.length,
    methods: fns.map((f) => ({ func: { ret: f.returns, module: f.module, name: f.name, params: f.params.length === 0 ? 'none' : f.params.join(', ') } })),
  };
}

/** "all", "core", "core:" (a module) or "core:rcv_requests"; several at once. */
function statFilters(params: readonly unknown[]): string[] {
  if (params.length === 0) return ['all'];
  return params.map((p) => {
    if (typeof p !== 'string' || p === '') throw new RpcError(INVALID_PARAMS, 'expected statistic names: all, a module (core or core:) or module:counter');
    return p.endsWith(':') ? p.slice(0, -1) : p;
  });
}

function matching(stats: Stats, params: readonly unknown[]): Map<string, number> {
  const out = new Map<string, number>();
  for (const f of statFilters(params)) {
    const snap = stats.snapshot(f);
    const keys = Object.keys(snap);
    if (keys.length === 0 && f !== 'all') throw new RpcError(INVALID_PARAMS, `no statistic or module named "${f}"`);
    for (const k of keys) out.set(k, snap[k] ?? 0);
  }
  return out;
}

export function rpcMethods(host: RpcHost): Map<string, RpcMethodDef> {
  const m = new Map<string, RpcMethodDef>();
  const reload = async (): Promise<unknown> => reloadResult(await host.reloader.reload('rpc'));
  const scriptList = (): unknown => [`0: [${host.reloader.path}]`];
  if (host.engineKind === 'lua') {
    m.set('app_lua.reload', { doc: 'Reload the Lua script (optional index: 0)', run: async (p) => { checkIndex(p, 'app_lua.reload'); return reload(); } });
    m.set('app_lua.list', { doc: 'List the loaded Lua scripts', run: scriptList });
    m.set('app_lua.api_list', { doc: 'List the KSR functions exported to Lua', run: () => apiListResult(host) });
  } else {
    m.set('app_jsdt.reload', { doc: 'Reload the JavaScript script (optional index: 0)', run: async (p) => { checkIndex(p, 'app_jsdt.reload'); return reload(); } });
    m.set('app_jsdt.api_list', { doc: 'List the KSR functions exported to JavaScript', run: () => apiListResult(host) });
  }
  m.set('script.reload', {
    doc: 'Reload the routing script, whatever its language; the result names the version now serving',
    run: async (p) => {
      if (p.length > 0) throw new RpcError(INVALID_PARAMS, 'script.reload takes no parameters');
      return reload();
    },
  });
  m.set('script.info', {
    doc: 'The version serving, versions still draining suspended messages, and the last reload failure',
    run: () => ({
      engine: host.engineKind,
      path: host.reloader.path,
      current: host.script.current?.info() ?? null,
      draining: host.script.drainingVersions.map((v) => v.info()),
      reloads: host.stats.get('script:reloads') ?? 0,
      reload_failures: host.stats.get('script:reload_failures') ?? 0,
      last_error: host.reloader.lastError,
    }),
  });
  m.set('stats.get_statistics', {
    doc: 'Statistics as "module:name = value": all, a module (core or core:) or module:counter, several at once',
    run: (p) => [...matching(host.stats, p)].map(([k, v]) => `${k} = ${String(v)}`),
  });
  m.set('stats.reset_statistics', {
    doc: 'Set statistics to 0 (same names as get_statistics); gauges such as tm:active are left alone',
    run: (p) => {
      for (const key of matching(host.stats, p).keys()) {
        if (host.stats.isGauge(key)) continue;
        const i = key.indexOf(':');
        host.stats.counter(key.slice(0, i), key.slice(i + 1)).value = 0;
      }
      return null;
    },
  });
  m.set('core.version', { doc: 'The server version', run: () => VERSION_LINE });
  m.set('core.uptime', {
    doc: 'Now, start time and seconds up',
    run: () => {
      const now = new Date();
      return { now: now.toISOString(), up_since: host.startedAt.toISOString(), uptime: Math.floor((now.getTime() - host.startedAt.getTime()) / 1000) };
    },
  });
  m.set('core.info', {
    doc: 'Version, runtime, engine, script and process id',
    run: () => ({
      version: PACKAGE_VERSION,
      node: process.version,
      platform: `${process.platform}/${process.arch}`,
      engine: host.engineKind,
      script: host.reloader.path,
      script_version: host.script.current?.number ?? null,
      pid: process.pid,
    }),
  });
  // the modules' own methods (ul.dump, permissions.addressReload…), with Kamailio's names
  for (const [name, def] of host.registry.rpc) m.set(name, { doc: def.doc, run: (p) => def.run(p) });
  m.set('system.listMethods', { doc: 'The RPC method names', run: () => [...m.keys()].sort() });
  m.set('system.methodHelp', {
    doc: 'The description of one method',
    run: (p) => {
      const d = typeof p[0] === 'string' ? m.get(p[0]) : undefined;
      if (d === undefined) throw new RpcError(INVALID_PARAMS, 'expected the name of a method');
      return d.doc;
    },
  });
  return m;
}
