/**
 * The module loads and parameters of Kamailio's kamailio-basic-kemi.cfg, as the shipped
 * scripts/examples/kamailio-basic/kemihost.yaml sets them, for the compat files that run the
 * example under both servers: auth_db and permissions on a SQLite file both read, rtpproxy at
 * the test's relay. usrloc runs in memory (db_mode 0): both servers share the file, and the
 * cfg's write-back is the e2e test's part (test/e2e/kamailio-basic-example.test.ts).
 */
import { loadConfigFile } from '../../../host/config.js';
import { EXAMPLE_CONFIG } from '../../helpers/basic-example.js';
import type { ModuleSpec } from './kamailio-cfg.js';

/** `dbUrl` in Kamailio's form (sqlite:////abs/path); `nathelper` overrides some of its parameters. */
export function exampleModules(dbUrl: string, relayPort: number, nathelper: Record<string, unknown> = {}): ModuleSpec {
  const shipped = loadConfigFile(EXAMPLE_CONFIG).modules;
  /** the cfg's parameters as the shipped YAML sets them (not every default of ours) */
  const cfg = (name: string, keys: readonly string[], extra: Record<string, unknown> = {}): Record<string, unknown> =>
    ({ ...Object.fromEntries(keys.map((k) => [k, shipped[name]?.[k]])), ...extra });
  return {
    db_sqlite: {}, kx: {}, corex: {}, tmx: {}, sl: {}, maxfwd: {}, siputils: {}, sanity: {},
    tm: cfg('tm', ['failure_reply_mode', 'fr_timer', 'fr_inv_timer']),
    rr: cfg('rr', ['enable_full_lr', 'append_fromtag']),
    usrloc: cfg('usrloc', ['preload', 'use_domain', 'nat_bflag'], { db_mode: 0 }),
    registrar: cfg('registrar', ['method_filtering', 'max_expires', 'gruu_enabled', 'received_avp']),
    auth: {},
    auth_db: cfg('auth_db', ['calculate_ha1', 'password_column', 'load_credentials', 'use_domain'], { db_url: dbUrl }),
    permissions: { db_url: dbUrl, db_mode: 1 },
    nathelper: cfg('nathelper', ['natping_interval', 'ping_nated_only', 'sipping_bflag', 'sipping_from', 'received_avp'], nathelper),
    rtpproxy: { rtpproxy_sock: `udp:127.0.0.1:${String(relayPort)}` },
    pike: cfg('pike', ['sampling_time_unit', 'reqs_density_per_unit', 'remove_latency']),
    htable: { tables: { ipban: { size: 8, autoexpire: 300 } } },
  };
}
