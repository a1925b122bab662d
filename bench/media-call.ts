/**
 * Calls with media through rtpengine (issue 15's benchmark): bench/scripts/media.{lua,js} is the
 * registrar proxy of proxy-call.ts with the kamailio-basic example's media handling,
 * rtpproxy_manage("co") on the INVITE (offer), its 2xx (answer) and the BYE (delete), served by
 * a real rtpengine's rtpproxy-compatible listener that the benchmark starts on loopback. A sipp
 * UAS registers once, then a sipp UAC places calls (INVITE with SDP → 180 → 200 with SDP → ACK →
 * BYE → 200, test/fixtures/sipp/media-caller.xml and media-callee.xml) at stepped rates. Per
 * target: the best clean rate on one core and the server's CPU per call (rtpengine's own CPU is
 * not counted: it is the same relay for every target); kemihost (Lua, JS) next to Kamailio 5.6
 * with the same scripts (app_lua, app_jsdt, its rtpproxy module) in the same run.
 *
 *   node --no-node-snapshot --import tsx bench/media-call.ts [lua|js|kamailio|kamailio_js ...]
 */
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { startRtpengine, type RtpengineProcess } from '../test/helpers/rtpengine.js';
import { UdpPeer } from '../test/helpers/sip-client.js';
import { freePort, SIPP_FIXTURES, startSipp } from '../test/helpers/sipp.js';
import { ratios, sippStep, STEP_SECONDS, sweep } from './lib/sweep.js';
import { ROOT, startKamailio, startKemihost, stopTarget, type Engine, type Target } from './lib/targets.js';

const RATES = (process.env.BENCH_RATES ?? '100,200,400,800,1200').split(',').map(Number);
const SAME_RATE = Number(process.env.BENCH_SAME_RATE ?? 200);
const script = (engine: Engine): string => join(ROOT, `bench/scripts/media.${engine}`);

function start(name: string, relay: string): Promise<Target | null> {
  switch (name) {
    case 'lua':
    case 'js':
      return startKemihost(`kemihost_${name}`, script(name), { modules: { usrloc: { db_mode: 0 }, registrar: {}, rtpproxy: { rtpproxy_sock: relay } } });
    default: {
      const engine: Engine = name === 'kamailio' ? 'lua' : 'js';
      return startKamailio(`kamailio_${engine}`, {
        engine, scriptPath: script(engine), modules: ['tm', 'sl', 'pv', 'rr', 'siputils', 'usrloc', 'registrar', 'kemix', 'rtpproxy'],
        params: [['usrloc', 'db_mode', 0], ['usrloc', 'preload', 'location'], ['rtpproxy', 'rtpproxy_sock', relay]],
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

async function run(name: string, relay: string, results: Map<string, number>): Promise<void> {
  let t: Target | null;
  try {
    t = await start(name, relay);
  } catch (e) {
    process.stderr.write(`# ${name}: not started (${(e as Error).message})\n`);
    return;
  }
  if (t === null) return;
  const target = t;
  try {
    const uasPort = await freePort();
    const uas = startSipp(['-sf', join(SIPP_FIXTURES, 'media-callee.xml'), '-i', '127.0.0.1', '-p', String(uasPort), '-buff_size', '4194304']);
    try {
      await sleep(300);
      await register(target, uasPort);
      const cpu = await sweep('media_call', target, RATES, SAME_RATE, async (rate) => sippStep(target, rate, [
        `127.0.0.1:${String(target.port)}`, '-sf', join(SIPP_FIXTURES, 'media-caller.xml'), '-s', 'bob', '-i', '127.0.0.1', '-p', String(await freePort()),
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

// rtpengine on core 1 with sipp; a wide port range, as each call holds ports until its BYE
let rtpe: RtpengineProcess | null = null;
try {
  rtpe = await startRtpengine(null, { legacy: true, args: ['--port-min=30000', '--port-max=39999'] });
} catch (e) {
  process.stderr.write(`# media-call: rtpengine did not start (${(e as Error).message})\n`);
}
if (rtpe === null) {
  process.stderr.write('# media-call: skipped, rtpengine (Debian rtpengine-daemon) is not installed\n');
} else {
  const relay = `udp:127.0.0.1:${String(rtpe.udpPort)}`;
  try {
    const which = process.argv.slice(2);
    const results = new Map<string, number>();
    for (const name of ['lua', 'js', 'kamailio', 'kamailio_js']) {
      if (which.length === 0 || which.includes(name)) await run(name, relay, results);
    }
    ratios('media_call', results, [['kemihost_lua', 'kamailio_lua'], ['kemihost_js', 'kamailio_js']], SAME_RATE);
    process.stderr.write(`# steps of ${String(STEP_SECONDS)} s\n`);
  } finally {
    await rtpe.stop();
  }
}
