/**
 * A SIP-over-TCP client that writes OPTIONS as fast as `kemihost run` takes them and never reads
 * a reply (issue 13; before backpressure, 139 MB of requests grew the server by 206 MB). The
 * server is a real process (default config but sip.tcp_stalled_timeout_ms 2000); its memory is
 * read from /proc. Bounded: at most 64 MB written, on 127.0.0.1.
 *   unread_peer_sent            MB the peer managed to write (server and kernel buffers) before it was cut off
 *   unread_peer_rss_growth      server RSS while stalled, minus before, MB
 *   unread_peer_rss_after_close server RSS after it closed the peer, minus before, MB
 *   unread_peer_closed_after    s from the start of the flood until the server closed the peer
 * Run: node --import tsx bench/unread-peer.ts
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { portOf, startCli } from '../test/helpers/cli.js';
import { buildRequest } from '../test/helpers/sip-client.js';
import { UnreadingPeer } from '../test/helpers/unreading-peer.js';

const MAX_FLOOD = 64 * 1024 * 1024;

function rssMb(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${String(pid)}/status`, 'utf8'));
  return Number(m?.[1] ?? 0) / 1024;
}

const print = (name: string, v: number, unit: string): void => { process.stdout.write(`${name} ${v.toFixed(1)} ${unit}\n`); };

const dir = mkdtempSync(join(tmpdir(), 'kemihost-bench-'));
writeFileSync(join(dir, 'route.lua'), 'function ksr_request_route()\n  KSR.sl.sl_send_reply(200, "OK")\nend\n');
writeFileSync(join(dir, 'kemihost.yaml'), 'script: route.lua\nlisten: ["tcp:127.0.0.1:0"]\nhttp: { listen: "off" }\nlog: { level: error }\nsip: { tcp_stalled_timeout_ms: 2000 }\n');
const server = await startCli(['run', '-c', join(dir, 'kemihost.yaml')]);
// bin/kemihost.js starts the server as its child (with --no-node-snapshot): measure that one
const launcher = server.child.pid ?? 0;
const pid = Number(readFileSync(`/proc/${String(launcher)}/task/${String(launcher)}/children`, 'utf8').trim().split(' ')[0]);
try {
  const before = rssMb(pid);
  const peer = await UnreadingPeer.connect(portOf(server.ready, 'tcp'));
  const one = Buffer.from(buildRequest({ method: 'OPTIONS' }, 'TCP', '127.0.0.1', peer.sock.localPort ?? 0));
  const t0 = performance.now();
  let peak = before;
  const sampler = setInterval(() => { peak = Math.max(peak, rssMb(pid)); }, 50);
  const flooding = peer.flood(Buffer.concat(Array.from({ length: 100 }, () => one)), MAX_FLOOD);
  // the server's close reaches the peer as a reset of its pending write, which ends the flood
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([flooding, new Promise((resolve) => { timer = setTimeout(resolve, 30_000); })]);
  clearTimeout(timer);
  const t = (performance.now() - t0) / 1000;
  peer.stop();
  await flooding;
  const closed = await peer.readUntilClosed(5000);
  clearInterval(sampler);
  print('unread_peer_sent', peer.sent / 1e6, 'MB');
  print('unread_peer_rss_growth', peak - before, 'MB');
  print('unread_peer_rss_after_close', rssMb(pid) - before, 'MB');
  print('unread_peer_closed_after', closed ? t : -1, 's');
} finally {
  await server.stop();
}
