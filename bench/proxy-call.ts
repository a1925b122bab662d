/**
 * Calls through a registrar proxy (issue 14's benchmark): bench/scripts/proxy.{lua,js} saves a
 * REGISTER, record-routes an INVITE and relays it to the contact `lookup` finds; the ACK and BYE
 * come back through loose_route. A sipp UAS registers once, then a sipp UAC places calls
 * (INVITE → 180 → 200 → ACK → BYE → 200, test/fixtures/sipp/rr-caller.xml and rr-callee.xml:
 * the in-dialog requests follow the Record-Route) at stepped rates. Per target: the best clean
 * rate and the server's CPU per call, there and at one rate all reach; kemihost (Lua, JS) next to
 * Kamailio 5.6 running the same scripts (app_lua, app_jsdt) in the same run.
 *
 *   node --no-node-snapshot --import tsx bench/proxy-call.ts [lua|js|kamailio|kamailio_js ...]
 */
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { freePort, SIPP_FIXTURES, startSipp } from '../test/helpers/sipp.js';
import { UdpPeer } from '../test/helpers/sip-client.js';
import { ratios, sippStep, STEP_SECONDS, sweep } from './lib/sweep.js';
import { ROOT, startKamailio, startKemihost, stopTarget, type Engine, type Target } from './lib/targets.js';

const RATES = (process.env.BENCH_RATES ?? '500,1000,2000,3000,4000,6000,8000').split(',').map(Number);
const SAME_RATE = Number(process.env.BENCH_SAME_RATE ?? 1000);
const script = (engine: Engine): string => join(ROOT, `bench/scripts/proxy.${engine}`);

function start(name: string): Promise<Target | null> {
  switch (name) {
    case 'lua':
    case 'js':
      return startKemihost(`kemihost_${name}`, script(name), { modules: { usrloc: { db_mode: 0 }, registrar: {} } });
    default: {
      const engine: Engine = name === 'kamailio' ? 'lua' : 'js';
      return startKamailio(`kamailio_${engine}`, {
        engine, scriptPath: script(engine), modules: ['tm', 'sl', 'pv', 'rr', 'siputils', 'usrloc', 'registrar', 'kemix'],
        params: [['usrloc', 'db_mode', 0], ['usrloc', 'preload', 'location']],
      });
    }
  }
}

/** Register bob at the sipp UAS's address, through the proxy. */
async function register(t: Target, uasPort: number): Promise<void> {
  const peer = await UdpPeer.open();
  try {
    peer.request({ method: 'REGISTER', ruri: `sip:127.0.0.1:${String(t.port)}`, fromUri: 'sip:bob@127.0.0.1', toUri: 'sip:bob@127.0.0.1',
      headers: [`Contact: <sip:bob@127.0.0.1:${String(uasPort)}>`, 'Expires: 3600'] }, t.port);
    const r = await peer.next(3000);
    if (r?.status !== 200) throw new Error(`REGISTER answered ${String(r?.status)} ${r?.reason ?? ''}`);
  } finally {
    peer.close();
  }
}

async function run(name: string, results: Map<string, number>): Promise<void> {
  let t: Target | null;
  try {
    t = await start(name);
  } catch (e) {
    process.stderr.write(`# ${name}: not started (${(e as Error).message})\n`);
    return;
  }
  if (t === null) return;
  const target = t;
  try {
    const uasPort = await freePort();
    const uas = startSipp(['-sf', join(SIPP_FIXTURES, 'rr-callee.xml'), '-i', '127.0.0.1', '-p', String(uasPort), '-buff_size', '4194304']);
    try {
      await sleep(300);
      await register(target, uasPort);
      const cpu = await sweep('proxy_call', target, RATES, SAME_RATE, async (rate) => sippStep(target, rate, [
        `127.0.0.1:${String(target.port)}`, '-sf', join(SIPP_FIXTURES, 'rr-caller.xml'), '-s', 'bob', '-i', '127.0.0.1', '-p', String(await freePort()),
      ]));
      results.set(target.name, cpu);
    } finally {
      uas.stop();
      await uas.done;
    }
  } finally {
    await stopTarget(target);
  }
}

const which = process.argv.slice(2);
const results = new Map<string, number>();
for (const name of ['lua', 'js', 'kamailio', 'kamailio_js']) {
  if (which.length === 0 || which.includes(name)) await run(name, results);
}
ratios('proxy_call', results, [['kemihost_lua', 'kamailio_lua'], ['kemihost_js', 'kamailio_js']], SAME_RATE);
process.stderr.write(`# steps of ${String(STEP_SECONDS)} s\n`);
