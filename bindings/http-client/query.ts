/**
 * One KSR.http_client request, as Kamailio's curl request function makes it: the method from
 * the call (POST when there is a body), the caller's header lines, curl's default headers, the
 * body cut to maxdatasize (and to its first line for query*()), and the call's int result: the
 * HTTP status, or curl's error code (< 100) when no answer came. Runs on the shared undici
 * client; an AbortSignal (the host ending the wait) stops it.
 */
import type { HttpClient, QueryResult } from '../../host/http-client/client.js';
import type { QuerySettings } from './connections.js';
import { curlCodeOf } from './curl-errors.js';

export interface Order {
  readonly url: URL;
  /** null: GET, or POST when there is a body (curl's CURLOPT_POST) */
  readonly method: string | null;
  readonly body: string | null;
  /** for a body: Content-Type; null = curl's default (application/x-www-form-urlencoded); "" none at all (curl given "Content-Type: ") */
  readonly contentType: string | null;
  /** name, value, name, value… from the call's hdrs */
  readonly headers: readonly string[];
  readonly settings: QuerySettings;
  /** query*(): only the first line of the body (query_result = 1) */
  readonly oneline: boolean;
  readonly username: string;
  readonly password: string;
}

export interface Outcome {
  /** the HTTP status, or curl's error code when no answer came */
  readonly code: number;
  /** true: `code` is curl's error code */
  readonly failed: boolean;
  /** what the dst pseudo-variable gets: the (cut) body of a 2xx-4xx answer, else "" */
  readonly value: string;
  /** why it failed, for the log; null when an answer came */
  readonly reason: string | null;
  /** the body was cut at max_body_bytes, not at the operator's maxdatasize */
  readonly hardCapped: boolean;
}

const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/**
 * The call's `hdrs` text as header pairs. Kamailio hands the whole string to curl as one header
 * line, so "A: 1\r\nB: 2" sends two; a line that is no "Name: value" is refused (a string).
 */
export function parseHdrs(hdrs: string): string[] | string {
  const out: string[] = [];
  for (const line of hdrs.split(/\r?\n/)) {
    if (line.trim() === '') continue;
    const colon = line.indexOf(':');
    const name = colon < 0 ? '' : line.slice(0, colon).trim();
    if (!TOKEN.test(name)) return `"${line}" is not a header line (Name: value)`;
    const value = line.slice(colon + 1).trim();
    if (/[\0\r\n]/.test(value)) return `the value of ${name} has control characters`;
    out.push(name, value);
  }
  return out;
}

function has(headers: readonly string[], name: string): boolean {
  for (let i = 0; i < headers.length; i += 2) if ((headers[i] as string).toLowerCase() === name) return true;
  return false;
}

/** The result value: the first line (up to, not including, the first LF) or the whole kept body. */
export function resultText(body: Buffer, oneline: boolean): string {
  if (oneline) {
    const lf = body.indexOf(10);
    if (lf >= 0) return body.subarray(0, lf).toString('utf8');
  }
  return body.toString('utf8');
}

/** What a QueryResult means for the script (see Outcome). */
export function outcomeOf(r: QueryResult, oneline: boolean, maxDataSize: number): Outcome {
  if (!r.ok || r.res === null) return { code: curlCodeOf(r), failed: true, value: '', reason: r.err ?? 'no answer', hardCapped: false };
  const status = r.res.status;
  const keep = status >= 200 && status < 500;
  return {
    code: status,
    failed: false,
    value: keep ? resultText(r.res.body, oneline) : '',
    reason: null,
    hardCapped: r.res.truncated && maxDataSize === 0,
  };
}

/** Send the order; resolves when the answer, an error or the timeout came, or the signal aborted. */
export function send(client: HttpClient, o: Order, maxBodyBytes: number, signal: AbortSignal): Promise<QueryResult | null> {
  const s = o.settings;
  const headers = [...o.headers];
  // curl's defaults, unless the caller's hdrs name them
  if (!has(headers, 'user-agent') && s.userAgent !== '') headers.push('User-Agent', s.userAgent);
  if (!has(headers, 'accept')) headers.push('Accept', '*/*');
  if (o.body !== null && o.contentType !== null && o.contentType !== '' && !has(headers, 'content-type')) headers.push('Content-Type', o.contentType);
  const cap = s.maxDataSize > 0 ? Math.min(s.maxDataSize, maxBodyBytes) : maxBodyBytes;
  return new Promise((resolve) => {
    if (signal.aborted) {
      resolve(null);
      return;
    }
    const handle = client.query(
      {
        url: o.url,
        method: o.method ?? (o.body === null ? 'GET' : 'POST'),
        headers,
        body: o.body,
        timeoutMs: s.timeoutMs,
        username: o.username,
        password: o.password,
        authmethod: s.authMethod,
        followRedirect: s.followRedirect,
        maxBodyBytes: cap,
        truncateBody: true,
        defaultContentType: o.contentType !== '',
        conn: {
          clientCert: s.clientCert,
          clientKey: s.clientKey,
          caPath: s.caCert,
          verifyPeer: s.verifyPeer,
          verifyHost: s.verifyHost,
          tlsVersion: s.tlsVersion,
          h2: false,
          tcpKeepalive: false,
          tcpKaIdle: 0,
        },
      },
      (r) => {
        signal.removeEventListener('abort', onAbort);
        resolve(r);
      },
    );
    function onAbort(): void {
      handle.abort();
      resolve(null);
    }
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
