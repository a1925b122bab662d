/**
 * Kamailio's force_rtp_proxy and unforce_rtp_proxy (rtpproxy.c) without the sockets: the
 * rtpproxy flags, the U (update, the offer) and L (lookup, the answer) command for each media
 * stream, and the SDP rewritten from the port and address each answer gives — m= port, a=rtcp
 * port + 1, the stream's or the session's c= address, the session's c= with flag c, the o=
 * address — plus the "already proxied" mark (nortpproxy_str) added at the end; D (delete).
 *
 * `send` sends one command to an instance of the set and returns the answer text, or null when
 * no instance is left (the caller fails over and disables instances that do not answer).
 */
import type { MessageFacts } from '../media-relay/message-facts.js';
import { applyEdits, isNullAddress, parseSdpMedia, type SdpAddress, type TextEdit } from './sdp-media.js';

/** What rtpproxy reads of the message (host/media-relay/message-facts.ts). */
export type RtppFacts = MessageFacts;

/** What an instance supports, from its answers to "VF 20071116" (re-packetizing) and "VF 20081102" (payload types). */
export interface RtppCaps {
  readonly repacketize: boolean;
  readonly payloadTypes: boolean;
}

/** Send a command built for the chosen instance; the answer, or null when no instance is usable. */
export type RtppSend = (build: (caps: RtppCaps) => string) => string | null;

export interface ForceInput {
  readonly flags: string;
  readonly offer: boolean;
  /** the address to write when the instance answers with a port only: our own address the message came in on, or the forced one */
  readonly ip: string;
  /** the _ip variants: `ip` replaces rtpproxy's address in the SDP */
  readonly forcedIp: boolean;
  readonly facts: RtppFacts;
  /** the SDP (latin1 text), trailing line ends included */
  readonly sdp: string;
  /** nortpproxy_str, '' for none */
  readonly mark: string;
}

/** The rewritten SDP, or Kamailio's code (-1 error, -2 already proxied, -3 no instance) with why. */
export type ForceResult = { readonly sdp: string } | { readonly code: -1 | -2 | -3; readonly why: string };

interface Parsed {
  opts: string;
  rep: string;
  via: 0 | 1 | 2;
  extra: boolean;
  lookup: boolean;
  force: boolean;
  real: boolean;
  commonIp: boolean;
  bridge: boolean;
}

function parseFlags(flags: string, offer: boolean, isReply: boolean): Parsed | string {
  const p: Parsed = { opts: '', rep: '', via: 0, extra: false, lookup: false, force: false, real: false, commonIp: false, bridge: false };
  for (let i = 0; i < flags.length; i++) {
    const ch = flags[i] as string;
    switch (ch.toLowerCase()) {
      case '1': p.via = 1; break;
      case '2': p.via = 2; break;
      case '3': p.via = isReply ? 2 : 1; break;
      case 'a': p.opts += 'A'; p.real = true; break;
      case 'b': p.extra = true; break;
      case 'i': p.opts += 'I'; break;
      case 'e': p.opts += 'E'; break;
      case 'l':
        if (!offer) return 'flag l is for an offer only';
        p.lookup = true;
        break;
      case 'f': p.force = true; break;
      case 'r': p.real = true; break;
      case 'c': p.commonIp = true; break;
      case 'o': break; // o= is always rewritten in Kamailio 5.6
      case 'x': p.bridge = true; break;
      case 'w': p.opts += 'S'; break;
      case 'z':
        p.rep += 'Z';
        while (i + 1 < flags.length && /\d/.test(flags[i + 1] as string)) p.rep += flags[++i] as string;
        break;
      case 't': break; // rtpproxy_destroy's
      default:
        return `unknown option '${ch}'`;
    }
  }
  return p;
}

/** ";<via branch>" or ";<extra id>" after the Call-ID, '' for none; null when the branch asked for is missing */
function callIdSuffix(via: 0 | 1 | 2, extra: boolean, facts: RtppFacts): string | null {
  if (via !== 0) {
    const b = facts.viaBranch(via);
    return b === '' ? null : `;${b}`;
  }
  if (!extra) return '';
  const id = facts.extraId();
  return id === null || id === '' ? '' : `;${id}`;
}

/** the SDP with trailing CR/LF cut (Kamailio's extract_body): the mark goes right after the content */
function contentEnd(sdp: string): number {
  let end = sdp.length;
  while (end > 0 && (sdp[end - 1] === '\r' || sdp[end - 1] === '\n')) end--;
  return end;
}

function markedAlready(sdp: string, mark: string): boolean {
  if (mark === '') return false;
  for (let at = sdp.indexOf(mark); at >= 0; at = sdp.indexOf(mark, at + mark.length)) {
    if (at === 0 || sdp[at - 1] === '\n' || sdp[at - 1] === '\r') return true;
  }
  return false;
}

/** Kamailio's alter_mediaip: nothing for a null address of the same family or the same address. */
function ipEdit(old: SdpAddress, ip: string, family: 4 | 6): TextEdit | null {
  if (old.family === family && isNullAddress(old)) return null;
  if (ip === old.text) return null;
  if (old.family === family) return { start: old.addr.start, end: old.addr.end, text: ip };
  return { start: old.familyAt, end: old.addr.end, text: `${String(family)} ${ip}` };
}

export function forceRtpProxy(input: ForceInput, send: RtppSend): ForceResult {
  const { facts, sdp } = input;
  const p = parseFlags(input.flags, input.offer, !facts.isRequest);
  if (typeof p === 'string') return { code: -1, why: p };
  let create = input.offer;
  const suffix = callIdSuffix(p.via, p.extra, facts);
  if (suffix === null) return { code: -1, why: "can't get Via branch" };
  let from = facts.fromTag;
  let to = facts.toTag;
  if (from === '') return { code: -1, why: "can't get From tag" };
  if (p.lookup) {
    if (to === '') return { code: -1, why: 'flag l needs a To tag' };
    if (facts.isRequest) [from, to] = [to, from];
    create = false;
  } else if (facts.isRequest !== input.offer) {
    // an offer in a reply or an answer in a request: the other side speaks
    if (to === '') return { code: -1, why: 'no To tag' };
    [from, to] = [to, from];
  }
  const proxied = markedAlready(sdp, input.mark);
  if (proxied && !p.force) return { code: -2, why: 'already proxied (nortpproxy_str found)' };
  const sessions = parseSdpMedia(sdp);
  if (sessions.every((s) => s.streams.length === 0)) return { code: -1, why: 'sdp w/o streams' };
  let opts = (create ? 'U' : 'L') + p.opts;
  let bridge = p.bridge;
  const edits: TextEdit[] = [];
  let medianum = 0;
  for (const session of sessions) {
    let sessionCAltered = false;
    let originPending = session.o !== null;
    for (const stream of session.streams) {
      const old = stream.c ?? session.c;
      if (old === null) return { code: -1, why: 'a media stream without a connection address' };
      medianum++;
      let newIp = p.real ? old.text : facts.srcIp;
      let newFamily: 4 | 6 = p.real ? old.family : facts.srcIp.includes(':') ? 6 : 4;
      if (old.family === 6) {
        if (bridge) opts += 'EI';
        opts += '6';
      } else if (bridge) {
        opts += 'IE';
      }
      bridge = false;
      const n = String(medianum);
      const answer = send((caps) => {
        const rep = p.rep !== '' && caps.repacketize ? p.rep : '';
        const digits = stream.payloads.split(/[^0-9]+/).filter((x) => x !== '');
        const pt = /RTP/i.test(stream.transport) && digits.length > 0 && caps.payloadTypes ? `c${digits.join(',')}` : '';
        const tail = to !== '' ? ` ${to};${n}` : '';
        return `${opts}${rep}${pt} ${facts.callId}${suffix} ${newIp} ${stream.portText} ${from};${n}${tail}`;
      });
      if (answer === null) return { code: -3, why: 'no available proxies' };
      const argv = answer.split(/\s+/).filter((x) => x !== '');
      if (argv.length < 1) return { code: -1, why: 'no reply from rtp proxy' };
      const port = Number.parseInt(argv[0] as string, 10);
      if (!(port > 0 && port <= 65535)) return { code: -1, why: `incorrect port in reply from rtp proxy: "${answer.trim()}"` };
      if (argv.length === 2) newFamily = 4;
      else if (argv.length >= 3) newFamily = (argv[2] as string).startsWith('6') ? 6 : 4;
      if (isNullAddress(old)) newIp = newFamily === 6 ? '::' : '0.0.0.0';
      else newIp = input.forcedIp || argv.length < 2 ? input.ip : (argv[1] as string);
      if (stream.portText !== '0' && stream.portText !== String(port)) edits.push({ ...stream.port, text: String(port) });
      if (stream.rtcpPort !== null && sdp.slice(stream.rtcpPort.start, stream.rtcpPort.end) !== String(port + 1)) {
        edits.push({ ...stream.rtcpPort, text: String(port + 1) });
      }
      if (stream.c !== null || !sessionCAltered) {
        const e = ipEdit(old, newIp, newFamily);
        if (e !== null) edits.push(e);
        if (stream.c === null) sessionCAltered = true;
      }
      if (p.commonIp && session.c !== null && !sessionCAltered) {
        const e = ipEdit(session.c, newIp, newFamily);
        if (e !== null) edits.push(e);
        sessionCAltered = true;
      }
      if (originPending && session.o !== null) {
        const e = ipEdit(session.o, newIp, newFamily);
        if (e !== null) edits.push(e);
        originPending = false;
      }
    }
  }
  if (!proxied && input.mark !== '') {
    const end = contentEnd(sdp);
    edits.push({ start: end, end, text: `\r\n${input.mark}` });
  }
  return { sdp: applyEdits(sdp, edits) };
}

/** rtpproxy_destroy's D command, or why it cannot be built. */
export function deleteCommand(flags: string, facts: RtppFacts): string | { readonly why: string } {
  let via: 0 | 1 | 2 = 0;
  let to = true;
  let extra = false;
  for (const ch of flags) {
    if (ch === '1') via = 1;
    else if (ch === '2') via = 2;
    else if (ch === '3') via = facts.isRequest ? 1 : 2;
    else if (ch === 't' || ch === 'T') to = false;
    else if (ch === 'b') extra = true;
    else if (!'aAiIeElLfFrRcCoOxXwWzZ'.includes(ch)) return { why: `unknown option '${ch}'` };
  }
  if (facts.fromTag === '') return { why: "can't get From tag" };
  const suffix = callIdSuffix(via, extra, facts);
  if (suffix === null) return { why: "can't get Via branch" };
  const toTag = to ? facts.toTag : '';
  return `D ${facts.callId}${suffix} ${facts.fromTag}${toTag === '' ? '' : ` ${toTag}`}`;
}
