/**
 * More of Kamailio's core pseudo-variables that ported scripts read (pv module, pv_core.c,
 * pv_time.c, pv_branch.c): the clocks $TS $Tf $TF, the source and receive addresses as URIs
 * ($su $sut $Ru $Rut $RAu $RAut), Contact and Content-Type ($ct $ctu $cT), the next hop $nh(...),
 * the forced send socket $fs, and a few message fields ($cl $csb $mt $mi $rv $od $op $oU $oP
 * $true).
 */
import type { Context } from '../host/kemi/context.js';
import type { PvDef, Xval } from '../host/kemi/types.js';
import { parseNameAddr } from '../host/sip/name-addr.js';
import { parseUri, type SipUri } from '../host/sip/uri.js';
import { tryRead } from './msg-fields.js';

type Pv = PvDef;

function ro(get: (ctx: Context, param: string) => Xval, doc: string, param = false, kind: 'stable' | 'volatile' = 'stable'): Pv {
  return { get: (_s, ctx, p) => get(ctx, p), doc, param, stable: kind === 'stable', volatile: kind === 'volatile' };
}

const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** C's ctime() without its newline, in local time: "Wed Dec  2 16:45:21 2026" ($Tf, $TF). */
export function ctime(ms: number): string {
  const d = new Date(ms);
  const two = (n: number): string => String(n).padStart(2, '0');
  return `${DAYS[d.getDay()] ?? ''} ${MONTHS[d.getMonth()] ?? ''} ${String(d.getDate()).padStart(2, ' ')} ${two(d.getHours())}:${two(d.getMinutes())}:${two(d.getSeconds())} ${String(d.getFullYear())}`;
}

/** "sip:ip:port" (IPv6 in brackets) with ";transport=proto" when not UDP, or always (full): Kamailio's get_src_uri. */
function addrUri(ip: string, port: number, proto: string, full: boolean): Xval {
  if (ip === '') return null;
  const p = proto === 'http' ? 'tcp' : proto;
  const host = ip.includes(':') ? `[${ip}]` : ip;
  return `sip:${host}:${String(port)}${full || p !== 'udp' ? `;transport=${p}` : ''}`;
}

/** The first Contact of the message as written ($ct), or its URI ($ctu). */
function contact(ctx: Context, uriOnly: boolean): Xval {
  const first = ctx.msg?.getHeaderElements('contact')[0];
  if (first === undefined) return null;
  if (!uriOnly) return first;
  return parseNameAddr(first)?.uri ?? null;
}

/** $du when set, else the R-URI (rewritten or not): where the request goes next (pv_get_nh). */
function nextHop(ctx: Context, part: string): Xval {
  const msg = ctx.msg;
  if (msg === null || !msg.isRequest) return null;
  const uri = ctx.dstUri ?? ctx.ruri;
  if (part === 'u') return uri;
  const u = parseUri(uri);
  if (u === null) return null;
  switch (part) {
    case 'U':
      return u.user === '' ? null : u.user;
    case 'd':
      return u.host === '' ? null : u.host;
    case 'p':
      return u.port > 0 ? u.port : 5060;
    case 'P':
      return u.params.get('transport') ?? 'udp';
    default:
      return null;
  }
}

/** The original R-URI, parsed ($od $op $oU $oP). */
function origRuri(ctx: Context): SipUri | null {
  const msg = ctx.msg;
  return msg?.isRequest === true ? tryRead(() => msg.ruriParsed) : null;
}

/** Time readings ($Tb, the start time, is the pv module's: it belongs to the runtime). */
export const clockPvs: Record<string, Pv> = {
  TS: ro(() => Math.floor(Date.now() / 1000), 'current Unix time, seconds (read each time)', false, 'volatile'),
  Tf: ro(() => ctime(Date.now()), 'current time as C\'s ctime() prints it, local time: "Wed Dec  2 16:45:21 2026"', false, 'volatile'),
  TF: ro(() => ctime(Date.now()), 'as $Tf (Kamailio caches $Tf per message; here both read the clock)', false, 'volatile'),
};

export const morePvs: Record<string, Pv> = {
  su: ro((ctx) => addrUri(ctx.src.ip, ctx.src.port, ctx.src.proto, false), 'the source address as a SIP URI: sip:ip:port, ;transport=… when not UDP'),
  sut: ro((ctx) => addrUri(ctx.src.ip, ctx.src.port, ctx.src.proto, true), 'as $su, always with ;transport=…'),
  Ru: ro((ctx) => addrUri(ctx.src.localIp, ctx.src.localPort, ctx.src.proto, false), 'the address that received the message as a SIP URI'),
  Rut: ro((ctx) => addrUri(ctx.src.localIp, ctx.src.localPort, ctx.src.proto, true), 'as $Ru, always with ;transport=…'),
  // no advertised addresses here: the receiving socket's own address
  RAu: ro((ctx) => addrUri(ctx.src.localIp, ctx.src.localPort, ctx.src.proto, false), 'the advertised address of the receiving socket as a SIP URI (its own address: kemihost has no advertise)'),
  RAut: ro((ctx) => addrUri(ctx.src.localIp, ctx.src.localPort, ctx.src.proto, true), 'as $RAu, always with ;transport=…'),
  ct: ro((ctx) => contact(ctx, false), 'the first Contact of the message, as written'),
  ctu: ro((ctx) => contact(ctx, true), 'the URI of the first Contact'),
  cT: ro((ctx) => ctx.msg?.getHeader('content-type') ?? null, 'the Content-Type header'),
  cl: ro((ctx) => ctx.msg?.contentLength ?? null, 'the Content-Length'),
  csb: ro((ctx) => ctx.msg?.getHeader('cseq') ?? null, 'the CSeq header body: "1 INVITE"'),
  mt: ro((ctx) => (ctx.msg === null ? null : ctx.msg.isRequest ? 1 : 2), 'message type: 1 request, 2 reply'),
  mi: ro((ctx) => ctx.id, 'this server\'s id of the message'),
  rv: ro((ctx) => (ctx.msg === null ? null : 'SIP/2.0'), 'the SIP version'),
  od: ro((ctx) => origRuri(ctx)?.host ?? null, 'host of the original R-URI'),
  op: ro((ctx) => {
    const u = origRuri(ctx);
    return u === null ? null : u.port > 0 ? u.port : 5060;
  }, 'port of the original R-URI (5060 when absent)'),
  oU: ro((ctx) => {
    const u = origRuri(ctx)?.user ?? '';
    return u === '' ? null : u;
  }, 'user of the original R-URI'),
  oP: ro((ctx) => origRuri(ctx)?.params.get('transport') ?? (origRuri(ctx) === null ? null : 'udp'), 'transport of the original R-URI (udp when absent)'),
  true: ro(() => 1, 'always 1'),
  nh: { ...ro((ctx, part) => nextHop(ctx, part), 'the next hop ($du, else the R-URI): $nh(u) the URI, $nh(U) user, $nh(d) host, $nh(p) port (5060 when absent), $nh(P) transport (udp when absent)', true), stable: false },
  fs: {
    get: (_s, ctx) => {
      const s = ctx.sendSocket;
      return s === null ? null : `${s.proto}:${s.ip.includes(':') ? `[${s.ip}]` : s.ip}:${String(s.port)}`;
    },
    doc: 'the socket the request is sent from, "proto:ip:port", when the script or rr forced one (KSR.corex.set_send_socket sets it)',
  },
};
