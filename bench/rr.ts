/**
 * What record-routing costs per message, without the kernel: requests fed to the SIP router and
 * forwarded statelessly to a socket that only counts. Three scripts on the same path: a plain
 * forward (the baseline), record_route() then forward on an INVITE, loose_route() then forward
 * on an in-dialog BYE with our Route and the next hop's. Medians of rounds after warm-up; the
 * figures to read are the differences from the baseline.
 *
 *   node --no-node-snapshot --import tsx bench/rr.ts [lua|js ...]
 *   RR_CASE=record_route_forward node … --cpu-prof …   (one case, for a profile)
 */
import { pino } from 'pino';
import { MODULES } from '../bindings/index.js';
import { validateConfig } from '../host/config.js';
import { createEngine } from '../host/engines/index.js';
import { KemiRegistry } from '../host/kemi/registry.js';
import { Stats } from '../host/kemi/stats.js';
import { ScriptVersion } from '../host/reload/version.js';
import { ScriptRunner } from '../host/script-runner.js';
import { Myself } from '../host/sip/myself.js';
import { SipRouter } from '../host/sip/router.js';
import type { SipSocket } from '../host/sip/socket.js';
import type { Source } from '../host/sip/types.js';

type Kind = 'lua' | 'js';

function request(method: string, extra: readonly string[], toTag: string): Buffer {
  return Buffer.from([
    `${method} sip:bob@127.0.0.2:5080 SIP/2.0`,
    'Via: SIP/2.0/UDP 127.0.0.1:5061;branch=z9hG4bK-524287-1---4f6c8a1e3b2d',
    'Max-Forwards: 70',
    'From: sipp <sip:sipp@127.0.0.1:5061>;tag=12345SIPpTag001',
    `To: <sip:bob@127.0.0.2:5080>${toTag}`,
    'Call-ID: 1-12345@127.0.0.1',
    `CSeq: 1 ${method}`,
    ...extra,
    'Contact: <sip:sipp@127.0.0.1:5061>',
    'Content-Length: 0',
    '',
    '',
  ].join('\r\n'));
}

const CASES: readonly { name: string; msg: Buffer; lua: string; js: string }[] = [
  { name: 'forward_baseline', msg: request('INVITE', [], ''), lua: 'KSR.forward()', js: 'KSR.forward();' },
  // one more KSR call that does next to nothing: what crossing to the host costs alone
  { name: 'one_more_call_forward', msg: request('INVITE', [], ''), lua: 'KSR.setflag(1)\nKSR.forward()', js: 'KSR.setflag(1);\nKSR.forward();' },
  { name: 'record_route_forward', msg: request('INVITE', [], ''), lua: 'KSR.rr.record_route()\nKSR.forward()', js: 'KSR.rr.record_route();\nKSR.forward();' },
  {
    name: 'loose_route_forward',
    msg: request('BYE', ['Route: <sip:127.0.0.1:5060;lr;ftag=12345SIPpTag001>, <sip:127.0.0.2:5080;lr>'], ';tag=callee1'),
    lua: 'KSR.rr.loose_route()\nKSR.forward()',
    js: 'KSR.rr.loose_route();\nKSR.forward();',
  },
];

async function measure(kind: Kind, c: (typeof CASES)[number]): Promise<number> {
  const log = pino({ level: 'silent' });
  const stats = new Stats();
  const myself = new Myself();
  myself.add('127.0.0.1', 5060);
  const script = new ScriptRunner(log, stats);
  const registry = new KemiRegistry(MODULES, { log, stats, myself, script, params: validateConfig({}).modules });
  const engine = await createEngine(kind, { registry, log, cpuMs: 100, memoryMb: 128 });
  const src = kind === 'lua' ? `function ksr_request_route()\n${c.lua}\nend\n` : `function ksr_request_route() {\n${c.js}\n}\n`;
  engine.load(src, `bench-rr.${kind}`);
  script.install(new ScriptVersion(1, engine, { path: `bench-rr.${kind}`, sha256: '' }));
  const router = new SipRouter({ log, boundary: registry.boundary, stats, myself, script, maxMessageBytes: 65_535, serverHeader: 'kemihost' });
  let sent = 0;
  const socket: SipSocket = {
    proto: 'udp', localIp: '127.0.0.1', localPort: 5060, family: 4,
    onSend: () => undefined,
    send: (data) => { socket.onSend(data); sent++; },
    reachable: () => true,
    close: () => Promise.resolve(),
  };
  router.addSocket(socket);
  const from: Source = { proto: 'udp', ip: '127.0.0.1', port: 5061, localIp: '127.0.0.1', localPort: 5060 };
  const N = 10_000;
  const rounds: number[] = [];
  for (let r = 0; r < 10; r++) {
    const t0 = process.cpuUsage();
    for (let i = 0; i < N; i++) router.receive(c.msg, from, null, socket);
    const d = process.cpuUsage(t0);
    if (r >= 2) rounds.push((d.user + d.system) / N);
  }
  if (sent !== 10 * N) throw new Error(`${c.name}: expected ${String(10 * N)} forwards, got ${String(sent)}`);
  router.close();
  engine.dispose();
  await registry.close();
  rounds.sort((a, b) => a - b);
  return rounds[Math.floor(rounds.length / 2)] ?? NaN;
}

const which = process.argv.slice(2);
for (const kind of ['lua', 'js'] as const) {
  if (which.length > 0 && !which.includes(kind)) continue;
  let base = NaN;
  for (const c of CASES.filter((k) => process.env.RR_CASE === undefined || k.name === process.env.RR_CASE)) {
    try {
      const us = await measure(kind, c);
      if (c.name === 'forward_baseline') base = us;
      console.log(`rr_${c.name}_${kind} ${us.toFixed(2)} us`);
      if (c.name !== 'forward_baseline' && Number.isFinite(base)) console.log(`rr_${c.name}_${kind}_over_baseline ${(us - base).toFixed(2)} us`);
    } catch (e) {
      process.stderr.write(`# rr_${c.name}_${kind}: ${(e as Error).message}\n`);
    }
  }
}
