/**
 * The rule every database test follows (test/helpers/databases.ts): a server that is not
 * reachable makes the test skip, saying why, outside CI, and fail with CI=true.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { closedPort } from '../helpers/tcp-proxy.js';

const FIXTURE = fileURLToPath(new URL('../fixtures/db/needs-servers.ts', import.meta.url));

async function runFixture(ci: boolean): Promise<{ code: number | null; out: string }> {
  const port = String(await closedPort());
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    KEMIHOST_TEST_MYSQL_URL: `mysql://root@127.0.0.1:${port}/test`,
    KEMIHOST_TEST_PG_URL: `postgres://postgres@127.0.0.1:${port}/test`,
  };
  if (ci) env.CI = 'true';
  else delete env.CI;
  // node:test marks its child processes; without this the fixture would not run as a test file of its own
  delete env.NODE_TEST_CONTEXT;
  const child = spawn(process.execPath, ['--import', 'tsx', '--test', '--test-reporter=tap', FIXTURE], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
  const [code] = (await once(child, 'exit')) as [number | null];
  clearTimeout(timer);
  return { code, out };
}

test('an unreachable database server: skip with the reason outside CI, fail with CI=true', async () => {
  const local = await runFixture(false);
  assert.equal(local.code, 0, local.out);
  assert.match(local.out, /# skipped 2/);
  assert.match(local.out, /# SKIP MariaDB\/MySQL not reachable on 127\.0\.0\.1:\d+: .*cannot connect/);
  assert.match(local.out, /# SKIP PostgreSQL not reachable on 127\.0\.0\.1:\d+: /);
  const ci = await runFixture(true);
  assert.notEqual(ci.code, 0, ci.out);
  assert.match(ci.out, /# fail 2/);
  assert.match(ci.out, /CI=true: the store tests need it/);
});
