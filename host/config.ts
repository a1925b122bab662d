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
import { isLoopback } from './rpc/loopback.js';
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

/**
 * The HTTP listener and its connection limits: every wait a client can impose has a timeout,
 * every connection counts. (What a request may carry, like its body size, is the xhttp module's.)
 */
const HTTP_DEFAULTS = {
  listen: DEFAULT_HTTP,
  max_header_bytes: 16_384,
  headers_timeout_ms: 10_000,
  request_timeout_ms: 30_000,
  keepalive_timeout_ms: 5_000,
  max_connections: 1024,
};

const httpSchema = z
  .object({
    listen: hostPortOrOff.default(HTTP_DEFAULTS.listen).describe('the HTTP listener (xhttp), host:port or off'),
    max_header_bytes: z.number().int().min(1024).max(1_048_576).default(HTTP_DEFAULTS.max_header_bytes)
      .describe('largest request line + header section accepted; a larger one gets 431 and the connection is closed'),
    headers_timeout_ms: z.number().int().min(100).default(HTTP_DEFAULTS.headers_timeout_ms)
      .describe('a client must send the whole header section within this long, else 408 and the connection is closed'),
    request_timeout_ms: z.number().int().min(100).default(HTTP_DEFAULTS.request_timeout_ms)
      .describe('a client must send the whole request (headers and body) within this long, else 408 and the connection is closed; not less than headers_timeout_ms'),
    keepalive_timeout_ms: z.number().int().min(100).default(HTTP_DEFAULTS.keepalive_timeout_ms)
      .describe('close a kept-alive connection idle this long between requests'),
    max_connections: z.number().int().min(1).default(HTTP_DEFAULTS.max_connections)
      .describe('HTTP connections open at most; one more is closed as soon as it is accepted'),
  })
  .strict()
  .refine((h) => h.headers_timeout_ms <= h.request_timeout_ms, {
    message: 'headers_timeout_ms must not be greater than request_timeout_ms',
    path: ['headers_timeout_ms'],
  })
  .default(HTTP_DEFAULTS);

/** The control RPC (host/rpc): JSON-RPC 2.0 over HTTP and /metrics; off unless asked for. */
const RPC_DEFAULTS = { listen: 'off', token: null, max_body_bytes: 65_536, request_timeout_ms: 10_000, max_connections: 16 };

const rpcSchema = z
  .object({
    listen: hostPortOrOff.default(RPC_DEFAULTS.listen)
      .describe('the control RPC listener (JSON-RPC 2.0 over HTTP POST, and GET /metrics), host:port or off; a non-loopback address needs rpc.token'),
    token: z.string().min(16).regex(/^[\x21-\x7e]+$/, { message: 'expected printable ASCII without spaces' }).nullable().default(RPC_DEFAULTS.token)
      .describe('when set, every RPC request must carry "Authorization: Bearer <token>" (at least 16 characters); null = none, loopback only'),
    max_body_bytes: z.number().int().min(256).max(16_777_216).default(RPC_DEFAULTS.max_body_bytes)
      .describe('largest RPC request body; a larger one gets 413 and the connection is closed'),
    request_timeout_ms: z.number().int().min(100).default(RPC_DEFAULTS.request_timeout_ms)
      .describe('a client must send its whole request within this long, else 408 and the connection is closed'),
    max_connections: z.number().int().min(1).default(RPC_DEFAULTS.max_connections)
      .describe('RPC connections open at most; one more is closed as soon as it is accepted'),
  })
  .strict()
  .refine((r) => r.token !== null || r.listen === 'off' || isLoopback(r.listen.replace(/:\d+$/, '')), {
    message: 'a control RPC on a non-loopback address needs a token: set rpc.token (or listen on 127.0.0.1 / [::1])',
    path: ['token'],
  })
  .default(RPC_DEFAULTS);

/** Hot reload (host/reload): SIGHUP and the RPC always reload; watching the file is opt-in. */
const reloadSchema = z
  .object({
    watch: z.boolean().default(false).describe('reload when the script file changes, as `kemihost run --watch`'),
    debounce_ms: z.number().int().min(10).max(10_000).default(200)
      .describe('with watch: reload this long after the last change to the file (an editor\'s save is several events)'),
  })
  .strict()
  .default({ watch: false, debounce_ms: 200 });

export const configSchema = z
  .object({
    script: z.string().min(1).optional().describe('the routing script (.lua or .js); relative to the config file'),
    listen: z.array(listenSpec).min(1).default(DEFAULT_LISTEN).describe('SIP listen addresses, proto:host:port'),
    aliases: z.array(z.string()).default([]).describe('other host[:port] names that is_myself() treats as this server'),
    http: httpSchema,
    rpc: rpcSchema,
    reload: reloadSchema,
    log: z
      .object({ level: z.enum(['error', 'warn', 'info', 'debug']).default('info').describe('log level') })
      .strict()
      .default({ level: 'info' }),
    limits: z
      .object({
        cpu_ms: z.number().int().min(0).max(60_000).default(100).describe('how long one script callback may run, in ms, before it is stopped (500 to the request, script:cpu_limit); 0 = unlimited. Elapsed time, KSR calls included: on a host starved of CPU a callback can be stopped early, so keep it well above the slowest callback. In the JS engine a loop of the script\'s own code is stopped between cpu_ms and a quarter more (isolated-vm\'s timeout deadlines are grouped, see docs/decisions.md); its KSR calls check the limit exactly'),
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
