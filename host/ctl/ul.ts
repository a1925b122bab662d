/**
 * `kemihost ctl ul show [aor]` and `ctl ul rm <aor>`: kamctl's `ul show` / `ul rm`, against the
 * running server through its control RPC (ul.dump, ul.lookup, ul.rm): the location table in
 * memory is the server's, which the database may not hold yet (db_mode 0 and 2).
 *
 * The RPC address is --rpc-address, else the config file's (-c) rpc.listen; the token
 * --token, $KEMIHOST_RPC_TOKEN or the file's rpc.token. Output: one line per contact,
 * tab-separated: table, AoR, contact, expires (seconds left, "permanent" or "expired"), q,
 * received, user agent, ruid; --json prints the RPC result as is. Exit 1 when the server
 * cannot be reached or the AoR has no contacts.
 */
import { describeError, KemiError } from '../errors.js';
import { callRpc } from '../rpc/client.js';
import { ctlConfig, type CtlFlags } from './target.js';

export interface UlFlags {
  table: string;
  json?: boolean;
}

interface ContactView {
  Contact: Record<string, unknown>;
}

function rpcTarget(flags: CtlFlags): { address: string; token: string | null } {
  const cfg = flags.config === undefined ? null : ctlConfig(flags);
  const address = flags.rpcAddress ?? (cfg !== null && cfg.rpc.listen !== 'off' ? cfg.rpc.listen : null);
  if (address === null) {
    throw new KemiError('KEMI_ERR_CONFIG', 'no control RPC to ask: pass --rpc-address host:port, or -c with a config whose rpc.listen is set');
  }
  return { address, token: flags.token ?? process.env.KEMIHOST_RPC_TOKEN ?? cfg?.rpc.token ?? null };
}

/** The call's result; undefined after telling stderr why there is none (exit code 1, as `kemihost rpc`). */
async function call(flags: CtlFlags, method: string, params: unknown[]): Promise<unknown> {
  const t = rpcTarget(flags);
  try {
    const r = await callRpc({ ...t, timeoutMs: 10_000 }, method, params);
    if (r.error === undefined) return r.result;
    process.stderr.write(`kemihost ctl ul: ${r.error.message}\n`);
  } catch (e) {
    process.stderr.write(`kemihost ctl ul: ${describeError(e)}\n`);
  }
  process.exitCode = 1;
  return undefined;
}

function str(v: unknown): string {
  return typeof v === 'string' || typeof v === 'number' ? String(v) : '';
}

function lines(table: string, aor: string, contacts: readonly ContactView[]): string[] {
  return contacts.map(({ Contact: c }) =>
    [table, aor, c.Address, c.Expires, c.Q, c.Received, c['User-Agent'], c.Ruid].map(str).join('\t'));
}

export async function ulShow(flags: CtlFlags, ul: UlFlags, aor: string | undefined): Promise<void> {
  if (aor !== undefined) {
    const r = (await call(flags, 'ul.lookup', [ul.table, aor])) as { AoR: string; Contacts: ContactView[] } | undefined;
    if (r === undefined) return;
    process.stdout.write(ul.json === true ? `${JSON.stringify(r, null, 2)}\n` : lines(ul.table, r.AoR, r.Contacts).map((l) => `${l}\n`).join(''));
    return;
  }
  const r = (await call(flags, 'ul.dump', [])) as { Domains: { Domain: { Domain: string; AoRs: { Info: { AoR: string; Contacts: ContactView[] } }[] } }[] } | undefined;
  if (r === undefined) return;
  if (ul.json === true) {
    process.stdout.write(`${JSON.stringify(r, null, 2)}\n`);
    return;
  }
  const out: string[] = [];
  for (const { Domain: d } of r.Domains) for (const { Info: i } of d.AoRs) out.push(...lines(d.Domain, i.AoR, i.Contacts));
  process.stdout.write(out.map((l) => `${l}\n`).join(''));
}

export async function ulRm(flags: CtlFlags, ul: UlFlags, aor: string): Promise<void> {
  if ((await call(flags, 'ul.rm', [ul.table, aor])) === undefined) return;
  process.stdout.write(`removed ${aor} from ${ul.table}\n`);
}
