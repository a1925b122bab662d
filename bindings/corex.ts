import { isIP } from 'node:net';
import type { Context } from '../host/kemi/context.js';
import { routeTypeOf } from '../host/sip/transaction/route-type.js';
import { defineModule, fn, type ModuleHost } from '../host/kemi/types.js';
import { parseQ, Q_UNSPECIFIED } from '../host/sip/dset.js';
import { ruriOf } from './msg-fields.js';

interface CorexState {
  readonly host: ModuleHost;
  /** Kamailio's extended message flags (0..63) of each message, for as long as its Context lives */
  readonly xflags: WeakMap<Context, bigint>;
}

/**
 * set_send_socket("proto:ip:port"): the socket of ours the message is sent from (t_relay,
 * forward). Only an address this server listens on (or an alias of it) is taken; "" clears it.
 */
function setSendSocket(s: CorexState, ctx: Context, spec: string): number {
  if (spec === '') {
    ctx.sendSocket = null;
    return 1;
  }
  const m = /^(udp|tcp):(\[[0-9a-fA-F:.]+\]|[^:]+):(\d{1,5})$/i.exec(spec.trim());
  const ip = m?.[2]?.replace(/^\[|\]$/g, '') ?? '';
  const port = Number(m?.[3] ?? 0);
  if (m === null || isIP(ip) === 0 || port < 1 || port > 65535) {
    s.host.complain('set_send_socket: expected "proto:ip:port" with proto udp or tcp and an IP address', { spec });
    return -1;
  }
  if (!s.host.myself.isMyself(ip, port)) {
    s.host.complain('set_send_socket: not an address this server listens on', { spec });
    return -1;
  }
  ctx.sendSocket = { proto: (m[1] ?? 'udp').toLowerCase(), ip, port };
  return 1;
}

function xflag(s: CorexState, ctx: Context, flag: number, op: 'set' | 'reset' | 'test'): number {
  if (!Number.isInteger(flag) || flag < 0 || flag > 63) {
    s.host.complain('xflags: the flag is 0..63', { flag });
    return -1;
  }
  const bit = 1n << BigInt(flag);
  const cur = s.xflags.get(ctx) ?? 0n;
  if (op === 'test') return (cur & bit) !== 0n ? 1 : -1;
  s.xflags.set(ctx, op === 'set' ? cur | bit : cur & ~bit);
  return 1;
}

/**
 * corex's append_branch: a branch for `uri` (the R-URI when empty) with the current $du, Path
 * and branch flags. Shifting the R-URI into a branch clears $du, the Path and the branch flags
 * of the R-URI, as Kamailio's corex does (the R-URI itself still forks: both go out).
 */
function appendBranch(s: CorexState, ctx: Context, uri: string, qs: string | null): number {
  const msg = ctx.msg;
  if (msg === null || !msg.isRequest) return -1;
  let q = Q_UNSPECIFIED;
  if (qs !== null && qs !== '') {
    const parsed = parseQ(qs);
    if (parsed === null) {
      s.host.complain('append_branch: cannot parse the q value (0 to 1, at most three decimals)', { q: qs });
      return -1;
    }
    q = parsed;
  }
  const d = ctx.dset;
  const shift = uri === '';
  const ok = d.append({ uri: shift ? ctx.ruri : uri, dstUri: ctx.dstUri, path: d.ruriPath, q, bflags: ctx.bflags, socket: d.ruriSocket });
  if (!ok) {
    s.host.complain('append_branch: too many branches (at most 11 besides the R-URI)', { uri });
    return -1;
  }
  if (shift) {
    ctx.dstUri = null;
    ctx.bflags = 0;
    d.ruriPath = null;
    d.ruriSocket = null;
  }
  return 1;
}

/** KSR.corex: the message tests of Kamailio's corex module, and its branch functions. */
export default defineModule({
  name: 'corex',
  doc: 'From Kamailio corex: R-URI user and User-Agent tests, append_branch, the send socket, extended flags.',
  init: (host): CorexState => ({ host, xflags: new WeakMap() }),
  functions: {
    has_ruri_user: fn([], 'int', (_s, ctx) => {
      const u = ruriOf(ctx);
      return u !== null && u.user !== '' ? 1 : -1;
    }, 'Positive when the current Request-URI has a user part, negative otherwise (also for a reply).'),
    has_user_agent: fn([], 'int', (_s, ctx) => {
      const ua = ctx.msg?.getHeader('user-agent');
      return ua !== undefined && ua.trim() !== '' ? 1 : -1;
    }, 'Positive when the message has a non-empty User-Agent header, negative otherwise.'),
    append_branch: fn([], 'int', (s: CorexState, ctx) => appendBranch(s, ctx, '', null),
      'Move the R-URI (with $du, Path and branch flags) into a new branch; t_relay forks to it and to the R-URI. 1 ok, -1 set full or not a request.'),
    append_branch_uri: fn(['str'], 'int', (s: CorexState, ctx, uri) => appendBranch(s, ctx, uri, null),
      'Add a branch to this URI with the current $du, Path and branch flags (an empty URI: as append_branch()). 1 ok, -1 failed.'),
    append_branch_uri_q: fn(['str', 'str'], 'int', (s: CorexState, ctx, uri, q) => appendBranch(s, ctx, uri, q),
      'Add a branch to this URI with q ("0.5"); otherwise as append_branch_uri. 1 ok, -1 bad q or set full.'),
    set_send_socket: fn(['str'], 'int', (s: CorexState, ctx, spec) => setSendSocket(s, ctx, spec),
      'Send the request from this socket of ours ("udp:127.0.0.1:5060"; "" = the default choice) when t_relay or forward sends it; 1 ok, -1 when it is not an address this server listens on.'),
    setxflag: fn(['int'], 'int', (s: CorexState, ctx, f) => xflag(s, ctx, f, 'set'), 'Set extended message flag 0..63; 1 ok, -1 out of range.'),
    resetxflag: fn(['int'], 'int', (s: CorexState, ctx, f) => xflag(s, ctx, f, 'reset'), 'Reset extended message flag 0..63; 1 ok, -1 out of range.'),
    isxflagset: fn(['int'], 'int', (s: CorexState, ctx, f) => xflag(s, ctx, f, 'test'), '1 when extended message flag 0..63 is set, else -1.'),
    is_faked_msg: fn([], 'int', (_s, ctx) => (routeTypeOf(ctx) === 'failure' ? 1 : -1),
      '1 in a failure route (Kamailio runs it on a copy of the request, a "faked" message), else -1.'),
  },
});
