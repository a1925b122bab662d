/** Start a real kemihost runtime in this process, on 127.0.0.1 port 0, with a script from a string. */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino, type Logger } from 'pino';
import { validateConfig } from '../../host/config.js';
import type { AnyModuleDef } from '../../host/kemi/types.js';
import { Runtime } from '../../host/runtime.js';

export type EngineName = 'lua' | 'js';
/** Both engines always; KEMIHOST_TEST_ENGINES=lua narrows a local run while working on one. */
export const ENGINES: readonly EngineName[] = (process.env.KEMIHOST_TEST_ENGINES ?? 'lua,js')
  .split(',')
  .filter((e): e is EngineName => e === 'lua' || e === 'js');

export interface StartOptions {
  /** extra config (YAML shape); listen/http default to loopback port 0 / off */
  config?: Record<string, unknown>;
  /** test-only bindings, added after the standard ones */
  modules?: readonly AnyModuleDef[];
  /** the runtime's root logger (default: silent, or KEMIHOST_TEST_LOG's level) */
  log?: Logger;
}

const dir = mkdtempSync(join(tmpdir(), 'kemihost-test-'));
let n = 0;

export function writeScript(engine: EngineName, source: string): string {
  const path = join(dir, `script-${String(++n)}.${engine}`);
  writeFileSync(path, source);
  return path;
}

export interface TestServer {
  readonly rt: Runtime;
  readonly udpPort: number;
  readonly tcpPort: number;
  /** the HTTP listener's port when the test asked for one (config http.listen "127.0.0.1:0"), else 0 */
  readonly httpPort: number;
  close(): Promise<void>;
}

export async function startServer(engine: EngineName, source: string, opts: StartOptions = {}): Promise<TestServer> {
  const config = validateConfig({
    listen: ['udp:127.0.0.1:0', 'tcp:127.0.0.1:0'],
    http: { listen: 'off' },
    ...opts.config,
  });
  const scriptPath = writeScript(engine, source);
  const log = opts.log ?? pino({ level: process.env.KEMIHOST_TEST_LOG ?? 'silent' });
  const rt = await Runtime.start({ config, scriptPath, log, ...(opts.modules === undefined ? {} : { extraModules: opts.modules }) });
  const port = (proto: string): number => {
    const a = rt.sipAddresses.find((s) => s.startsWith(`${proto}:`));
    return Number(a?.slice(a.lastIndexOf(':') + 1) ?? 0);
  };
  const http = rt.httpAddress;
  const httpPort = http === null ? 0 : Number(http.slice(http.lastIndexOf(':') + 1));
  return { rt, udpPort: port('udp'), tcpPort: port('tcp'), httpPort, close: () => rt.close() };
}

/** Wrap a route body into a whole script for the engine. */
export function routeScript(engine: EngineName, body: string, extra = ''): string {
  return engine === 'lua'
    ? `function ksr_request_route()\n${body}\nend\n${extra}`
    : `function ksr_request_route() {\n${body}\n}\n${extra}`;
}
