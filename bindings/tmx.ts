/**
 * KSR.tmx and the transaction pseudo-variables (Kamailio's tmx module): $T_reply_code,
 * $T_reply_reason, $T_branch_idx, $T(name).
 */
import type { Context } from '../host/kemi/context.js';
import { defineModule, fn, type Xval } from '../host/kemi/types.js';
import { fnv1a } from '../host/sip/hash.js';
import { routeTypeOf, type RouteType } from '../host/sip/transaction/route-type.js';
import { layerOf, transactionOf } from '../host/sip/transaction/transaction-layer.js';

/**
 * t_precheck_trans: 1 when another transaction already holds this request (Kamailio uses it to
 * catch a retransmission processed in parallel by another worker; with one event loop only a
 * held request can be found this way, and retransmissions are absorbed before the script).
 */
function precheck(ctx: Context): number {
  const msg = ctx.msg;
  const layer = layerOf(ctx);
  if (layer === null || msg === null || !msg.isRequest || msg.method === 'ACK' || msg.method === 'CANCEL') return -1;
  const t = layer.lookup(msg);
  return t !== null && t !== transactionOf(ctx) ? 1 : -1;
}

function tAttr(ctx: Context, name: string): Xval {
  const t = transactionOf(ctx);
  if (t === null) return null;
  switch (name) {
    case 'id_index':
      // Kamailio's hash-table index: 16 bits of the transaction key's hash
      return fnv1a(t.key) & 0xffff;
    case 'id_label':
      return t.label;
    case 'reply_code':
      return t.replyCode;
    case 'reply_reason':
      return t.replyReason;
    case 'branch_index':
      return t.branchIdx;
    default:
      return null;
  }
}

function routeIs(ctx: Context, ...types: RouteType[]): number {
  return types.includes(routeTypeOf(ctx)) ? 1 : -1;
}

export default defineModule({
  name: 'tmx',
  doc: 'Transaction extensions and the $T pseudo-variables.',
  functions: {
    t_precheck_trans: fn([], 'int', (_s, ctx) => precheck(ctx),
      '1 when another transaction already holds this request (not ACK/CANCEL), else -1.'),
    t_is_request_route: fn([], 'int', (_s, ctx) => routeIs(ctx, 'request'),
      '1 when running as the request route (ksr_request_route, or a route resumed from it), else -1.'),
    t_is_branch_route: fn([], 'int', (_s, ctx) => routeIs(ctx, 'branch'),
      '1 when running as a branch route (t_on_branch), else -1.'),
    t_is_failure_route: fn([], 'int', (_s, ctx) => routeIs(ctx, 'failure'),
      '1 when running as a failure route (t_on_failure), else -1.'),
    t_is_reply_route: fn([], 'int', (_s, ctx) => routeIs(ctx, 'onreply', 'reply'),
      '1 when running as a reply route (t_on_reply, or ksr_reply_route), else -1.'),
  },
  pvs: {
    T_reply_code: {
      get: (_s, ctx) => transactionOf(ctx)?.replyCode ?? 0,
      doc: 'reply code: in a reply route the reply\'s, in a failure route the winning one, else the last reply sent; 0 when none',
    },
    T_reply_reason: {
      get: (_s, ctx) => transactionOf(ctx)?.replyReason ?? null,
      doc: 'reason phrase that goes with $T_reply_code',
    },
    T_branch_idx: {
      get: (_s, ctx) => transactionOf(ctx)?.branchIdx ?? 0,
      doc: 'index of the branch a branch, reply or branch-failure route runs for; 0 elsewhere',
    },
    T: {
      get: (_s, ctx, name) => tAttr(ctx, name),
      param: true,
      doc: 'transaction attribute: id_index, id_label, reply_code, reply_reason, branch_index; $null without a transaction',
    },
  },
});
