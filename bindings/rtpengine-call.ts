/**
 * What KSR.rtpengine's functions do with the message they run on (Kamailio's rtpengine.c): which
 * set (set_rtpengine_set, setid_avp, setid_default; two sets chained for offer/answer), the
 * message facts the NG request needs, the SDP read from the body (or read_sdp_pv) and the one
 * rtpengine returns written back as the body to relay (or into write_sdp_pv), and
 * rtpengine_manage's choice of offer, answer or delete.
 */
import type { Context } from '../host/kemi/context.js';
import type { ResolvedPv } from '../host/kemi/pv.js';
import { cachedPv, messageFacts } from './media-relay-facts.js';
import type { ModuleHost } from '../host/kemi/types.js';
import type { Counter } from '../host/kemi/stats.js';
import { bbytes, bstr, type BDict } from '../host/rtpengine/bdecode.js';
import { FlagError } from '../host/rtpengine/ng-flags.js';
import type { NgOp } from '../host/rtpengine/ng-ops.js';
import { buildNgRequest, type MessageFacts } from '../host/rtpengine/ng-request.js';
import type { RtpengineClient } from '../host/rtpengine/rtpengine-client.js';
import type { SipMessage } from '../host/sip/message.js';
import { sdpBody } from '../host/sip/sdp-body.js';
import { routeTypeOf } from '../host/sip/transaction/route-type.js';
import { transactionOf } from '../host/sip/transaction/sip-owner.js';

export interface RtpengineState {
  client: RtpengineClient | null;
  readonly host: ModuleHost;
  readonly setidDefault: number;
  /** pseudo-variable names from the parameters ('' when unset), resolved on first use */
  readonly pvNames: { readonly extraId: string; readonly setidAvp: string; readonly readSdp: string; readonly writeSdp: string; readonly rtpInst: string };
  readonly pvCache: Map<string, ResolvedPv | null>;
  /** set_rtpengine_set's choice for one message (a reply in a reply route is another message) */
  readonly selection: WeakMap<SipMessage, { readonly set1: number; readonly set2: number | null }>;
  /** INVITEs rtpengine_manage saw with an SDP (Kamailio's FL_SDP_BODY on the transaction's request) */
  readonly sdpOffered: WeakSet<Context>;
  readonly failures: Counter;
}

export function pvOf(s: RtpengineState, name: string): ResolvedPv | null {
  return cachedPv(s.host, s.pvCache, name);
}

/** Log why (rate-limited, with the script line) and return -1. */
export function fail(s: RtpengineState, fn: string, why: string, fields: Record<string, unknown> = {}): number {
  s.failures.value++;
  s.host.complain(`KSR.rtpengine.${fn}: ${why}`, fields, 'warn');
  return -1;
}

function factsOf(s: RtpengineState, ctx: Context, msg: SipMessage): MessageFacts {
  return messageFacts(ctx, msg, pvOf(s, s.pvNames.extraId));
}

/**
 * The set for this call: setid_avp when it holds a value (an integer), else the set
 * set_rtpengine_set chose for this message (the second one for the answer direction), else
 * setid_default. A string or an unknown set: an error text.
 */
function setFor(s: RtpengineState, ctx: Context, msg: SipMessage, direction: 1 | 2): number | string {
  const avp = pvOf(s, s.pvNames.setidAvp);
  const v = avp?.get(ctx) ?? null;
  if (v !== null) {
    if (typeof v !== 'number') return 'setid_avp must hold an integer value';
    return s.client?.pool.sets.has(v) === true ? v : `could not locate engine set ${String(v)}`;
  }
  const sel = s.selection.get(msg);
  if (sel === undefined) return s.setidDefault;
  return direction === 1 || sel.set2 === null ? sel.set1 : sel.set2;
}

/** two different sets chosen by set_rtpengine_set2 (and no setid_avp value): each command goes through both */
function chained(s: RtpengineState, ctx: Context, msg: SipMessage): boolean {
  const sel = s.selection.get(msg);
  if (sel === undefined || sel.set2 === null || sel.set2 === sel.set1) return false;
  return (pvOf(s, s.pvNames.setidAvp)?.get(ctx) ?? null) === null;
}

/** One command to the set of `direction`; the answer when it is "ok", else the reason. */
function call(s: RtpengineState, ctx: Context, op: NgOp, flags: string, direction: 1 | 2, sdp: Buffer | null): BDict | string {
  const msg = ctx.msg;
  const client = s.client;
  if (msg === null) return 'no SIP message';
  if (client === null) return 'no rtpengine instance configured (rtpengine_sock)';
  const set = setFor(s, ctx, msg, direction);
  if (typeof set === 'string') return set;
  let req;
  try {
    req = buildNgRequest(op, flags, factsOf(s, ctx, msg), sdp);
  } catch (e) {
    if (e instanceof FlagError) return e.message;
    throw e;
  }
  const r = client.send(req, set);
  if (r.node !== null) pvOf(s, s.pvNames.rtpInst)?.set?.(ctx, r.node.name);
  if (!r.ok) return r.why;
  const result = bstr(r.answer, 'result');
  return result === 'ok' ? r.answer : `proxy didn't return "ok" result (${result ?? ''})`;
}

/** rtpengine_offer / rtpengine_answer: the SDP sent through rtpengine, its answer relayed. */
export function offerAnswer(s: RtpengineState, ctx: Context, fn: string, op: 'offer' | 'answer', flags: string): number {
  const msg = ctx.msg;
  if (msg === null) return fail(s, fn, 'no SIP message');
  const readPv = pvOf(s, s.pvNames.readSdp);
  let body: ReturnType<typeof sdpBody> | null = null;
  let sdp: Buffer;
  if (readPv !== null) {
    const v = readPv.get(ctx);
    if (v === null) return fail(s, fn, `read_sdp_pv ${s.pvNames.readSdp} has no value`);
    sdp = Buffer.from(String(v));
  } else {
    body = sdpBody(msg);
    if (typeof body === 'string') return fail(s, fn, `can't extract body from the message (${body})`);
    sdp = body.sdp;
  }
  const direction = op === 'offer' ? 1 : 2;
  const steps = chained(s, ctx, msg) ? [direction, direction === 1 ? 2 : 1] as const : [direction] as const;
  for (const d of steps) {
    const answer = call(s, ctx, op, flags, d, sdp);
    if (typeof answer === 'string') return fail(s, fn, answer, { callId: msg.callId });
    const out = bbytes(answer, 'sdp');
    if (out === null) return fail(s, fn, 'failed to extract sdp body from proxy reply');
    sdp = Buffer.from(out);
  }
  const writePv = pvOf(s, s.pvNames.writeSdp);
  if (writePv !== null) writePv.set?.(ctx, sdp.toString());
  else ctx.headerEdits.body = body === null || typeof body === 'string' ? sdp : body.replace(sdp);
  return 1;
}

/** A command whose answer is only checked for "ok" (delete, recording, media, DTMF), on each chained set. */
export function simple(s: RtpengineState, ctx: Context, fn: string, op: NgOp, flags: string): number {
  const msg = ctx.msg;
  if (msg === null) return fail(s, fn, 'no SIP message');
  const steps = chained(s, ctx, msg) ? [1, 2] as const : [1] as const;
  for (const d of steps) {
    const answer = call(s, ctx, op, flags, d, null);
    if (typeof answer === 'string') return fail(s, fn, answer, { callId: msg.callId });
  }
  return 1;
}

/** query: the answer itself (for $rtpstat and rtpengine_query_v), or why not */
export function query(s: RtpengineState, ctx: Context): BDict | string {
  return call(s, ctx, 'query', '', 1, null);
}

const MANAGED = new Set(['INVITE', 'ACK', 'CANCEL', 'BYE', 'UPDATE', 'PRACK']);

/** rtpengine_manage: offer, answer or delete, by method, route and reply (Kamailio's rtpengine_manage). */
export function manage(s: RtpengineState, ctx: Context, flags: string): number {
  const fn = 'rtpengine_manage';
  const msg = ctx.msg;
  if (msg === null) return fail(s, fn, 'no SIP message');
  const route = routeTypeOf(ctx);
  if (route === 'branch-failure') return 1;
  const method = msg.cseq.method;
  if (!MANAGED.has(method)) return -1;
  if (method === 'CANCEL' || method === 'BYE') return simple(s, ctx, fn, 'delete', flags);
  const hasSdp = typeof sdpBody(msg) !== 'string';
  if (msg.isRequest) {
    if ((method === 'ACK' || method === 'PRACK') && hasSdp) return offerAnswer(s, ctx, fn, 'answer', flags);
    if (method === 'UPDATE' && hasSdp) return offerAnswer(s, ctx, fn, 'offer', flags);
    if (method === 'INVITE' && hasSdp) {
      s.sdpOffered.add(ctx);
      if (route === 'failure') return simple(s, ctx, fn, 'delete', flags);
      return offerAnswer(s, ctx, fn, 'offer', flags);
    }
    return -1;
  }
  if (msg.status >= 300) return simple(s, ctx, fn, 'delete', flags);
  if (!hasSdp) return -1;
  if (method === 'UPDATE' || transactionOf(ctx) === null || s.sdpOffered.has(ctx)) return offerAnswer(s, ctx, fn, 'answer', flags);
  // the INVITE had no SDP: the reply carries the offer (its answer comes in the ACK)
  return offerAnswer(s, ctx, fn, 'offer', flags);
}
