import { z } from 'zod';
import type { Context } from '../host/kemi/context.js';
import { defineModule, fn, type ModuleHost } from '../host/kemi/types.js';

const params = z
  .object({
    max_limit: z
      .number()
      .int()
      .min(0)
      .max(255)
      .default(70)
      .describe(
        'Upper bound for a Max-Forwards value this server forwards: a received value above it is lowered to max_limit + 1 before the decrement, so max_limit goes out.',
      ),
  })
  .strict();

interface MaxfwdState {
  readonly maxLimit: number;
  readonly host: ModuleHost;
}

/**
 * The Max-Forwards value in force for this request: the one already written by an earlier
 * process_maxfwd (Kamailio keeps the decremented value on the message), else the received one.
 * -1 when the request has no Max-Forwards header, -2 when its value is not a number.
 */
function current(ctx: Context): number {
  const msg = ctx.msg;
  if (msg === null) return -2;
  const text = msg.getHeader('max-forwards');
  if (text === undefined) return -1;
  const edited = ctx.hasHeaderEdits ? ctx.headerEdits.maxForwards : null;
  if (edited !== null) return edited;
  const v = text.trim();
  // Kamailio's str2s: up to five digits; an empty value reads as 0.
  if (!/^[0-9]{0,5}$/.test(v)) return -2;
  return v === '' ? 0 : parseInt(v, 10);
}

function validLimit(s: MaxfwdState, limit: number): boolean {
  if (limit >= 0 && limit <= 255) return true;
  s.host.complain('invalid Max-Forwards limit (0..255)', { limit });
  return false;
}

/** Kamailio's process_maxfwd_header, with the result written through headerEdits.maxForwards. */
function processMaxfwd(s: MaxfwdState, ctx: Context, limit: number): number {
  if (!validLimit(s, limit)) return -1;
  const msg = ctx.msg;
  if (msg === null || !msg.isRequest) return -2;
  const val = current(ctx);
  switch (val) {
    case -1:
      // No header: the forwarded request gets one with the script's limit.
      ctx.headerEdits.maxForwards = limit;
      return 2;
    case -2:
      s.host.complain('cannot parse the Max-Forwards value', {}, 'warn');
      return -2;
    case 0:
      return -1;
    default:
      ctx.headerEdits.maxForwards = (val > s.maxLimit ? s.maxLimit + 1 : val) - 1;
      return 1;
  }
}

/** Kamailio's is_maxfwd_lt: compares the value in force with the limit. */
function isMaxfwdLt(s: MaxfwdState, ctx: Context, limit: number): number {
  if (!validLimit(s, limit)) return -1;
  const val = current(ctx);
  if (val < 0) return val - 1;
  return val >= limit ? -1 : 1;
}

/** KSR.maxfwd: the Max-Forwards header (Kamailio's maxfwd module). */
export default defineModule({
  name: 'maxfwd',
  doc: 'Max-Forwards handling (Kamailio maxfwd): add, decrement and test the header of a request to forward.',
  params,
  init: (host, p): MaxfwdState => ({ maxLimit: p.max_limit, host }),
  functions: {
    process_maxfwd: fn(['int'], 'int', (s: MaxfwdState, ctx, limit) => processMaxfwd(s, ctx, limit),
      'Decrement Max-Forwards for the forwarded request (capped by max_limit), or add it with this limit (0..255) when absent; 1 decremented, 2 added, -1 when it is 0 (reply 483) or the limit is invalid, -2 on a bad value.'),
    is_maxfwd_lt: fn(['int'], 'int', (s: MaxfwdState, ctx, limit) => isMaxfwdLt(s, ctx, limit),
      'Positive when the Max-Forwards value in force is below this limit (0..255); -1 when not (or an invalid limit), -2 when there is no header, -3 on a bad value.'),
  },
});
