/**
 * What KSR.rtpproxy's functions do with the message they run on (Kamailio's rtpproxy.c): the
 * set (set_rtpproxy_set for this message, else set 0), the message facts, the SDP read from the
 * body and the rewritten one written back as the body to relay, and rtpproxy_manage's choice of
 * offer, answer or destroy.
 */
import type { Context } from '../host/kemi/context.js';
import type { ResolvedPv } from '../host/kemi/pv.js';
import { cachedPv, messageFacts } from './media-relay-facts.js';
import type { Counter } from '../host/kemi/stats.js';
import type { ModuleHost } from '../host/kemi/types.js';
import { deleteCommand, forceRtpProxy, type RtppFacts } from '../host/rtpproxy/force-rtp-proxy.js';
import type { RtpproxyClient } from '../host/rtpproxy/rtpproxy-client.js';
import type { SipMessage } from '../host/sip/message.js';
import { sdpBody } from '../host/sip/sdp-body.js';
import { routeTypeOf } from '../host/sip/transaction/route-type.js';
import { transactionOf } from '../host/sip/transaction/sip-owner.js';

export interface RtpproxyState {
  client: RtpproxyClient | null;
  readonly host: ModuleHost;
  /** nortpproxy_str without its line end; '' for none */
  readonly mark: string;
  readonly pvNames: { readonly extraId: string; readonly rtpInst: string };
  readonly pvCache: Map<string, ResolvedPv | null>;
  /** set_rtpproxy_set's choice for one message */
  readonly selection: WeakMap<SipMessage, number>;
  /** INVITEs rtpproxy_manage saw with an SDP (Kamailio's FL_SDP_BODY) */
  readonly sdpOffered: WeakSet<Context>;
  readonly failures: Counter;
}

function pvOf(s: RtpproxyState, name: string): ResolvedPv | null {
  return cachedPv(s.host, s.pvCache, name);
}

export function fail(s: RtpproxyState, fn: string, why: string, code = -1): number {
  s.failures.value++;
  s.host.complain(`KSR.rtpproxy.${fn}: ${why}`, {}, 'warn');
  return code;
}

function factsOf(s: RtpproxyState, ctx: Context, msg: SipMessage): RtppFacts {
  return messageFacts(ctx, msg, pvOf(s, s.pvNames.extraId));
}

function setOf(s: RtpproxyState, msg: SipMessage): number {
  return s.selection.get(msg) ?? 0;
}

/** rtpproxy_offer / rtpproxy_answer (Kamailio's force_rtp_proxy): `ip` null for the address the message came in on. */
export function force(s: RtpproxyState, ctx: Context, fn: string, flags: string, offer: boolean, ip: string | null): number {
  const msg = ctx.msg;
  const client = s.client;
  if (msg === null) return fail(s, fn, 'no SIP message');
  if (client === null) return fail(s, fn, 'no rtpproxy instance configured (rtpproxy_sock)');
  const body = sdpBody(msg);
  if (typeof body === 'string') return fail(s, fn, `can't extract body from the message (${body})`);
  const set = setOf(s, msg);
  const r = forceRtpProxy({
    flags, offer, ip: ip ?? ctx.src.localIp, forcedIp: ip !== null, facts: factsOf(s, ctx, msg), sdp: body.sdp.toString('latin1'), mark: s.mark,
  }, (build) => {
    const sent = client.send(set, msg.callId, build);
    if (sent !== null) pvOf(s, s.pvNames.rtpInst)?.set?.(ctx, sent.node.name);
    return sent?.answer ?? null;
  });
  if ('code' in r) {
    // -2 (already proxied) is an answer, not a fault: no log line for it
    if (r.code === -2) return -2;
    return fail(s, fn, r.why, r.code);
  }
  ctx.headerEdits.body = body.replace(Buffer.from(r.sdp, 'latin1'));
  return 1;
}

/** rtpproxy_destroy / unforce_rtp_proxy: D to the call's instance; its answer is not waited for beyond the retries and not checked. */
export function destroy(s: RtpproxyState, ctx: Context, fn: string, flags: string): number {
  const msg = ctx.msg;
  const client = s.client;
  if (msg === null) return fail(s, fn, 'no SIP message');
  if (client === null) return fail(s, fn, 'no rtpproxy instance configured (rtpproxy_sock)');
  const cmd = deleteCommand(flags, factsOf(s, ctx, msg));
  if (typeof cmd !== 'string') return fail(s, fn, cmd.why);
  return sendOnce(s, ctx, fn, msg, cmd) === null ? -1 : 1;
}

/** One command to the call's instance (no failover, as Kamailio): the answer text, null when no instance. */
function sendOnce(s: RtpproxyState, ctx: Context, fn: string, msg: SipMessage, cmd: string): string | null {
  const node = s.client?.pool.sets.select(setOf(s, msg), msg.callId, new Set()) ?? null;
  if (node === null) {
    fail(s, fn, 'no available proxies');
    return null;
  }
  pvOf(s, s.pvNames.rtpInst)?.set?.(ctx, node.name);
  const r = s.client?.pool.exchange(node, cmd);
  return r?.outcome === 'answer' && r.data !== null ? r.data.toString('latin1') : '';
}

/** start_recording (R) and $rtppstat (Q): the tags in the order of the message's direction. */
function tagged(s: RtpproxyState, ctx: Context, fn: string, verb: 'R' | 'Q'): string | null {
  const msg = ctx.msg;
  if (msg === null || s.client === null) {
    fail(s, fn, msg === null ? 'no SIP message' : 'no rtpproxy instance configured (rtpproxy_sock)');
    return null;
  }
  const from = msg.from.tag;
  const to = msg.to.tag;
  if (from === '' || (!msg.isRequest && to === '')) return null;
  const [a, b] = msg.isRequest ? [from, to] : [to, from];
  // Kamailio's Q numbers the first tag's stream (";1"), not the second
  const sep = verb === 'Q' ? ';1 ' : ' ';
  return sendOnce(s, ctx, fn, msg, `${verb} ${msg.callId} ${a}${b === '' ? '' : `${sep}${b}`}`);
}

export function startRecording(s: RtpproxyState, ctx: Context): number {
  return tagged(s, ctx, 'start_recording', 'R') === null ? -1 : 1;
}

/** $rtppstat: the instance's answer to Q without its line end (Kamailio keeps it), $null when there is none */
export function rtppstat(s: RtpproxyState, ctx: Context): string | null {
  const a = tagged(s, ctx, '$rtppstat', 'Q')?.replace(/[\r\n]+$/, '') ?? null;
  return a === null || a === '' ? null : a;
}

/** rtpproxy_manage: by method, route and reply, as Kamailio's. */
export function manage(s: RtpproxyState, ctx: Context, flags: string, ip: string | null): number {
  const fn = 'rtpproxy_manage';
  const msg = ctx.msg;
  if (msg === null) return fail(s, fn, 'no SIP message');
  const route = routeTypeOf(ctx);
  if (route === 'branch-failure') return 1;
  const method = msg.cseq.method;
  if (!['INVITE', 'ACK', 'CANCEL', 'BYE', 'UPDATE', 'PRACK'].includes(method)) return -1;
  if (method === 'CANCEL' || method === 'BYE') return destroy(s, ctx, fn, flags);
  const hasSdp = typeof sdpBody(msg) !== 'string';
  if (msg.isRequest) {
    if (!hasSdp) return -1;
    if (method === 'ACK') return force(s, ctx, fn, flags, false, ip);
    if (method === 'PRACK' || method === 'UPDATE') return force(s, ctx, fn, flags, true, ip);
    s.sdpOffered.add(ctx);
    return route === 'failure' ? destroy(s, ctx, fn, flags) : force(s, ctx, fn, flags, true, ip);
  }
  if (msg.status >= 300) return destroy(s, ctx, fn, flags);
  if (!hasSdp) return -1;
  if (method === 'PRACK' || method === 'UPDATE' || transactionOf(ctx) === null || s.sdpOffered.has(ctx)) return force(s, ctx, fn, flags, false, ip);
  return force(s, ctx, fn, flags, true, ip);
}
