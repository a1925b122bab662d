/**
 * memory_mb bounds one callback; a script that keeps more in its globals on every call is
 * stopped before V8's out-of-memory abort would end the process. Run in a child node with a
 * 64 MB heap (test/fixtures/lua/leak-child.ts): the child must exit normally, having seen
 * KEMI_ERR_MEMORY_LIMIT, instead of aborting.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';

const CHILD = fileURLToPath(new URL('../fixtures/lua/leak-child.ts', import.meta.url));

describe('LuaEngine: the process heap guard', () => {
  it('stops a callback of a leaking script before the process runs out of heap', () => {
    const r = spawnSync(process.execPath, ['--max-old-space-size=64', '--import', 'tsx', CHILD], { encoding: 'utf8', timeout: 60_000 });
    assert.equal(r.status, 0, `child ended with ${String(r.status ?? r.signal)}: ${r.stderr.slice(-400)}`);
    const out = JSON.parse(r.stdout.trim().split('\n').at(-1) ?? '{}') as { stoppedAt?: number; message?: string };
    assert.ok((out.stoppedAt ?? 0) > 0, r.stdout);
    assert.equal(out.message, 'KEMI_ERR_MEMORY_LIMIT: script stopped: the process heap is near its limit');
  });
});
