/**
 * KSR.http_client (Kamailio's http_client): HTTP(S) requests whose answer the script reads at
 * once, in the pseudo-variable it names. In Kamailio the call blocks the worker process; here it
 * waits in place (host/kemi/wait.ts): the callback is suspended until the answer, an error or
 * the timeout, and every other message goes on meanwhile. Lua sees a plain call; JavaScript
 * awaits it inside an async function (docs/http_client.md).
 */
import { z } from 'zod';
import { defineModule, type ModuleHost } from '../../host/kemi/types.js';
import type { Counter } from '../../host/kemi/stats.js';
import { waitFn } from '../../host/kemi/wait.js';
import { HttpClient } from '../../host/http-client/client.js';
import { PACKAGE_VERSION } from '../../host/rpc/about.js';
import { parseConnections, type HttpConnection, type QuerySettings } from './connections.js';
import { readConfigFile } from './config-file.js';
import { curlErrorText } from './curl-errors.js';
import { connect, query, type HcState } from './calls.js';

const nat = (def: number, doc: string) => z.number().int().min(0).default(def).describe(doc);
const str = (doc: string) => z.string().default('').describe(doc);

/** The longest timer node keeps (setTimeout's limit): "no timeout" here; limits.wait_ms still bounds the wait. */
const NO_TIMEOUT_MS = 2_147_483_647;

const DEFAULT_USER_AGENT = `kemihost (${PACKAGE_VERSION} (${process.arch}/${process.platform}))`;

const SYNTAX_DEFAULTS: QuerySettings = {
  timeoutMs: 4000, maxDataSize: 0, followRedirect: false, userAgent: '', verifyPeer: true, verifyHost: true,
  tlsVersion: 0, clientCert: '', clientKey: '', caCert: '', authMethod: 3,
};

const list = (v: string | readonly string[]): readonly string[] => (typeof v === 'string' ? (v === '' ? [] : [v]) : v);

const params = z
  .object({
    httpcon: z.union([z.string(), z.array(z.string())]).default([]).superRefine((v, c) => {
      try {
        parseConnections(list(v), SYNTAX_DEFAULTS, (s) => s * 1000);
      } catch (e) {
        c.addIssue({ code: 'custom', message: (e as Error).message });
      }
    }).describe('Named connections for curl_connect / curl_connect_post: "name=>http[s]://[user:password@]host[:port][/path][;param=value…]", a list for several (one per Kamailio modparam line). Parameters: timeout (s), maxdatasize, httpredirect, useragent, verify_peer, verify_host, tlsversion, client_cert, client_key, failover (another connection tried once on a transport error or a 5xx); cipher_suites is accepted and ignored.'),
    connection_timeout: nat(0, 'How long a whole request may take, in seconds (ms with timeout_mode 2); 0: 4 s (4000 ms), as Kamailio. A request still running then returns 28 (curl\'s timeout). limits.wait_ms bounds it too.'),
    timeout_mode: z.number().int().min(0).max(2).default(1)
      .describe('Kamailio 5.7\'s parameter, accepted here for 5.6 configs too: 1 connection_timeout in seconds, 2 in milliseconds, 0 no timeout of the module\'s own (limits.wait_ms still ends the wait).'),
    query_result: z.number().int().min(0).max(1).default(1)
      .describe('What query / query_post / query_post_hdrs / get_hdrs write into their result variable: 1 the first line of the body (up to the first LF), 0 the whole body.'),
    query_maxdatasize: nat(0, 'Bytes of the body kept for the result of query*/get_hdrs; 0: no limit of its own (max_body_bytes still bounds it). The rest of a larger body is read and dropped.'),
    maxdatasize: nat(0, 'Bytes of the body kept for the result of curl_connect*, and the default of httpcon\'s maxdatasize; 0: no limit of its own (max_body_bytes).'),
    max_body_bytes: z.number().int().min(1).max(268_435_456).default(1_048_576)
      .describe('kemihost\'s bound on any result: past it the body is cut (and the cut logged) even with maxdatasize 0, where Kamailio keeps everything.'),
    httpredirect: nat(0, 'Non-zero: follow 301/302/303/307/308 (up to 10). Kamailio\'s default is 0 in its source, whatever its README says.'),
    useragent: z.string().optional()
      .describe('The User-Agent header of every request (a hdrs line naming User-Agent wins); "" for none. Unset: "kemihost (<version> (<arch>/<os>))", shaped like Kamailio\'s.'),
    verify_peer: nat(1, 'Non-zero: an HTTPS server\'s certificate must chain to a trusted CA (cacert, else node\'s CAs).'),
    verify_host: nat(2, 'Non-zero: an HTTPS server\'s certificate must name the host of the URL.'),
    tlsversion: z.number().int().min(0).max(7).default(0)
      .describe('Lowest TLS version, curl\'s CURL_SSLVERSION_* numbers: 0 default, 1 or 4 TLSv1.0, 5 TLSv1.1, 6 TLSv1.2, 7 TLSv1.3.'),
    client_cert: str('PEM file of a TLS client certificate ("" none); with client_key.'),
    client_key: str('PEM file of the TLS client certificate\'s key.'),
    cacert: str('PEM file of the CAs trusted for HTTPS servers; "" uses node\'s CAs.'),
    authmethod: nat(3, 'For connections with user:password: 1 Basic (sent at once), 2 Digest, 3 either, as the server\'s 401 asks. GSS-Negotiate (4) and NTLM (8, 16) are not available: those bits are ignored.'),
    keep_connections: nat(0, 'Accepted for compatibility: connections are always pooled and kept alive here (one event loop serves every call), which is what 1 asks for in Kamailio.'),
    cipher_suites: str('Accepted for compatibility and ignored: node\'s default cipher list applies.'),
    httpproxy: str('Not supported: a non-empty value stops the start (requests would silently bypass the proxy).'),
    httpproxyport: nat(0, 'Accepted with httpproxy; see there.'),
    config_file: str('A file of connections in Kamailio\'s format ([name] sections of url, username, password, timeout, maxdatasize, httpredirect, verify_peer, verify_host, tlsversion, client_cert, client_key, useragent, authmethod, failover), besides httpcon; relative to this config file, its certificate files relative to it.'),
    netinterface: str('Not supported: a non-empty value stops the start; the OS picks the source address.'),
  })
  .strict();

type Params = z.output<typeof params>;

function refuseUnsupported(p: Params): void {
  const bad = (['httpproxy', 'netinterface'] as const).filter((k) => p[k] !== '');
  if (bad.length > 0) throw new Error(`modules.http_client: ${bad.join(', ')} not supported by kemihost (docs/http_client.md)`);
}

function init(host: ModuleHost, p: Params): HcState {
  refuseUnsupported(p);
  const toMs = (n: number): number => {
    if (p.timeout_mode === 0) return NO_TIMEOUT_MS;
    const given = n === 0 ? (p.timeout_mode === 1 ? 4 : 4000) : n;
    return Math.min(p.timeout_mode === 1 ? given * 1000 : given, NO_TIMEOUT_MS);
  };
  const base = {
    timeoutMs: toMs(p.connection_timeout),
    followRedirect: p.httpredirect !== 0,
    userAgent: p.useragent ?? DEFAULT_USER_AGENT,
    verifyPeer: p.verify_peer !== 0,
    verifyHost: p.verify_host !== 0,
    tlsVersion: p.tlsversion,
    clientCert: p.client_cert,
    clientKey: p.client_key,
    caCert: p.cacert,
    authMethod: p.authmethod & 3,
  };
  const connSettings: QuerySettings = { ...base, maxDataSize: p.maxdatasize };
  // a connection's own timeout counts in the same unit as connection_timeout
  const fromFile = p.config_file === '' ? [] : readConfigFile(p.config_file, connSettings, toMs);
  const cons = parseConnections(list(p.httpcon), connSettings, toMs, fromFile);
  const stat = (n: 'connok' | 'connfail'): Counter => host.stat(n);
  host.gauge('connections').value = cons.size;
  return {
    host,
    client: new HttpClient(Math.min(base.timeoutMs, 60_000)),
    querySettings: { ...base, maxDataSize: p.query_maxdatasize },
    oneline: p.query_result === 1,
    cons,
    maxBodyBytes: p.max_body_bytes,
    connok: stat('connok'),
    connfail: stat('connfail'),
  };
}

function listcon(s: HcState): unknown[] {
  return [...s.cons.values()].map((c: HttpConnection) => ({
    connection: c.name,
    url: `${c.schema}://${c.base}`,
    username: c.username,
    failover: c.failover,
    timeout_ms: c.settings.timeoutMs,
    maxdatasize: c.settings.maxDataSize,
    httpredirect: c.settings.followRedirect ? 1 : 0,
  }));
}

const WAITS = ' Waits in place: Lua sees a plain call; in JavaScript, await it inside an async function (a plain function gets -1).';

export default defineModule({
  name: 'http_client',
  doc: 'HTTP(S) requests whose answer the script reads in place: the callback waits (nothing else does) and goes on with the status and the body in a pseudo-variable.',
  params,
  stats: ['connections', 'connok', 'connfail'],
  init,
  close: (s: HcState) => s.client.close(),
  pvArgs: { query: [1], query_post: [2], query_post_hdrs: [3], get_hdrs: [3], curl_connect: [2], curl_connect_post: [4] },
  functions: {
    query: waitFn(['str', 'str'], 'int', (s: HcState, ctx, url, dst) => query(s, ctx, 'query', url, '', '', dst, null),
      `GET url; the first line of the body (query_result) of a 2xx-4xx answer goes into dst ("" otherwise). Returns the HTTP status, curl's error code (< 100, see $curlerror) when no answer came, -1 for a dst that is no writable variable or bad hdrs.${WAITS}`),
    query_post: waitFn(['str', 'str', 'str'], 'int', (s: HcState, ctx, url, post, dst) => query(s, ctx, 'query_post', url, post, '', dst, null),
      `POST post to url (Content-Type application/x-www-form-urlencoded); "" for post sends a GET. Result and return as query.${WAITS}`),
    query_post_hdrs: waitFn(['str', 'str', 'str', 'str'], 'int', (s: HcState, ctx, url, post, hdrs, dst) => query(s, ctx, 'query_post_hdrs', url, post, hdrs, dst, null),
      `As query_post, with header lines hdrs ("Name: value", several separated by CRLF; "" none), e.g. a Content-Type of the caller's.${WAITS}`),
    get_hdrs: waitFn(['str', 'str', 'str', 'str'], 'int', (s: HcState, ctx, url, body, hdrs, dst) => query(s, ctx, 'get_hdrs', url, body, hdrs, dst, 'GET'),
      `GET url, with a body ("" none) and header lines hdrs ("" none). Result and return as query.${WAITS}`),
    curl_connect: waitFn(['str', 'str', 'str'], 'int', (s: HcState, ctx, con, url, dst) => connect(s, ctx, 'curl_connect', con, url, null, '', dst),
      `GET the named connection's URL with url appended; the whole body (up to maxdatasize) of a 2xx-4xx answer goes into dst. Returns the HTTP status, curl's error code, -1 for an unknown connection or a bad dst; a failover connection is tried once on an error or a 5xx.${WAITS}`),
    curl_connect_post: waitFn(['str', 'str', 'str', 'str', 'str'], 'int', (s: HcState, ctx, con, url, ctype, data, dst) => connect(s, ctx, 'curl_connect_post', con, url, ctype, data, dst),
      `POST data with Content-Type ctype to the named connection's URL with url appended ("" for data sends a GET). Result and return as curl_connect.${WAITS}`),
  },
  pvs: {
    curlerror: {
      param: true,
      stable: true,
      get: (_s: HcState, _ctx, param) => curlErrorText(/^\s*-?\d+/.test(param) ? parseInt(param, 10) : 0),
      doc: '$curlerror(N): the text of curl error code N, as a call returned it ("Couldn\'t connect to server" for 7, "Timeout was reached" for 28); "HTTP result code" for N > 99.',
    },
  },
  rpc: {
    'httpclient.listcon': { doc: 'The httpcon connections (without passwords)', run: (s: HcState) => listcon(s) },
  },
});
