/** Run Debian's sipp (package sip-tester) as a black-box peer, bounded in calls and time. */
import { spawn } from 'node:child_process';
import dgram from 'node:dgram';
import { once } from 'node:events';
import net from 'node:net';
import { fileURLToPath } from 'node:url';

export const SIPP_FIXTURES = fileURLToPath(new URL('../fixtures/sipp/', import.meta.url));

export interface SippResult {
  code: number | null;
  output: string;
}

/**
 * Run sipp with these arguments; resolves when it exits (killed after timeoutMs). `wrapper`
 * runs it under another command, e.g. ['taskset', '-c', '1'] to pin it to a core.
 */
export async function runSipp(args: string[], timeoutMs = 60_000, wrapper: string[] = []): Promise<SippResult> {
  const argv = [...wrapper, 'sipp', ...args];
  const child = spawn(argv[0] ?? 'sipp', argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (d: Buffer) => { output = (output + d.toString()).slice(-20_000); });
  child.stderr.on('data', (d: Buffer) => { output = (output + d.toString()).slice(-20_000); });
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  const [code] = (await once(child, 'exit')) as [number | null];
  clearTimeout(timer);
  return { code, output };
}

/** Start a sipp that runs in the background (a UAS); stop() ends it. */
export function startSipp(args: string[]): { done: Promise<SippResult>; stop: () => void } {
  const child = spawn('sipp', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (d: Buffer) => { output = (output + d.toString()).slice(-20_000); });
  child.stderr.on('data', (d: Buffer) => { output = (output + d.toString()).slice(-20_000); });
  const done = once(child, 'exit').then(([code]) => ({ code: code as number | null, output }));
  return { done, stop: () => { if (child.exitCode === null) child.kill('SIGTERM'); } };
}

/**
 * A port free for both UDP and TCP on 127.0.0.1 right now (sipp cannot bind port 0). Drawn at
 * random below the kernel's ephemeral range (32768-60999 on Linux): a port the kernel handed out
 * for `listen(0)` is the kind it also hands to the next outgoing socket of any process (a
 * database client, sipp, an HTTP request), which then took it before the test bound it
 * (EADDRINUSE under load). Below that range only another test's explicit bind can collide.
 */
export async function freePort(): Promise<number> {
  for (;;) {
    const port = 10_000 + Math.floor(Math.random() * 22_000);
    if ((await bindable(port, 'tcp')) && (await bindable(port, 'udp'))) return port;
  }
}

async function bindable(port: number, proto: 'tcp' | 'udp'): Promise<boolean> {
  if (proto === 'tcp') {
    const srv = net.createServer();
    return new Promise<boolean>((resolve) => {
      srv.once('error', () => { resolve(false); });
      srv.listen(port, '127.0.0.1', () => { srv.close(() => { resolve(true); }); });
    });
  }
  const udp = dgram.createSocket('udp4');
  return new Promise<boolean>((resolve) => {
    udp.once('error', () => { udp.close(); resolve(false); });
    udp.bind(port, '127.0.0.1', () => { udp.close(() => { resolve(true); }); });
  });
}
