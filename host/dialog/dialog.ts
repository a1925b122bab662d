/**
 * One dialog as the dialog module tracks it (Kamailio's struct dlg_cell): the two legs with what
 * a BYE of ours needs (tag, contact, route set, CSeq), the state, the timeout, the script's
 * flags, variables and profiles. State numbers are Kamailio's, as $dlg(state) and dlg.list show.
 */
import { parseNameAddr } from '../sip/name-addr.js';
import type { SipMessage } from '../sip/message.js';
import type { LocalSender } from '../sip/transaction/local-request.js';

export const DLG_UNCONFIRMED = 1;
export const DLG_EARLY = 2;
export const DLG_CONFIRMED_NA = 3;
export const DLG_CONFIRMED = 4;
export const DLG_DELETED = 5;

/** dlg_set_property's words, as Kamailio's iflags */
export const IFLAG_TIMEOUT_BYE = 1 << 0;
export const IFLAG_KA_SRC = 1 << 1;
export const IFLAG_KA_DST = 1 << 2;
export const IFLAG_TIMEOUT_NORESET = 1 << 3;

export const PROPERTIES: Readonly<Record<string, number>> = {
  'timeout-bye': IFLAG_TIMEOUT_BYE,
  'ka-src': IFLAG_KA_SRC,
  'ka-dst': IFLAG_KA_DST,
  'timeout-noreset': IFLAG_TIMEOUT_NORESET,
};

export interface Leg {
  tag: string;
  contact: string;
  /** Route URIs (with their parameters) for a request of ours towards this leg, nearest hop first */
  routeSet: string[];
  /** the last CSeq number this leg used (a request of ours to the other leg uses it + 1) */
  cseq: number;
  /** "udp:127.0.0.1:5060": our socket the leg's message came in on */
  socket: string;
}

export class Dialog {
  state = DLG_UNCONFIRMED;
  /** Unix seconds: when it was created, and when it was confirmed (0 until then) */
  readonly initTs: number;
  startTs = 0;
  endTs = 0;
  /** seconds after confirmation (or after the last in-dialog request, unless timeout-noreset) */
  timeout: number;
  /** ms clock time the timer fires at; 0 when none is armed */
  expiresAt = 0;
  timer: NodeJS.Timeout | null = null;
  /** dlg_setflag's flags (Kamailio's sflags) */
  sflags = 0;
  iflags = 0;
  readonly vars = new Map<string, string>();
  /** profile name → the values this dialog has in it ('' for a profile without values) */
  readonly profiles = new Map<string, Set<string>>();
  readonly callee: Leg = { tag: '', contact: '', routeSet: [], cseq: 0, socket: '' };
  /** number of Record-Routes the INVITE brought from upstream (Kamailio's from_rr_nb) */
  readonly upstreamRr: number;
  /** what sends the BYEs: the runtime's transaction layer, captured when the dialog was made */
  sendVia: LocalSender | null = null;

  constructor(
    readonly hEntry: number,
    readonly hId: number,
    readonly callId: string,
    readonly fromUri: string,
    readonly toUri: string,
    readonly reqUri: string,
    readonly caller: Leg,
    timeout: number,
  ) {
    this.initTs = Math.floor(Date.now() / 1000);
    this.timeout = timeout;
    this.upstreamRr = caller.routeSet.length;
  }

  /** The rr parameter value that names it: Kamailio's "h_entry.h_id" in hex. */
  get did(): string {
    return `${this.hEntry.toString(16)}.${this.hId.toString(16)}`;
  }

  get key(): string {
    return `${String(this.hEntry)}:${String(this.hId)}`;
  }

  get active(): boolean {
    return this.state !== DLG_DELETED;
  }

  /** The request comes from the callee (its From-tag is the dialog's To-tag). */
  isUpstream(msg: SipMessage): boolean {
    return msg.from.tag !== this.caller.tag;
  }

  /** Call-ID and both tags agree, in either direction (RFC 3261 §12.2.2). */
  matches(callId: string, ftag: string, ttag: string): boolean {
    if (callId !== this.callId) return false;
    if (ftag === this.caller.tag) return ttag === '' || this.callee.tag === '' || ttag === this.callee.tag;
    return ftag === this.callee.tag && ttag === this.caller.tag;
  }
}

/** The URI of the one Contact a dialog-creating message must have; '' without one. */
export function contactOf(msg: SipMessage): string {
  const first = msg.getHeaderElements('contact')[0];
  if (first === undefined) return '';
  return parseNameAddr(first)?.uri ?? '';
}

/** The Record-Route URIs of a message, top first. */
export function recordRoutes(msg: SipMessage): string[] {
  const out: string[] = [];
  for (const el of msg.getHeaderElements('record-route')) {
    const na = parseNameAddr(el);
    if (na !== null) out.push(na.uri);
  }
  return out;
}
