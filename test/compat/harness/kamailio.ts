/**
 * Kamailio 5.6 as a test peer: started in the foreground in its own process group with a
 * generated kamailio.cfg, one UDP and one TCP worker, ready when a TCP worker answers a CRLF
 * keep-alive ping (RFC 5626 §4.4.1: it does so without running the script, so readiness costs
 * the script nothing), stopped by its PID and then its group. Its log goes to a file in its
 * temporary directory, which is kept when a test fails.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../../helpers/sipp.js';
import { kamailioCfg, type ModuleSpec, type ScriptEngine } from './kamailio-cfg.js';

export const KAMAILIO_BIN = process.env.KAMAILIO_BIN ?? '/usr/sbin/kamailio';
export const KAMAILIO_MODULES = process.env.KAMAILIO_MODULES ?? '/usr/lib/x86_64-linux-gnu/kamailio/modules';
const READY_TIMEOUT_MS = 15_000;
const STOP_TIMEOUT_MS = 3_000;

/** Why Kamailio cannot run this engine's scripts here, or null when it can. */
export function kamailioMissing(engine: ScriptEngine, modules: readonly string[] = []): string | null {
  if (!existsSync(KAMAILIO_BIN)) return `kamailio is not installed (${KAMAILIO_BIN}); install kamailio kamailio-lua-modules (see .ci/run)`;
  const app = engine === 'lua' ? 'app_lua' : 'app_jsdt';
  // a suite's own modules too: some come in other packages (http_client: kamailio-utils-modules)
  for (const m of [app, ...modules]) {
    if (!existsSync(join(KAMAILIO_MODULES, `${m}.so`))) return `Kamailio module ${m} is not installed in ${KAMAILIO_MODULES} (see .ci/run)`;
  }
  return null;
}

/** Process groups still running; killed when this process exits however it exits. */
const running = new Set<number>();
let hooked = false;
function killAll(): void {
  for (const pgid of running) {
    try {
      process.kill(-pgid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  running.clear();
}

/** On exit, and on a signal that ends the test process (then the signal is raised again, to end it as it would have). */
function killAllOnExit(): void {
  if (hooked) return;
  hooked = true;
  process.once('exit', killAll);
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(sig, () => {
      killAll();
      process.kill(process.pid, sig);
    });
  }
}

function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch {
    return false;
  }
}

/** One CRLF CRLF ping over TCP; true when the CRLF pong comes back. */
function pingTcp(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = net.connect({ port, host: '127.0.0.1' });
    const done = (ok: boolean): void => {
      sock.destroy();
      resolve(ok);
    };
    sock.setTimeout(500, () => { done(false); });
    sock.once('error', () => { done(false); });
    sock.once('connect', () => sock.write('\r\n\r\n'));
    sock.once('data', (d: Buffer) => { done(d.toString('latin1').startsWith('\r\n')); });
  });
}

export interface KamailioOptions {
  engine: ScriptEngine;
  /** the KEMI script's source */
  script: string;
  modules: ModuleSpec;
}

export class Kamailio {
  private failed = false;

  private constructor(
    readonly port: number,
    readonly dir: string,
    private readonly proc: ChildProcess,
    readonly pid: number,
  ) {}

  /** Start it and wait until a worker answers; rejects with the log's tail when it exits instead. */
  static async start(o: KamailioOptions): Promise<Kamailio> {
    const dir = mkdtempSync(join(tmpdir(), 'kh-compat-kam-'));
    const scriptPath = join(dir, o.engine === 'lua' ? 'script.lua' : 'script.js');
    writeFileSync(scriptPath, o.script);
    const port = await freePort();
    const cfg = join(dir, 'kamailio.cfg');
    writeFileSync(cfg, kamailioCfg({ engine: o.engine, scriptPath, port, modules: o.modules, modulesDir: KAMAILIO_MODULES }));
    const logFd = openSync(join(dir, 'kamailio.log'), 'w');
    // a group of its own so that stop() reaches the workers too
    const proc = spawn(KAMAILIO_BIN, ['-f', cfg, '-DD', '-E', '-m', '64', '-M', '8', '-P', join(dir, 'kamailio.pid'), '-Y', dir, '-w', dir], {
      stdio: ['ignore', logFd, logFd],
      detached: true,
    });
    closeSync(logFd);
    const pid = proc.pid;
    if (pid === undefined) throw new Error(`compat: kamailio did not start (${KAMAILIO_BIN})`);
    running.add(pid);
    killAllOnExit();
    const k = new Kamailio(port, dir, proc, pid);
    const end = Date.now() + READY_TIMEOUT_MS;
    for (;;) {
      if (proc.exitCode !== null || proc.signalCode !== null) {
        k.failed = true;
        await k.stop();
        throw new Error(`compat: kamailio exited during start-up (${String(proc.exitCode ?? proc.signalCode)}); log ${k.logPath}:\n${k.logTail()}`);
      }
      if (await pingTcp(port)) return k;
      if (Date.now() > end) {
        k.failed = true;
        await k.stop();
        throw new Error(`compat: kamailio not ready after ${String(READY_TIMEOUT_MS)} ms; log ${k.logPath}:\n${k.logTail()}`);
      }
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  get logPath(): string {
    return join(this.dir, 'kamailio.log');
  }

  /** the last lines of its log, for an assertion message */
  logTail(lines = 40): string {
    try {
      return readFileSync(this.logPath, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
    } catch {
      return '(no log)';
    }
  }

  /** a test that used this Kamailio failed: keep its directory (config, script, log) */
  markFailed(): void {
    this.failed = true;
  }

  /** SIGTERM to the main process, then SIGKILL to the whole group if anything is left. */
  async stop(): Promise<void> {
    if (this.proc.exitCode === null && this.proc.signalCode === null) {
      this.proc.kill('SIGTERM');
      const timer = setTimeout(() => { this.killGroup(); }, STOP_TIMEOUT_MS);
      await once(this.proc, 'exit');
      clearTimeout(timer);
    }
    const end = Date.now() + STOP_TIMEOUT_MS;
    while (groupAlive(this.pid) && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
    this.killGroup();
    running.delete(this.pid);
    if (!this.failed) rmSync(this.dir, { recursive: true, force: true });
  }

  private killGroup(): void {
    try {
      process.kill(-this.pid, 'SIGKILL');
    } catch {
      // the group is gone
    }
  }
}
