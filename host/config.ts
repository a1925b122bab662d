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
import { absoluteDbUrls, dbSectionSchema, dbUrlSchema } from './db/config.js';
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
  max_unsent_bytes: 65_536,
  stalled_timeout_ms: 30_000,
};

/** Backpressure for a listener (host/backpressure.ts): the same two keys for http and rpc. */
const maxUnsent = (d: number) => z.number().int().min(16_384).max(67_108_864).default(d)
  .describe('past this many bytes of answers not yet taken by a client, stop reading its further requests (at least 16384: node signals a full socket from there)');
const stalledTimeout = (d: number) => z.number().int().min(100).max(600_000).default(d)
  .describe('close a client that has answers waiting past max_unsent_bytes and takes none of them for this long (one answer must be taken whole within it)');

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
    max_unsent_bytes: maxUnsent(HTTP_DEFAULTS.max_unsent_bytes),
    stalled_timeout_ms: stalledTimeout(HTTP_DEFAULTS.stalled_timeout_ms),
  })
  .strict()
  .refine((h) => h.headers_timeout_ms <= h.request_timeout_ms, {
    message: 'headers_timeout_ms must not be greater than request_timeout_ms',
    path: ['headers_timeout_ms'],
  })
  .default(HTTP_DEFAULTS);

/** The control RPC (host/rpc): JSON-RPC 2.0 over HTTP and /metrics; off unless asked for. */
const RPC_DEFAULTS = { listen: 'off', token: null, max_body_bytes: 65_536, request_timeout_ms: 10_000, max_connections: 16, max_unsent_bytes: 65_536, stalled_timeout_ms: 10_000 };

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
    max_unsent_bytes: maxUnsent(RPC_DEFAULTS.max_unsent_bytes),
    stalled_timeout_ms: stalledTimeout(RPC_DEFAULTS.stalled_timeout_ms),
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
    lua: z
      .object({
        stdlib: z.enum(['safe', 'full']).default('safe')
          .describe('safe: the Lua language and its pure libraries, nothing that reaches files, processes, the environment or the host; full: fengari\'s whole library (io, os.execute, os.exit, package, debug) for a trusted script, see docs/lua.md'),
      })
      .strict()
      .default({ stdlib: 'safe' }),
    log: z
      .object({ level: z.enum(['error', 'warn', 'info', 'debug']).default('info').describe('log level') })
      .strict()
      .default({ level: 'info' }),
    limits: z
      .object({
        cpu_ms: z.number().int().min(0).max(60_000).default(100).describe('how much CPU time one script callback may use, in ms, KSR calls included, before it is stopped (500 to the request, script:cpu_limit); 0 = unlimited. CPU time, not elapsed time, so a callback slowed by a loaded machine is not stopped early (Lua: the CPU time of the thread running it; JS: of the process). Lua: checked every 1000 instructions and during long library calls. JS: checked at every KSR call; a loop of the script\'s own code (no KSR calls) is stopped by isolated-vm\'s wall-clock timeout at 8 x cpu_ms (docs/decisions.md)'),
        memory_mb: z.number().int().min(8).max(4096).default(128).describe('memory per script instance, both engines (500 to the request, script:memory_limit). JS: the isolate\'s heap; a callback that goes over it fails and the instance is rebuilt from the same source; one allocation so large that V8 gives up at once ends the process (exit 134; docs/decisions.md, "Out of memory in a script"). Lua: what one callback allocates while it runs, see docs/lua.md'),
        max_message_bytes: z.number().int().min(1024).max(65_535).default(65_535).describe('largest SIP message accepted'),
        wait_ms: z.number().int().min(0).max(3_600_000).default(30_000).describe('how long one KSR call that waits in place (async.sleep, http_client, sqlops…; docs/waiting.md) may wait before it returns its failure value (wait:timeouts); 0 = no limit'),
        max_waiting: z.number().int().min(0).max(10_000_000).default(100_000).describe('callbacks that may wait in place at once; a further waiting call returns its failure value at once (wait:refused)'),
      })
      .strict()
      .default({ cpu_ms: 100, memory_mb: 128, max_message_bytes: 65_535, wait_ms: 30_000, max_waiting: 100_000 }),
    sip: z
      .object({
        server_header: z.string().nullable().default('kemihost').describe('Server header in our replies; null for none'),
        tcp_idle_timeout_ms: z.number().int().min(1000).default(600_000).describe('close a TCP connection idle this long'),
        tcp_partial_timeout_ms: z.number().int().min(100).default(10_000).describe('close a TCP peer that stops mid-message this long'),
        tcp_max_connections: z.number().int().min(1).default(4096).describe('TCP connections at most (in and out)'),
        tcp_max_unsent_bytes: z.number().int().min(16_384).max(67_108_864).default(65_536)
          .describe('past this many bytes not yet taken by a TCP peer, stop reading from it until it catches up (Kamailio\'s tcp_conn_wq_max is 32 KiB; at least 16384, where node signals a full socket)'),
        tcp_stalled_timeout_ms: z.number().int().min(100).max(600_000).default(10_000)
          .describe('close a TCP peer that has more than tcp_max_unsent_bytes waiting and takes none of it for this long (Kamailio: tcp_send_timeout, 10 s)'),
      })
      .strict()
      .default({ server_header: 'kemihost', tcp_idle_timeout_ms: 600_000, tcp_partial_timeout_ms: 10_000, tcp_max_connections: 4096, tcp_max_unsent_bytes: 65_536, tcp_stalled_timeout_ms: 10_000 }),
    db_url: dbUrlSchema,
    db: dbSectionSchema,
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

/** Read a YAML config file. `script`, relative sqlite db_urls, permissions' address_file, dispatcher's list_file and http_client's config_file are made absolute, relative to the file's directory. */
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
  absoluteDbUrls(cfg, resolve(dirname(path)));
  // Kamailio reads a relative address_file from the cfg file's directory
  const perm = cfg.modules.permissions;
  if (perm !== undefined && typeof perm.address_file === 'string') perm.address_file = resolve(dirname(path), perm.address_file);
  const ds = cfg.modules.dispatcher;
  if (ds !== undefined && typeof ds.list_file === 'string') ds.list_file = resolve(dirname(path), ds.list_file);
  const hc = cfg.modules.http_client;
  if (hc !== undefined && typeof hc.config_file === 'string' && hc.config_file !== '') hc.config_file = resolve(dirname(path), hc.config_file);
  return cfg;
}
