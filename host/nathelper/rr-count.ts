/**
 * nathelper's $rr_count and $rr_top_count: how many Record-Route entries the received message
 * has, and whether the top one is half of a double Record-Route (its URI has `r2`): 2, else 1;
 * 0 without any. Kamailio's native scripts compare them to decide on add_contact_alias.
 */
import type { SipMessage } from '../sip/message.js';
import { parseNameAddr } from '../sip/name-addr.js';
import { splitElements } from '../sip/split.js';
import { parseUri } from '../sip/uri.js';

export function rrCount(msg: SipMessage): number {
  let n = 0;
  for (const v of msg.getHeaders('record-route')) n += splitElements(v).length;
  return n;
}

/** null when the top Record-Route cannot be read (Kamailio's getter fails: $null). */
export function rrTopCount(msg: SipMessage): number | null {
  const first = msg.getHeader('record-route');
  if (first === undefined) return 0;
  const na = parseNameAddr(splitElements(first)[0] ?? '');
  const uri = na === null ? null : parseUri(na.uri);
  if (uri === null) return null;
  return uri.params.has('r2') ? 2 : 1;
}
