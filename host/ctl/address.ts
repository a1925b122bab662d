/**
 * `kemihost ctl address add | rm | list`: rows of Kamailio's `address` table (the permissions
 * module's allow_address() groups), as kamctl's `address add|rm|show` write and read them.
 * mask and port are optional as in kamctl (32 or 128, and 0 = any port); no tag is NULL.
 * After add and rm, a running server is told to reload the table over its control RPC
 * (reload.ts).
 */
import { isIP } from 'node:net';
import { InvalidArgumentError } from 'commander';
import { KemiError } from '../errors.js';
import { ADDRESS_TABLE } from '../db/schema/permissions.js';
import { reloadAddresses } from './reload.js';
import { withTables, type CtlFlags } from './target.js';

function intIn(min: number, max: number, what: string): (v: string) => number {
  return (v: string) => {
    const n = Number(v);
    if (!/^\d+$/.test(v) || n < min || n > max) throw new InvalidArgumentError(`expected ${what}, ${String(min)}..${String(max)}`);
    return n;
  };
}

export const parseGroup = intIn(0, 4_294_967_295, 'a group number');
export const parseMask = intIn(0, 128, 'a prefix length');
export const parsePort = intIn(0, 65_535, 'a port (0 = any)');

/** an IPv4/IPv6 address or a DNS name (matched as written, never resolved: Kamailio's rule) */
export function parseAddress(v: string): string {
  const ok = isIP(v) !== 0 || /^[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*$/.test(v);
  if (!ok) throw new InvalidArgumentError('expected an IP address or a DNS name');
  if (v.length > 50) throw new InvalidArgumentError('at most 50 characters');
  return v;
}

export function parseTag(v: string): string {
  if (v.length > 64) throw new InvalidArgumentError('at most 64 characters');
  return v;
}

export interface AddressRow {
  id: number;
  grp: number;
  ip_addr: string;
  mask: number;
  port: number;
  tag: string | null;
}

/** a mask that does not fit the address family, as a usage message; null when it fits */
export function maskProblem(ip: string, mask: number | undefined): string | null {
  if (mask !== undefined && isIP(ip) === 4 && mask > 32) return `mask ${String(mask)} is longer than an IPv4 address (0..32)`;
  return null;
}

export async function addAddress(flags: CtlFlags, grp: number, ip: string, mask: number | undefined, port: number | undefined, tag: string | undefined): Promise<void> {
  const m = mask ?? (isIP(ip) === 6 ? 128 : 32);
  await withTables(flags, 'permissions', [ADDRESS_TABLE], async (db) => {
    await db.exec('INSERT INTO address (grp, ip_addr, mask, port, tag) VALUES (?, ?, ?, ?, ?)', [grp, ip, m, port ?? 0, tag ?? null]);
  });
  process.stdout.write(`added ${ip}/${String(m)} port ${String(port ?? 0)} to group ${String(grp)}\n`);
  await reloadAddresses(flags);
}

export async function removeAddress(flags: CtlFlags, grp: number, ip: string): Promise<void> {
  const r = await withTables(flags, 'permissions', [ADDRESS_TABLE], (db) => db.exec('DELETE FROM address WHERE grp = ? AND ip_addr = ?', [grp, ip]));
  if (r.changes === 0) throw new KemiError('KEMI_ERR_DB_NOT_FOUND', `no address ${ip} in group ${String(grp)}`);
  process.stdout.write(`removed ${String(r.changes)} row${r.changes === 1 ? '' : 's'}\n`);
  await reloadAddresses(flags);
}

/** One line per row, tab-separated: id grp ip_addr mask port tag (empty when NULL); or JSON. */
export async function listAddresses(flags: CtlFlags, opts: { json?: boolean; group?: number }): Promise<void> {
  const rows = await withTables(flags, 'permissions', [ADDRESS_TABLE], (db) =>
    opts.group === undefined
      ? db.query<Record<keyof AddressRow, unknown>>('SELECT id, grp, ip_addr, mask, port, tag FROM address ORDER BY grp, ip_addr, id')
      : db.query<Record<keyof AddressRow, unknown>>('SELECT id, grp, ip_addr, mask, port, tag FROM address WHERE grp = ? ORDER BY ip_addr, id', [opts.group]),
  );
  const list: AddressRow[] = rows.map((r) => ({
    id: Number(r.id),
    grp: Number(r.grp),
    ip_addr: String(r.ip_addr),
    mask: Number(r.mask),
    port: Number(r.port),
    tag: typeof r.tag === 'string' ? r.tag : null,
  }));
  if (opts.json === true) {
    process.stdout.write(`${JSON.stringify(list)}\n`);
    return;
  }
  for (const a of list) process.stdout.write(`${[a.id, a.grp, a.ip_addr, a.mask, a.port, a.tag ?? ''].map(String).join('\t')}\n`);
}
