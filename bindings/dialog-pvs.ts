/** $dlg(attr), $dlg_var(name) and $dlg_ctx(attr): the dialog of the message, as Kamailio's pv names them. */
import type { Context } from '../host/kemi/context.js';
import type { PvDef, Xval } from '../host/kemi/types.js';
import { IFLAG_TIMEOUT_BYE, type Dialog } from '../host/dialog/dialog.js';
import { dialogOf, dlgCtx, type DlgState } from './dialog-flow.js';

function dlgAttr(d: Dialog, attr: string): Xval {
  switch (attr) {
    case 'h_id': return d.hId;
    case 'h_entry': return d.hEntry;
    case 'ref': return 1;
    case 'state': return d.state;
    case 'callid': return d.callId;
    case 'from_uri': return d.fromUri;
    case 'from_tag': return d.caller.tag;
    case 'from_cseq': return String(d.caller.cseq);
    case 'from_contact': return d.caller.contact;
    case 'from_rs': return d.caller.routeSet.map((r) => `<${r}>`).join(',') || null;
    case 'from_bindaddr': return d.caller.socket;
    case 'to_uri': return d.toUri;
    case 'to_tag': return d.callee.tag || null;
    case 'to_cseq': return String(d.callee.cseq);
    case 'to_contact': return d.callee.contact || null;
    case 'to_rs': return d.callee.routeSet.map((r) => `<${r}>`).join(',') || null;
    case 'to_bindaddr': return d.callee.socket || null;
    case 'sflags': return d.sflags;
    case 'dflags': return 0;
    case 'start_ts': return d.startTs;
    case 'init_ts': return d.initTs;
    case 'timeout': return d.timeout;
    case 'lifetime': return d.timeout;
    case 'toroute': return 0;
    default: return null;
  }
}

/** The variables of the message's dialog, or the ones kept for the dialog it may make. */
export function varsOf(s: DlgState, ctx: Context, create: boolean): Map<string, string> | null {
  const d = dialogOf(s, ctx);
  if (d !== null) return d.vars;
  const c = dlgCtx(s, ctx);
  if (c.vars === null && create) c.vars = new Map();
  return c.vars;
}

/** $dlg_var(name) = value; $null removes it. */
export function setVar(s: DlgState, ctx: Context, name: string, value: Xval): void {
  const vars = varsOf(s, ctx, value !== null);
  if (vars === null) return;
  if (value === null) vars.delete(name);
  else vars.set(name, String(value));
}

function ctxAttr(s: DlgState, ctx: Context, attr: string): Xval {
  const c = dlgCtx(s, ctx);
  switch (attr) {
    case 'set': return dialogOf(s, ctx) === null ? 0 : 1;
    case 'flags': return c.flags;
    case 'timeout_bye': return c.timeoutBye ? 1 : 0;
    case 'timeout_value': return c.timeout;
    case 'dir': return c.dir;
    default: return null;
  }
}

function setCtxAttr(s: DlgState, ctx: Context, attr: string, v: Xval): void {
  const c = dlgCtx(s, ctx);
  const n = Number(v ?? 0) | 0;
  if (attr === 'flags') c.flags = n;
  else if (attr === 'timeout_bye') {
    c.timeoutBye = n !== 0;
    const d = dialogOf(s, ctx);
    if (d !== null) d.iflags = c.timeoutBye ? d.iflags | IFLAG_TIMEOUT_BYE : d.iflags & ~IFLAG_TIMEOUT_BYE;
  } else if (attr === 'timeout_value' && n > 0) c.timeout = n;
}

export const dialogPvs: Record<string, PvDef<DlgState>> = {
  dlg: {
    get: (s, ctx, attr) => {
      const d = dialogOf(s, ctx);
      return d === null ? null : dlgAttr(d, attr);
    },
    param: true,
    doc: 'the message\'s dialog: h_id, h_entry, state, callid, from_uri, from_tag, to_uri, to_tag, from/to_cseq, from/to_contact, from/to_rs, sflags, start_ts, init_ts, timeout…; $null without a dialog',
  },
  dlg_var: {
    get: (s, ctx, name) => varsOf(s, ctx, false)?.get(name) ?? null,
    set: (s, ctx, name, v) => { setVar(s, ctx, name, v); },
    param: true,
    doc: 'a variable of the message\'s dialog (kept for the dialog dlg_manage makes when set before it); writable, $null removes',
  },
  dlg_ctx: {
    get: (s, ctx, attr) => ctxAttr(s, ctx, attr),
    set: (s, ctx, attr, v) => { setCtxAttr(s, ctx, attr, v); },
    param: true,
    doc: 'the dialog context of the message: set, flags, timeout_bye, timeout_value (writable), dir (1 downstream, 2 upstream)',
  },
};
