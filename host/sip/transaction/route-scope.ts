/**
 * A callback run on a transaction's Context for one branch or one reply (t_on_branch,
 * t_on_reply). The Context is the transaction's own, so $var, $avp and flags are shared as the
 * issue asks; what the callback changes for the message it works on — header edits, the R-URI
 * $du and the branch flags (with the send socket and flags) in a branch route, the message itself in a reply route — is taken out afterwards so
 * it applies to that branch or reply only (Kamailio keeps those per branch / per reply).
 */
import type { Context } from '../../kemi/context.js';
import type { HeaderEdits } from '../types.js';
import type { SipMessage } from '../message.js';
import type { Source } from '../types.js';

export class RouteScope {
  private readonly msg: SipMessage | null;
  private readonly src: Source;
  private readonly newRuri: string | null;
  private readonly dstUri: string | null;
  private readonly bflags: number;
  private readonly sendSocket: Context['sendSocket'];
  private readonly forwardFlags: number;
  private readonly stop: Context['stop'];
  private readonly dropped: boolean;
  private readonly replied: boolean;
  private readonly insertLen: number;
  private readonly appendLen: number;
  private readonly removed: ReadonlySet<string> | null;
  private readonly maxForwards: number | null;
  private readonly recordRoute: HeaderEdits['recordRoute'];
  private readonly dropRoutes: HeaderEdits['dropRoutes'];
  private readonly body: Buffer | null;
  private readonly lumpsLen: number;
  /** the text edits of the request, put aside while a reply route edits the reply (their offsets are the request's) */
  private readonly requestLumps: HeaderEdits['lumps'];
  /** the scope is for another message than the Context's (a reply route) */
  private readonly otherMsg: boolean;
  /** rewritten received lines (nathelper's Contact) when the scope was entered; in a reply route the request's, put aside */
  private readonly replaced: ReadonlyMap<number, string> | null;

  /** Enter the scope; `msg` and `src` replace ctx.msg and ctx.src until leave() (the reply and where it came from, in a reply route). */
  constructor(private readonly ctx: Context, msg?: SipMessage, src?: Source) {
    this.msg = ctx.msg;
    this.src = ctx.src;
    this.newRuri = ctx.newRuri;
    this.dstUri = ctx.dstUri;
    this.bflags = ctx.bflags;
    this.sendSocket = ctx.sendSocket;
    this.forwardFlags = ctx.forwardFlags;
    this.stop = ctx.stop;
    this.dropped = ctx.dropped;
    this.replied = ctx.replied;
    const e = ctx.hasHeaderEdits ? ctx.headerEdits : null;
    this.insertLen = e?.insert.length ?? 0;
    this.appendLen = e?.append.length ?? 0;
    this.removed = e === null || e.remove.size === 0 ? null : new Set(e.remove);
    this.maxForwards = e?.maxForwards ?? null;
    this.recordRoute = e?.recordRoute ?? null;
    this.dropRoutes = e?.dropRoutes ?? null;
    this.body = e?.body ?? null;
    this.replaced = e?.replace === undefined || e.replace.size === 0 ? null : new Map(e.replace);
    this.lumpsLen = e?.lumps?.length ?? 0;
    this.requestLumps = e?.lumps;
    this.otherMsg = msg !== undefined;
    if (msg !== undefined && e !== null) {
      // a reply route works on another message: the request's text edits, rewritten lines
      // (indexes of its headers) and body are not its own
      delete e.lumps;
      delete e.replace;
      e.body = null;
    }
    if (msg !== undefined) ctx.msg = msg;
    if (src !== undefined) ctx.src = src;
    ctx.dropped = false;
  }

  /** Whether the callback asked to drop the message it worked on. */
  get droppedInScope(): boolean {
    return this.ctx.dropped;
  }

  /** The header edits made inside the scope (null when none); a reply has no Record-Route or Route set to change. */
  added(): HeaderEdits | null {
    const ctx = this.ctx;
    if (!ctx.hasHeaderEdits) return null;
    const e = ctx.headerEdits;
    const insert = e.insert.slice(this.insertLen);
    const append = e.append.slice(this.appendLen);
    const remove = new Set<string>();
    for (const name of e.remove) if (this.removed?.has(name) !== true) remove.add(name);
    const maxForwards = e.maxForwards === this.maxForwards ? null : e.maxForwards;
    const body = e.body === this.body ? null : e.body;
    const replace = new Map<number, string>();
    for (const [i, v] of e.replace ?? []) if (this.otherMsg || this.replaced?.get(i) !== v) replace.set(i, v);
    const lumps = (this.otherMsg ? e.lumps : e.lumps?.slice(this.lumpsLen)) ?? [];
    if (insert.length === 0 && append.length === 0 && remove.size === 0 && maxForwards === null && body === null && lumps.length === 0 && replace.size === 0) return null;
    const out: HeaderEdits = { insert, append, remove, maxForwards, recordRoute: null, dropRoutes: null, body };
    if (lumps.length > 0) out.lumps = lumps;
    if (replace.size > 0) out.replace = replace;
    return out;
  }

  /** Put the Context back as it was when the scope was entered. */
  leave(): void {
    const ctx = this.ctx;
    ctx.msg = this.msg;
    ctx.src = this.src;
    ctx.newRuri = this.newRuri;
    ctx.dstUri = this.dstUri;
    ctx.bflags = this.bflags;
    ctx.sendSocket = this.sendSocket;
    ctx.forwardFlags = this.forwardFlags;
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
    e.recordRoute = this.recordRoute;
    e.dropRoutes = this.dropRoutes;
    e.body = this.body;
    if (this.replaced !== null) e.replace = new Map(this.replaced);
    else delete e.replace;
    if (this.otherMsg) {
      if (this.requestLumps === undefined) delete e.lumps;
      else e.lumps = this.requestLumps;
    }
    if (e.lumps !== undefined) e.lumps.length = this.lumpsLen;
  }
}

/** The request's own edits (copied: a branch keeps them while the script goes on). */
export function copyEdits(ctx: Context): HeaderEdits | null {
  if (!ctx.hasHeaderEdits) return null;
  const e = ctx.headerEdits;
  // recordRoute and dropRoutes are replaced, never changed in place: sharing them is safe
  const out: HeaderEdits = { insert: [...e.insert], append: [...e.append], remove: new Set(e.remove), maxForwards: e.maxForwards, recordRoute: e.recordRoute, dropRoutes: e.dropRoutes, body: e.body };
  if (e.lumps !== undefined) out.lumps = [...e.lumps];
  if (e.replace !== undefined) out.replace = new Map(e.replace);
  return out;
}

/** Two sets of edits applied one after the other. */
export function mergeEdits(a: HeaderEdits | null, b: HeaderEdits | null): HeaderEdits | null {
  if (a === null) return b;
  if (b === null) return a;
  const out: HeaderEdits = {
    insert: [...a.insert, ...b.insert],
    append: [...a.append, ...b.append],
    remove: new Set([...a.remove, ...b.remove]),
    maxForwards: b.maxForwards ?? a.maxForwards,
    recordRoute: b.recordRoute ?? a.recordRoute,
    dropRoutes: b.dropRoutes ?? a.dropRoutes,
    body: b.body ?? a.body,
    ...(a.lumps === undefined && b.lumps === undefined ? {} : { lumps: [...(a.lumps ?? []), ...(b.lumps ?? [])] }),
  };
  if (a.replace !== undefined || b.replace !== undefined) out.replace = new Map([...(a.replace ?? []), ...(b.replace ?? [])]);
  return out;
}
