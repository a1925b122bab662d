/**
 * KSR.nathelper: NAT traversal helpers (Kamailio's nathelper module, 5.6 KEMI names, types and
 * return codes): detect a UA behind a NAT, rewrite or alias its Contact, route to an alias,
 * remember its source address at REGISTER, fix its SDP, and keep its NAT binding open with
 * keepalives (./natping.ts). docs/nathelper.md describes each function and the differences.
 */
import type { Context } from '../../host/kemi/context.js';
import { defineModule, fn, type ModuleHost } from '../../host/kemi/types.js';
import { INVALID_PARAMS, RpcError } from '../../host/rpc/jsonrpc.js';
import { takeAlias } from '../../host/nathelper/alias.js';
import { sourceOf, srcUri } from '../../host/nathelper/contact.js';
import { natUacTest } from '../../host/nathelper/nat-test.js';
import { isPrivate } from '../../host/nathelper/private-net.js';
import { rrCount, rrTopCount } from '../../host/nathelper/rr-count.js';
import { fixSdp } from '../../host/nathelper/sdp-fix.js';
import { sdpBody } from '../../host/sip/sdp-body.js';
import { usrlocOf } from '../usrloc.js';
import {
  addContactAlias, addContactAliasAddr, addRcvParam, currentLine, fixNatedContact, setAliasToPv, setContactAlias, type NhState,
} from './contact-fns.js';
import { NatPinger } from './natping.js';
import { nathelperParams, type NathelperParams } from './params.js';

interface State extends NhState {
  readonly pinger: NatPinger;
}

function init(host: ModuleHost, p: NathelperParams): State {
  const nh: NhState = { host, p, rewritten: new WeakMap(), uriReplaced: new WeakMap() };
  return { ...nh, pinger: new NatPinger(host, p, () => usrlocOf(host)) };
}

function natUac(s: State, ctx: Context, flags: number): number {
  return natUacTest(ctx, flags, s.p.nat_addr_mode === 1, (i) => currentLine(s, ctx, i));
}

/** fix_nated_register: the source as a URI into received_avp, for registrar's save(). */
function fixNatedRegister(s: State, ctx: Context): number {
  if (s.p.received_avp === '') return 1;
  if (ctx.msg === null) return -1;
  const pv = s.host.pvs.resolve(s.p.received_avp);
  if (pv?.set === undefined) return -1;
  pv.set(ctx, srcUri(ctx));
  return 1;
}

/** handle_ruri_alias(mode): $du from the R-URI's alias parameter, which is removed from it. 1 done, 2 none, -1 malformed. */
function handleRuriAlias(s: State, ctx: Context, mode: number): number {
  if (ctx.msg?.isRequest !== true) return -1;
  const r = takeAlias(ctx.ruri, s.p.alias_name, mode !== 0);
  if (r === null) return 2;
  if (typeof r === 'string') {
    s.host.complain(`handle_ruri_alias: ${r}`, { ruri: ctx.ruri });
    return -1;
  }
  ctx.dstUri = r.dst;
  ctx.newRuri = r.uri;
  return 1;
}

function isRfc1918(s: State, addr: string): number {
  return isPrivate(addr, s.p.nat_addr_mode === 1) === 1 ? 1 : -1;
}

/** fix_nated_sdp(level[, ip]): 1 addresses replaced, 2 none, -1 no SDP or an SDP it cannot change. */
function fixNatedSdp(s: State, ctx: Context, level: number, ip: string): number {
  const msg = ctx.msg;
  if (msg === null) return -1;
  const found = sdpBody(msg);
  if (typeof found === 'string') {
    s.host.complain('fix_nated_sdp: cannot extract body from msg', { why: found }, 'info');
    return -1;
  }
  // an SDP rewritten earlier (rtpengine, an earlier fix_nated_sdp) is the one to work on
  const edited = ctx.hasHeaderEdits ? ctx.headerEdits.body : null;
  const whole = !/^\s*multipart\//i.test(msg.getHeader('content-type') ?? '');
  const sdp = edited !== null && whole ? { sdp: edited, replace: (b: Buffer) => b } : found;
  const r = fixSdp(sdp.sdp.toString('latin1'), {
    level,
    ip: ip !== '' ? ip : sourceOf(ctx).ip,
    nortpproxy: s.p.nortpproxy_str.replace(/[\r\n]+$/, ''),
    oldMediaIp: s.p.append_sdp_oldmediaip === 1,
  });
  if (typeof r === 'string') {
    s.host.complain(`fix_nated_sdp: ${r}`);
    return -1;
  }
  if (r.sdp !== sdp.sdp.toString('latin1')) ctx.headerEdits.body = sdp.replace(Buffer.from(r.sdp, 'latin1'));
  return r.count > 0 ? 1 : 2;
}

/** RPC nathelper.enable_ping n: keepalives on (n ≠ 0) or off (0), as Kamailio's. */
function enablePing(s: State, params: readonly unknown[]): null {
  const v = params[0];
  const n = typeof v === 'number' ? v : typeof v === 'string' && /^-?\d+$/.test(v) ? Number(v) : null;
  if (n === null) throw new RpcError(INVALID_PARAMS, 'Invalid Parameters');
  s.pinger.enabled = n !== 0;
  return null;
}

export default defineModule({
  name: 'nathelper',
  doc: 'NAT traversal helpers (Kamailio nathelper): NAT detection, Contact rewriting and aliases, REGISTER received address, SDP fixing, keepalives to registered contacts.',
  params: nathelperParams,
  stats: ['natping_sent', 'natping_replies', 'natping_removed'],
  init,
  start: (s: State) => s.pinger.start(),
  close: (s: State) => s.pinger.close(),
  pvArgs: { set_alias_to_pv: [0] },
  pvs: {
    rr_count: { get: (_s, ctx) => (ctx.msg === null ? null : rrCount(ctx.msg)), doc: 'Record-Route entries in the received message' },
    rr_top_count: { get: (_s, ctx) => (ctx.msg === null ? null : rrTopCount(ctx.msg)), doc: '2 when the top Record-Route is half of a double one (r2), 1 a single one, 0 none' },
  },
  rpc: {
    'nathelper.enable_ping': { doc: 'Keepalives on (a number ≠ 0) or off (0).', run: enablePing },
  },
  functions: {
    nat_uac_test: fn(['int'], 'int', natUac,
      'Guess whether the UA is behind a NAT; flags (OR them): 1 private Contact, 2 source ≠ Via host, 4 private Via, 8 private SDP address, 16 source port ≠ Via port, 32 private source, 64 WebSocket, 128 source port ≠ Contact port, 256 SDP c= ≠ source, 512 destination ≠ R-URI (request) / 2nd Via (reply). 1 some test says NAT, -1 none.'),
    fix_nated_contact: fn([], 'int', (s: State, ctx) => fixNatedContact(s, ctx),
      'Rewrite the first Contact URI\'s host:port to the source address:port (maddr dropped). 1 done, -1 no Contact, unreadable, or the Contact was rewritten already.'),
    fix_nated_register: fn([], 'int', fixNatedRegister,
      'Store the source as "sip:ip:port[;transport=…]" in received_avp for registrar save(). 1 (also when received_avp is not set), -1 error.'),
    set_contact_alias: fn([], 'int', (s: State, ctx) => setContactAlias(s, ctx, false),
      'Add ";alias=ip~port~proto" (the source) to the first Contact URI. 1 done, -1 no Contact or already rewritten.'),
    set_contact_alias_trim: fn([], 'int', (s: State, ctx) => setContactAlias(s, ctx, true),
      'set_contact_alias, first removing an alias parameter the URI already has.'),
    add_contact_alias: fn([], 'int', (s: State, ctx) => addContactAlias(s, ctx),
      'Add ";alias=ip~port~proto" (the source) after the Contact URI\'s host:port unless the Contact already names the source (address, port and transport parameter). 1 added, 2 not needed or no Contact, -1 error.'),
    add_contact_alias_addr: fn(['str', 'str', 'str'], 'int', (s: State, ctx, ip, port, proto) => addContactAliasAddr(s, ctx, ip, port, proto),
      'add_contact_alias with this ip, port and protocol (udp, tcp, tls, sctp, ws, wss). 1 added, 2 no Contact, -1 bad argument or error.'),
    handle_ruri_alias: fn([], 'int', (s: State, ctx) => handleRuriAlias(s, ctx, 0),
      'Set $du from the R-URI\'s first alias parameter and remove it from the R-URI. 1 done, 2 no alias parameter, -1 malformed.'),
    handle_ruri_alias_mode: fn(['int'], 'int', (s: State, ctx, mode) => handleRuriAlias(s, ctx, mode),
      'handle_ruri_alias; mode 0 takes the first alias parameter, any other the last.'),
    is_rfc1918: fn(['str'], 'int', (s: State, _ctx, addr) => isRfc1918(s, addr),
      '1 when the IPv4 address is private (RFC 1918, RFC 6598, RFC 7335 ranges; nat_addr_mode), else -1.'),
    add_rcv_param: fn(['int'], 'int', (s: State, ctx, flag) => addRcvParam(s, ctx, flag),
      'Add received="<source URI>" to every Contact (flag 0), or ;received=<source URI> inside every Contact URI (flag ≠ 0, UDP only). 1 (also without a Contact), -1 not UDP for flag ≠ 0.'),
    fix_nated_sdp: fn(['int'], 'int', (s: State, ctx, level) => fixNatedSdp(s, ctx, level, ''),
      'Fix the SDP; flags: 1 add a=direction:active, 2 media address (c=, a=rtcp) := source address, 4 add nortpproxy_str, 8 origin address (o=) := source address. 1 addresses replaced, 2 none, -1 no SDP or error.'),
    fix_nated_sdp_ip: fn(['int', 'str'], 'int', (s: State, ctx, level, ip) => fixNatedSdp(s, ctx, level, ip),
      'fix_nated_sdp writing this address instead of the source address.'),
    set_alias_to_pv: fn(['str'], 'int', (s: State, ctx, pv) => setAliasToPv(s, ctx, pv),
      'Write the first Contact\'s alias as "sip:ip:port;transport=proto" into the pseudo-variable. 1 done, -1 no single Contact or no alias.'),
  },
});
