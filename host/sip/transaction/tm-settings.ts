import type { SipMessage } from '../message.js';

/**
 * Told of every reply that goes upstream for the transaction (relayed provisionals, every 2xx,
 * the final): the dialog module's view of an INVITE (Kamailio's TMCB_RESPONSE_OUT). `reply` is
 * the received reply it was relayed from, null for one of ours.
 */
export type ReplyObserver = (code: number, reply: SipMessage | null) => void;

/**
 * A message the transaction put on the wire or took from it, with both ends: what siptrace's
 * "t" mode mirrors (Kamailio's TMCB_REQUEST_SENT, TMCB_RESPONSE_IN, TMCB_RESPONSE_SENT).
 * Retransmissions are not told.
 */
export interface WireEvent {
  readonly data: Buffer;
  readonly isRequest: boolean;
  readonly proto: string;
  readonly srcIp: string;
  readonly srcPort: number;
  readonly dstIp: string;
  readonly dstPort: number;
}
export type WireObserver = (e: WireEvent) => void;

/**
 * What a script sets on a transaction before or after it exists (t_on_failure, t_on_reply,
 * t_on_branch, t_on_branch_failure, t_set_fr): Kamailio keeps these per message until t_relay
 * creates the transaction, so they are held apart and handed over.
 */
export class TmSettings {
  /** t_on_failure: one shot, cleared when the failure route runs (the script re-arms it) */
  failure: string | null = null;
  onReply: string | null = null;
  branch: string | null = null;
  branchFailure: string | null = null;
  /** t_set_fr overrides in ms, 0 = the module default */
  frInv = 0;
  fr = 0;
  /** t_set_disable_6xx: a 6xx is one more negative reply (no CANCEL of the others, no precedence) */
  disable6xx = false;
  /** uac: the From / To values as received, put back into every reply relayed upstream (null: untouched) */
  restore: { from: string | null; to: string | null } | null = null;
  /** modules watching the replies (dialog); null while none does */
  observers: ReplyObserver[] | null = null;
  /** modules watching the messages sent and received (siptrace); null while none does */
  wire: WireObserver[] | null = null;
}

/** Tell the observers of a transaction's settings about a reply that went upstream. */
export function notifyReply(settings: TmSettings | null, code: number, reply: SipMessage | null): void {
  const list = settings?.observers ?? null;
  if (list === null) return;
  for (const o of list) o(code, reply);
}

/** Tell the wire observers of a transaction's settings about a message sent or received. */
export function notifyWire(settings: TmSettings | null, e: WireEvent): void {
  const list = settings?.wire ?? null;
  if (list === null) return;
  for (const o of list) o(e);
}
