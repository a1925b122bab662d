/**
 * After `kemihost ctl` changed a table a running server keeps in memory: tell the server to
 * re-read it over its control RPC, as an operator would with `kamcmd` after kamctl —
 * `permissions.addressReload` after `address add|rm`, `auth_db.reload` after `add`, `passwd`,
 * `rm` (subscribers on MySQL/PostgreSQL; on SQLite the server reads the file, nothing to do).
 * The server is the one the config file's rpc.listen names (-c), or --rpc-address. Nobody
 * answering is normal (no server running: it reads the table when it starts) and only noted; a
 * server that answers and refuses (reload_delta, a bad row) makes the command exit 1, since the
 * change does not take effect there yet. The row stays written.
 */
import { describeError } from '../errors.js';
import { callRpc, type RpcReply } from '../rpc/client.js';
import { ctlConfig, urlFor, type CtlFlags } from './target.js';

const RELOAD_TIMEOUT_MS = 5000;

interface ReloadTarget {
  /** the RPC method */
  readonly method: string;
  /** what it reloads, for the output lines */
  readonly what: string;
  /** when a server sees the change when it is not told now */
  readonly otherwise: string;
}

async function reloadServer(flags: CtlFlags, t: ReloadTarget): Promise<void> {
  if (flags.reload === false) return;
  const config = flags.config === undefined ? null : ctlConfig(flags);
  const listen = config === null || config.rpc.listen === 'off' ? null : config.rpc.listen;
  const address = flags.rpcAddress ?? listen;
  if (address === null) {
    process.stdout.write(`not reloaded: no control RPC to call (rpc.listen in the -c config, or --rpc-address); ${t.otherwise}\n`);
    return;
  }
  const token = flags.token ?? process.env.KEMIHOST_RPC_TOKEN ?? config?.rpc.token ?? null;
  let reply: RpcReply;
  try {
    reply = await callRpc({ address, token, timeoutMs: RELOAD_TIMEOUT_MS }, t.method, []);
  } catch (e) {
    process.stdout.write(`not reloaded: ${describeError(e)}; ${t.otherwise}\n`);
    return;
  }
  if (reply.error !== undefined) {
    const data = reply.error.data as { reason?: unknown } | undefined;
    const reason = typeof data?.reason === 'string' ? ` (${data.reason})` : '';
    process.stderr.write(`kemihost: the server at ${address} did not reload ${t.what}: ${reply.error.message}${reason}\n`);
    process.exitCode = 1;
    return;
  }
  process.stdout.write(`reloaded ${t.what} of the server at ${address}\n`);
}

export function reloadAddresses(flags: CtlFlags): Promise<void> {
  return reloadServer(flags, {
    method: 'permissions.addressReload',
    what: 'the address table',
    otherwise: 'a server reads the table at start or on permissions.addressReload',
  });
}

/** After a subscriber change: MySQL/PostgreSQL servers keep a copy (auth_db.reload); SQLite is read directly. */
export function reloadSubscribers(flags: CtlFlags): Promise<void> {
  const config = ctlConfig(flags);
  if (urlFor(flags, config, 'auth_db').dialect === 'sqlite') return Promise.resolve();
  const interval = config.modules.auth_db?.reload_interval;
  const every = typeof interval === 'number' ? `${String(interval)} s` : 'its default 60 s';
  return reloadServer(flags, {
    method: 'auth_db.reload',
    what: 'the subscriber tables',
    otherwise: `a server sees the change at its next reload (modules.auth_db.reload_interval: ${every}) or on auth_db.reload`,
  });
}
