/**
 * docs/configuration.md, rendered from the config schema (defaults and descriptions live in
 * the schema), so the reference cannot drift from what `kemihost run` accepts.
 */
import { z } from 'zod';
import { configSchema } from './config.js';

interface JsonSchema {
  type?: string | string[];
  description?: string;
  default?: unknown;
  properties?: Record<string, JsonSchema>;
  additionalProperties?: JsonSchema | boolean;
  items?: JsonSchema;
  enum?: unknown[];
  anyOf?: JsonSchema[];
  minimum?: number;
  maximum?: number;
}

function typeOf(s: JsonSchema): string {
  if (s.enum !== undefined) return s.enum.map((v) => JSON.stringify(v)).join(' \\| ');
  if (s.anyOf !== undefined) return s.anyOf.map(typeOf).join(' \\| ');
  if (s.type === 'array' && s.items !== undefined) return `list of ${typeOf(s.items)}`;
  const t = Array.isArray(s.type) ? s.type.join(' \\| ') : (s.type ?? 'any');
  const max = s.maximum !== undefined && s.maximum < Number.MAX_SAFE_INTEGER ? s.maximum : undefined;
  const min = s.minimum !== undefined && s.minimum > Number.MIN_SAFE_INTEGER ? s.minimum : undefined;
  if (min !== undefined && max !== undefined) return `${t} (${String(min)}..${String(max)})`;
  if (min !== undefined) return `${t} (≥ ${String(min)})`;
  if (max !== undefined) return `${t} (≤ ${String(max)})`;
  return t;
}

function rows(s: JsonSchema, path: string, out: string[]): void {
  const isObject = s.properties !== undefined || (typeof s.additionalProperties === 'object');
  if (path !== '' && !(isObject && s.description === undefined)) {
    const def = s.default === undefined || isObject ? '' : `\`${JSON.stringify(s.default)}\``;
    out.push(`| \`${path}\` | ${typeOf(s)} | ${def} | ${(s.description ?? '').replaceAll('|', '\\|')} |`);
  }
  for (const [k, v] of Object.entries(s.properties ?? {})) rows(v, path === '' ? k : `${path}.${k}`, out);
  if (typeof s.additionalProperties === 'object') rows(s.additionalProperties, `${path}.<name>`, out);
}

export function renderConfigDocs(): string {
  const schema = z.toJSONSchema(configSchema, { io: 'input', unrepresentable: 'any' }) as JsonSchema;
  const out = [
    '# Configuration reference',
    '',
    'Generated from the config schema by `npm run gen`; a test fails when this file and the',
    'schema disagree. The file is YAML (`kemihost run -c file.yaml`); command-line flags override it.',
    'An unknown key or a wrong type stops `kemihost run` with the key path and the expected form.',
    'Module sections (`modules.<name>`) use Kamailio\'s parameter names.',
    '',
    '| key | type | default | meaning |',
    '|---|---|---|---|',
  ];
  rows(schema, '', out);
  return `${out.join('\n')}\n`;
}
