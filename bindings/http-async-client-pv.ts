/**
 * The result pseudo-variables of http_async_client ($http_ok, $http_rs, $http_hdr(Name)…),
 * read in the route a query runs, and `$http_req(key)` written before a query. They read the
 * result delivered to the Context the route runs on (see http-async-client-core.ts).
 */
import type { Context } from '../host/kemi/context.js';
import type { PvDef, Xval } from '../host/kemi/types.js';
import type { Delivered, HttpAsyncCore } from './http-async-client-core.js';
import { applySetting, emptySettings, readSetting } from './http-async-client-req.js';

/** the state of the module declaring these PVs: anything holding the shared core */
export interface HasCore {
  readonly core: HttpAsyncCore;
}

type Pv = PvDef<HasCore>;

function ro(get: (d: Delivered, param: string) => Xval, doc: string, param = false): Pv {
  return {
    get: (s, ctx, p) => {
      const d = s.core.delivered(ctx);
      return d === null ? null : get(d, p);
    },
    doc,
    param,
  };
}

/** "Name" → the first value; "Name[N]" → the Nth (0-based, -1 = last); "Name[*]" → all, joined with ", ". */
function header(d: Delivered, spec: string): Xval {
  const res = d.result.res;
  if (res === null) return null;
  const m = /^(.*?)\s*\[\s*(-?\d+|\*)\s*\]$/.exec(spec);
  const name = (m === null ? spec : (m[1] ?? '')).trim().toLowerCase();
  const values: string[] = [];
  const raw = res.rawHeaders;
  for (let i = 0; i + 1 < raw.length; i += 2) if ((raw[i] as string).toLowerCase() === name) values.push(raw[i + 1] as string);
  if (values.length === 0) return null;
  const idx = m?.[2];
  if (idx === undefined) return values[0] ?? null;
  if (idx === '*') return values.join(', ');
  const n = Number(idx);
  return values[n < 0 ? values.length + n : n] ?? null;
}

/** The whole response as received: status line, headers, blank line, body ($http_mb). */
function wholeMessage(d: Delivered): Buffer | null {
  const res = d.result.res;
  if (res === null) return null;
  const lines = [`HTTP/${d.result.httpVersion} ${String(res.status)}${res.reason === '' ? '' : ` ${res.reason}`}`];
  for (let i = 0; i + 1 < res.rawHeaders.length; i += 2) lines.push(`${res.rawHeaders[i] ?? ''}: ${res.rawHeaders[i + 1] ?? ''}`);
  return Buffer.concat([Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'latin1'), res.body]);
}

const TIMES = new Set(['total', 'lookup', 'connect', 'appconnect', 'pretransfer', 'starttransfer']);

function setReq(core: HttpAsyncCore, ctx: Context, key: string, v: Xval): void {
  const k = key.trim();
  if (k === 'all') {
    // Kamailio: `$http_req(all) = $null` resets to the module defaults; any other value is ignored
    if (v === null) core.resetSettings(ctx);
    else core.complain(null, '$http_req(all) can only be set to $null (reset)');
    return;
  }
  const why = applySetting(core.settings(ctx), k, v);
  if (why !== null) core.complain(null, `$http_req(${k}): ${why}; setting ignored`, { value: v });
}

export const httpAsyncClientPvs: Readonly<Record<string, Pv>> = {
  http_req: {
    param: true,
    get: (s, ctx, key) => readSetting(s.core.peekSettings(ctx) ?? emptySettings(), key.trim()),
    set: (s, ctx, key, v) => { setReq(s.core, ctx, key, v); },
    doc: 'settings for the next query from this message (all, hdr, body, method, timeout, tls_client_cert, tls_client_key, tls_ca_path, authmethod, username, password, suspend, follow_redirect, http_version, tcp_keepalive, tcp_ka_idle, tcp_ka_interval); reset by that query',
  },
  http_ok: ro((d) => (d.result.ok ? 1 : 0), '1 when the query got a response (any status), 0 on an error or a timeout'),
  http_err: ro((d) => d.result.err, 'why the query failed, $null when it did not'),
  http_rs: ro((d) => d.result.res?.status ?? null, 'the response status code'),
  http_rr: ro((d) => d.result.res?.reason ?? null, 'the response reason phrase ("" over HTTP/2)'),
  http_hdr: {
    ...ro(header, 'a response header: $http_hdr(Name) the first value, $(http_hdr(Name)[N]) the Nth (0-based; -1 the last), $(http_hdr(Name)[*]) all, joined with ", "', true),
    index: true,
  },
  http_mb: ro((d) => wholeMessage(d)?.toString('utf8') ?? null, 'the whole response: status line, headers and body'),
  http_ml: ro((d) => wholeMessage(d)?.length ?? null, 'the length of $http_mb in bytes'),
  http_rb: ro((d) => d.result.res?.body.toString('utf8') ?? null, 'the response body (UTF-8)'),
  http_bs: ro((d) => d.result.res?.body.length ?? null, 'the response body size in bytes'),
  http_req_id: {
    get: (s, ctx) => s.core.lastId(ctx),
    doc: 'the id of the query: in its route, or right after sending it',
  },
  http_time: ro((d, which) => {
    const w = which.trim();
    return TIMES.has(w) ? d.result.times[w as keyof typeof d.result.times] : null;
  }, 'phase times in µs: total, starttransfer (response headers in), pretransfer (request written); lookup, connect and appconnect are not observed and read 0', true),
  http_xdata: ro((d) => d.xdata, 'the xdata given to send_xdata, else $null'),
};
