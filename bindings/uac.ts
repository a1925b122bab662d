/**
 * KSR.uac: From / To replacement (Kamailio's uac module, uac_replace_* / uac_restore_*). The
 * request sent on carries the new header; with restore_mode "manual" or "auto" every reply
 * relayed back through the transaction carries the header as the caller sent it (the callee's
 * tag kept), as Kamailio's TMCB_RESPONSE_IN callback does, and the Record-Route carries both
 * URIs for the requests within the dialog (uac-dialog.ts), restored by loose_route in auto mode
 * and by uac_restore_from / uac_restore_to in manual mode. uac_auth is uac-auth.ts. Not here:
 * uac_req_send and the registrations; see docs/uac.md.
 */
import { z } from 'zod';
import type { Context } from '../host/kemi/context.js';
import { defineModule, fn, type ModuleHost } from '../host/kemi/types.js';
import { rewriteNameAddr, splitNameAddr } from '../host/sip/name-addr-edit.js';
import { parseUri } from '../host/sip/uri.js';
import { routeTypeOf } from '../host/sip/transaction/route-type.js';
import type { RrApi } from './rr.js';
import { emptyUacReq, getUacReq, parseSocket, setUacReq, uacReqSend, type UacSendState } from './uac-send.js';
import { parseCredential, uacAuth, type Credential, type UacAuthConfig } from './uac-auth.js';
import {
  armReplyRestore, headerName, restoreFromRoute, storeInRecordRoute, type UacDialogConfig, type Which,
} from './uac-dialog.js';

function pvName(doc: string) {
  return z.string().regex(/^\$[A-Za-z_(]/, { message: 'expected a pseudo-variable, e.g. $avp(auser)' }).nullable().default(null).describe(doc);
}

const params = z
  .object({
    restore_mode: z
      .enum(['none', 'manual', 'auto'])
      .default('auto')
      .describe('"none": replies keep the replaced From / To; "manual" and "auto": every reply relayed back gets the header as the caller sent it, and the Record-Route stores both URIs for the requests within the dialog, rewritten by loose_route ("auto") or by uac_restore_from / uac_restore_to ("manual").'),
    rr_from_store_param: z.string().regex(/^[A-Za-z0-9_.!~*'-]+$/).default('vsf').describe('The Record-Route parameter holding the From URIs.'),
    rr_to_store_param: z.string().regex(/^[A-Za-z0-9_.!~*'-]+$/).default('vst').describe('The Record-Route parameter holding the To URIs.'),
    restore_passwd: z.string().default('').describe('Key XORed into the Record-Route parameter, so that it does not show the URIs in clear; the same value as the Kamailio servers sharing the dialogs.'),
    credential: z
      .union([z.string(), z.array(z.string())])
      .default([])
      .superRefine((v, c) => {
        for (const s of typeof v === 'string' ? [v] : v) if (parseCredential(s) === null) c.addIssue({ code: 'custom', message: `expected "username:realm:password", got "${s.split(':')[0] ?? ''}:…"` });
      })
      .describe('Credentials uac_auth answers challenges with, "username:realm:password" (one string or a list, as Kamailio\'s repeated modparam); matched by the challenge\'s realm.'),
    auth_username_avp: pvName('The pseudo-variable holding the username for uac_auth (with auth_password_avp; checked before the credential list).'),
    auth_password_avp: pvName('The pseudo-variable holding the password (or HA1 with uac_auth_mode(1)).'),
    auth_realm_avp: pvName('The pseudo-variable holding the realm the username/password are for; empty: any realm.'),
    event_callback: z.string().regex(/^([A-Za-z_][A-Za-z0-9_.]*)?$/).default('').describe('The script function run with "uac:reply" for the reply to a request sent by uac_req_send with $uac_req(evroute) set; "" none.'),
    default_socket: z.string().default('')
      .refine((v) => v === '' || parseSocket(v) !== null, { message: 'expected "proto:ip:port", e.g. "udp:127.0.0.1:5060"' })
      .describe('Our socket uac_req_send sends from when $uac_req(sock) is not set ("udp:ip:port"); "" the first one for the transport.'),
  })
  .strict();

interface UacState {
  readonly host: ModuleHost;
  readonly auth: UacAuthConfig;
  readonly mode: 'none' | 'manual' | 'auto';
  readonly dialog: UacDialogConfig;
  readonly send: UacSendState;
  /** the header line each message's replacement appended, so a second call replaces the first */
  readonly lines: WeakMap<Context, { from?: string; to?: string }>;
  /** the headers whose URI was replaced with a restore armed (Kamailio's FL_USE_UAC_FROM / _TO) */
  readonly armed: WeakMap<Context, Set<Which>>;
}

function complain(s: UacState, text: string, fields: Record<string, unknown> = {}): void {
  s.host.complain(text, fields);
}

/**
 * uac_replace_from / uac_replace_to. display null: keep it; "" removes it. uri "" or null:
 * keep it. 1 replaced; -1 not a request, no such header, a URI that does not parse, (auto mode)
 * a request within a dialog, or (manual / auto) a second URI change of the header in the
 * request route or no Record-Route parameter possible; Kamailio declines them all.
 */
function replace(s: UacState, ctx: Context, which: Which, display: string | null, uri: string | null): number {
  const msg = ctx.msg;
  if (msg === null || !msg.isRequest) return -1;
  const current = msg.getHeader(which);
  if (current === undefined) {
    complain(s, `uac_replace_${which}: the request has no ${headerName(which)} header`);
    return -1;
  }
  const newUri = uri === null || uri === '' ? null : uri;
  if (newUri !== null && parseUri(newUri) === null) {
    complain(s, `uac_replace_${which}: not a SIP URI`, { uri: newUri });
    return -1;
  }
  if (/[\r\n]/.test(display ?? '') || /[\r\n<>]/.test(newUri ?? '')) {
    complain(s, `uac_replace_${which}: line breaks or angle brackets in the display name or URI`);
    return -1;
  }
  if (s.mode === 'auto' && newUri !== null && msg.to.tag !== '') {
    // Kamailio: "decline FROM replacing in sequential request in auto mode (has TO tag)"
    complain(s, `uac_replace_${which}: not within a dialog in restore_mode auto (the request has a To-tag)`);
    return -1;
  }
  const armed = s.armed.get(ctx);
  if (newUri !== null && s.mode !== 'none' && armed?.has(which) === true && routeTypeOf(ctx) === 'request') {
    complain(s, `uac_replace_${which}: called more than once on the request`);
    return -1;
  }
  const value = rewriteNameAddr(current, display, newUri);
  if (value === null) {
    complain(s, `uac_replace_${which}: cannot parse the ${headerName(which)} header`);
    return -1;
  }
  writeHeader(s, ctx, which, value);
  // Kamailio arms the restore only when the URI changed
  if (newUri === null || s.mode === 'none') return 1;
  const original = splitNameAddr(current)?.uri ?? '';
  if (!storeInRecordRoute(s.dialog, ctx, which, original, newUri)) return -1;
  armReplyRestore(ctx, which, current);
  s.armed.set(ctx, (armed ?? new Set<Which>()).add(which));
  return 1;
}

/** Put `value` in place of the received header in what is sent; a later call for the same header replaces it. */
function writeHeader(s: UacState, ctx: Context, which: Which, value: string): void {
  const edits = ctx.headerEdits;
  const done = s.lines.get(ctx) ?? {};
  const before = done[which];
  if (before !== undefined) {
    const i = edits.append.indexOf(before);
    if (i >= 0) edits.append.splice(i, 1);
  }
  const line = `${headerName(which)}: ${value}\r\n`;
  edits.remove.add(which);
  edits.append.push(line);
  done[which] = line;
  s.lines.set(ctx, done);
}

/**
 * uac_restore_from / uac_restore_to (manual mode; auto mode runs both from loose_route): the
 * header of a request within the dialog rewritten from our Route's vsf / vst parameter. 1
 * restored; -1 without the parameter or when its value does not fit the header.
 */
function restore(s: UacState, ctx: Context, fromSide: boolean, replies: boolean): number {
  return restoreFromRoute(s.dialog, ctx, fromSide, replies, (c, which, value) => { writeHeader(s, c, which, value); });
}

export default defineModule({
  name: 'uac',
  doc: 'Replace From / To in the request sent on, restored in the replies relayed back; answer a next hop\'s 401/407 (uac_auth).',
  params,
  init: (host, p): UacState => {
    const rr = p.restore_mode === 'none' ? undefined : (host.api('rr') as RrApi | undefined);
    const s: UacState = {
      host,
      mode: p.restore_mode,
      dialog: { host, rr, fromParam: p.rr_from_store_param, toParam: p.rr_to_store_param, passwd: p.restore_passwd },
      lines: new WeakMap(),
      armed: new WeakMap(),
      send: { host, callback: p.event_callback, defaultSocket: p.default_socket === '' ? null : parseSocket(p.default_socket), req: emptyUacReq() },
      auth: {
        credentials: (typeof p.credential === 'string' ? [p.credential] : p.credential).map(parseCredential).filter((c): c is Credential => c !== null),
        userPv: p.auth_username_avp,
        passwordPv: p.auth_password_avp,
        realmPv: p.auth_realm_avp,
      },
    };
    // Kamailio's rr callback: every request loose_route routed by a Route of ours
    if (s.mode === 'auto') rr?.onLooseRoute((ctx) => { restore(s, ctx, true, true); restore(s, ctx, false, true); });
    return s;
  },
  functions: {
    uac_replace_from: fn(['str', 'str'], 'int', (s: UacState, ctx, display, uri) => replace(s, ctx, 'from', display, uri),
      'Replace the From display name ("" removes it; quotes are not added) and URI ("" keeps it) in the request sent on; with restore_mode manual/auto and a new URI, the replies relayed back get the From as received. 1 ok, -1 failed (a bad URI; in auto mode, a request within a dialog).'),
    uac_replace_from_uri: fn(['str'], 'int', (s: UacState, ctx, uri) => replace(s, ctx, 'from', null, uri),
      'Replace the From URI only, keeping the display name; otherwise as uac_replace_from.'),
    uac_replace_to: fn(['str', 'str'], 'int', (s: UacState, ctx, display, uri) => replace(s, ctx, 'to', display, uri),
      'Replace the To display name and URI; as uac_replace_from (the replies keep the callee\'s To-tag).'),
    uac_replace_to_uri: fn(['str'], 'int', (s: UacState, ctx, uri) => replace(s, ctx, 'to', null, uri),
      'Replace the To URI only, keeping the display name.'),
    uac_restore_from: fn([], 'int', (s: UacState, ctx) => restore(s, ctx, true, false),
      'In a request within the dialog (after loose_route): rewrite the From (the caller\'s requests: to the replaced URI) or the To (the callee\'s: to the original URI) from our Route\'s vsf parameter, for restore_mode manual (auto does it in loose_route). 1 restored, -1 no such parameter or it does not fit the header.'),
    uac_restore_to: fn([], 'int', (s: UacState, ctx) => restore(s, ctx, false, false),
      'As uac_restore_from, for the To replaced in the initial request (the vst parameter).'),
    uac_req_send: fn([], 'int', (s: UacState) => uacReqSend(s.send),
      'Send the request $uac_req(...) describes (method and ruri needed; furi / turi default to ruri; ouri: where it goes; hdrs, body, callid, sock) from the server in a transaction of its own. 1 sent, -1 not (logged: a missing or bad field, a host name instead of an IP address, no socket). With $uac_req(evroute) the event_callback runs with "uac:reply" for the final reply; with auser / apasswd a 401 / 407 is answered once.'),
    uac_auth: fn([], 'int', (s: UacState, ctx) => uacAuth(s.host, s.auth, ctx, 0),
      'In a failure route whose winning reply is 401/407: add the Authorization / Proxy-Authorization answering its Digest challenge (credentials by realm from the credential list or the auth_*_avp PVs) and set the R-URI to the failed branch\'s; then t_relay() sends it again. 1 ok; -1 elsewhere, for another reply, no credential for the realm, or an unsupported challenge.'),
    uac_auth_mode: fn(['int'], 'int', (s: UacState, ctx, mode) => uacAuth(s.host, s.auth, ctx, mode),
      'As uac_auth; mode 1: the password is the HA1 (MD5 of username:realm:password).'),
  },
  pvs: {
    uac_req: {
      param: true,
      get: (s: UacState, _ctx, key) => getUacReq(s.send, key),
      set: (s: UacState, _ctx, key, v) => { setUacReq(s.send, key, v); },
      doc: 'the request uac_req_send sends, module-wide as in Kamailio: method, ruri, furi, turi, ouri, hdrs, body, callid, sock, auser, apasswd, evparam (strings), flags (1: apasswd is the HA1), evroute (1 final reply, 2 failures), evcode, evtype (1 a reply, 2 a timeout) (integers); $uac_req(all) = $null clears it',
    },
  },
});
