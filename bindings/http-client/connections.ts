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
  const m = /^([A-Za-z][A-Za-z0-9+.-]*):\/\/(.*)$/.exec(rest);
  if (m === null) throw new Error(`httpcon "${name}": expected schema://host… after =>`);
  const schema = (m[1] ?? '').toLowerCase();
  if (schema !== 'http' && schema !== 'https') throw new Error(`httpcon "${name}": only http and https, got "${schema}"`);
  let tail = m[2] ?? '';
  const semi = tail.indexOf(';');
  const paramText = semi < 0 ? '' : tail.slice(semi + 1);
  if (semi >= 0) tail = tail.slice(0, semi);

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

  const s: { -readonly [K in keyof QuerySettings]: QuerySettings[K] } = { ...defaults };
  let failover = '';
  for (const part of paramText.split(';')) {
    if (part.trim() === '') continue;
    const eq = part.indexOf('=');
    const key = (eq < 0 ? part : part.slice(0, eq)).trim();
    const value = eq < 0 ? '' : part.slice(eq + 1).trim().replace(/^"(.*)"$/, '$1');
    switch (key) {
      case 'timeout': s.timeoutMs = secondsToMs(int(name, value, key)); break;
      case 'maxdatasize': s.maxDataSize = int(name, value, key); break;
      case 'httpredirect': s.followRedirect = flag(name, value, key); break;
      case 'useragent': s.userAgent = value; break;
      case 'verify_peer': s.verifyPeer = flag(name, value, key); break;
      case 'verify_host': s.verifyHost = flag(name, value, key); break;
      case 'tlsversion': s.tlsVersion = int(name, value, key); break;
      case 'client_cert': s.clientCert = value; break;
      case 'client_key': s.clientKey = value; break;
      case 'failover': failover = value; break;
      default:
        if (!ACCEPTED_ONLY.has(key)) throw new Error(`httpcon "${name}": unknown parameter "${key}" (known: timeout, maxdatasize, httpredirect, useragent, verify_peer, verify_host, tlsversion, client_cert, client_key, cipher_suites, failover)`);
    }
  }
  return { name, schema, base: tail, username, password, failover, settings: s };
}

/** Parse every definition; names must be unique and failovers must name a defined connection. */
export function parseConnections(specs: readonly string[], defaults: QuerySettings, secondsToMs: (s: number) => number): ReadonlyMap<string, HttpConnection> {
  const out = new Map<string, HttpConnection>();
  for (const spec of specs) {
    const c = parseHttpcon(spec, defaults, secondsToMs);
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
