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

/** A port free for both UDP and TCP on 127.0.0.1 right now (sipp cannot bind port 0). */
export async function freePort(): Promise<number> {
  for (;;) {
    const srv = net.createServer();
    srv.listen(0, '127.0.0.1');
    await once(srv, 'listening');
    const port = (srv.address() as net.AddressInfo).port;
    srv.close();
    const udp = dgram.createSocket('udp4');
    const ok = await new Promise<boolean>((resolve) => {
      udp.once('error', () => { resolve(false); });
      udp.bind(port, '127.0.0.1', () => { resolve(true); });
    });
    if (ok) {
      udp.close();
      return port;
    }
  }
}
