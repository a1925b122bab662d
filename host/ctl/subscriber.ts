/**
 * `kemihost ctl add | rm | passwd`: rows of Kamailio's `subscriber` table, as kamctl writes
 * them. kamctl (kamctl.base: credentials, _gen_ha1, _gen_ha1b) stores, with realm = domain:
 *   ha1  = MD5(user ":" realm ":" password)
 *   ha1b = MD5(user "@" domain ":" realm ":" password)
 * and the password itself in `password` (its default STORE_PLAINTEXT_PW=1), which auth_db
 * reads when calc_ha1 is set. test/e2e/ctl.test.ts checks a row against kamctl's own.
 * After a change, a running server that keeps the table in memory is told (reload.ts).
 */
import { createHash } from 'node:crypto';
import { InvalidArgumentError } from 'commander';
import { isKemiError, KemiError } from '../errors.js';
import { SUBSCRIBER_TABLE } from '../db/schema/subscriber.js';
import { reloadSubscribers } from './reload.js';
import { withTables, type CtlFlags } from './target.js';

export interface Aor {
  readonly user: string;
  readonly domain: string;
}

/** kamctl's USERNAME_RE: the characters a SIP user part may hold unescaped */
const USER = /^[-a-zA-Z0-9&=+$,;?/_.!~*'()]+$/;
const DOMAIN = /^[^\s@;:<>"]+$/;

function columnSize(name: string): number {
  return SUBSCRIBER_TABLE.columns.find((c) => c.name === name)?.size ?? 64;
}

/** commander argument parser: "user@domain" (a usage error otherwise) */
export function parseAor(v: string): Aor {
  const at = v.lastIndexOf('@');
  const user = at < 0 ? '' : v.slice(0, at);
  const domain = at < 0 ? '' : v.slice(at + 1);
  if (!USER.test(user) || !DOMAIN.test(domain)) throw new InvalidArgumentError('expected user@domain');
  if (user.length > columnSize('username') || domain.length > columnSize('domain')) {
    throw new InvalidArgumentError(`user and domain fit in ${String(columnSize('username'))} characters each`);
  }
  return { user, domain };
}

/** commander argument parser: a password that fits the column */
export function parsePassword(v: string): string {
  if (v === '') throw new InvalidArgumentError('the password is empty');
  if (v.length > columnSize('password')) throw new InvalidArgumentError(`at most ${String(columnSize('password'))} characters`);
  return v;
}

const md5 = (s: string): string => createHash('md5').update(s, 'utf8').digest('hex');

/** kamctl's ha1 and ha1b for user@domain, realm = domain */
export function credentials(aor: Aor, password: string): { ha1: string; ha1b: string } {
  const realm = aor.domain;
  return { ha1: md5(`${aor.user}:${realm}:${password}`), ha1b: md5(`${aor.user}@${aor.domain}:${realm}:${password}`) };
}

const show = (aor: Aor): string => `${aor.user}@${aor.domain}`;

export async function addSubscriber(flags: CtlFlags, aor: Aor, password: string): Promise<void> {
  const { ha1, ha1b } = credentials(aor, password);
  await withTables(flags, 'auth_db', [SUBSCRIBER_TABLE], async (db) => {
    const exists = await db.query('SELECT id FROM subscriber WHERE username = ? AND domain = ?', [aor.user, aor.domain]);
    const taken = new KemiError('KEMI_ERR_DB_DUPLICATE', `user ${show(aor)} already exists`);
    if (exists.length > 0) throw taken;
    try {
      await db.exec('INSERT INTO subscriber (username, domain, password, ha1, ha1b) VALUES (?, ?, ?, ?, ?)', [aor.user, aor.domain, password, ha1, ha1b]);
    } catch (e) {
      throw isKemiError(e, 'KEMI_ERR_DB_DUPLICATE') ? taken : e;
    }
  });
  process.stdout.write(`added ${show(aor)}\n`);
  await reloadSubscribers(flags);
}

export async function removeSubscriber(flags: CtlFlags, aor: Aor): Promise<void> {
  await withTables(flags, 'auth_db', [SUBSCRIBER_TABLE], async (db) => {
    const r = await db.exec('DELETE FROM subscriber WHERE username = ? AND domain = ?', [aor.user, aor.domain]);
    if (r.changes === 0) throw new KemiError('KEMI_ERR_DB_NOT_FOUND', `no user ${show(aor)}`);
  });
  process.stdout.write(`removed ${show(aor)}\n`);
  await reloadSubscribers(flags);
}

export async function changePassword(flags: CtlFlags, aor: Aor, password: string): Promise<void> {
  const { ha1, ha1b } = credentials(aor, password);
  await withTables(flags, 'auth_db', [SUBSCRIBER_TABLE], async (db) => {
    const r = await db.exec('UPDATE subscriber SET password = ?, ha1 = ?, ha1b = ? WHERE username = ? AND domain = ?', [password, ha1, ha1b, aor.user, aor.domain]);
    if (r.changes === 0) throw new KemiError('KEMI_ERR_DB_NOT_FOUND', `no user ${show(aor)}`);
  });
  process.stdout.write(`changed the password of ${show(aor)}\n`);
  await reloadSubscribers(flags);
}
