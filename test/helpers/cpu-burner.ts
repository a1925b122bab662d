/**
 * A child process that keeps the machine's cores busy, to run a test on a loaded machine. It
 * exits by itself after `maxMs`; stop() kills it by its PID and waits for it.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';

export interface Burner {
  stop(): Promise<void>;
}

/** Start `threads` busy threads in one child process; resolves once they all run. */
export async function startBurner(threads: number, maxMs: number): Promise<Burner> {
  const code = `
    const { Worker } = require('node:worker_threads');
    let online = 0;
    for (let i = 0; i < ${String(threads)}; i++) {
      new Worker('for (;;) {}', { eval: true }).on('online', () => { if (++online === ${String(threads)}) console.log('burning'); });
    }
    setTimeout(() => process.exit(0), ${String(maxMs)});`;
  const child = spawn(process.execPath, ['-e', code], { stdio: ['ignore', 'pipe', 'inherit'] });
  const exited = once(child, 'exit');
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null && child.pid !== undefined) process.kill(child.pid, 'SIGKILL');
    await exited;
  };
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => { reject(new Error('the CPU burner did not start within 10 s')); }, 10_000);
      child.stdout.on('data', (d: Buffer) => {
        if (d.toString().includes('burning')) {
          clearTimeout(timer);
          resolve();
        }
      });
      child.on('exit', () => {
        clearTimeout(timer);
        reject(new Error('the CPU burner exited early'));
      });
    });
  } catch (e) {
    await stop();
    throw e;
  }
  return { stop };
}
