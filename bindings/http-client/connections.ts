/**
 * Named connections of KSR.http_client (Kamailio's `httpcon` parameter):
 *   name=>schema://[user[:password]@]host[:port][/base/path][;param=value…]
 * A connection's settings default to the module parameters; its `;param=value` list overrides
 * them. curl_connect(name, path, …) sends to the base URL with the path appended.
 */

/** What one query needs from the module parameters or a connection (curl's options). */
export interface QuerySettings {
  /** whole-request timeout, ms */
  readonly timeoutMs: number;
  /** bytes of the body kept for the result; 0 = no limit of the operator's (max_body_bytes still bounds it) */
  readonly maxDataSize: number;
  readonly followRedirect: boolean;
  readonly userAgent: string;
  readonly verifyPeer: boolean;
  readonly verifyHost: boolean;
  readonly tlsVersion: number;
  readonly clientCert: string;
  readonly clientKey: string;
  readonly caCert: string;
  /** 1 Basic, 2 Digest, 3 either */
  readonly authMethod: number;
}

export interface HttpConnection {
  readonly name: string;
  /** "http" or "https" */
  readonly schema: string;
  /** host[:port][/path], without the credentials and the parameters */
  readonly base: string;
  readonly username: string;
  readonly password: string;
  /** another connection's name, tried once when this one fails or answers 5xx */
  readonly failover: string;
  readonly settings: QuerySettings;
}

/** Parameters Kamailio accepts in a httpcon value and that change nothing here. */
const ACCEPTED_ONLY = new Set(['cipher_suites']);

function int(name: string, value: string, what: string): number {
  if (!/^\d+$/.test(value)) throw new Error(`httpcon "${name}": ${what} must be a non-negative integer, got "${value}"`);
  return Number(value);
}

function flag(name: string, value: string, what: string): boolean {
  const n = int(name, value, what);
  if (n !== 0 && n !== 1 && !(what === 'verify_host' && n === 2)) throw new Error(`httpcon "${name}": ${what} must be 0 or 1, got "${value}"`);
  return n !== 0;
}

/** schema://[user[:password]@]host… → the parts of a connection; throws naming the connection. */
export function parseBaseUrl(name: string, url: string): { schema: string; base: string; username: string; password: string } {
  const m = /^([A-Za-z][A-Za-z0-9+.-]*):\/\/(.*)$/.exec(url.trim());
  if (m === null) throw new Error(`httpcon "${name}": expected schema://host…, got "${url}"`);
  const schema = (m[1] ?? '').toLowerCase();
  if (schema !== 'http' && schema !== 'https') throw new Error(`httpcon "${name}": only http and https, got "${schema}"`);
  let tail = m[2] ?? '';
  let username = '';
  let password = '';
  const at = tail.lastIndexOf('@');
  if (at >= 0) {
    const cred = tail.slice(0, at);
    tail = tail.slice(at + 1);
    const colon = cred.indexOf(':');
    username = colon < 0 ? cred : cred.slice(0, colon);
    password = colon < 0 ? '' : cred.slice(colon + 1);
  }
  if (tail === '') throw new Error(`httpcon "${name}": no host`);
  try {
    new URL(`${schema}://${tail}`);
  } catch {
    throw new Error(`httpcon "${name}": "${schema}://${tail}" is not a valid URL`);
  }
  return { schema, base: tail, username, password };
}

/** Mutable settings while a definition is read. */
export type SettingsDraft = { -readonly [K in keyof QuerySettings]: QuerySettings[K] };

/**
 * Apply one `param=value` of a connection to its settings. false: not a settings key (the
 * caller knows failover, url…). Throws for a bad value.
 */
export function applySetting(name: string, s: SettingsDraft, key: string, value: string, secondsToMs: (n: number) => number): boolean {
  switch (key) {
    case 'timeout': s.timeoutMs = secondsToMs(int(name, value, key)); return true;
    case 'maxdatasize': s.maxDataSize = int(name, value, key); return true;
    case 'httpredirect': s.followRedirect = flag(name, value, key); return true;
    case 'useragent': s.userAgent = value; return true;
    case 'verify_peer': s.verifyPeer = flag(name, value, key); return true;
    case 'verify_host': s.verifyHost = flag(name, value, key); return true;
    case 'tlsversion': s.tlsVersion = int(name, value, key); return true;
    case 'client_cert': s.clientCert = value; return true;
    case 'client_key': s.clientKey = value; return true;
    default: return ACCEPTED_ONLY.has(key);
  }
}

/**
 * Parse one httpcon value. Throws an Error naming the connection and what is wrong: a bad
 * definition stops the server at start, as a bad modparam stops Kamailio.
 */
export function parseHttpcon(spec: string, defaults: QuerySettings, secondsToMs: (s: number) => number): HttpConnection {
  const arrow = spec.indexOf('=>');
  if (arrow < 0) throw new Error(`httpcon "${spec}": expected name=>url`);
  const name = spec.slice(0, arrow).trim();
  if (!/^[^\s=]+$/.test(name)) throw new Error(`httpcon "${spec}": the connection name is empty or has spaces`);
  const rest = spec.slice(arrow + 2).trim();
  const semi = rest.indexOf(';');
  const url = parseBaseUrl(name, semi < 0 ? rest : rest.slice(0, semi));
  const s: SettingsDraft = { ...defaults };
  let failover = '';
  for (const part of (semi < 0 ? '' : rest.slice(semi + 1)).split(';')) {
    if (part.trim() === '') continue;
    const eq = part.indexOf('=');
    const key = (eq < 0 ? part : part.slice(0, eq)).trim();
    const value = eq < 0 ? '' : part.slice(eq + 1).trim().replace(/^"(.*)"$/, '$1');
    if (key === 'failover') failover = value;
    else if (!applySetting(name, s, key, value, secondsToMs)) {
      throw new Error(`httpcon "${name}": unknown parameter "${key}" (known: timeout, maxdatasize, httpredirect, useragent, verify_peer, verify_host, tlsversion, client_cert, client_key, cipher_suites, failover)`);
    }
  }
  return { name, ...url, failover, settings: s };
}

/** Parse every definition; names must be unique and failovers must name a defined connection. */
export function parseConnections(specs: readonly string[], defaults: QuerySettings, secondsToMs: (s: number) => number, more: readonly HttpConnection[] = []): ReadonlyMap<string, HttpConnection> {
  const out = new Map<string, HttpConnection>();
  for (const c of [...specs.map((spec) => parseHttpcon(spec, defaults, secondsToMs)), ...more]) {
    if (out.has(c.name)) throw new Error(`httpcon "${c.name}" is defined twice`);
    out.set(c.name, c);
  }
  for (const c of out.values()) {
    if (c.failover !== '' && !out.has(c.failover)) throw new Error(`httpcon "${c.name}": failover names no connection ("${c.failover}")`);
  }
  return out;
}

/** Kamailio's join: base URL, then "/" unless the path starts with one, then the path. */
export function connectionUrl(c: HttpConnection, path: string): string {
  if (path === '') return `${c.schema}://${c.base}`;
  return `${c.schema}://${c.base}${path.startsWith('/') ? '' : '/'}${path}`;
}
