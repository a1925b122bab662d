import { deferrable, defineModule, fn } from '../host/kemi/types.js';
import type { Context } from '../host/kemi/context.js';

/**
 * Header text from a script: Kamailio expects "Name: value\r\n". A missing CRLF would corrupt
 * the message we build, so it is added rather than trusted.
 */
function headerLine(text: string): string | null {
  if (text.length === 0 || !text.includes(':')) return null;
  // A blank line inside would end the header section early and corrupt the framing.
  if (text.includes('\r\n\r\n') || /(^|[^\r])\n/.test(text)) return null;
  return text.endsWith('\r\n') ? text : `${text.replace(/[\r\n]+$/, '')}\r\n`;
}

function canEdit(ctx: Context): boolean {
  return ctx.msg !== null;
}

function canRemove(ctx: Context, name: string): boolean {
  return ctx.msg !== null && name.length > 0 && ctx.msg.hasHeader(name);
}

/*
 * The header edits are deferrable (KemiFunctionDef.predict): their result depends only on the
 * text and on the received message, and only the message sent on (or the reply) shows them.
 */
function predictAdd(_s: unknown, ctx: Context, args: readonly unknown[]): number {
  return canEdit(ctx) && headerLine(String(args[0])) !== null ? 1 : -1;
}

/** KSR.hdr: header operations on the current message (Kamailio core + textops). */
export default defineModule({
  name: 'hdr',
  doc: 'Header operations on the current message.',
  functions: {
    append: deferrable(fn(['str'], 'int', (_s, ctx, text) => {
      const line = headerLine(text);
      if (line === null || !canEdit(ctx)) return -1;
      ctx.headerEdits.append.push(line);
      return 1;
    }, 'Add a header ("Name: value\\r\\n") after the last header of the message sent on; 1 ok, -1 failed.'), predictAdd),
    insert: deferrable(fn(['str'], 'int', (_s, ctx, text) => {
      const line = headerLine(text);
      if (line === null || !canEdit(ctx)) return -1;
      ctx.headerEdits.insert.push(line);
      return 1;
    }, 'Add a header before the first header of the message sent on; 1 ok, -1 failed.'), predictAdd),
    remove: deferrable(fn(['str'], 'int', (_s, ctx, name) => {
      if (!canRemove(ctx, name)) return -1;
      ctx.headerEdits.remove.add(name.toLowerCase());
      return 1;
    }, 'Remove every header with this name from the message sent on; 1 when one was there, -1 otherwise.'),
    (_s, ctx, args) => (canRemove(ctx, String(args[0])) ? 1 : -1)),
    is_present: fn(['str'], 'int', (_s, ctx, name) => (ctx.msg?.hasHeader(name) === true ? 1 : -1),
      'Positive when the received message has a header with this name, negative otherwise.', true),
    get: fn(['str'], 'xval', (_s, ctx, name) => ctx.msg?.getHeader(name) ?? null,
      'The value of the first header with this name in the received message, or null.', true),
    append_to_reply: deferrable(fn(['str'], 'int', (_s, ctx, text) => {
      const line = headerLine(text);
      if (line === null) return -1;
      ctx.replyHeaders.push(line);
      return 1;
    }, 'Add a header to the reply this server generates for the current request; 1 ok, -1 failed.'),
    (_s, _ctx, args) => (headerLine(String(args[0])) === null ? -1 : 1)),
  },
});
