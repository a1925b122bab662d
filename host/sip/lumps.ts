/**
 * Text edits on a received message by byte offset (Kamailio's del_lump + insert_new_lump):
 * textops' replace, subst, search_append and their body forms record them against the message
 * as received, and they are applied when the message is written out (host/sip/rebuild.ts) or
 * when the script calls msg_apply_changes. As in Kamailio, searches in the meantime see the
 * message as received. Where two edits overlap, the later one is left out (Kamailio would
 * write both and corrupt the message).
 */
import { parseSipMessage, type SipMessage } from './message.js';
import type { Lump } from './types.js';

export type { Lump };

/** Add edits to a list, leaving out those that overlap one already there. false when one was left out. */
export function addLumps(list: Lump[], add: readonly Lump[]): boolean {
  let all = true;
  for (const l of add) {
    if (list.some((o) => o.start === l.start && o.end === l.end && o.text === l.text)) continue; // asked twice: once is enough
    const clash = list.some((o) => (l.start < o.end && o.start < l.end) || (l.start === l.end && l.start > o.start && l.start < o.end));
    if (clash) all = false;
    else list.push(l);
  }
  return all;
}

/** The bytes raw[from, to) with the edits inside that range made. */
export function applyLumps(raw: Buffer, lumps: readonly Lump[], from: number, to: number): Buffer {
  const inside = lumps.filter((l) => l.start >= from && l.end <= to).sort((a, b) => a.start - b.start || a.end - b.end);
  if (inside.length === 0) return raw.subarray(from, to);
  const parts: Buffer[] = [];
  let at = from;
  for (const l of inside) {
    parts.push(raw.subarray(at, l.start), Buffer.from(l.text, 'latin1'));
    at = Math.max(at, l.end);
  }
  parts.push(raw.subarray(at, to));
  return Buffer.concat(parts);
}

/** Edits that fall in the body (offsets at or after the header section). */
export function bodyLumps(msg: SipMessage, lumps: readonly Lump[]): Lump[] {
  return lumps.filter((l) => l.start >= msg.headerBytes);
}

/** The body as it will be sent with the edits made in it. */
export function editedBody(msg: SipMessage, lumps: readonly Lump[]): Buffer {
  return applyLumps(msg.raw, lumps, msg.headerBytes, msg.headerBytes + msg.body.length);
}

/**
 * The message with every edit made, parsed again; null when the edits broke it (the caller
 * then keeps the message as received). Content-Length is rewritten for the edited body.
 */
export function messageWithLumps(msg: SipMessage, lumps: readonly Lump[], body?: Buffer): SipMessage | null {
  if (lumps.length === 0 && body === undefined) return msg;
  // an insertion right at the end of the header section (the body's first byte) is the body's
  const head = applyLumps(msg.raw, lumps.filter((l) => l.start < msg.headerBytes), 0, msg.headerBytes).toString('latin1');
  // a blank line inside would end the header section early: the rest would turn into body
  const blank = /\r?\n\r?\n/.exec(head);
  if (blank === null || blank.index + blank[0].length !== head.length) return null;
  const newBody = body ?? editedBody(msg, lumps);
  const len = String(newBody.length);
  let fixed = head.replace(/^(content-length|l)([ \t]*:[ \t]*)\d+/im, (_m, n: string, sep: string) => `${n}${sep}${len}`);
  if (fixed === head && !/^(content-length|l)[ \t]*:/im.test(head)) fixed = `${head.slice(0, -2)}Content-Length: ${len}\r\n\r\n`;
  try {
    return parseSipMessage(Buffer.concat([Buffer.from(fixed, 'latin1'), newBody]));
  } catch {
    return null;
  }
}
