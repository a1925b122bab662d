import { deferrable, defineModule, fn } from '../host/kemi/types.js';
import type { Context } from '../host/kemi/context.js';
import type { MessageOwner } from '../host/kemi/owner.js';

/** The owner to answer this request with this code, or null: not a SIP request, or no status code. */
function replier(ctx: Context, code: number): MessageOwner | null {
  if (code < 100 || code > 699) return null;
  const owner = ctx.owner;
  if (owner?.kind !== 'sip' || ctx.msg === null || !ctx.msg.isRequest) return null;
  return owner;
}

/** Send a stateless reply; -1 when the message is not a request or sending failed. */
function reply(ctx: Context, code: number, reason: string): number {
  return replier(ctx, code)?.sendReply(ctx, code, reason) === true ? 1 : -1;
}

/**
 * What reply() will return, without sending (KemiFunctionDef.predict): it depends only on the
 * code and on the request and its way back, which stay as they are while a callback runs.
 */
function predictReply(ctx: Context, code: number): number {
  return replier(ctx, code)?.canReply(ctx) === true ? 1 : -1;
}

/** KSR.sl: stateless replies (Kamailio's sl module). */
export default defineModule({
  name: 'sl',
  doc: 'Stateless replies.',
  stats: ['sent_replies', 'failures'],
  init: (host) => ({ sent: host.stat('sent_replies'), failures: host.stat('failures') }),
  functions: {
    sl_send_reply: deferrable(fn(['int', 'str'], 'int', (s: SlState, ctx, code, reason) => count(s, reply(ctx, code, reason)),
      'Send a stateless reply with this code and reason; 1 sent, -1 failed.'),
    (_s, ctx, args) => predictReply(ctx, Number(args[0]))),
    send_reply: fn(['int', 'str'], 'int', (s: SlState, ctx, code, reason) => count(s, sendReply(ctx, code, reason)),
      'Send a reply with this code and reason: statefully (t_reply) when the request has a transaction, else statelessly; 1 sent, -1 failed.'),
    sl_reply_error: deferrable(fn([], 'int', (s: SlState, ctx) => count(s, reply(ctx, 500, 'Server Internal Error')),
      'Reply 500 Server Internal Error; 1 sent, -1 failed.'),
    (_s, ctx) => predictReply(ctx, 500)),
    get_reply_totag: fn([], 'xval', (_s, ctx) => (ctx.owner === null || ctx.msg === null ? null : ctx.owner.toTag(ctx)),
      'The To-tag this server puts in its replies to the current request.'),
  },
});

/** Kamailio's sl send_reply: through the transaction when the request has one, so it is re-sent for retransmissions. */
function sendReply(ctx: Context, code: number, reason: string): number {
  return replier(ctx, code)?.reply(ctx, code, reason) === true ? 1 : -1;
}

interface SlState {
  readonly sent: { value: number };
  readonly failures: { value: number };
}

function count(s: SlState, rc: number): number {
  if (rc > 0) s.sent.value++;
  else s.failures.value++;
  return rc;
}
