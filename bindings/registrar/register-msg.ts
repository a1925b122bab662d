/**
 * What save() reads from a REGISTER (Kamailio's registrar sip_msg.c and pack_ci): the Contact
 * list or `*`, the Expires header, the expires and q of each contact, and the rest of what a
 * binding stores (Call-ID, CSeq, User-Agent, Allow, Path, received address, branch flags).
 */
import type { Context } from '../../host/kemi/context.js';
import { parseQ } from '../../host/sip/dset.js';
import type { SipMessage } from '../../host/sip/message.js';
import { parseNameAddr } from '../../host/sip/name-addr.js';
import { splitElements } from '../../host/sip/split.js';
import { ALL_METHODS, FL_MEM, methodsOf, type ContactInfo } from '../../host/usrloc/contact.js';
import { parseUri } from '../../host/sip/uri.js';
import type { RegistrarParams } from './params.js';
import { RegError } from './reply.js';

const CALLID_MAX_SIZE = 255;
const RECEIVED_MAX_SIZE = 255;
const MAX_UA_SIZE = 255;

export interface RegContact {
  readonly uri: string;
  readonly params: ReadonlyMap<string, string>;
}

export interface RegRequest {
  readonly star: boolean;
  readonly contacts: readonly RegContact[];
  /** the Expires header's value, -1 when absent or not a number (Kamailio then ignores it) */
  readonly expiresHeader: number;
  readonly callid: string;
  readonly cseq: number;
  /** the Path vector (use_path): the Path header values joined by ",", null when none */
  readonly path: string | null;
  /** the received parameter of the first Path URI (path_use_received) */
  readonly pathReceived: string | null;
}

function expiresHeaderOf(msg: SipMessage): number {
  const v = msg.getHeader('expires');
  if (v === undefined) return -1;
  const t = v.trim();
  if (t === '') throw new RegError('PARSE_EXP');
  // RFC 2543 dates and anything else that is not a number: as if absent, as Kamailio does
  const m = /^(\d{1,10})(?:[ \t].*)?$/.exec(t);
  return m === null ? -1 : Math.min(Number(m[1]), 0x7fffffff);
}

/** The REGISTER's Contacts (or `*`) checked as Kamailio's check_contacts does. */
export function readRegister(msg: SipMessage, p: RegistrarParams): RegRequest {
  const expiresHeader = expiresHeaderOf(msg);
  const contacts: RegContact[] = [];
  let star = false;
  let first = true;
  for (const value of msg.getHeaders('contact')) {
    // Kamailio's contact parser prepends: each header's contacts are handled last first, which
    // decides the order of contacts of equal q and which one max_contacts refuses
    const els = splitElements(value);
    // nathelper's "first" contact is the one Kamailio's parser puts first: the header's last
    const rewritten = first ? els[els.length - 1] : undefined;
    first = false;
    for (const el of els.reverse()) {
      if (el === '*') {
        star = true;
        continue;
      }
      const na = parseNameAddr(el);
      if (na === null) throw new RegError('PARSE_CONT');
      if (na.uri.length > p.contact_max_size) throw new RegError('CONTACT_LEN');
      if ((na.params.get('received') ?? '').length > RECEIVED_MAX_SIZE) throw new RegError('CONTACT_LEN');
      // nathelper's fix_nated_contact / set_contact_alias rewrote its URI
      const uri = el === rewritten && msg.contactUri !== null ? msg.contactUri : na.uri;
      contacts.push({ uri, params: na.params });
    }
  }
  if (star) {
    if (expiresHeader !== 0) throw new RegError('STAR_EXP');
    if (contacts.length > 0) throw new RegError('STAR_CONT');
  }
  const callid = msg.callId.trim();
  if (callid.length > CALLID_MAX_SIZE) throw new RegError('CALLID_LEN');
  const paths = p.use_path === 1 ? msg.getHeaders('path').map((v) => v.trim()).filter((v) => v !== '') : [];
  let pathReceived: string | null = null;
  if (paths.length > 0 && p.path_use_received === 1) {
    const first = parseNameAddr(splitElements(paths[0] ?? '')[0] ?? '');
    if (first === null) throw new RegError('PARSE_PATH');
    const rcv = parseUri(first.uri)?.params.get('received');
    if (rcv !== undefined && rcv !== '') pathReceived = decodeURIComponent(rcv.replace(/^"|"$/g, ''));
  }
  return { star, contacts, expiresHeader, callid, cseq: msg.cseq.seq, path: paths.length > 0 ? paths.join(',') : null, pathReceived };
}

/** A value in [e - range%, e], as Kamailio's randomize_expires. */
function randomized(e: number, range: number): number {
  if (range === 0) return e;
  const min = e - Math.trunc((range / 100) * e);
  return min + Math.trunc((Math.floor(Math.random() * 100) / 100) * (e - min));
}

/**
 * A contact's absolute expiry (0: remove it), by Kamailio's calc_contact_expires: its expires
 * parameter, else the Expires header, else default_expires; min_expires raises it (or, with
 * min_expires_mode 1, refuses it: 423), the ranges vary it, max_expires caps it.
 */
export function contactExpires(c: RegContact, req: RegRequest, p: RegistrarParams, noVariation: boolean, now: number): number {
  let e: number;
  let range: number;
  const param = c.params.get('expires');
  if (param === undefined || param === '') {
    e = req.expiresHeader;
    if (e < 0) {
      e = p.default_expires;
      range = p.default_expires_range;
    } else {
      range = p.expires_range;
    }
  } else if (/^\d{1,10}$/.test(param)) {
    e = Math.min(Number(param), 0x7fffffff);
    range = p.expires_range;
  } else {
    e = p.default_expires;
    range = p.default_expires_range;
  }
  if (e === 0) return 0;
  if (e < p.min_expires) {
    if (p.min_expires_mode === 1) throw new RegError('LOW_EXP');
    e = p.min_expires;
  }
  if (!noVariation) e = Math.max(randomized(e, range), p.min_expires);
  if (p.max_expires > 0 && e > p.max_expires) e = p.max_expires;
  return e + now;
}

/** What save() knows of the request itself, the same for each of its contacts. */
export interface SaveContext {
  readonly ctx: Context;
  readonly req: RegRequest;
  readonly memOnly: boolean;
  /** set_q_override for this message, else null */
  readonly qOverride: number | null;
  /** the value of received_avp, null when unset or empty */
  readonly receivedAvp: string | null;
  readonly natFlag: number;
  readonly now: number;
}

/** Everything a binding stores for one Contact of the REGISTER (Kamailio's pack_ci). */
export function contactInfo(c: RegContact, expires: number, s: SaveContext, p: RegistrarParams): ContactInfo {
  const msg = s.ctx.msg;
  let q = p.default_q;
  if (s.qOverride !== null) q = s.qOverride;
  else if ((c.params.get('q') ?? '') !== '') {
    const parsed = parseQ(c.params.get('q') ?? '');
    if (parsed === null) throw new RegError('INV_Q');
    q = parsed;
  }
  let methods = ALL_METHODS;
  const m = c.params.get('methods');
  if (m !== undefined) methods = methodsOf(m);
  else {
    const allow = msg?.getHeaderElements('allow') ?? [];
    if (allow.length > 0) methods = methodsOf(allow.join(','));
  }
  let cflags = s.ctx.bflags >>> 0;
  let received: string | null = null;
  if (s.req.pathReceived !== null) {
    received = s.req.pathReceived;
    cflags = (cflags | s.natFlag) >>> 0;
  } else if (c.params.has('received')) {
    received = (c.params.get('received') ?? '').replace(/^"|"$/g, '');
  } else if (s.receivedAvp !== null) {
    if (s.receivedAvp.length > RECEIVED_MAX_SIZE) throw new RegError('CONTACT_LEN');
    received = s.receivedAvp;
  }
  const instance = c.params.get('+sip.instance');
  let regId = 0;
  const rid = c.params.get('reg-id');
  if (instance !== undefined && instance !== '' && rid !== undefined && rid !== '') {
    regId = /^\d{1,9}$/.test(rid) ? Number(rid) : 0;
    if (regId === 0) throw new RegError('INV_REGID');
  }
  const ua = msg?.getHeader('user-agent')?.trim() ?? '';
  const src = s.ctx.src;
  const host = src.localIp.includes(':') ? `[${src.localIp}]` : src.localIp;
  return {
    expires,
    q,
    callid: s.req.callid,
    cseq: s.req.cseq,
    flags: s.memOnly ? FL_MEM : 0,
    cflags,
    path: s.req.path,
    received,
    userAgent: ua.length > 0 && ua.length < MAX_UA_SIZE ? ua : 'n/a',
    socket: `${src.proto === 'http' ? 'tcp' : src.proto}:${host}:${String(src.localPort)}`,
    methods,
    instance: instance === undefined || instance === '' ? null : instance.replace(/^"|"$/g, ''),
    regId,
    serverId: 0,
    connectionId: src.proto === 'udp' ? -1 : 0,
    keepalive: 0,
    lastModified: s.now,
  };
}
