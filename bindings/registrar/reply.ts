/**
 * The registrar's reply to a REGISTER, as Kamailio's registrar builds it: 200 with one Contact
 * header listing every valid binding of the AoR (`<uri>;q=0.5;expires=N;received="…"`), or an
 * error with `P-Registrar-Error` naming the cause (Kamailio's rerrno table: code and text),
 * Min-Expires with 423, Retry-After with a 5xx when retry_after is set. No Date header (Kamailio
 * sends none either).
 */
import { formatQ } from '../../host/sip/dset.js';
import type { UlContact } from '../../host/usrloc/contact.js';

/** Kamailio's rerrno values with the reply code and P-Registrar-Error text of each. */
export const R = {
  FINE: [200, 'No problem'],
  UL_DEL_R: [500, 'usrloc_record_delete failed'],
  UL_GET_R: [500, 'usrloc_record_get failed'],
  INV_CSEQ: [400, 'Invalid CSeq number'],
  UL_INS_C: [500, 'usrloc_contact_insert failed'],
  AOR_LEN: [500, 'Address Of Record too long'],
  AOR_PARSE: [400, 'Error while parsing AOR'],
  INV_Q: [400, 'Invalid q param in contact'],
  PARSE: [400, 'Message parse error'],
  PARSE_EXP: [400, 'Expires parse error'],
  PARSE_CONT: [400, 'Contact parse error'],
  STAR_EXP: [400, '* used in contact and expires is not zero'],
  STAR_CONT: [400, '* used in contact and more than 1 contact'],
  UNESCAPE: [400, 'Error while unescaping username'],
  TOO_MANY: [503, 'Too many registered contacts'],
  CONTACT_LEN: [400, 'Contact/received too long'],
  CALLID_LEN: [400, 'Callid too long'],
  PARSE_PATH: [400, 'Path parse error'],
  PATH_UNSUP: [420, 'No support for found Path indicated'],
  INV_REGID: [400, 'Invalid Reg-Id number'],
  LOW_EXP: [423, 'Interval too brief'],
} as const satisfies Record<string, readonly [number, string]>;

export type Rerrno = keyof typeof R;

const REASONS: Readonly<Record<number, string>> = {
  200: 'OK', 400: 'Bad Request', 420: 'Bad Extension', 423: 'Interval Too Brief', 500: 'Server Internal Error', 503: 'Service Unavailable',
};

/** A registrar failure: which rerrno, and whether the reply lists the AoR's contacts. */
export class RegError extends Error {
  constructor(readonly rerrno: Rerrno) {
    super(R[rerrno][1]);
  }
}

/** The reply save() prepared: sent at once, or by reg_send_reply after save flag 0x02. */
export interface RegReply {
  readonly code: number;
  readonly reason: string;
  /** header lines with CRLF, for ctx.replyHeaders */
  readonly headers: string[];
}

export interface ReplyOptions {
  readonly receivedParam: string;
  readonly minExpires: number;
  readonly retryAfter: number;
}

/**
 * The Contact header of the reply: every contact valid at `now`, in the record's order; '' when
 * none is (Kamailio then sends no Contact header).
 */
export function contactHeader(contacts: readonly UlContact[], now: number, receivedParam: string): string {
  const parts: string[] = [];
  for (const c of contacts) {
    if (!c.valid(now)) continue;
    let s = `<${c.contact}>`;
    const q = formatQ(c.q);
    if (q !== '') s += `;q=${q}`;
    // a permanent contact (only a table row or ul.add makes one) shows 0, not Kamailio's negative number
    s += `;expires=${String(c.expires === 0 ? 0 : c.expires - now)}`;
    if (receivedParam !== '' && c.received !== null) s += `;${receivedParam}="${c.received}"`;
    if (c.instance !== null && c.instance !== '') s += `;+sip.instance="${c.instance}"`;
    if (c.regId > 0) s += `;reg-id=${String(c.regId)}`;
    parts.push(s);
  }
  return parts.length === 0 ? '' : `Contact: ${parts.join(', ')}\r\n`;
}

/**
 * The reply for a rerrno: its code and reason, the Contact list, then the headers the cause
 * asks for (`extra` are the Path / Unsupported lines save() decided on).
 */
export function buildReply(rerrno: Rerrno, contact: string, extra: readonly string[], o: ReplyOptions): RegReply {
  const [code, info] = R[rerrno];
  const headers: string[] = [];
  if (contact !== '') headers.push(contact);
  headers.push(...extra);
  if (rerrno === 'LOW_EXP') headers.push(`Min-Expires: ${String(o.minExpires)}\r\n`);
  if (code !== 200) {
    headers.push(`P-Registrar-Error: ${info}\r\n`);
    if (code >= 500 && o.retryAfter > 0) headers.push(`Retry-After: ${String(o.retryAfter)}\r\n`);
  }
  return { code, reason: REASONS[code] ?? 'Server Internal Error', headers };
}
