/** `npm run gen`: write the generated reference files (a test fails when they drift). */
import { writeFileSync } from 'node:fs';
import { pino } from 'pino';
import { MODULES } from '../bindings/index.js';
import { renderConfigDocs } from './config-docs.js';
import { validateConfig } from './config.js';
import { renderDts, renderLuacheckrc } from './kemi/api-docs.js';
import { KemiRegistry } from './kemi/registry.js';
import { NO_SCRIPT } from './kemi/offline-script.js';
import { Myself } from './sip/myself.js';

export function generatedFiles(): Record<string, string> {
  const registry = new KemiRegistry(MODULES, {
    log: pino({ level: 'silent' }),
    myself: new Myself(),
    script: NO_SCRIPT,
    params: validateConfig({}).modules,
  });
  const files = {
    'docs/configuration.md': renderConfigDocs(),
    'scripts/types/ksr.d.ts': renderDts(registry),
    'scripts/types/KSR.luacheckrc': renderLuacheckrc(registry),
  };
  void registry.close();
  return files;
}

if (process.argv[1] !== undefined && import.meta.url.endsWith(process.argv[1].split('/').pop() ?? '')) {
  for (const [path, text] of Object.entries(generatedFiles())) writeFileSync(new URL(`../${path}`, import.meta.url), text);
}
