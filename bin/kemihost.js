#!/usr/bin/env node
// Starts host/cli.ts in a Node process that has what kemihost needs: the TypeScript loader
// (tsx) and --no-node-snapshot, without which isolated-vm crashes on Node 20. Users never
// type either; signals are passed on so SIGTERM/SIGINT/SIGHUP reach the server.
//
// `kemihost run` is also supervised here: a server that was ready and then died on its own (a
// fatal V8 out-of-memory abort in a script is the known case: docs/decisions.md, "Out of memory
// in a script") is started again, at most MAX_RESTARTS times a minute, so the operator's server
// serves on. What lived only in its memory (transactions, htable, dialogs) is lost; what is in
// a database is not. A start-up failure, or an exit asked for by a signal, is never retried.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { constants } from 'node:os';

const cli = fileURLToPath(new URL('../host/cli.ts', import.meta.url));
const tsx = import.meta.resolve('tsx');
const args = process.argv.slice(2);
const supervised = args[0] === 'run';
const MAX_RESTARTS = 10;
const READY = 'kemihost ready ';

let child = null;
let stopping = false;
let restarts = 0;
const recent = [];

function exitCodeOf(code, signal) {
  // a child killed by a signal exits like a shell reports it: 128 + the signal number
  return code ?? 128 + (signal === null ? 0 : (constants.signals[signal] ?? 0));
}

function start() {
  if (stopping) return;
  const env = { ...process.env, KEMIHOST_RESTARTS: String(restarts) };
  child = spawn(process.execPath, ['--no-node-snapshot', '--import', tsx, cli, ...args], {
    stdio: ['inherit', supervised ? 'pipe' : 'inherit', 'inherit'],
    env,
  });
  let ready = false;
  if (supervised) {
    let pending = '';
    child.stdout.on('data', (d) => {
      process.stdout.write(d);
      if (ready) return;
      pending += d.toString();
      if (pending.includes(READY)) ready = true;
      else pending = pending.slice(-READY.length);
    });
  }
  child.on('exit', (code, signal) => {
    const now = Date.now();
    while (recent.length > 0 && now - recent[0] > 60_000) recent.shift();
    if (supervised && ready && !stopping && code !== 0 && recent.length < MAX_RESTARTS) {
      recent.push(now);
      restarts++;
      process.stderr.write(`${JSON.stringify({ level: 50, time: now, name: 'kemihost', module: 'supervisor', code, signal, restarts, msg: 'the server stopped unexpectedly; starting it again' })}\n`);
      setTimeout(start, 200 * recent.length);
      return;
    }
    process.exitCode = exitCodeOf(code, signal);
  });
}

for (const sig of ['SIGTERM', 'SIGINT', 'SIGHUP']) {
  process.on(sig, () => {
    if (sig !== 'SIGHUP') stopping = true;
    if (child !== null && child.exitCode === null) child.kill(sig);
  });
}
start();
