/**
 * `npm run bench`: every benchmark in turn, each in its own process (so one's JIT state or
 * leftovers cannot colour the next). Each prints `name value unit` lines on stdout; progress
 * and notes go to stderr. Pick some with arguments: `npm run bench -- hot-path sip-options`.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const BENCHES = ['hot-path', 'sip-parse', 'js-engine', 'sip-options', 'xhttp', 'wait-in-place', 'http-async-client', 'jsonrpc', 'reload', 'rr', 'db', 'registrar', 'peer-input', 'unread-peer', 'permissions', 'media-relay', 'auth', 'proxy-call', 'media-call'];
const dir = fileURLToPath(new URL('.', import.meta.url));
const wanted = process.argv.slice(2);
let failed = 0;
for (const name of wanted.length > 0 ? wanted : BENCHES) {
  const file = `${dir}${name}.ts`;
  if (!existsSync(file)) {
    process.stderr.write(`# ${name}: no such benchmark (bench/${name}.ts)\n`);
    failed++;
    continue;
  }
  process.stderr.write(`# ${name}\n`);
  const r = spawnSync(process.execPath, ['--no-node-snapshot', '--import', 'tsx', file], { stdio: 'inherit' });
  if (r.status !== 0) {
    process.stderr.write(`# ${name}: exited ${String(r.status ?? r.signal)}\n`);
    failed++;
  }
}
process.exitCode = failed > 0 ? 1 : 0;
