/**
 * The per-message cost of kemihost's own code, without the kernel: a 400-byte OPTIONS fed to
 * the SIP router (parse → Context → ksr_request_route with the benchmark script → reply built)
 * and the reply handed to a socket that only counts. Medians of several rounds after warm-up.
 *
 *   node --no-node-snapshot --import tsx bench/hot-path.ts [lua|js ...]
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import { MODULES } from '../bindings/index.js';
import { validateConfig } from '../host/config.js';
import { createEngine } from '../host/engines/index.js';
import type { ScriptEngine } from '../host/engines/engine.js';
import type { Source } from '../host/sip/types.js';
import { KemiRegistry } from '../host/kemi/registry.js';
import { Stats } from '../host/kemi/stats.js';
import { ScriptVersion } from '../host/reload/version.js';
import { ScriptRunner } from '../host/script-runner.js';
import { Myself } from '../host/sip/myself.js';
import { SipRouter } from '../host/sip/router.js';
import type { SipSocket } from '../host/sip/socket.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const OPTIONS = Buffer.from(
  [
    'OPTIONS sip:service@127.0.0.1:5060 SIP/2.0',
    'Via: SIP/2.0/UDP 127.0.0.1:5061;branch=z9hG4bK-524287-1---4f6c8a1e3b2d',
    'Max-Forwards: 70',
    'From: sipp <sip:sipp@127.0.0.1:5061>;tag=12345SIPpTag001',
    'To: <sip:service@127.0.0.1:5060>',
    'Call-ID: 1-12345@127.0.0.1',
    'CSeq: 1 OPTIONS',
    'Contact: <sip:sipp@127.0.0.1:5061>',
    'User-Agent: bench',
    'Accept: application/sdp',
    'Content-Length: 0',
    '',
    '',
  ].join('\r\n'),
);

async function measure(kind: 'lua' | 'js'): Promise<void> {
  const log = pino({ level: 'silent' });
  const stats = new Stats();
  const myself = new Myself();
  myself.add('127.0.0.1', 5060);
  const script = new ScriptRunner(log, stats);
  const registry = new KemiRegistry(MODULES, { log, stats, myself, script, params: validateConfig({}).modules });
  const engine: ScriptEngine = await createEngine(kind, { registry, log, cpuMs: 100, memoryMb: 128 });
  engine.load(readFileSync(`${ROOT}bench/scripts/options.${kind}`, 'utf8'), `bench/scripts/options.${kind}`);
  script.install(new ScriptVersion(1, engine, { path: `bench/scripts/options.${kind}`, sha256: '' }));
  const router = new SipRouter({ log, boundary: registry.boundary, stats, myself, script, maxMessageBytes: 65_535, serverHeader: 'kemihost' });
  let sent = 0;
  // like a transport: every send goes through onSend (the statistics tap the router installs)
  const socket: SipSocket = {
    proto: 'udp', localIp: '127.0.0.1', localPort: 5060, family: 4,
    onSend: () => undefined,
    send: (data) => { socket.onSend(data); sent++; },
    reachable: () => true,
    close: () => Promise.resolve(),
  };
  router.addSocket(socket);
  const src: Source = { proto: 'udp', ip: '127.0.0.1', port: 5061, localIp: '127.0.0.1', localPort: 5060 };
  const N = 20_000;
  const rounds: number[] = [];
  for (let r = 0; r < 12; r++) {
    const t0 = process.cpuUsage();
    for (let i = 0; i < N; i++) router.receive(OPTIONS, src, null, socket);
    const d = process.cpuUsage(t0);
    if (r >= 2) rounds.push((d.user + d.system) / N);
  }
  rounds.sort((a, b) => a - b);
  if (sent !== 12 * N) throw new Error(`expected ${String(12 * N)} replies, got ${String(sent)}`);
  console.log(`hot_path_${kind}_options ${(rounds[Math.floor(rounds.length / 2)] ?? NaN).toFixed(2)} us`);
  engine.dispose();
  await registry.close();
}

const which = process.argv.slice(2);
for (const kind of ['lua', 'js'] as const) {
  if (which.length > 0 && !which.includes(kind)) continue;
  try {
    await measure(kind);
  } catch (e) {
    process.stderr.write(`# hot_path_${kind}: ${(e as Error).message}\n`);
  }
}
