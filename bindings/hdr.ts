import { deferrable, defineModule, fn, type Xval } from '../host/kemi/types.js';
import type { Context } from '../host/kemi/context.js';
import { headerLine } from './header-line.js';
import { positionFunctions } from './hdr-position.js';


function canEdit(ctx: Context): boolean {
  return ctx.msg !== null;
}

/** Kamailio's bound on a header name given to hdr.remove (SR_KEMI_HNAME_SIZE less the room for ':'). */
const MAX_REMOVE_NAME = 124;

/** Whether hdr.remove can act: a message and a name Kamailio accepts (none there is still 1, as Kamailio). */
function canRemove(ctx: Context, name: string): boolean {
  return ctx.msg !== null && name.length > 0 && name.length <= MAX_REMOVE_NAME && !/[\s:]/.test(name);
}

function append(ctx: Context, text: string): number {
  const line = headerLine(text);
  if (line === null || !canEdit(ctx)) return -1;
  ctx.headerEdits.append.push(line);
  return 1;
}

/*
 * The header edits are deferrable (KemiFunctionDef.predict): their result depends only on the
 * text and on the received message, and only the message sent on (or the reply) shows them.
 */
function predictAdd(_s: unknown, ctx: Context, args: readonly unknown[]): number {
  return canEdit(ctx) && headerLine(String(args[0])) !== null ? 1 : -1;
}

type NullMode = 'null' | 'empty' | 'print';

/** What Kamailio's hdr getters give for a missing header: null, "" (gete) or "<null>" (getw). */
function nullOf(mode: NullMode): Xval {
  return mode === 'null' ? null : mode === 'empty' ? '' : '<null>';
}

/** The idx-th header with this name (0 the first, negative from the last), as sr_kemi_hdr_get_mode. */
function getIdx(ctx: Context, name: string, idx: number, mode: NullMode): Xval {
  const values = ctx.msg?.getHeaders(name) ?? [];
  const v = values[idx < 0 ? values.length + idx : idx];
  return v ?? nullOf(mode);
}

/** rmappend / rminsert: remove the headers with this name, then add the text (Kamailio: 1 even when none was there). */
function replaceHeader(ctx: Context, name: string, text: string, where: 'append' | 'insert'): number {
  const line = headerLine(text);
  if (line === null || !canEdit(ctx) || name.length === 0) return -1;
  if (ctx.msg?.hasHeader(name) === true) ctx.headerEdits.remove.add(name.toLowerCase());
  ctx.headerEdits[where].push(line);
  return 1;
}

function getter(params: readonly ['str'] | readonly ['str', 'int'], mode: NullMode, doc: string) {
  return params.length === 1
    ? fn(['str'], 'xval', (_s, ctx, name) => getIdx(ctx, name, 0, mode), doc, true)
    : fn(['str', 'int'], 'xval', (_s, ctx, name, idx) => getIdx(ctx, name, idx, mode), doc, true);
}

/** KSR.hdr: header operations on the current message (Kamailio core + textops). */
export default defineModule({
  name: 'hdr',
  doc: 'Header operations on the current message.',
  functions: {
    ...positionFunctions,
    append: deferrable(fn(['str'], 'int', (_s, ctx, text) => append(ctx, text), 'Add a header ("Name: value\\r\\n") after the last header of the message sent on; 1 ok, -1 failed.'), predictAdd),
    // not in Kamailio 5.6's KEMI, but its own kamailio-basic-kemi-jsdt.js example calls it
    append_hf: deferrable(fn(['str'], 'int', (_s, ctx, text) => append(ctx, text), 'KSR.hdr.append under textops\' name (kemihost only: Kamailio 5.6 has no KSR.hdr.append_hf, though its JS example calls it).'), predictAdd),
    insert: deferrable(fn(['str'], 'int', (_s, ctx, text) => {
      const line = headerLine(text);
      if (line === null || !canEdit(ctx)) return -1;
      ctx.headerEdits.insert.push(line);
      return 1;
    }, 'Add a header before the first header of the message sent on; 1 ok, -1 failed.'), predictAdd),
    remove: deferrable(fn(['str'], 'int', (_s, ctx, name) => {
      if (!canRemove(ctx, name)) return -1;
      if (ctx.msg?.hasHeader(name) === true) ctx.headerEdits.remove.add(name.toLowerCase());
      return 1;
    }, 'Remove every header with this name from the message sent on; 1 (also when none was there, as Kamailio 5.6), -1 for no message or a bad name.'),
    (_s, ctx, args) => (canRemove(ctx, String(args[0])) ? 1 : -1)),
    is_present: fn(['str'], 'int', (_s, ctx, name) => (ctx.msg?.hasHeader(name) === true ? 1 : -1),
      'Positive when the received message has a header with this name, negative otherwise.', true),
    get: fn(['str'], 'xval', (_s, ctx, name) => ctx.msg?.getHeader(name) ?? null,
      'The value of the first header with this name in the received message, or null.', true),
    gete: getter(['str'], 'empty', 'As get, but "" when there is no such header.'),
    getw: getter(['str'], 'print', 'As get, but "<null>" when there is no such header.'),
    get_idx: getter(['str', 'int'], 'null', 'The value of the idx-th header with this name (0 the first, -1 the last), or null.'),
    gete_idx: getter(['str', 'int'], 'empty', 'As get_idx, but "" when there is no such header.'),
    getw_idx: getter(['str', 'int'], 'print', 'As get_idx, but "<null>" when there is no such header.'),
    rmappend: deferrable(fn(['str', 'str'], 'int', (_s, ctx, name, text) => replaceHeader(ctx, name, text, 'append'),
      'Remove the headers with this name (if any), then append the text as a header; 1 ok, -1 for bad text.'),
    (_s, ctx, args) => (canEdit(ctx) && String(args[0]).length > 0 && headerLine(String(args[1])) !== null ? 1 : -1)),
    rminsert: deferrable(fn(['str', 'str'], 'int', (_s, ctx, name, text) => replaceHeader(ctx, name, text, 'insert'),
      'Remove the headers with this name (if any), then insert the text as the first header; 1 ok, -1 for bad text.'),
    (_s, ctx, args) => (canEdit(ctx) && String(args[0]).length > 0 && headerLine(String(args[1])) !== null ? 1 : -1)),
    append_to_reply: deferrable(fn(['str'], 'int', (_s, ctx, text) => {
      const line = headerLine(text);
      if (line === null) return -1;
      ctx.replyHeaders.push(line);
      return 1;
    }, 'Add a header to the reply this server generates for the current request; 1 ok, -1 failed.'),
    (_s, _ctx, args) => (headerLine(String(args[0])) === null ? -1 : 1)),
  },
});
