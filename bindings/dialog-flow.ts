/**
 * The dialog state machine (Kamailio's dlg_handlers.c): a dialog is made on an initial INVITE
 * (dlg_manage, or dlg_flag set before t_relay), becomes early on a provisional with a To-tag,
 * confirmed (no ACK yet) on the 2xx, confirmed on the ACK, and is deleted on a BYE, a final
 * failure, or its timeout (with BYEs to both sides when send_bye or "timeout-bye" asks).
 * In-dialog requests are matched when loose_route routes them by our Route (rr's callback), by
 * the `did` cookie and/or Call-ID and tags as dlg_match_mode says, or by dlg_manage.
 */
import { Context } from '../host/kemi/context.js';
import type { ResolvedPv } from '../host/kemi/pv.js';
import type { Counter } from '../host/kemi/stats.js';
import type { ModuleHost } from '../host/kemi/types.js';
import { byeSpec, type Side } from '../host/dialog/bye.js';
import {
  contactOf, Dialog, DLG_CONFIRMED, DLG_DELETED, DLG_CONFIRMED_NA, DLG_EARLY, DLG_UNCONFIRMED, IFLAG_TIMEOUT_BYE, IFLAG_TIMEOUT_NORESET, recordRoutes,
} from '../host/dialog/dialog.js';
import type { DialogStore } from '../host/dialog/store.js';
import type { SipMessage } from '../host/sip/message.js';
import { paramValue } from '../host/sip/route-set.js';
import { layerOf, transactionOf } from '../host/sip/transaction/sip-owner.js';
import { parseUri } from '../host/sip/uri.js';
import type { DialogParams } from './dialog-params.js';
import type { RrApi } from './rr.js';

/** What the script set for the message before (or without) a dialog: Kamailio's dlg context. */
export interface DlgCtx {
  dlg: Dialog | null;
  /** dlg_setflag before the dialog exists */
  flags: number;
  vars: Map<string, string> | null;
  /** dlg_set_timeout / $dlg_ctx(timeout_value) before the dialog exists; 0: none */
  timeout: number;
  /** $dlg_ctx(timeout_bye) */
  timeoutBye: boolean;
  /** 1 downstream, 2 upstream, 0 not known ($dlg_ctx(dir)) */
  dir: number;
}

export interface DlgState {
  readonly host: ModuleHost;
  readonly p: DialogParams;
  readonly store: DialogStore;
  readonly rr: RrApi | undefined;
  readonly ctxs: WeakMap<Context, DlgCtx>;
  /** dlg_extra_hdrs as header lines ending in CRLF */
  readonly extra: string;
  timeoutAvp: ResolvedPv | null | undefined;
  readonly c: {
    active: Counter; early: Counter; processed: Counter; expired: Counter; failed: Counter; refused: Counter; byes: Counter;
  };
}

export function dlgCtx(s: DlgState, ctx: Context): DlgCtx {
  let c = s.ctxs.get(ctx);
  if (c === undefined) {
    c = { dlg: null, flags: 0, vars: null, timeout: 0, timeoutBye: false, dir: 0 };
    s.ctxs.set(ctx, c);
  }
  return c;
}

/** The dialog of the message: the one set on it, else by Call-ID and tags (is_known_dlg, $dlg). */
export function dialogOf(s: DlgState, ctx: Context): Dialog | null {
  const c = s.ctxs.get(ctx);
  if (c?.dlg != null) return c.dlg;
  const msg = ctx.msg;
  if (msg === null) return null;
  const d = s.store.find(msg.callId, msg.from.tag, msg.to.tag);
  if (d !== null) dlgCtx(s, ctx).dlg = d;
  return d;
}

function socketOf(ctx: Context): string {
  const h = ctx.src.localIp.includes(':') ? `[${ctx.src.localIp}]` : ctx.src.localIp;
  return `${ctx.src.proto}:${h}:${String(ctx.src.localPort)}`;
}

function initialTimeout(s: DlgState, ctx: Context, c: DlgCtx): number {
  if (c.timeout > 0) return c.timeout;
  if (s.p.timeout_avp !== undefined) {
    if (s.timeoutAvp === undefined) s.timeoutAvp = s.host.pvs.resolve(s.p.timeout_avp);
    const v = Number(s.timeoutAvp?.get(ctx) ?? NaN);
    if (Number.isInteger(v) && v > 0) return v;
  }
  return s.p.default_timeout;
}

/** dlg_manage on an initial INVITE, or dlg_flag at t_relay: 1 made (or already), -1 refused. */
export function createDialog(s: DlgState, ctx: Context): number {
  const msg = ctx.msg;
  if (msg === null || !msg.isRequest || msg.method !== 'INVITE' || msg.to.tag !== '') return -1;
  const c = dlgCtx(s, ctx);
  if (c.dlg !== null) return 1;
  if (s.p.detect_spirals === 1) {
    // the same INVITE back through us (a spiral): the dialog it made already
    const spiral = s.store.find(msg.callId, msg.from.tag, '');
    if (spiral !== null && spiral.state < DLG_CONFIRMED_NA && spiral.caller.cseq === msg.cseq.seq) {
      c.dlg = spiral;
      return 1;
    }
  }
  const d = s.store.create({
    callId: msg.callId,
    fromUri: msg.from.uri,
    toUri: msg.to.uri,
    reqUri: msg.ruri,
    caller: { tag: msg.from.tag, contact: contactOf(msg), routeSet: recordRoutes(msg), cseq: msg.cseq.seq, socket: socketOf(ctx) },
    timeout: initialTimeout(s, ctx, c),
  });
  if (d === null) {
    s.c.refused.value++;
    s.host.complain('dialog: the dialog table is full (max_dialogs): no dialog for this INVITE', { max_dialogs: s.store.max });
    return -1;
  }
  c.dlg = d;
  c.dir = 1;
  d.sflags |= c.flags;
  if (c.vars !== null) for (const [k, v] of c.vars) d.vars.set(k, v);
  if (c.timeoutBye) d.iflags |= IFLAG_TIMEOUT_BYE;
  const layer = layerOf(ctx);
  d.sendVia = layer;
  if (s.p.dlg_match_mode !== 2) s.rr?.addRrParam(ctx, `;${s.p.rr_param}=${d.did}`);
  const settings = layer?.settingsFor(ctx) ?? null;
  if (settings !== null) (settings.observers ??= []).push((code, reply) => { onReply(s, d, code, reply); });
  s.store.arm(d, s.p.early_timeout);
  s.c.active.value++;
  s.c.early.value++;
  // Kamailio drops a dialog whose INVITE got no transaction by the end of the script (answered
  // statelessly, dropped): nothing would ever confirm or fail it
  s.host.boundary.timeout('tm-timer', 0, () => {
    if (d.state === DLG_UNCONFIRMED && d.active && transactionOf(ctx) === null) {
      leaveEarly(s, d);
      s.c.active.value--;
      s.store.remove(d);
    }
  }, null);
  return 1;
}

/** The callee's route set from the 2xx: the Record-Routes above ours and the upstream ones, nearest first. */
function calleeRoutes(s: DlgState, d: Dialog, reply: SipMessage): string[] {
  const all = recordRoutes(reply);
  const above = all.slice(0, Math.max(0, all.length - d.upstreamRr));
  return above.filter((r) => {
    const u = parseUri(r);
    return u === null || !s.host.myself.isMyself(u.host, u.port);
  }).reverse();
}

const NO_SOURCE = { proto: 'udp', ip: '', port: 0, localIp: '', localPort: 0 } as const;

/**
 * event_callback with "dialog:start" / "dialog:end" / "dialog:failed". Run once the current
 * callback or reply is done (never inside a KSR call of the script), on a Context of its own
 * whose dialog is `d`.
 */
function dialogEvent(s: DlgState, d: Dialog, name: string): void {
  const cb = s.p.event_callback;
  if (cb === undefined || !s.host.script.has(cb)) return;
  s.host.boundary.timeout('tm-timer', 0, () => {
    const ctx = new Context('event', null, NO_SOURCE);
    dlgCtx(s, ctx).dlg = d;
    s.host.script.run(cb, ctx, name);
  }, null);
}

function leaveEarly(s: DlgState, d: Dialog): void {
  if (d.state === DLG_UNCONFIRMED || d.state === DLG_EARLY) s.c.early.value--;
}

/** A reply to the dialog's INVITE went upstream. */
export function onReply(s: DlgState, d: Dialog, code: number, reply: SipMessage | null): void {
  if (!d.active) return;
  if (code < 200) {
    if (code > 100 && reply !== null && reply.to.tag !== '' && d.state === DLG_UNCONFIRMED) {
      d.state = DLG_EARLY;
      d.callee.tag = reply.to.tag;
    }
    return;
  }
  if (code < 300) {
    if (d.state >= DLG_CONFIRMED_NA) return;
    leaveEarly(s, d);
    d.state = DLG_CONFIRMED_NA;
    d.startTs = Math.floor(Date.now() / 1000);
    if (reply !== null) {
      d.callee.tag = reply.to.tag;
      d.callee.contact = contactOf(reply);
      d.callee.routeSet = calleeRoutes(s, d, reply);
    }
    s.store.arm(d, d.timeout);
    dialogEvent(s, d, 'dialog:start');
    return;
  }
  if (d.state >= DLG_CONFIRMED_NA) return;
  leaveEarly(s, d);
  s.c.failed.value++;
  end(s, d, false, 'dialog:failed');
}

/**
 * The dialog is over. `later` (a BYE): state 5 and out of its profiles now, out of the store
 * once the script is done with the message (as Kamailio frees it after the BYE's transaction),
 * so the route routing the BYE still sees its variables and flags — as in Kamailio 5.6.
 */
function end(s: DlgState, d: Dialog, later = false, event = 'dialog:end'): void {
  if (!d.active) return;
  s.c.active.value--;
  s.c.processed.value++;
  // an early dialog that times out ends without an event, as in Kamailio
  if (d.state >= DLG_CONFIRMED_NA || event !== 'dialog:end') dialogEvent(s, d, event);
  if (!later) {
    s.store.remove(d);
    return;
  }
  d.state = DLG_DELETED;
  d.endTs = Math.floor(Date.now() / 1000);
  s.store.leaveProfiles(d);
  if (d.timer !== null) clearTimeout(d.timer);
  d.timer = s.host.boundary.timeout('tm-timer', 0, (x: Dialog) => { s.store.remove(x); }, d);
}

/** An in-dialog request of the dialog (matched by rr's callback or dlg_manage). */
export function onInDialog(s: DlgState, ctx: Context, d: Dialog): void {
  const msg = ctx.msg;
  if (msg === null || !msg.isRequest) return;
  const c = dlgCtx(s, ctx);
  c.dlg = d;
  const up = d.isUpstream(msg);
  c.dir = up ? 2 : 1;
  if (!d.active) return;
  const method = msg.method;
  if (method === 'ACK') {
    if (d.state === DLG_CONFIRMED_NA) d.state = DLG_CONFIRMED;
    return;
  }
  if (method === 'CANCEL' || msg.cseq.method !== method) return;
  (up ? d.callee : d.caller).cseq = Math.max((up ? d.callee : d.caller).cseq, msg.cseq.seq);
  if (method === 'BYE') {
    if (d.state >= DLG_CONFIRMED_NA) end(s, d, true);
    return;
  }
  if (d.state >= DLG_CONFIRMED_NA && s.p.timeout_noreset === 0 && (d.iflags & IFLAG_TIMEOUT_NORESET) === 0) {
    if (c.timeout > 0) d.timeout = c.timeout;
    s.store.arm(d, d.timeout);
  }
}

/** rr's loose_route callback: the request routed by our Route, whose parameters are `params`. */
export function onLooseRoute(s: DlgState, ctx: Context, params: string): void {
  const msg = ctx.msg;
  if (msg === null || msg.to.tag === '') return;
  const d = matchInDialog(s, msg, params);
  if (d !== null) onInDialog(s, ctx, d);
}

/** dlg_match_mode: 0 by the did cookie only, 1 did then Call-ID/tags, 2 Call-ID/tags only. */
export function matchInDialog(s: DlgState, msg: SipMessage, params: string | null): Dialog | null {
  const mode = s.p.dlg_match_mode;
  if (mode !== 2) {
    const did = params === null ? null : paramValue(params, s.p.rr_param);
    if (did !== null) {
      const d = s.store.byDid(did);
      // the cookie only finds it: Call-ID and tags must still agree (the doc's note on security)
      if (d !== null && d.matches(msg.callId, msg.from.tag, msg.to.tag)) return d;
      if (mode === 0) return null;
    } else if (mode === 0) {
      return null;
    }
  }
  return s.store.find(msg.callId, msg.from.tag, msg.to.tag);
}

/** Send the BYE to one side; false when it could not be built or sent (logged). */
export function sendBye(s: DlgState, d: Dialog, side: Side): boolean {
  const spec = byeSpec(d, side, s.extra);
  const layer = d.sendVia;
  if (typeof spec === 'string' || layer === null) {
    s.host.log.warn({ callid: d.callId, side, why: typeof spec === 'string' ? spec : 'no transaction layer' }, 'dialog: cannot send BYE');
    return false;
  }
  (side === 'caller' ? d.callee : d.caller).cseq++;
  // as Kamailio's bye_reply_cb: the BYE's final reply (whatever its code) ends the dialog
  const ok = layer.sendLocal(spec, (code) => {
    s.host.log.debug({ callid: d.callId, side, code }, 'dialog: BYE answered');
    end(s, d);
  });
  if (ok) s.c.byes.value++;
  else s.host.log.warn({ callid: d.callId, side }, 'dialog: BYE not sent (no socket for its protocol)');
  return ok;
}

/** End the dialog from here (dlg_bye "all", dlg.terminate_dlg, a timeout with BYE): BYE both sides. */
export function terminate(s: DlgState, d: Dialog, sides: readonly Side[] = ['caller', 'callee']): boolean {
  if (!d.active || d.state < DLG_CONFIRMED_NA) return false;
  let ok = true;
  for (const side of sides) ok = sendBye(s, d, side) && ok;
  if (sides.length === 2) end(s, d);
  return ok;
}

/** The dialog's timer: an early dialog is dropped; a confirmed one times out (BYEs when asked for). */
export function onExpire(s: DlgState, d: Dialog): void {
  d.timer = null;
  if (!d.active) return;
  if (d.state < DLG_CONFIRMED_NA) {
    leaveEarly(s, d);
    end(s, d);
    return;
  }
  s.c.expired.value++;
  if (s.p.send_bye === 1 || (d.iflags & IFLAG_TIMEOUT_BYE) !== 0) terminate(s, d);
  else end(s, d);
}
