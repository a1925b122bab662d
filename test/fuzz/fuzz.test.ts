/**
 * A short seeded fuzz campaign on each engine (test/fuzz/campaign.ts), bounded to well under a
 * minute (about 20 s for both): nothing escapes the error boundary, every probe between batches is answered, and
 * memory stays bounded. `npm run fuzz -- --count N --seed S` runs a long one.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ENGINES } from '../helpers/runtime.js';
import { runCampaign } from './campaign.js';

const SEED = Number(process.env.KEMIHOST_FUZZ_SEED ?? 20261202);
const COUNT = Number(process.env.KEMIHOST_FUZZ_COUNT ?? 15000);

for (const engine of ENGINES) {
  test(`fuzz [${engine}]: ${String(COUNT)} mutated datagrams, TCP, HTTP and netstring input (seed ${String(SEED)})`, async () => {
    const r = await runCampaign({ engine, seed: SEED, count: COUNT });
    assert.equal(r.uncaught, 0, `faults escaped to the error boundary: ${JSON.stringify(r.stats)}`);
    assert.equal(r.probesAnswered, r.probes, 'every probe between batches was answered');
    assert.ok(r.sent.tcp > 0 && r.sent.http > 0 && r.sent.netstring > 0, `every kind of input was sent: ${JSON.stringify(r.sent)}`);
    assert.ok((r.stats['core:bad_msg'] ?? 0) > 0, 'some mutations were refused by the parser');
    assert.ok(r.rssGrowthMb < 256, `RSS grew ${r.rssGrowthMb.toFixed(0)} MiB`);
  });
}
