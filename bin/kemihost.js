#!/usr/bin/env node
// Starts host/cli.ts in a Node process that has what kemihost needs: the TypeScript loader
// (tsx) and --no-node-snapshot, without which isolated-vm crashes on Node 20. Users never
// type either; signals are passed on so SIGTERM/SIGINT/SIGHUP reach the server.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { constants } from 'node:os';

const cli = fileURLToPath(new URL('../host/cli.ts', import.meta.url));
const tsx = import.meta.resolve('tsx');
const child = spawn(process.execPath, ['--no-node-snapshot', '--import', tsx, cli, ...process.argv.slice(2)], {
  stdio: 'inherit',
});
for (const sig of ['SIGTERM', 'SIGINT', 'SIGHUP']) {
  process.on(sig, () => {
    if (child.exitCode === null) child.kill(sig);
  });
}
child.on('exit', (code, signal) => {
  // a child killed by a signal exits like a shell reports it: 128 + the signal number
  process.exitCode = code ?? 128 + (signal === null ? 0 : (constants.signals[signal] ?? 0));
});
