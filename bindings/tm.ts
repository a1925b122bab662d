/**
 * KSR.tm: stateful processing (Kamailio's tm module, KEMI names and types). The transaction
 * layer lives in host/sip/transaction; this file only maps script calls onto it. A request has
 * a transaction once the script asks for one (t_newtran, t_relay, t_send_reply, an async
 * suspension); until then it stays stateless, as in Kamailio.
 */
import type { Logger } from 'pino';
import type { Context } from '../host/kemi/context.js';
import { defineModule, fn, type ScriptHandle } from '../host/kemi/types.js';
import { LogLimiter } from '../host/log-limiter.js';
import { tmParams } from '../host/sip/transaction/config.js';
import type { RelayTarget } from '../host/sip/transaction/server-transaction.js';
import { TM_STATS } from '../host/sip/transaction/stats.js';
import type { TmSettings } from '../host/sip/transaction/tm-settings.js';
import { layerOf, transactionOf } from '../host/sip/transaction/transaction-layer.js';

interface TmState {
  readonly log: Logger;
  readonly script: ScriptHandle;
  readonly limiter: LogLimiter;
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
  if (s.limiter.allow(text)) s.log.error({ ...fields, at: s.script.location(), suppressed: s.limiter.suppressed(text) }, text);
}

function isRequest(ctx: Context): boolean {
  return ctx.msg?.isRequest === true;
}

function newtran(s: TmState, ctx: Context): number {
  const layer = layerOf(ctx);
  if (layer === null || !isRequest(ctx)) return -1;
  if (transactionOf(ctx) !== null) {
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
  return t.reply(code, reason) ? 1 : -1;
}

function relay(s: TmState, ctx: Context, target: RelayTarget | null): number {
  const msg = ctx.msg;
  if (msg === null || !msg.isRequest || ctx.sip === null) return -1;
  if (msg.method === 'ACK') {
    // an ACK has no transaction: relayed statelessly, as Kamailio's t_relay does
    const uri = target === null ? null : `sip:${target.host.includes(':') ? `[${target.host}]` : target.host}:${String(target.port)};transport=${target.proto}`;
    return ctx.sip.forward(ctx, uri) ? 1 : -1;
  }
  const t = layerOf(ctx)?.ensure(ctx) ?? null;
  if (t === null) return -1;
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
  init: (host): TmState => ({ log: host.log, script: host.script, limiter: new LogLimiter(10_000) }),
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
    t_set_fr: fn(['int', 'int'], 'int', (s: TmState, ctx, frInv, fr) => setFr(s, ctx, frInv, fr),
      'Set fr_inv_timer and fr_timer (ms; 0 = module default) for this transaction and its next branches; 1 ok.'),
    t_release: fn([], 'int', (_s, ctx) => {
      const t = transactionOf(ctx);
      if (t === null || t.state === 'terminated') return -1;
      t.release();
      return 1;
    }, 'Forget the transaction now, without a reply; 1 ok, -1 when there is none.'),
  },
});
