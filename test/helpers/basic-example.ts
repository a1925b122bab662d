/**
 * Kamailio's kamailio-basic KEMI example as shipped in scripts/examples/kamailio-basic/, for the
 * tests that run it (e2e, compat): its config with the test's ports, a SQLite store with two
 * subscribers, and the sipp flows of test/fixtures/sipp/kamailio-basic/ — a keepalive OPTIONS,
 * a REGISTER with digest auth (optionally from behind a simulated NAT: a Via port other than the
 * one sipp sends from and a private Contact), and a call between two registered users with SDP.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import { loadConfigFile, validateConfig } from '../../host/config.js';
import { openDatabase } from '../../host/db/database.js';
import { ensureSchema } from '../../host/db/ensure-schema.js';
import { LOCATION_TABLE } from '../../host/db/schema/location.js';
import { ADDRESS_TABLE, TRUSTED_TABLE } from '../../host/db/schema/permissions.js';
import { SUBSCRIBER_TABLE } from '../../host/db/schema/subscriber.js';
import { runSippTraced, startSippTraced, type SippTraced } from '../compat/harness/sipp-trace.js';
import { Runtime } from '../../host/runtime.js';
import type { EngineName } from './runtime.js';
import { SIPP_FIXTURES } from './sipp.js';

export const EXAMPLE_DIR = fileURLToPath(new URL('../../scripts/examples/kamailio-basic/', import.meta.url));
export const EXAMPLE_CONFIG = join(EXAMPLE_DIR, 'kemihost.yaml');
export const EXAMPLE_SCRIPT: Readonly<Record<EngineName, string>> = {
  lua: join(EXAMPLE_DIR, 'kamailio-basic-kemi-lua.lua'),
  js: join(EXAMPLE_DIR, 'kamailio-basic-kemi-jsdt.js'),
};
/** where Debian installs the originals */
export const DEBIAN_EXAMPLES = '/usr/share/doc/kamailio/examples/kemi/';

const SCENARIOS = join(SIPP_FIXTURES, 'kamailio-basic');
export const PASSWORD = 'secret';

/** The example's FLB_NATB: usrloc's nat_bflag, kept in a NATed contact's cflags. */
export const FLB_NATB = 6;

/**
 * A fresh SQLite file with the subscriber, location and permissions tables and the users (domain 127.0.0.1,
 * the realm the example challenges with: its From host). Returns its db_url.
 */
export async function exampleStore(users: readonly string[]): Promise<string> {
  const file = join(mkdtempSync(join(tmpdir(), 'kemihost-basic-')), 'kemihost.db');
  const url = `sqlite://${file}`;
  const db = await openDatabase(url, pino({ level: 'silent' }));
  await ensureSchema(db, [SUBSCRIBER_TABLE, LOCATION_TABLE, ADDRESS_TABLE, TRUSTED_TABLE]);
  const md5 = (s: string): string => createHash('md5').update(s).digest('hex');
  for (const u of users) {
    await db.exec('INSERT INTO subscriber (username, domain, password, ha1, ha1b) VALUES (?, ?, ?, ?, ?)',
      [u, '127.0.0.1', PASSWORD, md5(`${u}:127.0.0.1:${PASSWORD}`), md5(`${u}@127.0.0.1:127.0.0.1:${PASSWORD}`)]);
  }
  await db.close();
  return url;
}

/** The example's location rows for a user (after ul.flush: db_mode 2 writes back on a timer). */
export async function storedContacts(dbUrl: string, user: string): Promise<{ contact: string; received: string | null; cflags: number }[]> {
  const db = await openDatabase(dbUrl, pino({ level: 'silent' }));
  try {
    const rows = await db.query<{ contact: string; received: string | null; cflags: number }>('SELECT contact, received, cflags FROM location WHERE username = ?', [user]);
    return rows.map((r) => ({ contact: r.contact, received: r.received, cflags: r.cflags }));
  } finally {
    await db.close();
  }
}

export interface ExampleServer {
  readonly rt: Runtime;
  readonly udpPort: number;
  close(): Promise<void>;
}

/**
 * The shipped kemihost.yaml as it is, but for what a test must own: its listen ports (loopback,
 * port 0), the control RPC (port 0), the database and the relay's address; `nathelper` overrides
 * some of its parameters (a keepalive test cannot wait 30 s).
 */
export async function startExample(engine: EngineName, dbUrl: string, rtpproxySock: string, nathelper: Record<string, unknown> = {}): Promise<ExampleServer> {
  const shipped = loadConfigFile(EXAMPLE_CONFIG);
  const modules = shipped.modules;
  const config = validateConfig({
    ...shipped,
    listen: ['udp:127.0.0.1:0', 'tcp:127.0.0.1:0'],
    rpc: { ...shipped.rpc, listen: '127.0.0.1:0' },
    db_url: dbUrl,
    modules: { ...modules, rtpproxy: { ...modules.rtpproxy, rtpproxy_sock: rtpproxySock }, nathelper: { ...modules.nathelper, ...nathelper } },
  });
  const log = pino({ level: process.env.KEMIHOST_TEST_LOG ?? 'silent' });
  const rt = await Runtime.start({ config, scriptPath: EXAMPLE_SCRIPT[engine], log });
  const udp = rt.sipAddresses.find((a) => a.startsWith('udp:')) ?? '';
  return { rt, udpPort: Number(udp.slice(udp.lastIndexOf(':') + 1)), close: () => rt.close() };
}

/** How a sipp UA presents itself: behind a NAT its Via names another port and its Contact a private address. */
export interface Ua {
  readonly user: string;
  /** the port sipp sends from */
  readonly port: number;
  readonly nat: boolean;
}

/** The Contact host:port and Via port a UA writes. */
function uaKeys(ua: Ua): string[] {
  return ua.nat
    ? ['-key', 'via_port', String(ua.port === 5999 ? 5998 : 5999), '-key', 'contact_host', '192.168.1.20', '-key', 'contact_port', '5060']
    : ['-key', 'via_port', String(ua.port), '-key', 'contact_host', '127.0.0.1', '-key', 'contact_port', String(ua.port)];
}

/** The c= address in a UA's SDP: private behind the NAT. */
export const mediaHost = (ua: Ua): string => (ua.nat ? '192.168.1.20' : '127.0.0.1');

const common = (ua: Ua, extra: string[] = []): string[] => ['-i', '127.0.0.1', '-p', String(ua.port), '-timeout', '10', '-timeout_error', ...uaKeys(ua), ...extra];

export function options(serverPort: number, port: number, cid = 'peer-basic-options'): Promise<SippTraced> {
  return runSippTraced([`127.0.0.1:${String(serverPort)}`, '-sf', join(SCENARIOS, 'options-uac.xml'), '-m', '1', '-i', '127.0.0.1',
    '-p', String(port), '-cid_str', cid, '-timeout', '10', '-timeout_error']);
}

export function register(serverPort: number, ua: Ua, password = PASSWORD): Promise<SippTraced> {
  return runSippTraced([`127.0.0.1:${String(serverPort)}`, '-sf', join(SCENARIOS, 'register-uac.xml'), '-m', '1', '-s', ua.user,
    '-au', ua.user, '-ap', password, '-cid_str', `peer-basic-reg-${ua.user}`, ...common(ua)]);
}

export interface CallResult {
  readonly caller: SippTraced;
  readonly callee: SippTraced;
}

/**
 * A call from `caller` to `callee` (both registered): the callee's sipp answers with an SDP,
 * the caller's authenticates its INVITE, ACKs and hangs up after holdMs; `during` runs while
 * the call is up, told whether the caller's sipp has ended already (a flow that failed early).
 */
export async function call(serverPort: number, caller: Ua, callee: Ua, holdMs: number, during?: (ended: () => boolean) => Promise<void>): Promise<CallResult> {
  const uas = await startSippTraced(['-sf', join(SCENARIOS, 'callee-uas.xml'), '-m', '1', '-s', callee.user,
    '-key', 'media_host', mediaHost(callee), ...common(callee)], callee.port);
  try {
    const uac = runSippTraced([`127.0.0.1:${String(serverPort)}`, '-sf', join(SCENARIOS, 'caller-uac.xml'), '-m', '1', '-s', callee.user,
      '-au', caller.user, '-ap', PASSWORD, '-key', 'user', caller.user, '-key', 'media_host', mediaHost(caller),
      '-d', String(holdMs), '-cid_str', `peer-basic-call-${caller.user}`, ...common(caller)]);
    let ended = false;
    void uac.finally(() => { ended = true; });
    if (during !== undefined) await during(() => ended);
    const callerResult = await uac;
    return { caller: callerResult, callee: await uas.done };
  } finally {
    uas.stop();
  }
}
