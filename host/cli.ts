/**
 * The kemihost command: run, check, api. Started by bin/kemihost.js, which supplies the Node
 * flags isolated-vm needs; users never type them.
 */
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command, InvalidArgumentError, Option } from 'commander';
import { pino } from 'pino';
import { MODULES } from '../bindings/index.js';
import { DEFAULT_SCRIPT, loadConfigFile, validateConfig, type Config } from './config.js';
import { createEngine, engineKindOf } from './engines/index.js';
import { registerCtl } from './ctl/index.js';
import { describeError, isKemiError, KemiError } from './errors.js';
import { renderDts, renderLuacheckrc, renderText, apiList } from './kemi/api-docs.js';
import { checkScript, type CheckResult } from './check/check.js';
import { KemiRegistry } from './kemi/registry.js';
import { NO_SCRIPT } from './kemi/offline-script.js';
import { createLogger, type LogLevel } from './log.js';
import { Runtime } from './runtime.js';
import { callRpc, formatResult, parseParam, type RpcReply } from './rpc/client.js';
import { Myself } from './sip/myself.js';

const PACKAGE_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const VERSION = (JSON.parse(readFileSync(join(PACKAGE_ROOT, 'package.json'), 'utf8')) as { version: string }).version;

interface RunFlags {
  config?: string;
  listen: string[];
  http?: string;
  rpc?: string;
  watch?: boolean;
  logLevel?: LogLevel;
}

function collect(v: string, acc: string[]): string[] {
  return [...acc, v];
}

/** Config file, then flags on top; the merged result is validated once, naming the bad key. */
function effectiveConfig(flags: RunFlags): Config {
  const base = flags.config === undefined ? validateConfig({}) : loadConfigFile(flags.config);
  const merged = {
    ...base,
    ...(flags.listen.length > 0 ? { listen: flags.listen } : {}),
    ...(flags.http !== undefined ? { http: { ...base.http, listen: flags.http } } : {}),
    ...(flags.rpc !== undefined ? { rpc: { ...base.rpc, listen: flags.rpc } } : {}),
    ...(flags.watch === true ? { reload: { ...base.reload, watch: true } } : {}),
    ...(flags.logLevel !== undefined ? { log: { ...base.log, level: flags.logLevel } } : {}),
  };
  return validateConfig(merged, flags.config === undefined ? 'command line' : `${flags.config} + command line`);
}

function scriptFor(arg: string | undefined, cfg: Config): string {
  if (arg !== undefined) return resolve(arg);
  if (cfg.script !== undefined) return cfg.script;
  return join(PACKAGE_ROOT, DEFAULT_SCRIPT);
}

async function run(scriptArg: string | undefined, flags: RunFlags): Promise<void> {
  const config = effectiveConfig(flags);
  const log = createLogger(config.log.level);
  const scriptPath = scriptFor(scriptArg, config);
  const rt = await Runtime.start({ config, scriptPath, log });
  // how often the launcher's supervisor (bin/kemihost.js) has started this server again
  rt.stats.gauge('core', 'restarts').value = Number(process.env.KEMIHOST_RESTARTS ?? 0) || 0;
  let closing = false;
  const shutdown = (signal: string): void => {
    if (closing) return;
    closing = true;
    log.info({ signal }, 'shutting down');
    rt.close().then(
      () => process.exit(0),
      (err: unknown) => {
        log.error({ err }, 'error while shutting down');
        process.exit(1);
      },
    );
  };
  // The last resort only: every entry point runs inside the runtime's error boundary
  // (host/boundary.ts); a fault that still escapes is counted and logged, and the server goes on.
  process.on('uncaughtException', (err) => { rt.boundary.caught('process', err); });
  process.on('unhandledRejection', (err) => { rt.boundary.caught('process', err); });
  process.on('SIGTERM', () => { shutdown('SIGTERM'); });
  process.on('SIGINT', () => { shutdown('SIGINT'); });
  // SIGHUP reloads the script (the reloader logs and counts the outcome; a failure keeps the old one).
  process.on('SIGHUP', () => {
    if (!closing) void rt.reload('signal');
  });
  // The ready line comes last, so a supervisor that acts on it finds the signal handlers in place.
  process.stdout.write(
    `kemihost ready listen=${rt.sipAddresses.join(',')} http=${rt.httpAddress ?? 'off'} rpc=${rt.rpcAddress ?? 'off'} script=${scriptPath} engine=${rt.engineKind}\n`,
  );
}

function offlineRegistry(): KemiRegistry {
  return new KemiRegistry(MODULES, {
    log: pino({ level: 'silent' }),
    myself: new Myself(),
    script: NO_SCRIPT,
    params: validateConfig({}).modules,
  });
}

interface CheckFlags {
  json?: boolean;
}

/**
 * `kemihost check`: compile (nothing of the script runs), then report one line per finding,
 * `file:line: level: text`; exit 0 when clean, 1 with errors, 2 with warnings only. `--json`
 * prints the findings as one JSON object for tools.
 */
async function check(path: string, flags: CheckFlags): Promise<void> {
  let source: string;
  try {
    source = readFileSync(path, 'utf8');
  } catch (e) {
    throw new KemiError('KEMI_ERR_SCRIPT_LOAD', `cannot read ${path}: ${(e as NodeJS.ErrnoException).code ?? describeError(e)}`);
  }
  const kind = engineKindOf(path);
  const registry = offlineRegistry();
  const engine = await createEngine(kind, { registry, log: pino({ level: 'silent' }), cpuMs: 1000, memoryMb: 128 });
  let result: CheckResult;
  try {
    result = checkScript(registry, source, kind, () => { engine.compile(source, path); });
  } finally {
    engine.dispose();
    await registry.close();
  }
  const errors = result.findings.filter((f) => f.level === 'error').length;
  const warnings = result.findings.length - errors;
  if (flags.json === true) {
    process.stdout.write(`${JSON.stringify({ file: path, engine: kind, callbacks: result.callbacks, errors, warnings, findings: result.findings })}\n`);
  } else {
    for (const f of result.findings) process.stdout.write(`${path}:${String(f.line)}: ${f.level}: ${f.text}\n`);
    process.stderr.write(`${path}: ${kind} script, callbacks: ${result.callbacks.join(', ') || 'none'}; ${String(errors)} error(s), ${String(warnings)} warning(s)\n`);
  }
  process.exitCode = errors > 0 ? 1 : warnings > 0 ? 2 : 0;
}

async function api(opts: { json?: boolean; format?: string }): Promise<void> {
  const registry = offlineRegistry();
  const format = opts.json === true ? 'json' : (opts.format ?? 'text');
  if (format === 'json') process.stdout.write(`${JSON.stringify(apiList(registry), null, 2)}\n`);
  else if (format === 'd.ts') process.stdout.write(renderDts(registry));
  else if (format === 'luacheckrc') process.stdout.write(renderLuacheckrc(registry));
  else process.stdout.write(renderText(registry));
  await registry.close();
}

interface RpcFlags {
  config?: string;
  rpcAddress?: string;
  token?: string;
  timeout: number;
}

/** where `npm start` puts the control RPC, and where `kemihost rpc` looks when told nothing else */
const DEFAULT_RPC_ADDRESS = '127.0.0.1:8081';

/** `kemihost rpc`: the address from --rpc-address, the config file's rpc.listen, else 127.0.0.1:8081; the token from --token, the environment or the file. */
async function rpcCommand(method: string, params: string[], flags: RpcFlags): Promise<void> {
  const cfg = flags.config === undefined ? null : loadConfigFile(flags.config);
  if (cfg !== null && flags.rpcAddress === undefined && cfg.rpc.listen === 'off') {
    throw new KemiError('KEMI_ERR_CONFIG', `${flags.config ?? ''}: rpc.listen is off, so there is no control RPC to call; pass --rpc-address host:port`);
  }
  const address = flags.rpcAddress ?? cfg?.rpc.listen ?? DEFAULT_RPC_ADDRESS;
  const token = flags.token ?? process.env.KEMIHOST_RPC_TOKEN ?? cfg?.rpc.token ?? null;
  let reply: RpcReply;
  try {
    reply = await callRpc({ address, token, timeoutMs: flags.timeout }, method, params.map(parseParam));
  } catch (e) {
    process.stderr.write(`kemihost rpc: ${describeError(e)}\n`);
    process.exitCode = 1;
    return;
  }
  if (reply.error !== undefined) {
    const e = reply.error;
    process.stderr.write(`kemihost rpc: ${method}: error ${String(e.code)}: ${e.message}\n`);
    if (e.data !== undefined) process.stderr.write(formatResult(e.data));
    process.exitCode = 1;
    return;
  }
  process.stdout.write(formatResult(reply.result ?? null));
}

function positiveInt(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n <= 0) throw new InvalidArgumentError('expected a positive integer');
  return n;
}

function logLevel(v: string): LogLevel {
  if (v === 'error' || v === 'warn' || v === 'info' || v === 'debug') return v;
  throw new InvalidArgumentError('expected one of error, warn, info, debug');
}

export async function main(argv: string[]): Promise<void> {
  const program = new Command('kemihost')
    .version(VERSION)
    .description('A SIP server whose routing logic is a Kamailio KEMI script (Lua or JavaScript).')
    .showHelpAfterError();
  program
    .command('run')
    .description('run the SIP server with a routing script (.lua or .js)')
    .argument('[script]', 'the routing script; default: the config file\'s, else scripts/default.lua')
    .option('-c, --config <file>', 'YAML config file; flags override it')
    .option('-l, --listen <proto:host:port>', 'SIP listen address, repeatable (udp:127.0.0.1:5060, tcp:[::1]:5060)', collect, [])
    .option('--http <host:port|off>', 'the HTTP listener (xhttp)')
    .option('--rpc <host:port|off>', 'the control RPC listener')
    .option('--watch', 'reload when the script file changes (also SIGHUP and the RPC reload)')
    .addOption(new Option('--log-level <level>', 'error, warn, info or debug').argParser(logLevel))
    .action(run);
  program
    .command('check')
    .description('read a script without running it: syntax, callbacks, KSR names and their arguments, routes and PV names; exit 0 clean, 1 errors, 2 warnings only')
    .argument('<script>')
    .option('--json', 'the findings as one JSON object')
    .action(check);
  program
    .command('api')
    .description('list every KSR function with parameter and return types, and the pseudo-variables')
    .option('--json', 'as JSON')
    .addOption(new Option('--format <format>', 'text, json, d.ts or luacheckrc').choices(['text', 'json', 'd.ts', 'luacheckrc']))
    .action(api);
  program
    .command('rpc')
    .description('call a method of a running server\'s control RPC (app_lua.reload, stats.get_statistics all, core.uptime, system.listMethods…)')
    .argument('<method>')
    .argument('[params...]', 'positional parameters; numbers, true/false/null and JSON are sent as such, the rest as strings')
    .option('-c, --config <file>', 'read the address (rpc.listen) and token (rpc.token) from this config file')
    .option('--rpc-address <host:port>', `the control RPC listener (default: the config file's rpc.listen, else ${DEFAULT_RPC_ADDRESS}, where npm start puts it)`)
    .option('--token <token>', 'bearer token (default: $KEMIHOST_RPC_TOKEN, else the config file\'s rpc.token)')
    .option('--timeout <ms>', 'give up after this long', positiveInt, 30_000)
    .action(rpcCommand);
  registerCtl(program);
  try {
    await program.parseAsync(argv);
  } catch (e) {
    const where = isKemiError(e) && e.location !== undefined && !e.message.includes(e.location) ? ` (${e.location})` : '';
    process.stderr.write(`kemihost: ${describeError(e)}${where}\n`);
    process.exit(isKemiError(e) ? 1 : 70);
  }
}

await main(process.argv);
