/**
 * The message pseudo-variables of Kamailio's core and pv module: $ru, $fu, $hdr(Name)…
 * Each getter reads the Context; a PV with nothing to read returns null ($null).
 */
import type { Context, HttpRequestData } from '../host/kemi/context.js';
import type { PvDef, Xval } from '../host/kemi/types.js';
import type { NameAddr } from '../host/sip/name-addr.js';
import { parseUri, type SipUri } from '../host/sip/uri.js';
import { setUriHost, setUriPort, setUriUser } from '../host/sip/uri-edit.js';

type Pv = PvDef;

/** A read-only PV: `stable` (derived from the message), or `volatile` (a clock). */
function ro(get: (ctx: Context, param: string) => Xval, doc: string, param = false, kind: 'stable' | 'volatile' = 'stable'): Pv {
  return { get: (_s, ctx, p) => get(ctx, p), doc, param, stable: kind === 'stable', volatile: kind === 'volatile' };
}

function ruriParsed(ctx: Context): SipUri | null {
  const msg = ctx.msg;
  if (msg === null || !msg.isRequest) return null;
  return ctx.newRuri === null ? msg.ruriParsed : parseUri(ctx.newRuri);
}

function defaultPort(u: SipUri): number {
  if (u.port > 0) return u.port;
  return u.scheme.toLowerCase() === 'sips' ? 5061 : 5060;
}

/** Kamailio's $fn/$tn give the display name as written, quotes included. */
function displayAsWritten(header: string | undefined, na: NameAddr | null): Xval {
  if (na === null || na.displayName === '') return null;
  return header?.trimStart().startsWith('"') === true ? `"${na.displayName}"` : na.displayName;
}

function nameAddrPvs(prefix: 'f' | 't', pick: (ctx: Context) => NameAddr | null, what: string): Record<string, Pv> {
  const header = prefix === 'f' ? 'from' : 'to';
  const uri = (ctx: Context): SipUri | null => {
    const na = pick(ctx);
    return na === null ? null : parseUri(na.uri);
  };
  return {
    [`${prefix}u`]: ro((ctx) => pick(ctx)?.uri ?? null, `${what} URI`),
    [`${prefix}U`]: ro((ctx) => uri(ctx)?.user ?? null, `${what} URI user`),
    [`${prefix}d`]: ro((ctx) => uri(ctx)?.host ?? null, `${what} URI host`),
    [`${prefix}n`]: ro((ctx) => displayAsWritten(ctx.msg?.getHeader(header), pick(ctx)), `${what} display name, as written`),
    [`${prefix}t`]: ro((ctx) => {
      const tag = pick(ctx)?.tag;
      return tag === undefined || tag === '' ? null : tag;
    }, `${what} tag`),
  };
}

function setRuriPart(ctx: Context, edit: (uri: string) => string | null): void {
  if (ctx.msg === null || !ctx.msg.isRequest) return;
  const next = edit(ctx.ruri);
  if (next !== null) ctx.newRuri = next;
}

/** Values of an HTTP request header, case-insensitive, in the order received. */
export function httpHeaders(req: HttpRequestData, name: string): string[] {
  const raw = req.rawHeaders;
  const want = name.toLowerCase();
  const out: string[] = [];
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const n = raw[i] as string;
    if (n.length === want.length && n.toLowerCase() === want) out.push(raw[i + 1] as string);
  }
  return out;
}

/** The first value of a header, from the SIP message or else the HTTP request (xhttp). */
function headerOf(ctx: Context, name: string): string | null {
  if (ctx.msg !== null) return ctx.msg.getHeader(name) ?? null;
  return ctx.http === null ? null : (httpHeaders(ctx.http, name)[0] ?? null);
}

/**
 * $hdr(Name) the first value; $(hdr(Name)[N]) the Nth (0-based, negative from the end);
 * $(hdr(Name)[*]) every value joined with "," (Kamailio's PV_HDR_DELIM).
 */
function headerAt(ctx: Context, spec: string): string | null {
  const m = /^(.*?)\s*\[\s*(-?\d+|\*)\s*\]$/.exec(spec);
  if (m === null) return headerOf(ctx, spec);
  const name = (m[1] ?? '').trim();
  const values = ctx.msg !== null ? ctx.msg.getHeaders(name) : ctx.http === null ? [] : httpHeaders(ctx.http, name);
  if (values.length === 0) return null;
  if (m[2] === '*') return values.join(',');
  const n = Number(m[2]);
  return values[n < 0 ? values.length + n : n] ?? null;
}

function protoName(ctx: Context): string {
  return ctx.src.proto === 'http' ? 'tcp' : ctx.src.proto;
}

function strOf(v: Xval): string {
  return v === null ? '' : String(v);
}

function timeOfDay(param: string): Xval {
  const ms = Date.now();
  const s = Math.floor(ms / 1000);
  const us = Math.floor((performance.timeOrigin + performance.now()) * 1000) % 1_000_000;
  switch (param) {
    case 's':
    case 'sn':
      return s;
    case 'u':
    case 'un':
      return us;
    case 'Sn':
    case 'Sm':
      return `${String(s)}.${String(us).padStart(6, '0')}`;
    default:
      return null;
  }
}

export const messagePvs: Record<string, Pv> = {
  ru: {
    get: (_s, ctx) => (ctx.msg?.isRequest === true ? ctx.ruri : null),
    set: (_s, ctx, _p, v) => {
      if (ctx.msg?.isRequest === true && v !== null && parseUri(String(v)) !== null) ctx.newRuri = String(v);
    },
    doc: 'Request-URI (writable: rewrites the R-URI)',
  },
  rU: {
    get: (_s, ctx) => ruriParsed(ctx)?.user ?? null,
    set: (_s, ctx, _p, v) => { setRuriPart(ctx, (u) => setUriUser(u, strOf(v))); },
    doc: 'Request-URI user (writable)',
  },
  rd: {
    get: (_s, ctx) => ruriParsed(ctx)?.host ?? null,
    set: (_s, ctx, _p, v) => { setRuriPart(ctx, (u) => setUriHost(u, strOf(v))); },
    doc: 'Request-URI host (writable)',
  },
  rp: {
    get: (_s, ctx) => {
      const u = ruriParsed(ctx);
      return u === null ? null : defaultPort(u);
    },
    set: (_s, ctx, _p, v) => { setRuriPart(ctx, (u) => setUriPort(u, Number(v ?? 0) | 0)); },
    doc: 'Request-URI port (5060, or 5061 for sips, when absent; writable)',
  },
  ou: ro((ctx) => (ctx.msg?.isRequest === true ? ctx.msg.ruri : null), 'the original Request-URI, as received'),
  du: {
    get: (_s, ctx) => ctx.dstUri,
    set: (_s, ctx, _p, v) => {
      ctx.dstUri = v === null || v === '' ? null : String(v);
    },
    doc: 'destination URI: where forward() sends instead of the R-URI (writable)',
  },
  ...nameAddrPvs('f', (ctx) => ctx.msg?.from ?? null, 'From'),
  ...nameAddrPvs('t', (ctx) => ctx.msg?.to ?? null, 'To'),
  ci: ro((ctx) => ctx.msg?.callId ?? null, 'Call-ID'),
  cs: ro((ctx) => ctx.msg?.cseq.seq ?? null, 'CSeq number'),
  rm: ro((ctx) => ctx.msg?.method ?? ctx.http?.method ?? null, 'method (of the request, or of the CSeq for a reply; the HTTP method for xhttp)'),
  rs: ro((ctx) => (ctx.msg !== null && !ctx.msg.isRequest ? ctx.msg.status : null), 'reply status code'),
  rr: ro((ctx) => (ctx.msg !== null && !ctx.msg.isRequest ? ctx.msg.reason : null), 'reply reason phrase'),
  si: ro((ctx) => ctx.src.ip, 'source IP address'),
  sp: ro((ctx) => ctx.src.port, 'source port'),
  Ri: ro((ctx) => ctx.src.localIp, 'IP address of the socket that received the message'),
  Rp: ro((ctx) => ctx.src.localPort, 'port of the socket that received the message'),
  // xhttp requests ride on TCP: Kamailio reports "tcp" for them.
  pr: ro((ctx) => protoName(ctx), 'transport protocol (udp, tcp…; tcp for an xhttp request)'),
  proto: ro((ctx) => protoName(ctx), 'transport protocol (udp, tcp…; tcp for an xhttp request)'),
  ua: ro((ctx) => headerOf(ctx, 'user-agent'), 'User-Agent header'),
  hdr: { ...ro((ctx, spec) => headerAt(ctx, spec), 'value of the first header with this name (of the SIP message, or of the HTTP request in xhttp); $(hdr(Name)[N]) the Nth (0-based, negative from the end), $(hdr(Name)[*]) all, joined with ","', true), index: true },
  hdrc: ro((ctx, name) => {
    if (ctx.msg !== null) return ctx.msg.getHeaders(name).length;
    return ctx.http === null ? 0 : httpHeaders(ctx.http, name).length;
  }, 'number of headers with this name', true),
  rb: ro((ctx) => {
    if (ctx.msg !== null) return ctx.msg.bodyText;
    return ctx.http === null ? null : ctx.http.body.toString('utf8');
  }, 'message body (the HTTP request body in xhttp)'),
  bs: ro((ctx) => ctx.msg?.contentLength ?? ctx.http?.body.length ?? null, 'body size in bytes'),
  ml: ro((ctx) => ctx.msg?.raw.length ?? null, 'message length (null for an xhttp request)'),
  mb: ro((ctx) => (ctx.msg === null ? null : ctx.msg.raw.toString('utf8')), 'the whole message as received (null for an xhttp request)'),
  Ts: ro(() => Math.floor(Date.now() / 1000), 'current Unix time, seconds', false, 'volatile'),
  TV: ro((_ctx, p) => timeOfDay(p), 'time of day: s, u (µs part), sn, un, Sn ("s.us")', true, 'volatile'),
};

