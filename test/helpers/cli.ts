/** Run the real `kemihost` command (bin/kemihost.js) as a user would. */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';

export const BIN = fileURLToPath(new URL('../../bin/kemihost.js', import.meta.url));

export interface Finished {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Run to completion (bounded by timeoutMs), optionally in another working directory. */
export async function runCli(args: string[], timeoutMs = 60_000, opts: { cwd?: string } = {}): Promise<Finished> {
  const child = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'], ...(opts.cwd === undefined ? {} : { cwd: opts.cwd }) });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  const [code] = (await once(child, 'exit')) as [number | null];
  clearTimeout(timer);
  return { code, stdout, stderr };
}

export interface Running {
  child: ChildProcess;
  ready: string;
  stderr: () => string;
  /** SIGTERM, then the exit code */
  stop(): Promise<number | null>;
}

/** Start `kemihost run …` and wait for its ready line. */
export async function startCli(args: string[], timeoutMs = 60_000): Promise<Running> {
  const child = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const ready = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`no ready line within ${String(timeoutMs)} ms; stderr: ${err}`));
    }, timeoutMs);
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      const line = out.split('\n').find((l) => l.startsWith('kemihost ready'));
      if (line !== undefined) {
        clearTimeout(timer);
        resolve(line);
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`exited with ${String(code)} before ready; stderr: ${err}`));
    });
  });
  return {
    child,
    ready,
    stderr: () => err,
    stop: async () => {
      if (child.exitCode !== null) return child.exitCode;
      child.kill('SIGTERM');
      const [code] = (await once(child, 'exit')) as [number | null];
      return code;
    },
  };
}

/** "kemihost ready listen=udp:127.0.0.1:40000,tcp:… http=… script=… engine=lua" → fields */
export function parseReady(line: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of line.split(' ').slice(2)) {
    const i = part.indexOf('=');
    if (i > 0) out[part.slice(0, i)] = part.slice(i + 1);
  }
  return out;
}

export function portOf(ready: string, proto: 'udp' | 'tcp'): number {
  const addr = (parseReady(ready).listen ?? '').split(',').find((a) => a.startsWith(`${proto}:`)) ?? '';
  return Number(addr.slice(addr.lastIndexOf(':') + 1));
}

/** The command succeeded (exit 0); its output for more checks. */
export function ok(r: Finished): Finished {
  assert.equal(r.code, 0, `exit ${String(r.code)}: ${r.stderr}`);
  return r;
}

/** The command was refused: exit 1 with one line on stderr matching `pattern`. */
export function refused(r: Finished, pattern: RegExp): void {
  assert.equal(r.code, 1, r.stderr);
  assert.match(r.stderr, pattern);
  assert.equal(r.stderr.trimEnd().split('\n').length, 1, r.stderr);
}
