/**
 * Writing a received message out again with the changes a script asked for (Kamailio applies
 * "lumps"): used for stateless forwarding of requests and relaying of replies.
 */
import type { HeaderEdits } from './types.js';
import type { SipMessage } from './message.js';
import { keptRouteValue } from './route-set.js';
import { splitElements } from './split.js';
import { addLumps, messageWithLumps } from './lumps.js';
import { headerSpans } from './header-spans.js';

export interface RebuildOptions {
  readonly startLine: string;
  /** header lines (with CRLF) to put before the first received header, after the script's: our Via */
  readonly prepend: string;
  /** our Record-Route lines, written where the script asked for them among its inserted lines */
  readonly recordRoute?: string;
  /** replace the first Via element with this; '' removes it (a relayed reply) */
  readonly topVia: string | null;
  readonly edits: HeaderEdits | null;
}

export function rebuildMessage(received: SipMessage, opts: RebuildOptions): Buffer {
  const edits = opts.edits;
  // textops' text edits first: the message they make is the one the other edits apply to; the
  // start line changes with them only while nothing else (a new R-URI) replaced it
  let msg = received;
  let startLine = opts.startLine;
  let removed = edits?.remove ?? null;
  let replacing = edits?.replace !== undefined && edits.replace.size > 0 ? edits.replace : null;
  if (edits?.lumps !== undefined && edits.lumps.length > 0) {
    // a removal of one received line (`#i`) must name that line, so it becomes a text edit too
    const lumps = [...edits.lumps];
    const spans = headerSpans(received);
    removed = new Set(edits.remove);
    for (const key of edits.remove) {
      const line = key.startsWith('#') ? spans[Number(key.slice(1))] : undefined;
      if (line === undefined) continue;
      addLumps(lumps, [{ start: line.start, end: line.next, text: '' }]);
      removed.delete(key);
    }
    // so must a received line written with another value (nathelper's Contact): indexes name
    // received lines, and the message the text edits make is parsed again
    for (const [i, value] of replacing ?? []) {
      const line = spans[i];
      if (line !== undefined) addLumps(lumps, [{ start: line.valueStart, end: line.end, text: Buffer.from(value, received.headerEncoding).toString('latin1') }]);
    }
    replacing = null;
    msg = messageWithLumps(received, lumps) ?? received;
    if (msg !== received && startLine === firstLine(received)) startLine = firstLine(msg);
  }
  let head = `${startLine}\r\n`;
  // As Kamailio places its lumps: a Max-Forwards that process_maxfwd adds, then the lines
  // hdr.insert() adds with the Record-Route among them in the order they were asked for, then
  // our own Via, all before the first header received.
  const addMaxForwards = edits !== null && edits.maxForwards !== null && (msg.getHeader('max-forwards') === undefined || edits.remove.has('max-forwards'));
  if (addMaxForwards) head += `Max-Forwards: ${String(edits.maxForwards)}\r\n`;
  const rr = opts.recordRoute ?? '';
  const rrAt = edits?.recordRoute?.at ?? 0;
  const inserted = edits?.insert ?? [];
  for (let i = 0; i < inserted.length; i++) {
    if (i === rrAt) head += rr;
    head += inserted[i] ?? '';
  }
  if (rrAt >= inserted.length) head += rr;
  head += opts.prepend;
  let firstVia = true;
  const dropRoutes = edits?.dropRoutes ?? null;
  const removing = removed !== null && removed.size > 0 ? removed : null;
  let route = 0;
  const headers = msg.headers;
  for (let i = 0; i < headers.length; i++) {
    const h = headers[i] as (typeof headers)[number];
    const name = h.name;
    if (removing !== null && (removing.has(name) || removing.has(`#${String(i)}`))) continue;
    if (name === 'route' && dropRoutes !== null) {
      // loose_route consumed some entries: the line keeps the others as written
      const kept = keptRouteValue(h.value, route, dropRoutes);
      route += kept.count;
      if (kept.text !== '') head += `${h.rawName}: ${kept.text}\r\n`;
      continue;
    }
    if (name === 'via' && firstVia) {
      firstVia = false;
      if (opts.topVia !== null) {
        const rest = splitElements(h.value).slice(1);
        if (opts.topVia !== '') rest.unshift(opts.topVia);
        if (rest.length > 0) head += `Via: ${rest.join(', ')}\r\n`;
        continue;
      }
    } else if (name === 'max-forwards') {
      if (edits !== null && edits.maxForwards !== null) {
        head += `Max-Forwards: ${String(edits.maxForwards)}\r\n`;
        continue;
      }
    } else if (name === 'content-length') {
      continue; // written below from the body actually sent
    }
    head += `${h.rawName}: ${replacing?.get(i) ?? h.value}\r\n`;
  }
  if (edits !== null) for (const line of edits.append) head += line;
  const body = edits?.body ?? msg.body;
  head += `Content-Length: ${String(body.length)}\r\n\r\n`;
  // the header section goes out in the encoding it came in, so latin1 bytes are relayed as they were
  const headBuf = Buffer.from(head, msg.headerEncoding);
  return body.length === 0 ? headBuf : Buffer.concat([headBuf, body]);
}

function firstLine(msg: SipMessage): string {
  return msg.isRequest ? `${msg.method} ${msg.ruri} SIP/2.0` : `SIP/2.0 ${String(msg.status)} ${msg.reason}`;
}
