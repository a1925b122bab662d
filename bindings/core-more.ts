/**
 * More of Kamailio's core KEMI exports (src/core/kemi.c): script flags, the flags of a given
 * branch, R-URI user and host rewrites, more "is it myself" tests, and the transport or address
 * family a request goes out over (to_*: what its $du, else its R-URI, names).
 */
import type { Logger } from 'pino';
import type { Context } from '../host/kemi/context.js';
import { fn, type KemiFunctionDef, type ModuleHost, type MyselfMatcher } from '../host/kemi/types.js';
import { isIP } from 'node:net';
import { setUriHost, setUriUser } from '../host/sip/uri-edit.js';
import { parseUri } from '../host/sip/uri.js';
import type { TransportProto } from '../host/sip/types.js';

/** What these functions need of the core module's state (bindings/core.ts). */
export interface CoreBase {
  readonly log: Logger;
  readonly host: ModuleHost;
  readonly myself: MyselfMatcher;
}

/** Kamailio's flag_in_range: flags are 0..31. */
export function flagOk(flag: number): boolean {
  return flag >= 0 && flag <= 31;
}

export function uriIsMyself(s: CoreBase, uri: string | null | undefined): boolean {
  if (uri === null || uri === undefined) return false;
  const u = parseUri(uri);
  return u !== null && s.myself.isMyself(u.host, u.port);
}

/**
 * The flags of branch `branch` (Kamailio's get_bflags_ptr): 0 is the R-URI's, i the i-th
 * appended one (append_branch, lookup); null past the last.
 */
function branchFlags(ctx: Context, branch: number): { get: () => number; set: (v: number) => void } | null {
  if (branch === 0) return { get: () => ctx.bflags, set: (v) => { ctx.bflags = v; } };
  if (branch < 0 || !ctx.hasDset) return null;
  const list = ctx.dset.branches;
  const b = list[branch - 1];
  if (b === undefined) return null;
  return { get: () => b.bflags, set: (v) => { ctx.dset.replace(branch - 1, { ...b, bflags: v }); } };
}

/** Rewrite the R-URI with `edit`; false when this is no request or the result is no SIP URI. */
function rewriteRuri(ctx: Context, edit: (uri: string) => string | null): boolean {
  if (ctx.msg?.isRequest !== true) return false;
  const next = edit(ctx.ruri);
  if (next === null || parseUri(next) === null) return false;
  ctx.newRuri = next;
  return true;
}

/** $su: "sip:ip:port", with ;transport= for anything but UDP (Kamailio's get_src_uri). */
function sourceUri(ctx: Context): string {
  const ip = ctx.src.ip.includes(':') ? `[${ctx.src.ip}]` : ctx.src.ip;
  const base = `sip:${ip}:${String(ctx.src.port)}`;
  return ctx.src.proto === 'udp' ? base : `${base};transport=${ctx.src.proto}`;
}

/** is_proto's letters (Kamailio: e TLS, s SCTP, t TCP, u UDP, v WS, w WSS; either case). */
const PROTO_LETTERS: Readonly<Record<string, TransportProto | 'sctp'>> = { e: 'tls', s: 'sctp', t: 'tcp', u: 'udp', v: 'ws', w: 'wss' };

/**
 * The URI a request goes out to ($du, else the R-URI), parsed; null for a reply (Kamailio reads
 * the second Via there; not here) or when it does not parse.
 */
function nextHop(ctx: Context): ReturnType<typeof parseUri> {
  if (ctx.msg?.isRequest !== true) return null;
  return parseUri(ctx.dstUri ?? ctx.ruri);
}

/**
 * The transport the next hop's URI names by its transport parameter. None named is none, as in
 * Kamailio (to_UDP is false for `sip:h`); "wss" reads as WS, as Kamailio 5.6's URI parser has
 * no WSS state.
 */
function toProto(ctx: Context): string | null {
  const t = nextHop(ctx)?.params.get('transport')?.toLowerCase();
  if (t === undefined) return null;
  return t === 'wss' ? 'ws' : t;
}

function toFamily(ctx: Context): 4 | 6 | 0 {
  const u = nextHop(ctx);
  if (u === null) return 0;
  const host = u.host.startsWith('[') ? u.host.slice(1, -1) : u.host;
  const f = isIP(host);
  return f === 4 ? 4 : f === 6 ? 6 : 0;
}

export const moreCoreFunctions: Record<string, KemiFunctionDef<CoreBase>> = {
  setsflag: fn(['int'], 'bool', (s: CoreBase, _c, f) => flagOk(f) && ((s.host.script.sflags |= 1 << f), true),
    'Set script flag 0..31: a flag of the running callback, not of the message (zero when a callback starts).'),
  resetsflag: fn(['int'], 'bool', (s: CoreBase, _c, f) => flagOk(f) && ((s.host.script.sflags &= ~(1 << f)), true), 'Reset script flag 0..31.'),
  issflagset: fn(['int'], 'bool', (s: CoreBase, _c, f) => flagOk(f) && (s.host.script.sflags & (1 << f)) !== 0, 'true when script flag 0..31 is set.'),

  setbiflag: fn(['int', 'int'], 'bool', (_s, ctx, f, branch) => {
    if (!flagOk(f)) return false;
    const b = branchFlags(ctx, branch);
    b?.set(b.get() | (1 << f));
    // Kamailio answers true for a branch that does not exist too (setbflag's result is not looked at)
    return true;
  }, 'Set flag 0..31 of branch `branch` (0: the R-URI\'s, i: the i-th appended).'),
  resetbiflag: fn(['int', 'int'], 'bool', (_s, ctx, f, branch) => {
    if (!flagOk(f)) return false;
    const b = branchFlags(ctx, branch);
    b?.set(b.get() & ~(1 << f));
    return true;
  }, 'Reset flag 0..31 of branch `branch`.'),
  isbiflagset: fn(['int', 'int'], 'bool', (_s, ctx, f, branch) => {
    if (!flagOk(f)) return false;
    const b = branchFlags(ctx, branch);
    return b !== null && (b.get() & (1 << f)) !== 0;
  }, 'true when flag 0..31 of branch `branch` is set (false for a branch that does not exist).'),

  setuser: fn(['str'], 'bool', (_s, ctx, user) => rewriteRuri(ctx, (u) => setUriUser(u, user)), 'Set the R-URI\'s user part ("" removes it).'),
  sethost: fn(['str'], 'bool', (_s, ctx, host) => rewriteRuri(ctx, (u) => setUriHost(u, host)), 'Set the R-URI\'s host, keeping its port.'),

  is_myself_duri: fn([], 'bool', (s: CoreBase, ctx) => uriIsMyself(s, ctx.dstUri), 'true when $du is set and ours.'),
  is_myself_nhuri: fn([], 'bool', (s: CoreBase, ctx) => (ctx.dstUri !== null ? uriIsMyself(s, ctx.dstUri) : ctx.msg?.isRequest === true && uriIsMyself(s, ctx.ruri)),
    'true when the next hop ($du, else the R-URI) is ours.'),
  is_myself_suri: fn([], 'bool', (s: CoreBase, ctx) => ctx.kind === 'sip' && uriIsMyself(s, sourceUri(ctx)), 'true when the source address (as $su) is ours.'),

  is_proto: fn(['str'], 'bool', (_s, ctx, letters) => {
    if (ctx.kind !== 'sip') return false;
    for (const ch of letters.toLowerCase()) if (PROTO_LETTERS[ch] === ctx.src.proto) return true;
    return false;
  }, 'true when the message came over one of the transports named by letter: u UDP, t TCP, e TLS, s SCTP, v WS, w WSS.', true),
  is_src_port: fn(['int'], 'bool', (_s, ctx, port) => ctx.kind === 'sip' && ctx.src.port === port, 'true when the message came from this source port.', true),

  to_UDP: fn([], 'bool', (_s, ctx) => toProto(ctx) === 'udp', 'true when the next hop URI ($du, else the R-URI) has transport=udp.'),
  to_TCP: fn([], 'bool', (_s, ctx) => toProto(ctx) === 'tcp', 'true when the next hop URI has transport=tcp.'),
  to_TLS: fn([], 'bool', (_s, ctx) => toProto(ctx) === 'tls', 'true when the next hop URI has transport=tls.'),
  to_SCTP: fn([], 'bool', (_s, ctx) => toProto(ctx) === 'sctp', 'true when the next hop URI has transport=sctp.'),
  to_WS: fn([], 'bool', (_s, ctx) => toProto(ctx) === 'ws', 'true when the next hop URI has transport=ws (or wss, as Kamailio 5.6 reads it).'),
  to_WSS: fn([], 'bool', () => false, 'Never true: Kamailio 5.6 reads transport=wss as WS.'),
  to_WSX: fn([], 'bool', (_s, ctx) => toProto(ctx) === 'ws', 'true when the next hop URI has transport=ws or wss.'),
  to_IPv4: fn([], 'bool', (_s, ctx) => toFamily(ctx) === 4, 'true when the next hop URI\'s host is an IPv4 address.'),
  to_IPv6: fn([], 'bool', (_s, ctx) => toFamily(ctx) === 6, 'true when the next hop URI\'s host is an IPv6 address.'),

  get_debug: fn([], 'int', (s: CoreBase) => debugLevel(s.log.level), 'Kamailio\'s debug level for the log level in use (3 debug, 2 info, 0 warn, -1 error, -2 fatal, -5 silent).'),
};

/** pino's level as Kamailio's debug number (L_DBG 3, L_INFO 2, L_WARN 0, L_ERR -1, L_CRIT -2, L_ALERT -5). */
function debugLevel(level: string): number {
  switch (level) {
    case 'trace':
    case 'debug': return 3;
    case 'info': return 2;
    case 'warn': return 0;
    case 'error': return -1;
    case 'fatal': return -2;
    default: return -5;
  }
}
