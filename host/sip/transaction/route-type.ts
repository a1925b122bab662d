/**
 * Which kind of route a callback runs as (Kamailio's route_type): what tmx's t_is_*_route
 * answer and what rr looks at (a Record-Route asked for in a branch route is that branch's).
 */
import type { Context } from '../../kemi/context.js';
import type { TmRouteKind } from './server-transaction.js';
import { transactionOf } from './sip-owner.js';

export type RouteType = 'request' | 'reply' | 'event' | TmRouteKind;

export function routeTypeOf(ctx: Context): RouteType {
  if (ctx.kind !== 'sip') return 'event';
  const kind = transactionOf(ctx)?.routeKind ?? null;
  if (kind !== null) return kind;
  // ksr_reply_route: a reply with no transaction of ours running a tm route on it
  return ctx.msg !== null && !ctx.msg.isRequest ? 'reply' : 'request';
}
