/**
 * uac's From / To within the dialog, carried by the Record-Route as Kamailio's uac does without
 * the dialog module: the initial request whose URI was replaced adds `;vsf=` (`;vst=` for To)
 * to its Record-Route, holding both URIs (uac-rr-codec.ts). Every request within the dialog
 * brings it back in our Route; loose_route (auto mode) or uac_restore_from / uac_restore_to
 * (manual mode) then rewrite the header: the caller's requests get the replaced URI, the
 * callee's the original one; in auto mode their replies get back what the sender wrote.
 */
import type { Context } from '../host/kemi/context.js';
import type { ModuleHost } from '../host/kemi/types.js';
import { rewriteNameAddr, splitNameAddr } from '../host/sip/name-addr-edit.js';
import { parseUri } from '../host/sip/uri.js';
import { layerOf } from '../host/sip/transaction/transaction-layer.js';
import type { RrApi } from './rr.js';
import { decodeUriPair, encodeUriPair } from './uac-rr-codec.js';

export type Which = 'from' | 'to';

export interface UacDialogConfig {
  readonly host: ModuleHost;
  /** undefined: the rr module is not there, nothing goes into the Record-Route */
  readonly rr: RrApi | undefined;
  readonly fromParam: string;
  readonly toParam: string;
  readonly passwd: string;
}

export const headerName = (which: Which): string => (which === 'from' ? 'From' : 'To');

/** Replies relayed back through this request's transaction get `original` in place of the header (restore_uris_reply). */
export function armReplyRestore(ctx: Context, which: Which, original: string): void {
  const st = layerOf(ctx)?.settingsFor(ctx) ?? null;
  if (st === null) return;
  st.restore ??= { from: null, to: null };
  st.restore[which] = original;
}

/**
 * Add the Record-Route parameter for a header whose URI `original` becomes `replacement`.
 * false (logged) when it cannot: no append_fromtag (Kamailio requires it, the direction of the
 * requests within the dialog is read from the ftag), a URI too long, or rr refusing it.
 */
export function storeInRecordRoute(c: UacDialogConfig, ctx: Context, which: Which, original: string, replacement: string): boolean {
  const rr = c.rr;
  if (rr === undefined) return true;
  if (!rr.appendFromtag) {
    c.host.complain(`uac_replace_${which}: restore_mode manual / auto needs the rr parameter append_fromtag enabled`);
    return false;
  }
  const value = encodeUriPair(original, replacement, c.passwd);
  if (value === null) {
    c.host.complain(`uac_replace_${which}: URI too long to store in the Record-Route`);
    return false;
  }
  if (rr.addRrParam(ctx, `;${which === 'from' ? c.fromParam : c.toParam}=${value}`) !== 1) {
    c.host.complain(`uac_replace_${which}: adding the Record-Route parameter failed`);
    return false;
  }
  return true;
}

/** How a restore rewrites the message: the header line to put in place of the received one. */
export type HeaderWriter = (ctx: Context, which: Which, value: string) => void;

/**
 * Kamailio's restore_uri for one parameter (vsf: `fromSide`): 1 when a header was rewritten, -1
 * when our Route has no such parameter or its value does not fit the header's URI. vsf rewrites
 * From on the caller's requests and To on the callee's; vst the other way round. `replies`: the
 * replies relayed back get the header as received; Kamailio arms that from loose_route (auto
 * mode) only, not from uac_restore_from / uac_restore_to.
 */
export function restoreFromRoute(c: UacDialogConfig, ctx: Context, fromSide: boolean, replies: boolean, write: HeaderWriter): number {
  const msg = ctx.msg;
  const rr = c.rr;
  if (rr === undefined || msg === null || !msg.isRequest) return -1;
  const name = fromSide ? c.fromParam : c.toParam;
  const value = rr.routeParam(ctx, name);
  if (value === null || value === '') return -1;
  const upstream = rr.isUpstream(ctx);
  const which: Which = fromSide === upstream ? 'to' : 'from';
  const current = msg.getHeader(which);
  const parts = current === undefined ? null : splitNameAddr(current);
  if (current === undefined || parts === null) {
    c.host.complain(`uac: cannot parse the ${headerName(which)} header to restore it`);
    return -1;
  }
  const uri = decodeUriPair(value, parts.uri, c.passwd);
  // Kamailio only checks that the bytes are printable; a header that is no URI is never sent here
  if (uri === null || parseUri(uri) === null) {
    // Kamailio: "this can happen when URI values are altered by end points"
    c.host.complain(`uac: the ;${name} Route parameter does not decode against the ${headerName(which)} URI; left as it is`, { uri: parts.uri }, 'warn');
    return -1;
  }
  const rewritten = rewriteNameAddr(current, null, uri);
  if (rewritten === null) return -1;
  // as Kamailio: the parameter goes on in a Record-Route this request may add (a re-INVITE's)
  rr.addRrParam(ctx, `;${name}=${value}`);
  write(ctx, which, rewritten);
  if (replies) armReplyRestore(ctx, which, current);
  return 1;
}
