/**
 * Contacts as rows of Kamailio's `location` table (host/db/schema/location.ts), written the way
 * usrloc writes them, so Kamailio and kemihost read each other's rows:
 *
 * - `username` is the AoR; with use_domain the part before '@', and `domain` the part after
 *   (else `domain` stays NULL);
 * - `expires` and `last_modified` are DATETIMEs: on MySQL and PostgreSQL in local time
 *   ('YYYY-MM-DD HH:MM:SS'); on SQLite Kamailio's db_sqlite stores a Julian day number (a REAL,
 *   UTC) and reads every value as one, so we write that too and read both forms; a permanent
 *   contact (expires 0) is the epoch;
 * - `q` is q/1000 as a float, -1 when unspecified; `methods` is NULL for "all methods";
 * - `received`, `path`, `socket` and `instance` are NULL when absent.
 */
import type { Row, SqlParam } from '../db/database.js';
import type { Dialect } from '../db/url.js';
import { ALL_METHODS, type ContactInfo, type UlContact } from './contact.js';

/** Every column a contact fills, in the order of an INSERT. */
export const COLUMNS = [
  'ruid', 'username', 'domain', 'contact', 'received', 'path', 'expires', 'q', 'callid', 'cseq', 'last_modified',
  'flags', 'cflags', 'user_agent', 'socket', 'methods', 'instance', 'reg_id', 'server_id', 'connection_id', 'keepalive', 'partition',
] as const;

/** The columns an update by ruid rewrites (the AoR, contact URI and ruid stay). */
export const UPDATE_COLUMNS = COLUMNS.filter((c) => c !== 'ruid' && c !== 'username' && c !== 'domain');

/** `"partition"` is reserved in MySQL: every column is quoted (the SQL layer translates quotes). */
export function quoted(col: string): string {
  return `"${col}"`;
}

function pad(n: number): string {
  return String(n).padStart(2, '0');
}

/** Unix seconds → 'YYYY-MM-DD HH:MM:SS' in local time, as Kamailio's db_time2str writes it. */
export function toDatetime(t: number): string {
  const d = new Date(t * 1000);
  return `${String(d.getFullYear())}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

/** Unix seconds → what a DATETIME column of this dialect holds as Kamailio writes it. */
export function dbTime(t: number, dialect: Dialect): SqlParam {
  // db_sqlite's timet_to_sqlite, so that its sqlite_to_timet gives t back exactly
  return dialect === 'sqlite' ? (t - 0.5) / 86400 + 2440587.5 : toDatetime(t);
}

/**
 * A DATETIME column's value → Unix seconds: a Julian day number (SQLite rows, Kamailio's or
 * ours) or 'YYYY-MM-DD HH:MM:SS' in local time; NaN when it is neither.
 */
export function fromDatetime(s: unknown): number {
  // db_sqlite's sqlite_to_timet truncates; the tolerance absorbs the double's rounding, so that
  // a time written with dbTime() reads back as itself
  if (typeof s === 'number') return Math.floor(86400 * (s - 2440587.5) + 0.5 + 1e-4);
  const m = /^(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2}):(\d{2})/.exec(String(s));
  if (m === null) return Number.NaN;
  const [y, mo, d, h, mi, se] = m.slice(1).map(Number) as [number, number, number, number, number, number];
  return Math.floor(new Date(y, mo - 1, d, h, mi, se).getTime() / 1000);
}

/** The AoR as username and domain columns. */
export function splitAor(aor: string, useDomain: boolean): { username: string; domain: string | null } {
  if (!useDomain) return { username: aor, domain: null };
  const at = aor.indexOf('@');
  // usrloc keeps an AoR without '@' whole in `domain` then (db_insert_ucontact)
  return at < 0 ? { username: '', domain: aor } : { username: aor.slice(0, at), domain: aor.slice(at + 1) };
}

/** The values of COLUMNS for a contact. */
export function rowValues(c: UlContact, useDomain: boolean, dialect: Dialect): SqlParam[] {
  const { username, domain } = splitAor(c.aor, useDomain);
  return [
    c.ruid, username, domain, c.contact, c.received, c.path, dbTime(c.expires, dialect), c.q === -1 ? -1 : c.q / 1000,
    c.callid, c.cseq, dbTime(c.lastModified, dialect), c.flags, c.cflags, c.userAgent, c.socket,
    c.methods === ALL_METHODS ? null : c.methods | 0, c.instance, c.regId, c.serverId, c.connectionId, c.keepalive, 0,
  ];
}

/** The values of UPDATE_COLUMNS for a contact, then its ruid (for the WHERE). */
export function updateValues(c: UlContact, useDomain: boolean, dialect: Dialect): SqlParam[] {
  const all = rowValues(c, useDomain, dialect);
  const out: SqlParam[] = [];
  COLUMNS.forEach((col, i) => {
    if ((UPDATE_COLUMNS as readonly string[]).includes(col)) out.push(all[i] ?? null);
  });
  out.push(c.ruid);
  return out;
}

function str(v: unknown): string | null {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'bigint') return String(v);
  // a BLOB-typed column (SQLite rows another tool wrote) comes back as bytes
  return Buffer.isBuffer(v) ? v.toString('utf8') : null;
}

function int(v: unknown, dflt: number): number {
  const n = Number(v);
  return v === null || v === undefined || !Number.isFinite(n) ? dflt : Math.trunc(n);
}

/** A contact read from a row: its AoR, URI, ruid and the rest; null when the row is unusable. */
export function contactFromRow(r: Row, useDomain: boolean): { aor: string; contact: string; ruid: string; info: ContactInfo } | null {
  const user = str(r.username) ?? '';
  const domain = str(r.domain);
  const aor = useDomain && domain !== null && domain !== '' ? (user === '' ? domain : `${user}@${domain}`) : user;
  const contact = str(r.contact) ?? '';
  const ruid = str(r.ruid) ?? '';
  const expires = fromDatetime(r.expires);
  if (aor === '' || contact === '' || ruid === '' || Number.isNaN(expires)) return null;
  const q = Number(r.q);
  const methods = r.methods === null || r.methods === undefined ? ALL_METHODS : int(r.methods, ALL_METHODS) >>> 0;
  const lastModified = fromDatetime(r.last_modified);
  return {
    aor,
    contact,
    ruid,
    info: {
      expires: Math.max(0, expires),
      // a float column: 0.5 may come back as 0.5000000001
      q: !Number.isFinite(q) || q < 0 ? -1 : Math.min(1000, Math.round(q * 1000)),
      callid: str(r.callid) ?? '',
      cseq: int(r.cseq, 0),
      flags: int(r.flags, 0),
      cflags: int(r.cflags, 0) >>> 0,
      path: emptyToNull(str(r.path)),
      received: emptyToNull(str(r.received)),
      userAgent: str(r.user_agent) ?? '',
      socket: emptyToNull(str(r.socket)),
      methods,
      instance: emptyToNull(str(r.instance)),
      regId: int(r.reg_id, 0),
      serverId: int(r.server_id, 0),
      connectionId: int(r.connection_id, -1),
      keepalive: int(r.keepalive, 0),
      lastModified: Number.isNaN(lastModified) ? 0 : lastModified,
    },
  };
}

function emptyToNull(s: string | null): string | null {
  return s === '' ? null : s;
}
