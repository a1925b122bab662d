/**
 * A callback run on a transaction's Context for one branch or one reply (t_on_branch,
 * t_on_reply). The Context is the transaction's own, so $var, $avp and flags are shared as the
 * issue asks; what the callback changes for the message it works on — header edits, the R-URI
 * and $du in a branch route, the message itself in a reply route — is taken out afterwards so
 * it applies to that branch or reply only (Kamailio keeps those per branch / per reply).
 */
import type { Context, HeaderEdits } from '../../kemi/context.js';
import type { SipMessage } from '../message.js';

export class RouteScope {
  private readonly msg: SipMessage | null;
  private readonly newRuri: string | null;
  private readonly dstUri: string | null;
  private readonly stop: Context['stop'];
  private readonly dropped: boolean;
  private readonly replied: boolean;
  private readonly insertLen: number;
  private readonly appendLen: number;
  private readonly removed: ReadonlySet<string> | null;
  private readonly maxForwards: number | null;

  /** Enter the scope; `msg` replaces ctx.msg until leave() (the reply, in a reply route). */
  constructor(private readonly ctx: Context, msg?: SipMessage) {
    this.msg = ctx.msg;
    this.newRuri = ctx.newRuri;
    this.dstUri = ctx.dstUri;
    this.stop = ctx.stop;
    this.dropped = ctx.dropped;
    this.replied = ctx.replied;
    const e = ctx.hasHeaderEdits ? ctx.headerEdits : null;
    this.insertLen = e?.insert.length ?? 0;
    this.appendLen = e?.append.length ?? 0;
    this.removed = e === null || e.remove.size === 0 ? null : new Set(e.remove);
    this.maxForwards = e?.maxForwards ?? null;
    if (msg !== undefined) ctx.msg = msg;
    ctx.dropped = false;
  }

  /** Whether the callback asked to drop the message it worked on. */
  get droppedInScope(): boolean {
    return this.ctx.dropped;
  }

  /** The header edits made inside the scope (null when none). */
  added(): HeaderEdits | null {
    const ctx = this.ctx;
    if (!ctx.hasHeaderEdits) return null;
    const e = ctx.headerEdits;
    const insert = e.insert.slice(this.insertLen);
    const append = e.append.slice(this.appendLen);
    const remove = new Set<string>();
    for (const name of e.remove) if (this.removed?.has(name) !== true) remove.add(name);
    const maxForwards = e.maxForwards === this.maxForwards ? null : e.maxForwards;
    if (insert.length === 0 && append.length === 0 && remove.size === 0 && maxForwards === null) return null;
    return { insert, append, remove, maxForwards };
  }

  /** Put the Context back as it was when the scope was entered. */
  leave(): void {
    const ctx = this.ctx;
    ctx.msg = this.msg;
    ctx.newRuri = this.newRuri;
    ctx.dstUri = this.dstUri;
    ctx.stop = this.stop;
    ctx.dropped = this.dropped;
    ctx.replied = this.replied;
    if (!ctx.hasHeaderEdits) return;
    const e = ctx.headerEdits;
    e.insert.length = this.insertLen;
    e.append.length = this.appendLen;
    if (this.removed === null) e.remove.clear();
    else for (const name of [...e.remove]) if (!this.removed.has(name)) e.remove.delete(name);
    e.maxForwards = this.maxForwards;
  }
}

/** The request's own edits (copied: a branch keeps them while the script goes on). */
export function copyEdits(ctx: Context): HeaderEdits | null {
  if (!ctx.hasHeaderEdits) return null;
  const e = ctx.headerEdits;
  return { insert: [...e.insert], append: [...e.append], remove: new Set(e.remove), maxForwards: e.maxForwards };
}

/** Two sets of edits applied one after the other. */
export function mergeEdits(a: HeaderEdits | null, b: HeaderEdits | null): HeaderEdits | null {
  if (a === null) return b;
  if (b === null) return a;
  return {
    insert: [...a.insert, ...b.insert],
    append: [...a.append, ...b.append],
    remove: new Set([...a.remove, ...b.remove]),
    maxForwards: b.maxForwards ?? a.maxForwards,
  };
}
