/**
 * Writing a received message out again with the changes a script asked for (Kamailio applies
 * "lumps"): used for stateless forwarding of requests and relaying of replies.
 */
import type { HeaderEdits } from '../kemi/context.js';
import type { SipMessage } from './message.js';
import { splitElements } from './split.js';

export interface RebuildOptions {
  readonly startLine: string;
  /** header lines (with CRLF) to put first, e.g. our own Via */
  readonly prepend: string;
  /** replace the first Via element with this; '' removes it (a relayed reply) */
  readonly topVia: string | null;
  readonly edits: HeaderEdits | null;
}

export function rebuildMessage(msg: SipMessage, opts: RebuildOptions): Buffer {
  const edits = opts.edits;
  let head = `${opts.startLine}\r\n${opts.prepend}`;
  if (edits !== null) for (const line of edits.insert) head += line;
  let firstVia = true;
  let sawMaxForwards = false;
  for (const h of msg.headers) {
    const name = h.name;
    if (edits?.remove.has(name) === true) continue;
    if (name === 'via' && firstVia) {
      firstVia = false;
      if (opts.topVia !== null) {
        const rest = splitElements(h.value).slice(1);
        if (opts.topVia !== '') rest.unshift(opts.topVia);
        if (rest.length > 0) head += `Via: ${rest.join(', ')}\r\n`;
        continue;
      }
    } else if (name === 'max-forwards') {
      sawMaxForwards = true;
      if (edits !== null && edits.maxForwards !== null) {
        head += `Max-Forwards: ${String(edits.maxForwards)}\r\n`;
        continue;
      }
    } else if (name === 'content-length') {
      continue; // written below from the body actually sent
    }
    head += `${h.rawName}: ${h.value}\r\n`;
  }
  if (edits !== null) {
    if (!sawMaxForwards && edits.maxForwards !== null) head += `Max-Forwards: ${String(edits.maxForwards)}\r\n`;
    for (const line of edits.append) head += line;
  }
  const body = msg.body;
  head += `Content-Length: ${String(body.length)}\r\n\r\n`;
  // the header section goes out in the encoding it came in, so latin1 bytes are relayed as they were
  const headBuf = Buffer.from(head, msg.headerEncoding);
  return body.length === 0 ? headBuf : Buffer.concat([headBuf, body]);
}
