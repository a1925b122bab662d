/**
 * KSR.auth_db: digest authentication against the subscriber table (Kamailio's auth_db), with
 * the auth module's nonces and checks (ModuleHost.api('auth')). Kamailio 5.6 exports
 * auth_check and is_subscriber to KEMI; www_authenticate(_method) are later versions' exports,
 * proxy_authenticate is 5.6's native-config function made available here too.
 *
 * The database is opened only when the config has a modules.auth_db section (Kamailio:
 * loadmodule); without one every check answers -1 and says so in the log.
 * The table is read through host/subscribers: SQLite directly (a change is seen at once),
 * MySQL/PostgreSQL from a copy in memory reloaded every reload_interval seconds and by the
 * auth_db.reload RPC. docs/auth.md says what that means for an operator.
 */
import type { Database } from '../../host/db/database.js';
import { checkSchema, ensureSchema } from '../../host/db/ensure-schema.js';
import { SUBSCRIBER_TABLE } from '../../host/db/schema/subscriber.js';
import { describeError, KemiError } from '../../host/errors.js';
import { defineModule, fn, type ModuleHost } from '../../host/kemi/types.js';
import { openSubscriberStore, type ReloadReport } from '../../host/subscribers/store.js';
import { AuthApi } from '../auth/api.js';
import { on } from '../auth/params.js';
import { authCheck, authenticateWith, isSubscriber, type AuthDbState } from './check.js';
import { authDbParams, parseLoadCredentials } from './params.js';

interface State extends AuthDbState {
  readonly reloads: { value: number };
  readonly reloadFailures: { value: number };
  timer: NodeJS.Timeout | null;
}

async function prepareTables(s: State, db: Database): Promise<void> {
  if (!on(s.p.version_table)) return;
  const defs = s.p.tables.map((name) => ({ ...SUBSCRIBER_TABLE, name }));
  // SQLite is the embedded store: its table is made when missing, as `kemihost ctl` does
  if (db.dialect === 'sqlite') await ensureSchema(db, defs);
  else await checkSchema(db, defs);
}

async function reload(s: State): Promise<ReloadReport> {
  const store = s.store;
  if (store === null) throw new KemiError('KEMI_ERR_DB_UNREACHABLE', 'auth_db: the subscriber store is not open');
  try {
    const r = await store.reload();
    s.reloads.value++;
    return r;
  } catch (e) {
    s.reloadFailures.value++;
    throw e;
  }
}

function startRefresh(s: State): void {
  if (s.store?.mode !== 'copy' || s.p.reload_interval === 0) return;
  s.timer = s.host.boundary.interval('module-timer', s.p.reload_interval * 1000, () => {
    s.host.boundary.then(reload(s), 'module-promise', () => undefined, (e: unknown) => {
      s.host.log.error({ err: describeError(e) }, 'auth_db: reloading the subscriber table failed; the previous copy stays');
    });
  });
  s.timer.unref();
}

/** The auth module's api: its nonces, checks and parameters (Kamailio's bind_auth_s). */
function authApi(host: ModuleHost): AuthApi {
  const api = host.api('auth');
  if (!(api instanceof AuthApi)) throw new KemiError('KEMI_ERR_ENGINE', 'auth_db needs the auth module registered before it');
  return api;
}

export default defineModule({
  name: 'auth_db',
  doc: 'Digest authentication against the subscriber table (Kamailio\'s auth_db), on SQLite, MySQL or PostgreSQL.',
  params: authDbParams,
  stats: ['reloads', 'reload_failures', 'db_errors'],
  init: (host, p): State => {
    let credentials;
    try {
      credentials = parseLoadCredentials(p.load_credentials);
    } catch (e) {
      throw new KemiError('KEMI_ERR_CONFIG', `modules.auth_db.${describeError(e)}`);
    }
    return {
      host,
      p,
      auth: authApi(host),
      credentials,
      store: null,
      c: { dbErrors: host.stat('db_errors') },
      reloads: host.stat('reloads'),
      reloadFailures: host.stat('reload_failures'),
      timer: null,
    };
  },
  async start(s: State) {
    // as Kamailio loads auth_db only when its cfg says so: a modules.auth_db section (even empty)
    if (!s.host.configured) return;
    const db = await s.host.database();
    await prepareTables(s, db);
    const values = [s.p.password_column, s.p.password_column_2, ...s.credentials.map((c) => c.column)];
    s.store = await openSubscriberStore(db, { user: s.p.user_column, domain: s.p.domain_column, values }, s.p.tables, s.p.max_rows);
    if (s.store.mode === 'copy') s.host.log.info({ tables: s.p.tables, reload_interval: s.p.reload_interval }, 'auth_db: subscriber tables loaded into memory');
    startRefresh(s);
  },
  close(s: State) {
    if (s.timer !== null) clearInterval(s.timer);
    s.timer = null;
  },
  rpc: {
    'auth_db.reload': {
      doc: 'Reload the subscriber tables kept in memory (MySQL/PostgreSQL; SQLite is read directly, nothing to do): { rows: {table: n}, ms }.',
      run: (s: State) => reload(s),
    },
  },
  functions: {
    auth_check: fn(['str', 'str', 'int'], 'int', (s: State, ctx, realm, table, flags) => s.auth.count(authCheck(s, ctx, realm, table, flags)),
      'Check the request\'s credentials for the realm against the table (Authorization for REGISTER, Proxy-Authorization otherwise). Flags: 1 the auth user must be the From user (REGISTER: To, and From = To; PUBLISH: also the R-URI user); 2 with 1: not for INVITE, BYE, PRACK, UPDATE, MESSAGE. 1 ok (also ACK, CANCEL); -1 error; -2 wrong password; -3 unknown user; -4 stale nonce; -5 no credentials; -6 nonce reused; -8 user mismatch.'),
    is_subscriber: fn(['str', 'str', 'int'], 'int', (s: State, ctx, uri, table, flags) => isSubscriber(s, ctx, uri, table, flags),
      'Whether the URI\'s user (flags&1: user and host) is in the table; sets the load_credentials values unless flags&2. 1 yes, -2 no, -1 bad URI or database error.'),
    www_authenticate: fn(['str', 'str'], 'int', (s: State, ctx, realm, table) => s.auth.count(authenticateWith(s, ctx, realm, table, 'authorization', null)),
      'Check Authorization credentials against the table (results as auth_check, without -8). Not a KEMI export in Kamailio 5.6 (it is in later versions).'),
    www_authenticate_method: fn(['str', 'str', 'str'], 'int', (s: State, ctx, realm, table, m) => s.auth.count(authenticateWith(s, ctx, realm, table, 'authorization', m)),
      'www_authenticate with the method for the digest given. Not a KEMI export in Kamailio 5.6.'),
    proxy_authenticate: fn(['str', 'str'], 'int', (s: State, ctx, realm, table) => s.auth.count(authenticateWith(s, ctx, realm, table, 'proxy-authorization', null)),
      'Check Proxy-Authorization credentials against the table (results as auth_check, without -8). Kamailio 5.6 has it in its native config only.'),
  },
});
