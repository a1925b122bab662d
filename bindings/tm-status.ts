/**
 * KSR.tm functions about the replies a transaction got (Kamailio's t_check_status,
 * t_branch_timeout, t_branch_replied, t_any_timeout, t_any_replied, t_grep_status,
 * t_get_status_code) and the per-transaction switches t_set_disable_6xx, t_set_fr_inv and
 * t_reset_fr. Which status a route looks at follows tm.c: the request route the last reply
 * sent, a reply route the reply, a failure route the winning reply, a branch-failure route
 * its branch's.
 */
import type { Context } from '../host/kemi/context.js';
import { fn, type KemiFunctionDef, type ModuleHost } from '../host/kemi/types.js';
import { RegexCache } from '../host/safe-regex.js';
import { routeTypeOf } from '../host/sip/transaction/route-type.js';
import { layerOf, transactionOf } from '../host/sip/transaction/transaction-layer.js';

export interface TmStatusState {
  readonly host: ModuleHost;
  readonly regexes: RegexCache;
}

/** The status code the route is about, 0 when there is none (tm.c's t_check_status / ki_t_get_status_code). */
function statusOf(ctx: Context): number | null {
  const t = transactionOf(ctx);
  switch (routeTypeOf(ctx)) {
    case 'request':
      return t === null ? null : t.lastCode;
    case 'onreply':
    case 'reply':
      return ctx.msg !== null && !ctx.msg.isRequest ? ctx.msg.status : null;
    case 'failure':
      return t === null ? null : t.replyCode;
    case 'branch-failure': {
      const b = t?.routeBranch ?? null;
      return b === null ? null : b.finalCode || b.lastReceived;
    }
    default:
      return null;
  }
}

function checkStatus(s: TmStatusState, ctx: Context, re: string): number {
  const c = s.regexes.get(re, true);
  if (!c.ok) {
    s.host.complain('t_check_status: bad regular expression', { re, why: c.why });
    return -1;
  }
  const status = statusOf(ctx);
  if (status === null) return -1;
  return c.re.test(String(status)) ? 1 : -1;
}

/** The branch a failure or branch-failure route runs for: t_branch_timeout / t_branch_replied look at it. */
function failedBranchFlag(ctx: Context, flag: 'timedOut' | 'replied'): number {
  const kind = routeTypeOf(ctx);
  if (kind !== 'failure' && kind !== 'branch-failure') return -1;
  const b = transactionOf(ctx)?.routeBranch ?? null;
  return b?.[flag] === true ? 1 : -1;
}

function anyBranch(ctx: Context, test: (b: { timedOut: boolean; replied: boolean; lastReceived: number }) => boolean): number {
  const t = transactionOf(ctx);
  if (t === null) return -1;
  return t.fork.list.some(test) ? 1 : -1;
}

function setDisable6xx(ctx: Context, on: number): number {
  const st = layerOf(ctx)?.settingsFor(ctx) ?? null;
  if (st === null) return -1;
  st.disable6xx = on !== 0;
  return 1;
}

function setFr(s: TmStatusState, ctx: Context, frInv: number | null, fr: number | null): number {
  if ((frInv !== null && frInv < 0) || (fr !== null && fr < 0)) {
    s.host.complain('t_set_fr_inv: the timeout is ms ≥ 0 (0 = the module default)', { frInv });
    return -1;
  }
  const st = layerOf(ctx)?.settingsFor(ctx) ?? null;
  if (st === null) return -1;
  if (frInv !== null) st.frInv = frInv;
  if (fr !== null) st.fr = fr;
  return 1;
}

/** t_lookup_request: the request has a transaction, its own or another's (a retransmission's); no side effect. */
function lookupRequest(ctx: Context): number {
  const msg = ctx.msg;
  if (msg === null || !msg.isRequest) return -1;
  if (transactionOf(ctx) !== null) return 1;
  return layerOf(ctx)?.lookup(msg) != null ? 1 : -1;
}

/** t_lookup_cancel: a CANCEL whose INVITE transaction exists. */
function lookupCancel(ctx: Context, copyFlags: boolean): number {
  const msg = ctx.msg;
  if (msg?.isRequest !== true || msg.method !== 'CANCEL') return -1;
  const invite = layerOf(ctx)?.lookup(msg) ?? null;
  if (invite === null) return -1;
  // t_lookup_cancel_flags(1): the CANCEL takes the INVITE's message flags
  if (copyFlags) ctx.flags = invite.ctx.flags;
  return 1;
}

type Def = KemiFunctionDef<TmStatusState>;

export const tmStatusFunctions: Record<string, Def> = {
  t_check_status: fn(['str'], 'int', (s: TmStatusState, ctx, re) => checkStatus(s, ctx, re),
    '1 when the status code matches the regular expression (case-insensitive, unanchored; RE2 syntax): in the request route the last reply sent, in a reply route the reply\'s, in a failure route the winning one, in a branch-failure route its branch\'s; -1 otherwise, without a transaction, or for a bad expression (logged).'),
  t_get_status_code: fn([], 'int', (_s, ctx) => {
    const c = statusOf(ctx);
    return c === null || c === 0 ? -1 : c;
  }, 'The status code t_check_status would test; -1 when there is none.'),
  t_branch_timeout: fn([], 'int', (_s, ctx) => failedBranchFlag(ctx, 'timedOut'),
    'In a failure route (the winning branch) or a branch-failure route (its branch): 1 when that branch failed by its final-response timer; else -1.'),
  t_branch_replied: fn([], 'int', (_s, ctx) => failedBranchFlag(ctx, 'replied'),
    'In a failure route (the winning branch) or a branch-failure route (its branch): 1 when that branch ever got a reply from the network; else -1.'),
  t_any_timeout: fn([], 'int', (_s, ctx) => anyBranch(ctx, (b) => b.timedOut),
    '1 when any branch of the transaction failed by its final-response timer, else -1.'),
  t_any_replied: fn([], 'int', (_s, ctx) => anyBranch(ctx, (b) => b.replied),
    '1 when any branch of the transaction got a reply from the network, else -1.'),
  t_grep_status: fn(['int'], 'int', (_s, ctx, code) => anyBranch(ctx, (b) => b.replied && b.lastReceived === code),
    '1 when a branch\'s last reply received has this status code, else -1.'),
  t_set_disable_6xx: fn(['int'], 'int', (_s, ctx, on) => setDisable6xx(ctx, on),
    'For this transaction: 1 = a 6xx is one more negative reply (the other branches are not CANCELled, it has no precedence in the best-reply choice); 0 = RFC 3261\'s handling. 1 ok, -1 not a SIP request.'),
  t_set_fr_inv: fn(['int'], 'int', (s: TmStatusState, ctx, ms) => setFr(s, ctx, ms, null),
    'Set fr_inv_timer (ms; 0 = the module default) for this transaction and its next branches; 1 ok.'),
  t_lookup_request: fn([], 'int', (_s, ctx) => lookupRequest(ctx),
    '1 when the request has a transaction (its own, or one it is a retransmission of), else -1; nothing is re-sent.'),
  t_lookup_cancel: fn([], 'int', (_s, ctx) => lookupCancel(ctx, false),
    '1 for a CANCEL whose INVITE transaction exists, else -1.'),
  t_lookup_cancel_flags: fn(['int'], 'int', (_s, ctx, flags) => lookupCancel(ctx, flags !== 0),
    'As t_lookup_cancel; with flags 1 the CANCEL gets the INVITE\'s message flags.'),
  t_is_retr_async_reply: fn([], 'int', (_s, ctx) => (transactionOf(ctx)?.suspended === true ? 1 : -1),
    '1 while the transaction is suspended (an async module holds it), else -1.'),
  t_reset_fr: fn([], 'int', (s: TmStatusState, ctx) => setFr(s, ctx, 0, 0),
    'Back to the module\'s fr_inv_timer and fr_timer for this transaction; 1 ok.'),
};
