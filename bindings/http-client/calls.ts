/**
 * The KSR.http_client calls: check what can be checked at once (the result variable, the URL,
 * the connection, the header lines) and answer those failures without waiting; otherwise return
 * a Wait whose start sends the request, writes the result variable and resolves with the code.
 */
import type { Context } from '../../host/kemi/context.js';
import type { ResolvedPv } from '../../host/kemi/pv.js';
import type { Counter } from '../../host/kemi/stats.js';
import type { ModuleHost } from '../../host/kemi/types.js';
import { Wait } from '../../host/kemi/wait.js';
import type { HttpClient } from '../../host/http-client/client.js';
import { connectionUrl, type HttpConnection, type QuerySettings } from './connections.js';
import { CURLE_UNSUPPORTED_PROTOCOL, CURLE_URL_MALFORMAT } from './curl-errors.js';
import { outcomeOf, parseHdrs, send, type Order, type Outcome } from './query.js';

export interface HcState {
  readonly host: ModuleHost;
  readonly client: HttpClient;
  /** the settings of query* / get_hdrs (the module parameters, query_maxdatasize) */
  readonly querySettings: QuerySettings;
  /** query_result = 1 */
  readonly oneline: boolean;
  readonly cons: ReadonlyMap<string, HttpConnection>;
  readonly maxBodyBytes: number;
  readonly connok: Counter;
  readonly connfail: Counter;
}

/** What a call returns when it cannot wait (a plain JS function) or its wait ends early. */
const FAILURE = -1;

/** The writable result variable named by dst, or null after complaining (Kamailio: -1). */
function target(s: HcState, fname: string, dst: string): ResolvedPv | null {
  const pv = s.host.pvs.resolve(dst);
  if (pv === null) {
    s.host.complain(`KSR.http_client.${fname}: "${dst}" is not a pseudo-variable`, { dst });
    return null;
  }
  if (pv.set === undefined) {
    s.host.complain(`KSR.http_client.${fname}: "${dst}" is not writable`, { dst });
    return null;
  }
  return pv;
}

/**
 * A URL curl would refuse before sending: its error code, written as Kamailio does (the result
 * variable emptied), without waiting.
 */
function badUrl(s: HcState, ctx: Context, fname: string, url: string, pv: ResolvedPv): number | URL {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    s.host.complain(`KSR.http_client.${fname}: malformed URL`, { url });
    pv.set?.(ctx, '');
    s.connfail.value++;
    return CURLE_URL_MALFORMAT;
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') {
    s.host.complain(`KSR.http_client.${fname}: only http and https URLs`, { url });
    pv.set?.(ctx, '');
    s.connfail.value++;
    return CURLE_UNSUPPORTED_PROTOCOL;
  }
  return u;
}

function count(s: HcState, out: Outcome): void {
  if (out.code === 200) s.connok.value++;
  else s.connfail.value++;
}

function note(s: HcState, fname: string, url: URL, out: Outcome, maxBodyBytes: number): void {
  if (out.failed) s.host.complain(`KSR.http_client.${fname}: ${out.reason ?? 'failed'}`, { url: url.href, curl_code: out.code }, 'warn');
  if (out.hardCapped) s.host.complain(`KSR.http_client.${fname}: answer body cut at max_body_bytes (${String(maxBodyBytes)} bytes)`, { url: url.href }, 'warn');
}

/** query, query_post, query_post_hdrs, get_hdrs: a URL of the script's, the module's settings. */
export function query(s: HcState, ctx: Context, fname: string, url: string, body: string, hdrs: string, dst: string, method: string | null): number | Wait<number> {
  const pv = target(s, fname, dst);
  if (pv === null) return FAILURE;
  const headers = parseHdrs(hdrs);
  if (typeof headers === 'string') {
    s.host.complain(`KSR.http_client.${fname}: ${headers}`);
    return FAILURE;
  }
  const u = badUrl(s, ctx, fname, url, pv);
  if (typeof u === 'number') return u;
  const order: Order = {
    url: u, method, body: body === '' ? null : body, contentType: null, headers,
    settings: s.querySettings, oneline: s.oneline, username: '', password: '',
  };
  return new Wait(`KSR.http_client.${fname}`, async (signal) => {
    const r = await send(s.client, order, s.maxBodyBytes, signal);
    // the wait is over (timeout, shutdown): the callback resumed with -1 already, touch nothing
    if (r === null) return FAILURE;
    const out = outcomeOf(r, order.oneline, order.settings.maxDataSize);
    count(s, out);
    note(s, fname, u, out, s.maxBodyBytes);
    pv.set?.(ctx, out.value);
    return out.code;
  }, FAILURE);
}

/** curl_connect, curl_connect_post: a named connection, its failover tried once. */
export function connect(s: HcState, ctx: Context, fname: string, name: string, path: string, ctype: string | null, data: string, dst: string): number | Wait<number> {
  const pv = target(s, fname, dst);
  if (pv === null) return FAILURE;
  const con = s.cons.get(name);
  if (con === undefined) {
    s.host.complain(`KSR.http_client.${fname}: no connection named "${name}" (httpcon)`, { connection: name });
    // Kamailio empties the result variable here too (the helper writes whatever came back)
    pv.set?.(ctx, '');
    return FAILURE;
  }
  const first = badUrl(s, ctx, fname, connectionUrl(con, path), pv);
  if (typeof first === 'number') return first;
  const orderFor = (c: HttpConnection, u: URL): Order => ({
    url: u, method: null, body: data === '' ? null : data,
    // Kamailio's default when the call gives none
    contentType: ctype ?? 'text/plain',
    headers: [], settings: c.settings, oneline: false, username: c.username, password: c.password,
  });
  return new Wait(`KSR.http_client.${fname}`, async (signal) => {
    let c = con;
    let u = first;
    for (let attempt = 0; ; attempt++) {
      const order = orderFor(c, u);
      const r = await send(s.client, order, s.maxBodyBytes, signal);
      if (r === null) return FAILURE;
      const out = outcomeOf(r, false, c.settings.maxDataSize);
      count(s, out);
      note(s, fname, u, out, s.maxBodyBytes);
      const next = c.failover === '' ? undefined : s.cons.get(c.failover);
      // Kamailio: a transport error or a 5xx moves on to the failover connection, once
      if ((out.failed || out.code >= 500) && next !== undefined && attempt === 0) {
        let nu: URL;
        try {
          nu = new URL(connectionUrl(next, path));
        } catch {
          pv.set?.(ctx, out.value);
          return out.code;
        }
        s.host.complain(`KSR.http_client.${fname}: connection "${c.name}" failed (${String(out.code)}), trying its failover "${next.name}"`, {}, 'warn');
        c = next;
        u = nu;
        continue;
      }
      pv.set?.(ctx, out.value);
      return out.code;
    }
  }, FAILURE);
}
