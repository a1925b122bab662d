/**
 * The edits textops, textopsx and sdpops make on the current message, through the Context's
 * HeaderEdits (the lumps of host/sip/lumps.ts, the header removals and additions, the body).
 * What the script reads stays the message as received until msg_apply_changes, as in Kamailio.
 */
import type { Context } from '../kemi/context.js';
import { addLumps, bodyLumps, editedBody, messageWithLumps } from '../sip/lumps.js';
import { parseSipMessage, type SipMessage } from '../sip/message.js';
import { applyReplacements, type Replacement } from './subst.js';
import { rebuildMessage } from '../sip/rebuild.js';
import type { Lump } from '../sip/types.js';

/** Text edits one message may carry (a replace_all counts one per match). */
export const MAX_EDITS = 1024;

export type EditResult = 'ok' | 'overlap' | 'broken' | 'limit';

/**
 * Record text edits. 'overlap': one overlapped an earlier edit and was left out; 'broken': with
 * them the message would no longer parse (a mandatory header removed, a blank line inserted),
 * so none was recorded — Kamailio would send the broken message.
 */
export function addEdits(ctx: Context, lumps: readonly Lump[]): EditResult {
  const e = ctx.headerEdits;
  const msg = ctx.msg;
  // each edit is checked against the others and the message parsed again: a script looping over
  // edits must not make that quadratic without bound
  if ((e.lumps?.length ?? 0) + lumps.length > MAX_EDITS) return 'limit';
  const list = [...(e.lumps ?? [])];
  const all = addLumps(list, lumps);
  if (msg !== null && lumps.some((l) => l.start < msg.headerBytes) && messageWithLumps(msg, list) === null) return 'broken';
  e.lumps = list;
  return all ? 'ok' : 'overlap';
}

/**
 * The body a body function searches, as a byte string: the received one, or the one that
 * replaced it as a whole (set_body, sdpops, rtpengine), since offsets into the received body
 * mean nothing then. `offset` is where it starts in msg.raw, null for a replaced body.
 */
export function searchedBody(ctx: Context): { readonly text: string; readonly offset: number | null } {
  const msg = ctx.msg;
  if (msg === null) return { text: '', offset: null };
  const replaced = ctx.hasHeaderEdits ? ctx.headerEdits.body : null;
  if (replaced !== null) return { text: replaced.toString('latin1'), offset: null };
  return { text: msg.body.toString('latin1'), offset: msg.headerBytes };
}

/** Make replacements found in searchedBody(ctx). */
export function editBody(ctx: Context, reps: readonly Replacement[]): EditResult {
  const b = searchedBody(ctx);
  if (b.offset === null) {
    ctx.headerEdits.body = Buffer.from(applyReplacements(b.text, reps), 'latin1');
    return 'ok';
  }
  const at = b.offset;
  return addEdits(ctx, reps.map((r) => ({ start: r.start + at, end: r.end + at, text: r.text })));
}

/** The body as it will be sent: replaced as a whole, else the received one with its edits. */
export function pendingBody(ctx: Context): Buffer {
  const msg = ctx.msg;
  if (msg === null) return Buffer.alloc(0);
  if (!ctx.hasHeaderEdits) return msg.body;
  const e = ctx.headerEdits;
  if (e.body !== null) return e.body;
  return e.lumps === undefined ? msg.body : editedBody(msg, e.lumps);
}

/** Replace the body to send; the edits made in the received body are part of `body` already or dropped with it. */
export function replaceBody(ctx: Context, body: Buffer): void {
  const e = ctx.headerEdits;
  e.body = body;
  const msg = ctx.msg;
  if (e.lumps !== undefined && msg !== null) {
    const inBody = new Set(bodyLumps(msg, e.lumps));
    e.lumps = e.lumps.filter((l) => !inBody.has(l));
  }
}

/** Set Content-Type for the message sent (one line, replacing the received ones); '' removes it. */
export function setContentType(ctx: Context, ctype: string): void {
  const e = ctx.headerEdits;
  e.remove.add('content-type');
  const line = /^Content-Type:/i;
  for (let i = e.append.length - 1; i >= 0; i--) if (line.test(e.append[i] ?? '')) e.append.splice(i, 1);
  if (ctype !== '') e.append.push(`Content-Type: ${ctype}\r\n`);
}

/**
 * msg_apply_changes: the request as it would be sent now (text edits, header removals and
 * additions, body) becomes the message the script reads. What is written only when the message
 * leaves (our Via, Record-Route, Max-Forwards, the Route entries loose_route consumed, the new
 * R-URI) stays pending. null when the result does not parse (the message is left as it was).
 */
export function applyChanges(ctx: Context): SipMessage | null {
  const msg = ctx.msg;
  if (msg === null) return null;
  if (!ctx.hasHeaderEdits) return msg;
  const e = ctx.headerEdits;
  const startLine = msg.isRequest ? `${msg.method} ${msg.ruri} SIP/2.0` : `SIP/2.0 ${String(msg.status)} ${msg.reason}`;
  const built = rebuildMessage(msg, {
    startLine,
    prepend: '',
    topVia: null,
    edits: { insert: e.insert, append: e.append, remove: e.remove, maxForwards: null, recordRoute: null, dropRoutes: null, body: e.body, ...(e.lumps === undefined ? {} : { lumps: e.lumps }) },
  });
  let next: SipMessage;
  try {
    next = parseSipMessage(built);
  } catch {
    return null;
  }
  ctx.msg = next;
  e.insert.length = 0;
  e.append.length = 0;
  e.remove.clear();
  e.body = null;
  delete e.lumps;
  return next;
}
