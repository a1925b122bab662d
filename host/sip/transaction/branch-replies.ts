/**
 * What a server transaction does with its branches' replies (RFC 3261 §16.7, Kamailio's tm):
 * the reply route (t_on_reply) per reply, provisionals relayed upstream, every 2xx to an INVITE
 * relayed at once (and the other branches CANCELled), the branch-failure route per failed
 * branch, and once every branch of the set has its outcome the failure route or the best reply
 * upstream. Each route about a branch sees that branch's index, reply code and branch flags.
 */
import type { HeaderEdits } from '../types.js';
import type { SipMessage } from '../message.js';
import type { ClientTransaction } from './client-transaction.js';
import { buildRelayedReply } from './messages.js';
import { mergeEdits, RouteScope } from './route-scope.js';
import { withRestoredUris } from './reply-restore.js';
import type { ServerTransaction, TmRouteKind } from './server-transaction.js';
import { notifyReply } from './tm-settings.js';

/** §16.7 step 6: a 6xx wins, else the lowest class (3xx, 4xx, 5xx); t_set_disable_6xx makes a 6xx the last class. */
function rank(code: number, disable6xx: boolean): number {
  return code >= 600 && !disable6xx ? 0 : Math.floor(code / 100);
}

export function branchProvisional(t: ServerTransaction, ct: ClientTransaction, msg: SipMessage, coreEdits: HeaderEdits | null): void {
  if (t.state !== 'proceeding') return;
  const edits = replyRoute(t, ct, msg, coreEdits);
  // §16.7 step 5: a 100 is not forwarded
  if (edits === false || msg.status === 100) return;
  const buf = buildRelayedReply(msg, withRestoredUris(t.settings, msg, edits));
  t.lastCode = msg.status;
  t.lastReason = msg.reason;
  t.lastReply = buf;
  t.sendUpstream(buf, false);
  t.layer.c.relayed_replies.value++;
  notifyReply(t.settings, msg.status, msg);
}

/** A branch has its outcome: a final reply (ct.finalReply) or one decided here. */
export function branchFinal(t: ServerTransaction, ct: ClientTransaction, coreEdits: HeaderEdits | null): void {
  const reply = ct.finalReply;
  if (reply !== null) {
    const edits = replyRoute(t, ct, reply, coreEdits);
    if (edits === false) t.layer.warn('drop of a final reply in the reply route ignored', { code: reply.status });
    ct.finalEdits = edits === false ? coreEdits : edits;
  }
  const code = ct.finalCode;
  if (t.isInvite && code < 300 && reply !== null) {
    relay2xx(t, reply, ct.finalEdits);
    return;
  }
  if (t.state !== 'proceeding') return;
  if (code < 300) {
    relayBranch(t, ct);
    return;
  }
  // §16.7 step 9 / RFC 3261 6xx handling: no other branch can do better
  if (t.isInvite && code >= 600 && t.settings?.disable6xx !== true) t.cancelPending();
  const bf = t.settings?.branchFailure ?? null;
  if (bf !== null) {
    runForBranch(t, bf, ct, code, ct.finalReason, 'branch-failure');
  }
  // the branch-failure route may have answered (t_reply) or relayed again
  if (!t.waiting() || t.hasPending() || t.suspended) return;
  select(t);
}

/** §16.7 step 10: every 2xx to an INVITE goes upstream, whatever was sent before. */
export function relay2xx(t: ServerTransaction, reply: SipMessage, edits: HeaderEdits | null): void {
  if (t.state === 'terminated') return;
  const buf = buildRelayedReply(reply, withRestoredUris(t.settings, reply, edits));
  t.sendUpstream(buf);
  t.layer.c.relayed_replies.value++;
  notifyReply(t.settings, reply.status, reply);
  if (t.state === 'proceeding') {
    t.ctx.replied = true;
    t.cancelPending();
    t.finalSent(reply.status, reply.reason, buf, false);
  }
}

/** Every branch of the current set has its outcome: the failure route, or the best reply upstream. */
export function select(t: ServerTransaction): void {
  const branches = t.fork.list;
  const no6xx = t.settings?.disable6xx === true;
  let best: ClientTransaction | null = null;
  for (let i = t.fork.firstOfSet; i < branches.length; i++) {
    const b = branches[i] as ClientTransaction;
    if (best === null || rank(b.finalCode, no6xx) < rank(best.finalCode, no6xx)) best = b;
  }
  if (best === null) {
    t.respond(500, 'Server Internal Error');
    return;
  }
  const winner = best;
  const relay = (): void => { relayBranch(t, winner); };
  if (!runFailure(t, winner.finalCode, winner.finalReason, relay, winner)) relay();
}

function relayBranch(t: ServerTransaction, b: ClientTransaction): void {
  const reply = b.finalReply;
  if (reply === null) {
    t.respond(b.finalCode, b.finalReason);
    return;
  }
  const buf = buildRelayedReply(reply, withRestoredUris(t.settings, reply, b.finalEdits));
  t.sendUpstream(buf);
  t.layer.c.relayed_replies.value++;
  t.ctx.replied = true;
  t.finalSent(reply.status, reply.reason, buf, false);
}

/**
 * Run the armed failure route (one shot, as in Kamailio); false when none is armed. It sees
 * the winning branch's flags, and the R-URI it starts with counts as relayed already: t_relay
 * there forks to what the route changes or appends (Kamailio's ruri_mark_consumed).
 */
export function runFailure(t: ServerTransaction, code: number, reason: string, fallback: () => void, winner: ClientTransaction | null = null): boolean {
  const settings = t.settings;
  const name = settings?.failure ?? null;
  if (settings === null || name === null) return false;
  settings.failure = null;
  const ctx = t.ctx;
  if (winner !== null) ctx.bflags = winner.bflags;
  ctx.dset.consume(ctx.ruri, ctx.dstUri);
  t.pvCode = code;
  t.pvReason = reason;
  t.routeBranch = winner;
  const r = t.run(name, undefined, 'failure');
  if (!t.suspended) {
    t.pvCode = 0;
    t.pvReason = null;
    t.routeBranch = null;
  }
  t.after(r, fallback);
  return true;
}

/**
 * The tm reply route (t_on_reply) on the transaction's Context with the reply as its message
 * and the reply's source as the source.
 * The edits for relaying it (the core reply route's and this one's), or false when dropped.
 */
function replyRoute(t: ServerTransaction, ct: ClientTransaction, msg: SipMessage, coreEdits: HeaderEdits | null): HeaderEdits | null | false {
  const name = t.settings?.onReply ?? null;
  if (name === null) return coreEdits;
  const scope = new RouteScope(t.ctx, msg, ct.replySrc ?? undefined);
  runForBranch(t, name, ct, msg.status, msg.reason, 'onreply');
  const dropped = scope.droppedInScope;
  const added = scope.added();
  scope.leave();
  return dropped ? false : mergeEdits(coreEdits, added);
}

/**
 * A route about one branch's reply: $T_branch_idx, $T_reply_code and $T_reply_reason set
 * while it runs, and the branch's flags as the branch flags (changes stay with the branch).
 */
function runForBranch(t: ServerTransaction, name: string, ct: ClientTransaction, code: number, reason: string | null, kind: TmRouteKind): void {
  const ctx = t.ctx;
  const bflags = ctx.bflags;
  ctx.bflags = ct.bflags;
  t.branchIdx = ct.index;
  t.pvCode = code;
  t.pvReason = reason;
  t.routeBranch = ct;
  t.run(name, undefined, kind);
  t.routeBranch = null;
  t.branchIdx = 0;
  t.pvCode = 0;
  t.pvReason = null;
  ct.bflags = ctx.bflags;
  ctx.bflags = bflags;
}
