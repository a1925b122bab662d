/**
 * KSR.dialog: Kamailio's dialog module (KEMI names, types and return codes). The state machine
 * is ./dialog-flow.ts, the store host/dialog/store.ts, the pseudo-variables ./dialog-pvs.ts;
 * RPC here. Dialogs live in memory only (db_mode 0). docs/dialog.md.
 */
import type { Context } from '../host/kemi/context.js';
import { defineModule, fn, type ModuleHost, type Xval } from '../host/kemi/types.js';
import { DialogStore } from '../host/dialog/store.js';
import { DLG_CONFIRMED_NA, IFLAG_TIMEOUT_BYE, PROPERTIES, type Dialog } from '../host/dialog/dialog.js';
import {
  createDialog, dialogOf, dlgCtx, matchInDialog, onExpire, onInDialog, onLooseRoute, sendBye, terminate, type DlgState,
} from './dialog-flow.js';
import { dialogParams, profileNames, type DialogParams } from './dialog-params.js';
import { dialogPvs, setVar, varsOf } from './dialog-pvs.js';
import { dialogRpc } from './dialog-rpc.js';
import type { RrApi } from './rr.js';
import type { TmApi } from './tm.js';

function extraHeaders(text: string): string {
  const lines = text.split(/\r?\n/).map((l) => l.trim()).filter((l) => l !== '');
  return lines.map((l) => `${l}\r\n`).join('');
}

function init(host: ModuleHost, p: DialogParams): DlgState {
  let s: DlgState | null = null;
  const store = new DialogStore(p.max_dialogs, p.hash_size, host.boundary, (d) => { if (s !== null) onExpire(s, d); });
  for (const n of profileNames(p.profiles_with_value)) store.declareProfile(n, true);
  for (const n of profileNames(p.profiles_no_value)) store.declareProfile(n, false);
  const state: DlgState = {
    host, p, store, rr: host.api('rr') as RrApi | undefined, ctxs: new WeakMap(), extra: extraHeaders(p.dlg_extra_hdrs), timeoutAvp: undefined,
    c: {
      active: host.gauge('active_dialogs'), early: host.gauge('early_dialogs'), processed: host.stat('processed_dialogs'),
      expired: host.stat('expired_dialogs'), failed: host.stat('failed_dialogs'), refused: host.stat('refused_dialogs'), byes: host.stat('byes_sent'),
    },
  };
  s = state;
  state.rr?.onLooseRoute((ctx, params) => { onLooseRoute(state, ctx, params); });
  const tm = host.api('tm') as TmApi | undefined;
  if (p.dlg_flag >= 0) {
    const bit = 1 << p.dlg_flag;
    tm?.onRelay((ctx) => {
      if ((ctx.flags & bit) !== 0 && ctx.msg?.method === 'INVITE' && ctx.msg.to.tag === '') createDialog(state, ctx);
    });
  }
  return state;
}

/** dlg_manage: make the dialog of an initial INVITE, or match an in-dialog request to its dialog. */
function manage(s: DlgState, ctx: Context): number {
  const msg = ctx.msg;
  if (msg === null || !msg.isRequest) return -1;
  if (msg.to.tag === '') return msg.method === 'INVITE' ? createDialog(s, ctx) : -1;
  // loose_route matched it already (and a BYE may have ended it): nothing more to do
  if (s.ctxs.get(ctx)?.dlg != null) return 1;
  const d = matchInDialog(s, msg, null) ?? s.store.find(msg.callId, msg.from.tag, msg.to.tag);
  if (d === null) return -1;
  onInDialog(s, ctx, d);
  return 1;
}

/** The message's dialog, or a complaint naming the function. */
function need(s: DlgState, ctx: Context, fname: string): Dialog | null {
  const d = dialogOf(s, ctx);
  if (d === null) s.host.complain(`${fname}: no dialog for this message (dlg_manage first)`, {}, 'warn');
  return d;
}

/** A declared profile, with the value it takes ('' for one without values); null: unknown (complained). */
function profile(s: DlgState, fname: string, name: string, value: string): string | null {
  const withValue = s.store.profileTakesValue(name);
  if (withValue === undefined) {
    s.host.complain(`${fname}: no profile "${name}" (profiles_with_value / profiles_no_value)`);
    return null;
  }
  return withValue ? value : '';
}

function setProfile(s: DlgState, ctx: Context, name: string, value: string): number {
  const v = profile(s, 'set_dlg_profile', name, value);
  if (v === null) return -1;
  if (s.store.profileTakesValue(name) === true && v === '') {
    s.host.complain('set_dlg_profile: this profile needs a value', { profile: name });
    return -1;
  }
  const d = need(s, ctx, 'set_dlg_profile');
  if (d === null || !d.active) return -1;
  s.store.addToProfile(d, name, v);
  return 1;
}

function unsetProfile(s: DlgState, ctx: Context, name: string, value: string): number {
  const v = profile(s, 'unset_dlg_profile', name, value);
  const d = dialogOf(s, ctx);
  if (v === null || d === null) return -1;
  return s.store.removeFromProfile(d, name, v) ? 1 : -1;
}

function isInProfile(s: DlgState, ctx: Context, name: string, value: string): number {
  const v = profile(s, 'is_in_profile', name, value);
  const d = dialogOf(s, ctx);
  if (v === null || d === null) return -1;
  return s.store.isInProfile(d, name, v) ? 1 : -1;
}

function profileSize(s: DlgState, ctx: Context, name: string, value: string, pv: string): number {
  const v = profile(s, 'get_profile_size', name, value);
  if (v === null) return -1;
  const target = s.host.pvs.resolve(pv);
  if (target?.set === undefined) {
    s.host.complain('get_profile_size: the result must go to a writable pseudo-variable', { pv });
    return -1;
  }
  target.set(ctx, s.store.profileSize(name, v));
  return 1;
}

function flagOp(s: DlgState, ctx: Context, fname: string, flag: number, op: 'is' | 'set' | 'reset'): number {
  if (flag < 0 || flag > 31) {
    s.host.complain(`${fname}: flag must be 0..31`, { flag });
    return -1;
  }
  const bit = 1 << flag;
  const d = dialogOf(s, ctx);
  const c = dlgCtx(s, ctx);
  const flags = d === null ? c.flags : d.sflags;
  if (op === 'is') return (flags & bit) !== 0 ? 1 : -1;
  const next = op === 'set' ? flags | bit : flags & ~bit;
  if (d === null) c.flags = next;
  else d.sflags = next;
  return 1;
}

function property(s: DlgState, ctx: Context, fname: string, attr: string, on: boolean): number {
  const bit = PROPERTIES[attr];
  if (bit === undefined) {
    s.host.complain(`${fname}: unknown property (timeout-bye, timeout-noreset, ka-src, ka-dst)`, { attr });
    return -1;
  }
  const d = dialogOf(s, ctx);
  if (d === null) {
    // before dlg_manage only timeout-bye is kept (as $dlg_ctx(timeout_bye))
    if (bit !== IFLAG_TIMEOUT_BYE) return -1;
    dlgCtx(s, ctx).timeoutBye = on;
    return 1;
  }
  d.iflags = on ? d.iflags | bit : d.iflags & ~bit;
  return 1;
}

function setTimeout(s: DlgState, d: Dialog, seconds: number): number {
  if (seconds <= 0) return -1;
  d.timeout = seconds;
  // a running timer restarts with the new lifetime; an early dialog takes it at the 2xx
  if (d.state >= DLG_CONFIRMED_NA && d.active) s.store.arm(d, seconds);
  return 1;
}

function bye(s: DlgState, ctx: Context, side: string): number {
  const d = need(s, ctx, 'dlg_bye');
  if (d === null) return -1;
  if (side === 'all') return terminate(s, d) ? 1 : -1;
  if (side !== 'caller' && side !== 'callee') {
    s.host.complain('dlg_bye: side must be caller, callee or all', { side });
    return -1;
  }
  if (!d.active || d.state < DLG_CONFIRMED_NA) return -1;
  return sendBye(s, d, side) ? 1 : -1;
}

function varGet(s: DlgState, ctx: Context, name: string, none: Xval): Xval {
  return varsOf(s, ctx, false)?.get(name) ?? none;
}

export default defineModule({
  name: 'dialog',
  doc: 'Dialog tracking (Kamailio dialog): state, timeouts with BYEs, profiles, flags and variables, in memory (docs/dialog.md).',
  params: dialogParams,
  stats: ['active_dialogs', 'early_dialogs', 'processed_dialogs', 'expired_dialogs', 'failed_dialogs', 'refused_dialogs', 'byes_sent'],
  init,
  close: (s: DlgState) => { s.store.close(); },
  pvArgs: { get_profile_size: [2] },
  functions: {
    dlg_manage: fn([], 'int', (s: DlgState, ctx) => manage(s, ctx),
      'Track the dialog of an initial INVITE (adds the rr cookie), or match an in-dialog request to its dialog; 1 ok, -1 no dialog / refused (max_dialogs).'),
    is_known_dlg: fn([], 'int', (s: DlgState, ctx) => (dialogOf(s, ctx) === null ? -1 : 1),
      '1 when the message belongs to a tracked dialog (by Call-ID and tags), else -1.'),
    dlg_get: fn(['str', 'str', 'str'], 'int', (s: DlgState, ctx, ci, ft, tt) => {
      const d = s.store.find(ci, ft, tt);
      if (d === null) return -1;
      dlgCtx(s, ctx).dlg = d;
      return 1;
    }, 'Make the dialog with this Call-ID, From-tag and To-tag the current one for $dlg and the dialog functions; 1 found, -1 not.'),
    dlg_bye: fn(['str'], 'int', (s: DlgState, ctx, side) => bye(s, ctx, side),
      'Send a BYE to "caller", "callee" or "all" (all also ends the dialog); needs a confirmed dialog; 1 sent, -1 not.'),
    dlg_set_timeout: fn(['int'], 'int', (s: DlgState, ctx, t) => {
      const d = dialogOf(s, ctx);
      if (d === null) {
        if (t <= 0) return -1;
        dlgCtx(s, ctx).timeout = t;
        return 1;
      }
      return setTimeout(s, d, t);
    }, 'Set the dialog\'s lifetime in seconds (counted again from now when confirmed); 1 ok, -1 not.'),
    dlg_set_timeout_id: fn(['int', 'int', 'int'], 'int', (s: DlgState, _ctx, t, he, hi) => {
      const d = s.store.get(he, hi);
      return d === null ? -1 : setTimeout(s, d, t);
    }, 'dlg_set_timeout for the dialog h_entry, h_id.'),
    set_dlg_profile: fn(['str', 'str'], 'int', (s: DlgState, ctx, n, v) => setProfile(s, ctx, n, v),
      'Put the dialog in a profile (with a value for profiles_with_value); 1 ok, -1 no dialog / unknown profile.'),
    set_dlg_profile_static: fn(['str'], 'int', (s: DlgState, ctx, n) => setProfile(s, ctx, n, ''), 'set_dlg_profile without a value.'),
    unset_dlg_profile: fn(['str', 'str'], 'int', (s: DlgState, ctx, n, v) => unsetProfile(s, ctx, n, v),
      'Take the dialog out of a profile (that value only, when given); 1 ok, -1 it was not in it.'),
    unset_dlg_profile_static: fn(['str'], 'int', (s: DlgState, ctx, n) => unsetProfile(s, ctx, n, ''), 'unset_dlg_profile without a value.'),
    is_in_profile: fn(['str', 'str'], 'int', (s: DlgState, ctx, n, v) => isInProfile(s, ctx, n, v),
      '1 when the dialog is in the profile (with that value, when not empty), else -1.'),
    is_in_profile_static: fn(['str'], 'int', (s: DlgState, ctx, n) => isInProfile(s, ctx, n, ''), 'is_in_profile without a value.'),
    get_profile_size: fn(['str', 'str', 'str'], 'int', (s: DlgState, ctx, n, v, pv) => profileSize(s, ctx, n, v, pv),
      'Write the number of dialogs in the profile (with that value, when not empty) into the pseudo-variable; 1 ok, -1 unknown profile / not writable.'),
    get_profile_size_static: fn(['str', 'str'], 'int', (s: DlgState, ctx, n, pv) => profileSize(s, ctx, n, '', pv), 'get_profile_size without a value.'),
    dlg_isflagset: fn(['int'], 'int', (s: DlgState, ctx, f) => flagOp(s, ctx, 'dlg_isflagset', f, 'is'),
      '1 when the dialog flag (0..31) is set, else -1.'),
    dlg_setflag: fn(['int'], 'int', (s: DlgState, ctx, f) => flagOp(s, ctx, 'dlg_setflag', f, 'set'),
      'Set a dialog flag (0..31; before dlg_manage it is kept for the dialog made); 1 ok, -1 bad flag.'),
    dlg_resetflag: fn(['int'], 'int', (s: DlgState, ctx, f) => flagOp(s, ctx, 'dlg_resetflag', f, 'reset'), 'Clear a dialog flag; 1 ok, -1 bad flag.'),
    dlg_set_property: fn(['str'], 'int', (s: DlgState, ctx, a) => property(s, ctx, 'dlg_set_property', a, true),
      'Set timeout-bye (BYEs on timeout), timeout-noreset, ka-src or ka-dst (keep-alives are not sent here); 1 ok, -1 unknown / no dialog.'),
    dlg_reset_property: fn(['str'], 'int', (s: DlgState, ctx, a) => property(s, ctx, 'dlg_reset_property', a, false), 'Clear a dlg_set_property word.'),
    var_sets: fn(['str', 'str'], 'int', (s: DlgState, ctx, n, v) => { setVar(s, ctx, n, v); return 1; }, 'Set $dlg_var(name); 1.'),
    var_get: fn(['str'], 'xval', (s: DlgState, ctx, n) => varGet(s, ctx, n, null), '$dlg_var(name), nil/null when unset.'),
    var_gete: fn(['str'], 'xval', (s: DlgState, ctx, n) => varGet(s, ctx, n, ''), '$dlg_var(name), "" when unset.'),
    var_getw: fn(['str'], 'xval', (s: DlgState, ctx, n) => varGet(s, ctx, n, '<null>'), '$dlg_var(name), "<null>" when unset.'),
    var_is_null: fn(['str'], 'int', (s: DlgState, ctx, n) => (varGet(s, ctx, n, null) === null ? 1 : -1), '1 when $dlg_var(name) is unset, else -1.'),
    var_rm: fn(['str'], 'int', (s: DlgState, ctx, n) => { setVar(s, ctx, n, null); return 1; }, 'Remove $dlg_var(name); 1.'),
  },
  pvs: dialogPvs,
  rpc: dialogRpc,
});
