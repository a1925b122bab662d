import type { Context } from '../host/kemi/context.js';
import type { TransportProto } from '../host/sip/types.js';
import { defineModule, fn, readFn, type KemiFunctionDef, type Xval } from '../host/kemi/types.js';
import { definesFunctions, kxInit, kxParams } from './kx-defines.js';
import { parseNameAddr } from '../host/sip/name-addr.js';
import { parseUri, type SipUri } from '../host/sip/uri.js';
import { digestUser, fromOf, parseCredentials, ruriOf, toOf, tryRead, uriHost } from './msg-fields.js';

/**
 * What a getter returns when there is nothing to return, by name prefix (Kamailio's
 * SR_KEMI_XVAL_NULL_NONE / _EMPTY / _PRINT): `get_` null, `gete_` '', `getw_` '<null>'.
 */
type NullMode = 'get' | 'gete' | 'getw';

function orNull(v: string | null | undefined, mode: NullMode): Xval {
  if (v !== null && v !== undefined && v !== '') return v;
  return mode === 'gete' ? '' : mode === 'getw' ? '<null>' : null;
}

/** `get_<what>`, `gete_<what>`, `getw_<what>`: one reader, three null conventions. */
function modes(
  what: string,
  read: (ctx: Context) => string | null | undefined,
  doc: string,
): Record<string, KemiFunctionDef> {
  const out: Record<string, KemiFunctionDef> = {};
  const suffix: Record<NullMode, string> = { get: 'null', gete: 'an empty string', getw: '"<null>"' };
  for (const mode of ['get', 'gete', 'getw'] as const) {
    out[`${mode}_${what}`] = fn([], 'xval', (_s, ctx) => orNull(read(ctx), mode), `${doc}; ${suffix[mode]} when there is none.`);
  }
  return out;
}

function userOf(u: SipUri | null): string | null {
  return u === null ? null : u.user;
}

function hostOf(u: SipUri | null): string | null {
  return u === null ? null : u.host;
}

/** The transport as Kamailio names it; xhttp requests ride on TCP. */
function protoName(p: TransportProto): string {
  return p === 'http' ? 'tcp' : p;
}

/** Kamailio's PROTO_* numbers. */
const PROTO_ID: Readonly<Record<TransportProto, number>> = { udp: 1, tcp: 2, tls: 3, ws: 5, wss: 6, http: 2 };

/** `sip:ip:port[;transport=x]`, the source as a SIP URI (Kamailio's get_src_uri short form). */
function srcUri(ctx: Context): string {
  const { proto, ip, port } = ctx.src;
  const base = `sip:${uriHost(ip)}:${String(port)}`;
  if (proto === 'udp') return base;
  // In a URI a secure WebSocket is transport=ws (sips: says the rest).
  const t = proto === 'wss' ? 'ws' : protoName(proto);
  return `${base};transport=${t}`;
}

/** The username (user part) of the first [Proxy-]Authorization Digest credentials. */
function authUser(ctx: Context): string | null {
  const msg = ctx.msg;
  if (msg?.isRequest !== true || msg.method === 'ACK' || msg.method === 'CANCEL') return null;
  // Kamailio takes Proxy-Authorization when present, else Authorization.
  const hv = msg.getHeader('proxy-authorization') ?? msg.getHeader('authorization');
  if (hv === undefined) return null;
  const cred = parseCredentials(hv);
  if (cred?.scheme.toLowerCase() !== 'digest') return null;
  const username = cred.params.get('username');
  return username === undefined ? null : digestUser(username);
}

function contactUri(ctx: Context): string | null {
  const first = ctx.msg?.getHeaderElements('contact')[0];
  if (first === undefined || first.trim() === '*') return null;
  return parseNameAddr(first)?.uri ?? null;
}

function body(ctx: Context): string | null {
  const msg = ctx.msg;
  return msg === null || msg.body.length === 0 ? null : msg.bodyText;
}

/**
 * Every getter here only reads the message, its source and the R-URI the script may rewrite:
 * a read (KemiFunctionDef.read), which the JS engine can answer without crossing. Not a clock.
 */
function asReads(functions: Record<string, KemiFunctionDef>, volatile: readonly string[]): Record<string, KemiFunctionDef> {
  return Object.fromEntries(Object.entries(functions).map(([name, f]) => [name, volatile.includes(name) ? f : readFn(f, true)]));
}

/** KSR.kx: cheap getters of message attributes (Kamailio's kemix module). */
export default defineModule({
  name: 'kx',
  doc: 'Getters of message attributes (Kamailio kemix): R-URI, From/To, source, body, status; the config\'s defines.',
  params: kxParams,
  init: (_host, p) => kxInit(p),
  functions: {
    ...definesFunctions,
    ...asReads({
    get_ruri: fn([], 'xval', (_s, ctx) => (ctx.msg?.isRequest === true ? ctx.ruri : null),
      'The current Request-URI (as rewritten by the script, else as received); null for a reply.'),
    get_ouri: fn([], 'xval', (_s, ctx) => (ctx.msg?.isRequest === true ? ctx.msg.ruri : null),
      'The Request-URI as received; null for a reply.'),
    ...modes('ruser', (ctx) => userOf(ruriOf(ctx)), 'The user of the current Request-URI'),
    ...modes('rhost', (ctx) => hostOf(ruriOf(ctx)), 'The host of the current Request-URI'),
    get_furi: fn([], 'xval', (_s, ctx) => (ctx.msg === null ? null : (fromOf(ctx.msg)?.uri ?? null)),
      'The From URI; null when there is no (valid) From header.'),
    ...modes('fuser', (ctx) => userOf(parseUri(ctx.msg === null ? '' : (fromOf(ctx.msg)?.uri ?? ''))), 'The From URI user'),
    ...modes('fhost', (ctx) => hostOf(parseUri(ctx.msg === null ? '' : (fromOf(ctx.msg)?.uri ?? ''))), 'The From URI host'),
    get_turi: fn([], 'xval', (_s, ctx) => (ctx.msg === null ? null : (toOf(ctx.msg)?.uri ?? null)),
      'The To URI; null when there is no (valid) To header.'),
    ...modes('tuser', (ctx) => userOf(parseUri(ctx.msg === null ? '' : (toOf(ctx.msg)?.uri ?? ''))), 'The To URI user'),
    ...modes('thost', (ctx) => hostOf(parseUri(ctx.msg === null ? '' : (toOf(ctx.msg)?.uri ?? ''))), 'The To URI host'),
    ...modes('duri', (ctx) => ctx.dstUri, 'The destination URI ($du)'),
    get_nhuri: fn([], 'xval', (_s, ctx) => {
      if (ctx.dstUri !== null && ctx.dstUri !== '') return ctx.dstUri;
      return ctx.msg?.isRequest === true ? ctx.ruri : null;
    }, 'The next-hop URI: $du when set, else the current Request-URI.'),
    ...modes('cturi', contactUri, 'The URI of the first Contact (none for Contact: *)'),
    ...modes('ua', (ctx) => ctx.msg?.getHeader('user-agent'), 'The User-Agent header value'),
    ...modes('au', authUser, 'The username (user part) in the Digest [Proxy-]Authorization credentials'),
    ...modes('body', body, 'The message body'),

    get_srcip: fn([], 'xval', (_s, ctx) => ctx.src.ip, 'The source IP address of the message.'),
    get_srcport: fn([], 'xval', (_s, ctx) => ctx.src.port, 'The source port of the message (an integer).'),
    get_srcuri: fn([], 'xval', (_s, ctx) => srcUri(ctx),
      'The source as a SIP URI: sip:ip:port, with ;transport= for anything but UDP.'),
    get_rcvip: fn([], 'xval', (_s, ctx) => ctx.src.localIp, 'The local IP address the message was received on.'),
    get_rcvport: fn([], 'xval', (_s, ctx) => ctx.src.localPort, 'The local port the message was received on (an integer).'),
    get_rcvadvip: fn([], 'xval', (_s, ctx) => ctx.src.localIp,
      'The advertised IP of the receiving socket; here the same as get_rcvip (no advertised addresses).'),
    get_rcvadvport: fn([], 'xval', (_s, ctx) => ctx.src.localPort,
      'The advertised port of the receiving socket; here the same as get_rcvport.'),
    get_proto: fn([], 'xval', (_s, ctx) => protoName(ctx.src.proto), 'The transport the message came on: udp, tcp, tls, ws or wss.'),
    get_protoid: fn([], 'int', (_s, ctx) => PROTO_ID[ctx.src.proto],
      'The transport as Kamailio\'s number: 1 udp, 2 tcp, 3 tls, 5 ws, 6 wss.'),

    get_method: fn([], 'xval', (_s, ctx) => ctx.msg?.method ?? null,
      'The request method; for a reply the CSeq method; null without a message.'),
    get_status: fn([], 'int', (_s, ctx) => (ctx.msg !== null && !ctx.msg.isRequest ? ctx.msg.status : -1),
      'The reply status code; -1 for a request.'),
    gets_status: fn([], 'xval', (_s, ctx) => (ctx.msg !== null && !ctx.msg.isRequest ? String(ctx.msg.status) : null),
      'The reply status code as a string; null for a request.'),
    get_callid: fn([], 'xval', (_s, ctx) => {
      const msg = ctx.msg;
      if (msg === null || !msg.hasHeader('call-id')) return '';
      return tryRead(() => msg.callId) ?? '';
    }, 'The Call-ID; an empty string when there is none.'),
    get_bodylen: fn([], 'int', (_s, ctx) => ctx.msg?.body.length ?? 0, 'The body length in bytes; 0 when there is no body.'),
    get_msgbuf: fn([], 'xval', (_s, ctx) => ctx.msg?.raw.toString('utf8') ?? '',
      'The whole message as received; an empty string without a message.'),
    get_msglen: fn([], 'int', (_s, ctx) => ctx.msg?.raw.length ?? -1, 'The message length in bytes; -1 without a message.'),
    get_msgtype: fn([], 'int', (_s, ctx) => (ctx.msg === null ? -1 : ctx.msg.isRequest ? 1 : 2),
      'The message type: 1 request, 2 reply; -1 without a message.'),
    get_timestamp: fn([], 'int', () => Math.floor(Date.now() / 1000), 'The current Unix time in seconds.'),
  }, ['get_timestamp']),
  },
});
