/**
 * The BYE this server sends to one side of a dialog (Kamailio's build_dlg_t + t_request_within):
 * R-URI the side's Contact, Route its route set, From/To the dialog's URIs and tags as that side
 * expects them, CSeq the other side's last number + 1, Max-Forwards 70 and dlg_extra_hdrs.
 */
import { localTarget, type LocalRequestSpec } from '../sip/transaction/local-request.js';
import type { Dialog } from './dialog.js';

export type Side = 'caller' | 'callee';

/** The BYE to `side`, or why it cannot be built. `extra`: header lines ending in CRLF. */
export function byeSpec(d: Dialog, side: Side, extra: string): LocalRequestSpec | string {
  const leg = side === 'caller' ? d.caller : d.callee;
  const other = side === 'caller' ? d.callee : d.caller;
  if (leg.contact === '') return `no contact of the ${side}`;
  // a route set whose first hop is a strict router is not handled: loose routers only (RFC 3261 §12.2.1.1)
  const first = leg.routeSet[0];
  const next = localTarget(first ?? leg.contact);
  if (typeof next === 'string') return next;
  const remoteUri = side === 'caller' ? d.fromUri : d.toUri;
  const localUri = side === 'caller' ? d.toUri : d.fromUri;
  const headers = [
    'Max-Forwards: 70\r\n',
    // one Route header, as Kamailio's tm writes the route set
    ...(leg.routeSet.length === 0 ? [] : [`Route: ${leg.routeSet.map((r) => `<${r}>`).join(', ')}\r\n`]),
    `From: <${localUri}>;tag=${other.tag}\r\n`,
    `To: <${remoteUri}>;tag=${leg.tag}\r\n`,
    `Call-ID: ${d.callId}\r\n`,
    `CSeq: ${String(other.cseq + 1)} BYE\r\n`,
  ];
  if (extra !== '') headers.push(extra);
  return { method: 'BYE', ruri: leg.contact, headers, ...next };
}
