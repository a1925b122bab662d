/**
 * The JS engine's cost per callback, next to the Lua engine on the same routes, with the real
 * bindings and a parsed OPTIONS (the SIP layer's reply is stubbed out: only the engine and the
 * bindings are measured). CPU time (user + system) of the process per callback; the cases
 * take turns round after round so that load from other processes hits them alike. Prints the
 * median and the minimum over the rounds: on a shared machine the minimum is the steadier one.
 *
 *   taskset -c 0 node --no-node-snapshot --import tsx bench/js-engine.ts
 *
 * Prints `js_engine_call_<case> <µs> us` and `js_engine_call_<case>_min <µs> us`, and how
 * many times a warm benchmark route still crosses to the host (`js_engine_crossings_per_call_bench`,
 * 0 with call plans). Cases:
 * empty (the applySync floor), probe1/probe8 (1 and 8 KSR calls to a no-op), bench (the
 * issue's route: bench/scripts/options.*), info (KSR.info: pays for location()), raw8
 * (8 bare isolated-vm Callback crossings, no KSR: what the bridge itself adds is
 * probe8 − raw8); `lua_*`: the Lua engine on the same routes. CPU_MS=0 runs without the
 * per-callback timeout (isolated-vm's timer costs on every crossing); CASES=bench,lua_bench
 * runs only those.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import ivm from 'isolated-vm';
import { pino } from 'pino';
import { MODULES } from '../bindings/index.js';
import type { CallResult, ScriptEngine } from '../host/engines/engine.js';
import { JsEngine } from '../host/engines/js/js-engine.js';
import { LuaEngine } from '../host/engines/lua/lua-engine.js';
import { Context } from '../host/kemi/context.js';
import type { MessageOwner } from '../host/kemi/owner.js';
import type { Source } from '../host/sip/types.js';
import { KemiRegistry } from '../host/kemi/registry.js';
import { parseSipMessage } from '../host/sip/message.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const ROUNDS = 15;
const PER_ROUND = 10_000;
const CPU_MS = Number(process.env.CPU_MS ?? 1000);

const SRC: Source = { proto: 'udp', ip: '198.51.100.7', port: 5062, localIp: '127.0.0.1', localPort: 5060 };
const OPTIONS = Buffer.from(readFileSync(`${ROOT}bench/fixtures/options.txt`, 'latin1').replace(/\r?\n/g, '\r\n'), 'latin1');
const SIP: MessageOwner = {
  kind: 'sip', sendReply: () => true, reply: () => true, canReply: () => true, forward: () => false, toTag: () => 'bench-tag', hold: () => 'not in the benchmark',
};

/** Extra callbacks beside the benchmark route: the floor and the cost of crossings. */
const JS_EXTRA = `
function empty() {}
function probe1() { KSR.x.probe(); }
function probe8() { KSR.x.probe(); KSR.x.probe(); KSR.x.probe(); KSR.x.probe(); KSR.x.probe(); KSR.x.probe(); KSR.x.probe(); KSR.x.probe(); }
function info() { KSR.info("bench"); }
`;
const LUA_EXTRA = `
function empty() end
function probe1() KSR.x.probe() end
function probe8() KSR.x.probe() KSR.x.probe() KSR.x.probe() KSR.x.probe() KSR.x.probe() KSR.x.probe() KSR.x.probe() KSR.x.probe() end
function info() KSR.info("bench") end
`;

function engine(kind: 'js' | 'lua'): ScriptEngine {
  // info level into a sink: KSR.info pays for location() and formatting, not for I/O
  const log = pino({ level: 'info' }, { write: () => undefined });
  let eng: ScriptEngine | null = null;
  const registry = new KemiRegistry(MODULES, {
    log,
    myself: { isMyself: () => false, isMyselfIp: () => false },
    script: {
      has: (n) => eng?.has(n) ?? false,
      location: () => eng?.location(),
      sflags: 0,
      run: (n, ctx, arg): CallResult => eng?.call(n, ctx, arg) ?? { ok: false, failure: { code: 'KEMI_ERR_SCRIPT_RUNTIME', message: 'none', location: undefined, stack: undefined } },
    },
  });
  const opts = { registry, log, cpuMs: CPU_MS, memoryMb: 128 };
  eng = kind === 'js' ? new JsEngine(opts) : new LuaEngine(opts);
  const source = readFileSync(`${ROOT}bench/scripts/options.${kind}`, 'utf8') + (kind === 'js' ? JS_EXTRA : LUA_EXTRA);
  eng.load(source, `bench/scripts/options.${kind}`);
  return eng;
}

/** One callback run, as the SIP layer makes it: a fresh Context on a parsed message. */
function caller(eng: ScriptEngine, name: string): () => void {
  const msg = parseSipMessage(OPTIONS);
  return () => {
    const ctx = new Context('sip', msg, SRC);
    ctx.owner = SIP;
    const r = eng.call(name, ctx);
    if (!r.ok) throw new Error(`${name}: ${r.failure.message}`);
  };
}

/** 8 crossings through a bare sync ivm.Callback: the floor under the KSR bridge. */
function rawCrossings(): () => void {
  const isolate = new ivm.Isolate({ memoryLimit: 32 });
  const context = isolate.createContextSync();
  context.global.setSync('cb', new ivm.Callback(() => undefined));
  context.evalSync('function raw8() { cb(); cb(); cb(); cb(); cb(); cb(); cb(); cb(); }');
  const ref = context.global.getSync('raw8', { reference: true }) as ivm.Reference<() => void>;
  const opts = CPU_MS > 0 ? { timeout: CPU_MS } : {};
  return () => {
    ref.applySync(undefined, [], opts);
  };
}

function cpuPerCall(f: () => void, n: number): number {
  const c0 = process.cpuUsage();
  for (let i = 0; i < n; i++) f();
  const c = process.cpuUsage(c0);
  return (c.user + c.system) / n;
}

const js = engine('js');
const lua = engine('lua');
const cases: [string, () => void][] = [
  ['empty', caller(js, 'empty')],
  ['probe1', caller(js, 'probe1')],
  ['probe8', caller(js, 'probe8')],
  ['raw8', rawCrossings()],
  ['bench', caller(js, 'ksr_request_route')],
  ['info', caller(js, 'info')],
  ['lua_empty', caller(lua, 'empty')],
  ['lua_probe8', caller(lua, 'probe8')],
  ['lua_bench', caller(lua, 'ksr_request_route')],
  ['lua_info', caller(lua, 'info')],
];
const only = process.env.CASES?.split(',');
if (only !== undefined) cases.splice(0, cases.length, ...cases.filter(([label]) => only.includes(label)));
const samples = new Map<string, number[]>(cases.map(([label]) => [label, []]));
for (const [, f] of cases) cpuPerCall(f, PER_ROUND); // warm-up
for (let r = 0; r < ROUNDS; r++) {
  for (const [label, f] of cases) samples.get(label)?.push(cpuPerCall(f, PER_ROUND));
}
for (const [label, xs] of samples) {
  xs.sort((a, b) => a - b);
  console.log(`js_engine_call_${label} ${(xs[xs.length >> 1] ?? NaN).toFixed(2)} us`);
  console.log(`js_engine_call_${label}_min ${(xs[0] ?? NaN).toFixed(2)} us`);
}
// how often the benchmark route still calls back to the host once warm (call plans: 0)
if (js instanceof JsEngine && (only === undefined || only.includes('bench'))) {
  const run = caller(js, 'ksr_request_route');
  const before = js.crossings;
  for (let i = 0; i < 1000; i++) run();
  console.log(`js_engine_crossings_per_call_bench ${((js.crossings - before) / 1000).toFixed(2)} count`);
}
js.dispose();
lua.dispose();
