/**
 * `$http_req(key)`: the settings a script gives for its next query, kept per Context and
 * cleared by that query (Kamailio keeps them per process until the query; one Context is the
 * same thing here). A bad key or value is refused with a log line and leaves the setting as it
 * was: a PV assignment has no return value to carry -1.
 */
import type { Xval } from '../host/kemi/types.js';

export const METHODS: ReadonlySet<string> = new Set(['GET', 'POST', 'PUT', 'DELETE', 'PATCH']);

export interface ReqSettings {
  /** name, value, name, value… from each `$http_req(hdr)` */
  headers: string[];
  body: string | null;
  method: string | null;
  timeoutMs: number | null;
  tlsClientCert: string | null;
  tlsClientKey: string | null;
  tlsCaPath: string | null;
  authmethod: number | null;
  username: string | null;
  password: string | null;
  suspend: boolean | null;
  followRedirect: boolean | null;
  h2: boolean | null;
  tcpKeepalive: boolean | null;
  tcpKaIdle: number | null;
  tcpKaInterval: number | null;
}

export function emptySettings(): ReqSettings {
  return {
    headers: [],
    body: null,
    method: null,
    timeoutMs: null,
    tlsClientCert: null,
    tlsClientKey: null,
    tlsCaPath: null,
    authmethod: null,
    username: null,
    password: null,
    suspend: null,
    followRedirect: null,
    h2: null,
    tcpKeepalive: null,
    tcpKaIdle: null,
    tcpKaInterval: null,
  };
}

function int(v: Xval): number | null {
  if (typeof v === 'number') return Number.isInteger(v) ? v : null;
  if (typeof v === 'string' && /^-?\d+$/.test(v.trim())) return Number(v.trim());
  return null;
}

function str(v: Xval): string | null {
  return v === null ? null : String(v);
}

/**
 * curl's CURL_HTTP_VERSION_* numbers (2_0 = 3, 2TLS = 4, 2_PRIOR_KNOWLEDGE = 5) or a version
 * string ("2", "2.0", "1.1"): true = ask for HTTP/2.
 */
function wantsH2(v: Xval): boolean | null {
  if (v === null) return null;
  const s = String(v).trim().toLowerCase();
  if (s === '3' || s === '4' || s === '5' || s === '2' || s === '2.0' || s === 'http/2') return true;
  if (s === '0' || s === '1' || s === '1.0' || s === '1.1' || s === 'http/1.1') return false;
  return null;
}

/** "Name: value" → [name, value]; null when it is not a header line. */
function headerLine(v: string): [string, string] | null {
  const colon = v.indexOf(':');
  if (colon <= 0) return null;
  const name = v.slice(0, colon).trim();
  const value = v.slice(colon + 1).trim().replace(/\r?\n$/, '');
  if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(name) || /[\r\n\0]/.test(value)) return null;
  return [name, value];
}

/**
 * Apply `$http_req(key) = v` to s. Returns null when done, else why it was refused.
 * `all` = $null resets everything (the caller replaces the settings).
 */
export function applySetting(s: ReqSettings, key: string, v: Xval): string | null {
  const flag = (): boolean | null => {
    const n = int(v);
    return n === null ? null : n !== 0;
  };
  switch (key) {
    case 'hdr': {
      if (v === null) {
        s.headers = [];
        return null;
      }
      const h = headerLine(String(v));
      if (h === null) return 'hdr must be "Name: value"';
      s.headers.push(h[0], h[1]);
      return null;
    }
    case 'body':
      s.body = str(v);
      return null;
    case 'method': {
      if (v === null) {
        s.method = null;
        return null;
      }
      const m = String(v).trim().toUpperCase();
      if (!METHODS.has(m)) return 'method must be GET, POST, PUT, DELETE or PATCH';
      s.method = m;
      return null;
    }
    case 'timeout': {
      const n = int(v);
      // setTimeout cannot wait longer than 2^31-1 ms; a day is far past any sane query
      if (v !== null && (n === null || n <= 0 || n > 86_400_000)) return 'timeout must be ms, 1..86400000';
      s.timeoutMs = n;
      return null;
    }
    case 'tls_client_cert':
      s.tlsClientCert = str(v);
      return null;
    case 'tls_client_key':
      s.tlsClientKey = str(v);
      return null;
    case 'tls_ca_path':
      s.tlsCaPath = str(v);
      return null;
    case 'authmethod': {
      const n = int(v);
      if (v !== null && (n === null || (n & 3) === 0)) return 'authmethod must include 1 (Basic) or 2 (Digest); other curl methods are not supported';
      s.authmethod = n === null ? null : n & 3;
      return null;
    }
    case 'username':
      s.username = str(v);
      return null;
    case 'password':
      s.password = str(v);
      return null;
    case 'suspend':
      s.suspend = flag();
      return v !== null && s.suspend === null ? 'suspend must be 0 or 1' : null;
    case 'follow_redirect':
      s.followRedirect = flag();
      return v !== null && s.followRedirect === null ? 'follow_redirect must be 0 or 1' : null;
    case 'http_version':
      s.h2 = wantsH2(v);
      return v !== null && s.h2 === null ? 'http_version must be a curl CURL_HTTP_VERSION_* number or "1.1" / "2"' : null;
    case 'tcp_keepalive':
      s.tcpKeepalive = flag();
      return v !== null && s.tcpKeepalive === null ? 'tcp_keepalive must be 0 or 1' : null;
    case 'tcp_ka_idle':
    case 'tcp_ka_interval': {
      const n = int(v);
      if (v !== null && (n === null || n < 0)) return `${key} must be seconds ≥ 0`;
      if (key === 'tcp_ka_idle') s.tcpKaIdle = n;
      else s.tcpKaInterval = n;
      return null;
    }
    default:
      return 'unknown $http_req key';
  }
}

/** What `KSR.pv.get("$http_req(key)")` shows: the value set for the next query, else $null. */
export function readSetting(s: ReqSettings | undefined, key: string): Xval {
  if (s === undefined) return null;
  const b = (x: boolean | null): Xval => (x === null ? null : x ? 1 : 0);
  switch (key) {
    case 'hdr':
      return s.headers.length === 0 ? null : s.headers.reduce<string[]>((acc, x, i) => (i % 2 === 0 ? [...acc, `${x}: ${s.headers[i + 1] ?? ''}`] : acc), []).join('\r\n');
    case 'body':
      return s.body;
    case 'method':
      return s.method;
    case 'timeout':
      return s.timeoutMs;
    case 'tls_client_cert':
      return s.tlsClientCert;
    case 'tls_client_key':
      return s.tlsClientKey;
    case 'tls_ca_path':
      return s.tlsCaPath;
    case 'authmethod':
      return s.authmethod;
    case 'username':
      return s.username;
    case 'password':
      return null;
    case 'suspend':
      return b(s.suspend);
    case 'follow_redirect':
      return b(s.followRedirect);
    case 'http_version':
      return s.h2 === null ? null : s.h2 ? 3 : 2;
    case 'tcp_keepalive':
      return b(s.tcpKeepalive);
    case 'tcp_ka_idle':
      return s.tcpKaIdle;
    case 'tcp_ka_interval':
      return s.tcpKaInterval;
    default:
      return null;
  }
}
