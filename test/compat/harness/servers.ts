/**
 * The two servers a compat case runs against, behind one shape: Kamailio 5.6 with the script on
 * app_lua/app_jsdt, and kemihost with the same script and the same module parameters. Each
 * listens on one port for UDP and TCP, so what a peer sees (Via, Contact) differs only by the
 * port number.
 */
import { startServer } from '../../helpers/runtime.js';
import { freePort } from '../../helpers/sipp.js';
import { Kamailio } from './kamailio.js';
import type { ModuleSpec, ScriptEngine } from './kamailio-cfg.js';

export type ServerName = 'kamailio' | 'kemihost';

export interface SipTarget {
  readonly name: ServerName;
  /** UDP and TCP on 127.0.0.1 */
  readonly port: number;
  /** what to show when a case fails: where the log is, and its tail */
  diagnostics(): string;
  /** keep what is needed to look into a failure (Kamailio's directory) */
  markFailed(): void;
  stop(): Promise<void>;
}

export async function kamailioWith(engine: ScriptEngine, script: string, modules: ModuleSpec): Promise<SipTarget> {
  const k = await Kamailio.start({ engine, script, modules });
  return {
    name: 'kamailio',
    port: k.port,
    diagnostics: () => `kamailio log ${k.logPath} (config and script beside it):\n${k.logTail()}`,
    markFailed: () => { k.markFailed(); },
    stop: () => k.stop(),
  };
}

/**
 * kemihost in this process. Modules listed only to be loaded ({}) are left out of its config:
 * every module is always there, and its `modules:` schema knows only modules with parameters.
 */
export async function kemihostWith(engine: ScriptEngine, script: string, modules: ModuleSpec): Promise<SipTarget> {
  const params = Object.fromEntries(Object.entries(modules).filter(([, p]) => Object.keys(p).length > 0));
  const port = await freePort();
  const at = `127.0.0.1:${String(port)}`;
  const server = await startServer(engine, script, { config: { listen: [`udp:${at}`, `tcp:${at}`], modules: params } });
  return {
    name: 'kemihost',
    port,
    diagnostics: () => 'kemihost runs in the test process; KEMIHOST_TEST_LOG=debug shows its log',
    markFailed: () => undefined,
    stop: () => server.close(),
  };
}
