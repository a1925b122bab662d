import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { generatedFiles } from '../../host/gen-docs.js';

for (const [path, text] of Object.entries(generatedFiles())) {
  test(`${path} matches what the registry and schema generate (run \`npm run gen\` after a change)`, () => {
    assert.equal(readFileSync(new URL(`../../${path}`, import.meta.url), 'utf8'), text);
  });
}
