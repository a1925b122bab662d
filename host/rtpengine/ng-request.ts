/**
 * The NG request for one command on one SIP message, as Kamailio's rtpengine module builds it
 * (rtpp_function_call): the parsed flags, the call's identity (Call-ID, the tags in the order
 * the command needs them, an optional via-branch), where the message came from and the SDP.
 */
import type { MessageFacts } from '../media-relay/message-facts.js';
import { FlagError, parseNgFlags, transportProtocol, type NgValue } from './ng-flags.js';
import { NG_COMMANDS, PARTICIPANT_OPS, type NgOp } from './ng-ops.js';

export type { MessageFacts } from '../media-relay/message-facts.js';

export type NgDict = Record<string, NgValue | Uint8Array>;

export interface NgRequest {
  readonly dict: NgDict;
  /** what the sticky instance table is keyed by */
  readonly callId: string;
  readonly viaBranch: string;
  /** the command actually sent (force-answer turns an offer into an answer) */
  readonly op: NgOp;
}

function viaBranchOf(choice: ReturnType<typeof parseNgFlags>['via'], facts: MessageFacts): string {
  let c = choice;
  if (c === 'auto') c = facts.isRequest ? 1 : 2;
  else if (c === 'auto-next') c = facts.isRequest ? 'next' : 1;
  else if (c === 'auto-extra') c = facts.isRequest ? 'extra' : 1;
  switch (c) {
    case 0: return '';
    case 1:
    case 2: {
      const b = facts.viaBranch(c);
      if (b === '') throw new FlagError(`can't get the branch of Via ${String(c)}`);
      return b;
    }
    case 'extra': {
      const id = facts.extraId();
      if (id === null || id === '') throw new FlagError('via-branch=extra needs extra_id_pv with a value');
      return id;
    }
    default:
      // Kamailio computes the branch tm will give the next branch; kemihost's are not predictable
      throw new FlagError('via-branch=next is not supported');
  }
}

/**
 * Build the request; throws FlagError for what Kamailio refuses with an error (a bad flag, a
 * missing tag) — the caller logs it and returns -1.
 */
export function buildNgRequest(op: NgOp, flagsText: string, facts: MessageFacts, sdp: Buffer | null): NgRequest {
  const f = parseNgFlags(flagsText, op);
  const callId = f.callId ?? facts.callId;
  const fromTag = f.fromTag ?? facts.fromTag;
  const toTag = f.toTag ?? facts.toTag;
  if (callId === '') throw new FlagError("can't get Call-Id field");
  if (fromTag === '') throw new FlagError("can't get From tag");
  const d: NgDict = { supports: ['load limit'] };
  if (sdp !== null && (op === 'offer' || op === 'answer')) d.sdp = sdp;
  Object.assign(d, f.dict);
  if (f.direction.length > 0) d.direction = f.direction;
  if (f.flags.length > 0) d.flags = f.flags;
  if (f.replace.length > 0) d.replace = f.replace;
  const codec = Object.fromEntries(Object.entries(f.codec).filter(([, v]) => v.length > 0));
  if (Object.keys(codec).length > 0) d.codec = codec;
  const tp = transportProtocol(f.transport);
  if (tp !== null) d['transport-protocol'] = tp;
  if (f.rtcpMux.length > 0) d['rtcp-mux'] = f.rtcpMux;
  if (f.sdes.length > 0) d.SDES = f.sdes;
  if (f.t38.length > 0) d['T.38'] = f.t38;
  d['call-id'] = callId;
  const viaBranch = viaBranchOf(f.via, facts);
  if (viaBranch !== '') d['via-branch'] = viaBranch;
  d['received-from'] = [facts.srcIp.includes(':') ? 'IP6' : 'IP4', facts.srcIp];
  const sent = f.op;
  if (PARTICIPANT_OPS.has(sent)) {
    if (f.directional) d['from-tag'] = fromTag;
  } else if ((facts.isRequest && sent !== 'answer') || (!facts.isRequest && (sent === 'delete' || sent === 'answer')) || f.directional) {
    d['from-tag'] = fromTag;
    if (f.to && toTag !== '') d['to-tag'] = toTag;
  } else {
    // an answer in a request (ACK, PRACK) or an offer in a reply: the other side speaks
    if (toTag === '') throw new FlagError('No to-tag present');
    d['from-tag'] = toTag;
    d['to-tag'] = fromTag;
  }
  d.command = NG_COMMANDS[sent];
  return { dict: d, callId, viaBranch, op: sent };
}
