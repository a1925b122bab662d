/**
 * `db_url`, in Kamailio's forms, and the one way to print one (`redactDbUrl`).
 *
 *   sqlite:////abs/path.db       an absolute path as Kamailio's db_sqlite writes it (four slashes)
 *   sqlite:///abs/path.db        also absolute here (Kamailio: relative to its working directory)
 *   sqlite://relative/path.db    relative to `baseDir`: the config file's directory, else the cwd
 *   sqlite://:memory:            a private in-memory database (tests)
 *   mysql://user:pass@host[:port]/db[?sslmode=require&charset=utf8mb4]
 *   postgres://user:pass@host[:port]/db[?sslmode=verify-full&application_name=x]  (also postgresql://)
 *
 * User and password are percent-decoded. The userinfo runs to the LAST '@' and the password
 * from the first ':' in it, so a password with '@', '/', '?' or ':' works unencoded; only '%'
 * must be written %25 (and ':' in a user name %3A). An '@' in the database name or an option
 * must be encoded.
 *
 * Secrets: the password lives in a private field (not in JSON.stringify, util.inspect or a
 * spread), every message built here shows `redactDbUrl(raw)`, and nothing else in kemihost
 * should print a URL any other way.
 */
import { isAbsolute, resolve } from 'node:path';
import { KemiError } from '../errors.js';

export type Dialect = 'sqlite' | 'mysql' | 'postgres';

export type SslMode = 'disable' | 'require' | 'verify-full';

const SCHEMES: Record<string, Dialect> = { sqlite: 'sqlite', mysql: 'mysql', postgres: 'postgres', postgresql: 'postgres' };
const DEFAULT_PORTS: Record<Exclude<Dialect, 'sqlite'>, number> = { mysql: 3306, postgres: 5432 };
const OPTIONS: Record<Dialect, readonly string[]> = {
  sqlite: [],
  mysql: ['sslmode', 'charset'],
  postgres: ['sslmode', 'application_name'],
};
const SSL_MODES: readonly string[] = ['disable', 'require', 'verify-full'];
/** query options whose values are secrets (libpq accepts password=… there) */
const SECRET_OPTION = /pass|secret|token|key/i;

/** A parsed db_url. `toString()` and JSON give the redacted form; `password` is only for the driver. */
export class DbUrl {
  readonly #password: string;

  constructor(
    readonly dialect: Dialect,
    /** the URL as printable: password replaced by *** */
    readonly redacted: string,
    /** sqlite: absolute file path or ':memory:'; '' for servers */
    readonly path: string,
    readonly host: string,
    readonly port: number,
    readonly user: string,
    password: string,
    readonly database: string,
    readonly options: Readonly<Record<string, string>>,
  ) {
    this.#password = password;
  }

  get password(): string {
    return this.#password;
  }

  get sslmode(): SslMode {
    return (this.options.sslmode ?? 'disable') as SslMode;
  }

  toString(): string {
    return this.redacted;
  }

  toJSON(): string {
    return this.redacted;
  }
}

/**
 * The printable form of any string that may be a db_url, parseable or not: the password in the
 * userinfo and secret-looking query options become ***. Use it for every URL in a log or message.
 */
export function redactDbUrl(raw: string): string {
  const s = raw.indexOf('://');
  if (s < 0) return raw;
  const head = raw.slice(0, s + 3);
  let rest = raw.slice(s + 3);
  const at = rest.lastIndexOf('@');
  if (at >= 0) {
    const userinfo = rest.slice(0, at);
    const colon = userinfo.indexOf(':');
    if (colon >= 0) rest = `${userinfo.slice(0, colon)}:***${rest.slice(at)}`;
  }
  const q = rest.indexOf('?', Math.max(0, rest.lastIndexOf('@')));
  if (q >= 0) {
    const query = rest
      .slice(q + 1)
      .split('&')
      .map((kv) => {
        const eq = kv.indexOf('=');
        return eq > 0 && SECRET_OPTION.test(kv.slice(0, eq)) ? `${kv.slice(0, eq)}=***` : kv;
      })
      .join('&');
    rest = `${rest.slice(0, q)}?${query}`;
  }
  return head + rest;
}

function urlError(raw: string, why: string): KemiError {
  return new KemiError('KEMI_ERR_DB_URL', `${redactDbUrl(raw)}: ${why}`);
}

function decode(raw: string, part: string, what: string): string {
  try {
    return decodeURIComponent(part);
  } catch {
    throw urlError(raw, `the ${what} is not valid percent-encoding (write % as %25)`);
  }
}

function parseOptions(raw: string, dialect: Dialect, query: string): Record<string, string> {
  const out: Record<string, string> = {};
  if (query === '') return out;
  for (const kv of query.split('&')) {
    if (kv === '') continue;
    const eq = kv.indexOf('=');
    const key = decode(raw, eq < 0 ? kv : kv.slice(0, eq), 'option name');
    const value = eq < 0 ? '' : decode(raw, kv.slice(eq + 1), `value of ${key}`);
    const known = OPTIONS[dialect];
    if (!known.includes(key)) {
      throw urlError(raw, `unknown option "${key}" for ${dialect} (known: ${known.length > 0 ? known.join(', ') : 'none'})`);
    }
    if (key === 'sslmode' && !SSL_MODES.includes(value)) throw urlError(raw, `sslmode must be one of ${SSL_MODES.join(', ')}`);
    out[key] = value;
  }
  return out;
}

function parseSqlite(raw: string, rest: string, baseDir: string): DbUrl {
  const q = rest.indexOf('?');
  const pathPart = decode(raw, q < 0 ? rest : rest.slice(0, q), 'path');
  const options = parseOptions(raw, 'sqlite', q < 0 ? '' : rest.slice(q + 1));
  if (pathPart === '') throw urlError(raw, 'no file: expected sqlite:///absolute/path.db or sqlite://relative/path.db');
  const path = pathPart === ':memory:' ? pathPart : isAbsolute(pathPart) ? pathPart : resolve(baseDir, pathPart);
  // printed with the path it resolved to, so a log says which file
  return new DbUrl('sqlite', `sqlite://${path}${q < 0 ? '' : rest.slice(q)}`, path, '', 0, '', '', '', options);
}

function parseServer(raw: string, dialect: 'mysql' | 'postgres', rest: string): DbUrl {
  const at = rest.lastIndexOf('@');
  const userinfo = at < 0 ? '' : rest.slice(0, at);
  const hostPart = at < 0 ? rest : rest.slice(at + 1);
  const colon = userinfo.indexOf(':');
  const user = decode(raw, colon < 0 ? userinfo : userinfo.slice(0, colon), 'user');
  const password = colon < 0 ? '' : decode(raw, userinfo.slice(colon + 1), 'password');
  const q = hostPart.indexOf('?');
  const options = parseOptions(raw, dialect, q < 0 ? '' : hostPart.slice(q + 1));
  const beforeQuery = q < 0 ? hostPart : hostPart.slice(0, q);
  const slash = beforeQuery.indexOf('/');
  const authority = slash < 0 ? beforeQuery : beforeQuery.slice(0, slash);
  const database = slash < 0 ? '' : decode(raw, beforeQuery.slice(slash + 1), 'database name');
  const m = /^(\[[0-9A-Fa-f:.]+\]|[^:[\]]+)(?::(\d{1,5}))?$/.exec(authority);
  if (m === null) throw urlError(raw, 'expected host[:port] after the user (an IPv6 address in [brackets])');
  const host = (m[1] ?? '').replace(/^\[(.*)\]$/, '$1');
  const port = m[2] === undefined ? DEFAULT_PORTS[dialect] : Number(m[2]);
  if (port < 1 || port > 65_535) throw urlError(raw, 'the port must be 1..65535');
  if (database === '' || database.includes('/')) throw urlError(raw, `expected /database after the host (${dialect}://user:pass@host/db)`);
  if (user === '') throw urlError(raw, `no user: expected ${dialect}://user:pass@host/db`);
  return new DbUrl(dialect, redactDbUrl(raw), '', host, port, user, password, database, options);
}

/** Parse a db_url; throws KemiError KEMI_ERR_DB_URL with the redacted URL and what is wrong. */
export function parseDbUrl(raw: string, baseDir: string = process.cwd()): DbUrl {
  const m = /^([A-Za-z][A-Za-z0-9+.-]*):\/\/(.*)$/s.exec(raw.trim());
  const dialect = m === null ? undefined : SCHEMES[(m[1] ?? '').toLowerCase()];
  if (m === null || dialect === undefined) {
    throw urlError(raw, 'expected sqlite:///path/to.db, mysql://user:pass@host/db or postgres://user:pass@host/db');
  }
  const rest = m[2] ?? '';
  return dialect === 'sqlite' ? parseSqlite(raw, rest, baseDir) : parseServer(raw, dialect, rest);
}

/** A relative sqlite:// URL rewritten against `baseDir` (what a config file means by it); others unchanged. */
export function absoluteDbUrl(raw: string, baseDir: string): string {
  const m = /^sqlite:\/\/(.*)$/is.exec(raw.trim());
  if (m === null) return raw;
  const rest = m[1] ?? '';
  if (rest.startsWith('/') || rest.startsWith(':memory:') || rest === '') return raw;
  const q = rest.indexOf('?');
  const path = q < 0 ? rest : rest.slice(0, q);
  const abs = resolve(baseDir, decodeURIComponentSafe(path)).replaceAll('%', '%25').replaceAll('?', '%3F');
  return `sqlite://${abs}${q < 0 ? '' : rest.slice(q)}`;
}

function decodeURIComponentSafe(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}
