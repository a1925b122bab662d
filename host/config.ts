/**
 * The configuration file (YAML) and every default, in one place. Module sections use
 * Kamailio's parameter names; each binding's schema comes from its own KSR table, so an
 * unknown key anywhere is an error naming its path.
 */
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { MODULES } from '../bindings/index.js';
import { KemiError } from './errors.js';
import { parseListen } from './sip/listen.js';

export const DEFAULT_LISTEN = ['udp:127.0.0.1:5060', 'tcp:127.0.0.1:5060'];
export const DEFAULT_HTTP = '127.0.0.1:8080';
export const DEFAULT_SCRIPT = 'scripts/default.lua';

const listenSpec = z.string().superRefine((s, ctx) => {
  try {
    parseListen(s);
  } catch (e) {
    ctx.addIssue({ code: 'custom', message: (e as Error).message });
  }
});

/** "host:port" or "off" */
export const hostPortOrOff = z.string().regex(/^(off|(\[[0-9a-fA-F:.]+\]|[0-9.]+|localhost):\d{1,5})$/, {
  message: 'expected host:port (e.g. 127.0.0.1:8080, [::1]:8080) or off',
});

function moduleParamsSchema(): z.ZodType<Record<string, Record<string, unknown>>> {
  const shape: Record<string, z.ZodType> = {};
  for (const m of MODULES) {
    if (m.params !== undefined) shape[m.name === '' ? 'core' : m.name] = m.params.optional();
  }
  return z.object(shape).strict().default({}) as unknown as z.ZodType<Record<string, Record<string, unknown>>>;
}

export const configSchema = z
  .object({
    script: z.string().min(1).optional().describe('the routing script (.lua or .js); relative to the config file'),
    listen: z.array(listenSpec).min(1).default(DEFAULT_LISTEN).describe('SIP listen addresses, proto:host:port'),
    aliases: z.array(z.string()).default([]).describe('other host[:port] names that is_myself() treats as this server'),
    http: z
      .object({ listen: hostPortOrOff.default(DEFAULT_HTTP).describe('the HTTP listener (xhttp), host:port or off') })
      .strict()
      .default({ listen: DEFAULT_HTTP }),
    rpc: z
      .object({ listen: hostPortOrOff.default('off').describe('the control RPC listener, host:port or off') })
      .strict()
      .default({ listen: 'off' }),
    log: z
      .object({ level: z.enum(['error', 'warn', 'info', 'debug']).default('info').describe('log level') })
      .strict()
      .default({ level: 'info' }),
    limits: z
      .object({
        cpu_ms: z.number().int().min(0).max(60_000).default(100).describe('CPU time one script callback may use; 0 = unlimited'),
        memory_mb: z.number().int().min(8).max(4096).default(128).describe('memory per script instance (JS engine)'),
        max_message_bytes: z.number().int().min(1024).max(65_535).default(65_535).describe('largest SIP message accepted'),
      })
      .strict()
      .default({ cpu_ms: 100, memory_mb: 128, max_message_bytes: 65_535 }),
    sip: z
      .object({
        server_header: z.string().nullable().default('kemihost').describe('Server header in our replies; null for none'),
        tcp_idle_timeout_ms: z.number().int().min(1000).default(600_000).describe('close a TCP connection idle this long'),
        tcp_partial_timeout_ms: z.number().int().min(100).default(10_000).describe('close a TCP peer that stops mid-message this long'),
        tcp_max_connections: z.number().int().min(1).default(4096).describe('TCP connections at most (in and out)'),
      })
      .strict()
      .default({ server_header: 'kemihost', tcp_idle_timeout_ms: 600_000, tcp_partial_timeout_ms: 10_000, tcp_max_connections: 4096 }),
    modules: moduleParamsSchema().describe('module parameters, by Kamailio module name'),
  })
  .strict();

export type Config = z.infer<typeof configSchema>;

/** "modules.maxfwd.max_limit: expected number, received string" */
function describeIssues(err: z.ZodError, source: string): string {
  return err.issues
    .map((i) => {
      const path = i.path.map(String).join('.');
      if (i.code === 'unrecognized_keys') {
        const where = path === '' ? '' : `${path}.`;
        return `${source}: unknown key ${i.keys.map((k) => `"${where}${k}"`).join(', ')}`;
      }
      return `${source}: ${path === '' ? '(top level)' : path}: ${i.message}`;
    })
    .join('\n');
}

/** Validate a config object; throws KemiError KEMI_ERR_CONFIG naming the key and the expected form. */
export function validateConfig(raw: unknown, source = 'config'): Config {
  const r = configSchema.safeParse(raw ?? {});
  if (!r.success) throw new KemiError('KEMI_ERR_CONFIG', describeIssues(r.error, source));
  return r.data;
}

/** Read a YAML config file. `script` is made absolute, relative to the file's directory. */
export function loadConfigFile(path: string): Config {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new KemiError('KEMI_ERR_CONFIG', `cannot read config file ${path}: ${(e as Error).message}`);
  }
  let raw: unknown;
  try {
    raw = parseYaml(text);
  } catch (e) {
    throw new KemiError('KEMI_ERR_CONFIG', `${path}: invalid YAML: ${(e as Error).message}`);
  }
  const cfg = validateConfig(raw, path);
  if (cfg.script !== undefined) cfg.script = resolve(dirname(path), cfg.script);
  return cfg;
}
