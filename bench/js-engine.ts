/**
 * The JS engine's cost per callback, next to the Lua engine on the same routes, with the real
 * bindings and a parsed OPTIONS (the SIP layer's reply is stubbed out: only the engine and the
 * bindings are measured). CPU time (user + system) per callback, median of 7 rounds.
 *
 *   node --no-node-snapshot --import tsx bench/js-engine.ts
 *
 * Prints `js_engine_call_<case> <µs> us`; cases starting with `lua_` are the Lua engine.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import { MODULES } from '../bindings/index.js';
import type { CallResult, ScriptEngine } from '../host/engines/engine.js';
import { JsEngine } from '../host/engines/js/js-engine.js';
import { LuaEngine } from '../host/engines/lua/lua-engine.js';
import { Context, type SipActions, type Source } from '../host/kemi/context.js';
import { KemiRegistry } from '../host/kemi/registry.js';
import { parseSipMessage } from '../host/sip/message.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const ROUNDS = 7;
const PER_ROUND = 20_000;

const SRC: Source = { proto: 'udp', ip: '198.51.100.7', port: 5062, localIp: '127.0.0.1', localPort: 5060 };
const OPTIONS = Buffer.from(readFileSync(`${ROOT}bench/fixtures/options.txt`, 'latin1').replace(/\r?\n/g, '\r\n'), 'latin1');
const SIP: SipActions = { sendReply: () => true, forward: () => false, toTag: () => 'bench-tag' };

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
      run: (n, ctx, arg): CallResult => eng?.call(n, ctx, arg) ?? { ok: false, failure: { code: 'KEMI_ERR_SCRIPT_RUNTIME', message: 'none', location: undefined, stack: undefined } },
    },
  });
  const opts = { registry, log, cpuMs: Number(process.env.CPU_MS ?? 1000), memoryMb: 128 };
  eng = kind === 'js' ? new JsEngine(opts) : new LuaEngine(opts);
  const source = readFileSync(`${ROOT}bench/scripts/options.${kind}`, 'utf8') + (kind === 'js' ? JS_EXTRA : LUA_EXTRA);
  eng.load(source, `bench/scripts/options.${kind}`);
  return eng;
}

function perCall(eng: ScriptEngine, name: string): number {
  const msg = parseSipMessage(OPTIONS);
  const once = (): void => {
    const ctx = new Context('sip', msg, SRC);
    ctx.sip = SIP;
    const r = eng.call(name, ctx);
    if (!r.ok) throw new Error(`${name}: ${r.failure.message}`);
  };
  for (let i = 0; i < PER_ROUND; i++) once();
  const rounds: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    const c0 = process.cpuUsage();
    for (let i = 0; i < PER_ROUND; i++) once();
    const c = process.cpuUsage(c0);
    rounds.push((c.user + c.system) / PER_ROUND);
  }
  rounds.sort((a, b) => a - b);
  return rounds[ROUNDS >> 1] ?? NaN;
}

const js = engine('js');
const lua = engine('lua');
const cases: [string, ScriptEngine, string][] = [
  ['empty', js, 'empty'],
  ['probe1', js, 'probe1'],
  ['probe8', js, 'probe8'],
  ['bench', js, 'ksr_request_route'],
  ['info', js, 'info'],
  ['lua_empty', lua, 'empty'],
  ['lua_probe8', lua, 'probe8'],
  ['lua_bench', lua, 'ksr_request_route'],
  ['lua_info', lua, 'info'],
];
for (const [label, eng, fn] of cases) {
  console.log(`js_engine_call_${label} ${perCall(eng, fn).toFixed(2)} us`);
}
js.dispose();
lua.dispose();
