/**
 * nat_uac_test's heuristics (Kamailio nathelper, 5.6): each flag bit one test, true when any
 * test of the given bits says the UA is behind a NAT.
 */
import type { Context } from '../kemi/context.js';
import { sdpBody } from '../sip/sdp-body.js';
import { parseUri } from '../sip/uri.js';
import { firstContact, sourceOf } from './contact.js';
import { isPrivate, normalIp, sameHost } from './private-net.js';
import { sdpAddrs, streamAddrs } from './sdp-addr.js';

export const NAT_UAC_TEST = {
  C_1918: 0x01,
  RCVD: 0x02,
  V_1918: 0x04,
  S_1918: 0x08,
  RPORT: 0x10,
  O_1918: 0x20,
  WS: 0x40,
  C_PORT: 0x80,
  SDP_CLINE: 0x100,
  DEST: 0x200,
} as const;

const SIP_PORT = 5060;

function sdpText(ctx: Context): string | null {
  const msg = ctx.msg;
  if (msg === null) return null;
  const b = sdpBody(msg);
  return typeof b === 'string' ? null : b.sdp.toString('latin1');
}

/** An RFC 1918/6598 address in a media stream's c= (the first IPv4 ones, as sdp_1918). */
function sdp1918(ctx: Context, extra: boolean): boolean {
  const sdp = sdpText(ctx);
  if (sdp === null) return false;
  for (const c of streamAddrs(sdpAddrs(sdp))) {
    if (c === null || c.family !== 'IP4' || c.addr === '0.0.0.0') break;
    if (isPrivate(c.addr, extra) === 1) return true;
  }
  return false;
}

/** The SDP's connection address is not the source address (test_sdp_cline). */
function sdpCline(ctx: Context): boolean {
  const sdp = sdpText(ctx);
  if (sdp === null) return false;
  const a = sdpAddrs(sdp);
  const c = a.session ?? a.media.find((m) => m !== null) ?? null;
  if (c === null) return false;
  return !sameHost(c.addr, sourceOf(ctx).ip);
}

function defaultPort(transport: string): number {
  const t = transport.toLowerCase();
  return t === 'tls' || t === 'wss' ? 5061 : SIP_PORT;
}

/** Where the message goes is not where its R-URI (request) or second Via (reply) says, or a WebSocket. */
function testDestination(ctx: Context): boolean {
  const msg = ctx.msg;
  if (msg === null) return false;
  if (!msg.isRequest) {
    const via2 = msg.vias[1];
    if (via2 === undefined) return false;
    const t = via2.transport.toUpperCase();
    if (t === 'WS' || t === 'WSS') return true;
    const rport = via2.rport === null || via2.rport === '' ? 0 : Number(via2.rport);
    if (rport !== 0 && rport !== (via2.port || defaultPort(t))) return true;
    if (via2.received === '') return false;
    return !sameHost(via2.received, via2.host);
  }
  const ruri = parseUri(ctx.ruri);
  if (ruri === null) return false;
  const rt = ruri.params.get('transport')?.toLowerCase() ?? '';
  if (ctx.dstUri === null || ctx.dstUri === '') return rt === 'ws' || rt === 'wss';
  const du = parseUri(ctx.dstUri);
  if (du === null) return false;
  const dt = du.params.get('transport')?.toLowerCase() ?? '';
  if (dt === 'ws' || dt === 'wss') return true;
  const dport = du.port || (du.scheme === 'sips' ? 5061 : defaultPort(dt));
  const rport = ruri.port || (ruri.scheme === 'sips' ? 5061 : defaultPort(rt));
  if (dport !== rport) return true;
  return !sameHost(du.host, ruri.host);
}

/** nat_uac_test(flags): 1 when a test of `flags` finds a NAT, -1 when none does. */
export function natUacTest(ctx: Context, flags: number, extraNets: boolean, contactLine: (i: number) => string | undefined): number {
  const msg = ctx.msg;
  if (msg === null) return -1;
  const via = msg.topVia;
  const src = sourceOf(ctx);
  if ((flags & NAT_UAC_TEST.RPORT) !== 0 && src.port !== (via.port || SIP_PORT)) return 1;
  // the Via host is compared as an address: a name never equals the source (received_dns off)
  if ((flags & NAT_UAC_TEST.RCVD) !== 0 && (normalIp(via.host) === null || !sameHost(via.host, src.ip))) return 1;
  const contact = (flags & (NAT_UAC_TEST.C_1918 | NAT_UAC_TEST.C_PORT)) !== 0 ? firstContact(msg, contactLine) : -1;
  if ((flags & NAT_UAC_TEST.C_1918) !== 0 && typeof contact !== 'number' && isPrivate(contact.parsed.host, extraNets) === 1) return 1;
  if ((flags & NAT_UAC_TEST.S_1918) !== 0 && sdp1918(ctx, extraNets)) return 1;
  if ((flags & NAT_UAC_TEST.V_1918) !== 0 && isPrivate(via.host, extraNets) === 1) return 1;
  if ((flags & NAT_UAC_TEST.O_1918) !== 0 && isPrivate(src.ip, extraNets) === 1) return 1;
  if ((flags & NAT_UAC_TEST.WS) !== 0 && (src.proto === 'ws' || src.proto === 'wss')) return 1;
  if ((flags & NAT_UAC_TEST.C_PORT) !== 0 && typeof contact !== 'number' && src.port !== (contact.parsed.port || SIP_PORT)) return 1;
  if ((flags & NAT_UAC_TEST.SDP_CLINE) !== 0 && sdpCline(ctx)) return 1;
  if ((flags & NAT_UAC_TEST.DEST) !== 0 && testDestination(ctx)) return 1;
  return -1;
}
