/**
 * KSR.tm: stateful processing (Kamailio's tm module, KEMI names and types). The transaction
 * layer lives in host/sip/transaction; this file only maps script calls onto it. A request has
 * a transaction once the script asks for one (t_newtran, t_relay, t_send_reply, an async
 * suspension); until then it stays stateless, as in Kamailio.
 */
import type { Context } from '../host/kemi/context.js';
import { defineModule, fn, type ScriptHandle } from '../host/kemi/types.js';
import { tmParams } from '../host/sip/transaction/config.js';
import type { RelayTarget } from '../host/sip/transaction/forking.js';
import type { ServerTransaction } from '../host/sip/transaction/server-transaction.js';
import { TM_STATS } from '../host/sip/transaction/stats.js';
import type { TmSettings } from '../host/sip/transaction/tm-settings.js';
import { routeTypeOf } from '../host/sip/transaction/route-type.js';
import { layerOf, transactionOf } from '../host/sip/transaction/transaction-layer.js';
import { RegexCache } from '../host/safe-regex.js';
import { tmStatusFunctions, type TmStatusState } from './tm-status.js';

/** What other modules get of tm (ModuleHost.api('tm')): Kamailio's TMCB_REQUEST_IN, roughly. */
export interface TmApi {
  /** Run cb when t_relay has the request's transaction, before anything is sent (dialog's dlg_flag). */
  onRelay(cb: (ctx: Context, t: ServerTransaction) => void): void;
}

interface TmState extends TmStatusState {
  readonly script: ScriptHandle;
  readonly relayHooks: ((ctx: Context, t: ServerTransaction) => void)[];
}

type RouteKind = 'failure' | 'onReply' | 'branch' | 'branchFailure';

/** t_is_set targets → the setting they ask about. */
const TARGETS: Readonly<Record<string, RouteKind>> = {
  failure_route: 'failure',
  onreply_route: 'onReply',
  branch_route: 'branch',
  branch_failure_route: 'branchFailure',
};

function complain(s: TmState, text: string, fields: Record<string, unknown> = {}): void {
  s.host.complain(text, fields);
}

function isRequest(ctx: Context): boolean {
  return ctx.msg?.isRequest === true;
}

function newtran(s: TmState, ctx: Context): number {
  const layer = layerOf(ctx);
  if (layer === null || !isRequest(ctx)) return -1;
  const t = transactionOf(ctx);
  if (t !== null) {
    // the one made only to hold a call that waited in place: the script's own now
    if (t.provisional) {
      t.provisional = false;
      return 1;
    }
    complain(s, 't_newtran: transaction already in process');
    return -1;
  }
  return layer.ensure(ctx) === null ? -1 : 1;
}

function reply(s: TmState, ctx: Context, code: number, reason: string, create: boolean): number {
  const t = create ? (layerOf(ctx)?.ensure(ctx) ?? null) : transactionOf(ctx);
  if (t === null) {
    if (!create) complain(s, 't_reply: the request has no transaction (t_newtran first, or use t_send_reply)');
    return -1;
  }
  return t.respond(code, reason) ? 1 : -1;
}

function relay(s: TmState, ctx: Context, target: RelayTarget | null): number {
  const msg = ctx.msg;
  const owner = ctx.owner;
  if (msg === null || !msg.isRequest || owner === null) return -1;
  if (msg.method === 'ACK') {
    // an ACK has no transaction: relayed statelessly, as Kamailio's t_relay does
    const uri = target === null ? null : `sip:${target.host.includes(':') ? `[${target.host}]` : target.host}:${String(target.port)};transport=${target.proto}`;
    return owner.forward(ctx, uri) ? 1 : -1;
  }
  const t = layerOf(ctx)?.ensure(ctx) ?? null;
  if (t === null) return -1;
  for (const h of s.relayHooks) h(ctx, t);
  if (!t.relay(target)) {
    complain(s, 't_relay: the request could not be relayed', { method: msg.method });
    return -1;
  }
  return 1;
}

function relayTo(s: TmState, ctx: Context, proto: string, host: string, port: number): number {
  const p = proto.toLowerCase();
  if ((p !== 'udp' && p !== 'tcp') || host === '' || port < 0 || port > 65535) {
    complain(s, 't_relay_to_proto_addr: proto must be udp or tcp, port 0..65535', { proto, host, port });
    return -1;
  }
  return relay(s, ctx, { proto: p, host, port: port === 0 ? 5060 : port });
}

function settings(ctx: Context): TmSettings | null {
  return layerOf(ctx)?.settingsFor(ctx) ?? null;
}

function onRoute(s: TmState, ctx: Context, kind: RouteKind, name: string, fname: string): number {
  const st = settings(ctx);
  if (st === null) return -1;
  if (name !== '' && !s.script.has(name)) {
    complain(s, `${fname}: the script defines no function named "${name}"`, { route: name });
    return -1;
  }
  st[kind] = name === '' ? null : name;
  return 1;
}

function checkTrans(ctx: Context): number {
  const msg = ctx.msg;
  const layer = layerOf(ctx);
  if (layer === null || msg === null || !msg.isRequest) return -1;
  if (msg.method === 'ACK') return layer.lookupInviteOf(msg) === null ? -1 : 1;
  if (msg.method === 'CANCEL') return layer.lookup(msg) === null ? -1 : 1;
  if (transactionOf(ctx) !== null) return 1;
  const other = layer.lookup(msg);
  if (other === null) return -1;
  // a retransmission (absorbed before the script in practice): re-send and stop, as Kamailio does
  other.onRetransmission();
  return 0;
}

function isSet(s: TmState, ctx: Context, target: string): number {
  const kind = TARGETS[target];
  if (kind === undefined) {
    complain(s, 't_is_set: unknown target (branch_route, failure_route, onreply_route, branch_failure_route)', { target });
    return -1;
  }
  const st = layerOf(ctx)?.peekSettings(ctx) ?? null;
  return st?.[kind] == null ? -1 : 1;
}

/** Kamailio's t_get_branch_index: the branch a branch, branch-failure or reply route runs for; in a failure route the branches so far. */
function branchIndex(ctx: Context): number {
  const t = transactionOf(ctx);
  switch (routeTypeOf(ctx)) {
    case 'request':
      // the branches added to the message so far (append_branch, lookup)
      return ctx.hasDset ? ctx.dset.branches.length : 0;
    case 'reply':
      return 0;
    case 'branch':
    case 'branch-failure':
    case 'onreply':
      return t?.branchIdx ?? -1;
    case 'failure':
      return t?.fork.list.length ?? -1;
    default:
      return -1;
  }
}

function setFr(s: TmState, ctx: Context, frInv: number, fr: number): number {
  if (frInv < 0 || fr < 0) {
    complain(s, 't_set_fr: timeouts are ms ≥ 0 (0 = the module default)', { frInv, fr });
    return -1;
  }
  const st = settings(ctx);
  if (st === null) return -1;
  st.frInv = frInv;
  st.fr = fr;
  return 1;
}

/** KSR.tm: transactions (RFC 3261 §17) and stateful relaying (§16). */
export default defineModule({
  name: 'tm',
  doc: 'Transactions: stateful replies, stateful relaying with failure routes, retransmissions and timers.',
  params: tmParams,
  stats: TM_STATS,
  init: (host): TmState => ({ host, script: host.script, regexes: new RegexCache(64), relayHooks: [] }),
  api: (s: TmState): TmApi => ({ onRelay: (cb) => { s.relayHooks.push(cb); } }),
  routeArgs: { t_on_failure: [0], t_on_reply: [0], t_on_branch: [0], t_on_branch_failure: [0] },
  functions: {
    t_newtran: fn([], 'int', (s: TmState, ctx) => newtran(s, ctx),
      'Create the transaction of the request (INVITE: 100 Trying at once); 1 created, -1 failed or already created.'),
    t_reply: fn(['int', 'str'], 'int', (s: TmState, ctx, code, reason) => reply(s, ctx, code, reason, false),
      'Send a stateful reply (re-sent for retransmissions; a 2xx to INVITE until its ACK); needs a transaction; 1 sent, -1 failed.'),
    t_send_reply: fn(['int', 'str'], 'int', (s: TmState, ctx, code, reason) => reply(s, ctx, code, reason, true),
      'Create the transaction if there is none, then send a stateful reply; 1 sent, -1 failed.'),
    t_relay: fn([], 'int', (s: TmState, ctx) => relay(s, ctx, null),
      'Relay statefully to $du, else the R-URI (udp or tcp; host names by A/AAAA); an ACK goes statelessly; 1 ok, -1 failed.'),
    t_relay_to_proto_addr: fn(['str', 'str', 'int'], 'int', (s: TmState, ctx, proto, host, port) => relayTo(s, ctx, proto, host, port),
      'Relay statefully to proto ("udp"/"tcp"), host and port; 1 ok, -1 failed.'),
    t_on_failure: fn(['str'], 'int', (s: TmState, ctx, name) => onRoute(s, ctx, 'failure', name, 't_on_failure'),
      'Run this function (with the same Context) when every branch failed or timed out; one shot; "" clears it.'),
    t_on_reply: fn(['str'], 'int', (s: TmState, ctx, name) => onRoute(s, ctx, 'onReply', name, 't_on_reply'),
      'Run this function for each reply to a branch, with the reply as the message; KSR.drop() stops a provisional reply.'),
    t_on_branch: fn(['str'], 'int', (s: TmState, ctx, name) => onRoute(s, ctx, 'branch', name, 't_on_branch'),
      'Run this function for each new branch before it is sent; its header, $ru and $du changes apply to that branch; KSR.drop() skips it.'),
    t_on_branch_failure: fn(['str'], 'int', (s: TmState, ctx, name) => onRoute(s, ctx, 'branchFailure', name, 't_on_branch_failure'),
      'Run this function each time one branch gets a 300-699 reply or times out.'),
    t_check_trans: fn([], 'int', (_s, ctx) => checkTrans(ctx),
      '1 when the request has a transaction (an ACK: its INVITE sent a 2xx; a CANCEL: its INVITE exists), -1 when not; 0 after re-sending the reply of a retransmission.'),
    t_is_set: fn(['str'], 'int', (s: TmState, ctx, target) => isSet(s, ctx, target),
      '1 when branch_route, failure_route, onreply_route or branch_failure_route is armed, else -1.'),
    t_is_canceled: fn([], 'int', (_s, ctx) => (transactionOf(ctx)?.canceled === true ? 1 : -1),
      '1 when a CANCEL matched the transaction, else -1.'),
    t_is_expired: fn([], 'int', (_s, ctx) => (transactionOf(ctx)?.isExpired() === true ? 1 : -1),
      '1 when the transaction timed out or outlived its final-response timer, else -1.'),
    t_get_branch_index: fn([], 'int', (_s, ctx) => branchIndex(ctx),
      'The index of the branch a branch, branch-failure or reply route runs for; in a failure route the number of branches so far; 0 in the request route; -1 elsewhere.'),
    t_set_fr: fn(['int', 'int'], 'int', (s: TmState, ctx, frInv, fr) => setFr(s, ctx, frInv, fr),
      'Set fr_inv_timer and fr_timer (ms; 0 = module default) for this transaction and its next branches; 1 ok.'),
    t_release: fn([], 'int', (_s, ctx) => {
      const t = transactionOf(ctx);
      if (t === null || t.state === 'terminated') return -1;
      t.release();
      return 1;
    }, 'Forget the transaction now, without a reply; 1 ok, -1 when there is none.'),
    ...tmStatusFunctions,
  },
});
