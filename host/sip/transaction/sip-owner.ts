/**
 * The owners of a SIP request (host/kemi/owner.ts): the transaction layer until the request has
 * a transaction, then its server transaction. Both are `SipOwner`s, so the SIP-aware bindings
 * (tm, sl's send_reply) reach the layer and the transaction through a typed field, never by
 * testing classes; every other binding sees only the MessageOwner interface.
 */
import type { Context } from '../../kemi/context.js';
import type { MessageOwner } from '../../kemi/owner.js';
import type { ServerTransaction } from './server-transaction.js';
import type { TransactionLayer } from './transaction-layer.js';

export interface SipOwner extends MessageOwner {
  readonly kind: 'sip';
  /** the transaction layer of the runtime that received the request */
  readonly layer: TransactionLayer;
  /** the request's transaction, null until one is created (t_newtran, t_relay, a hold) */
  readonly transaction: ServerTransaction | null;
}

/** Stateless sending for a request (the router implements it): what a SIP owner does without a transaction. */
export interface StatelessSip {
  canReply(ctx: Context): boolean;
  sendReply(ctx: Context, code: number, reason: string): boolean;
  forward(ctx: Context, uri: string | null): boolean;
  toTag(ctx: Context): string;
}

/** The SIP owner of ctx's message; null for an HTTP request, a reply or an event. */
export function sipOwnerOf(ctx: Context): SipOwner | null {
  const o = ctx.owner;
  // only host/sip makes owners of kind 'sip', and every one of them is a SipOwner
  return o?.kind === 'sip' ? (o as SipOwner) : null;
}

/** The transaction of a Context, when it has one. */
export function transactionOf(ctx: Context): ServerTransaction | null {
  return sipOwnerOf(ctx)?.transaction ?? null;
}

/** The transaction layer a SIP request Context belongs to (null for HTTP and reply Contexts). */
export function layerOf(ctx: Context): TransactionLayer | null {
  return sipOwnerOf(ctx)?.layer ?? null;
}
