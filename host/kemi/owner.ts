/**
 * Who answers for a message (DESIGN.md §11, "a message has one owner"): the SIP transaction
 * layer for a SIP request (its transaction, once it has one), the HTTP exchange for an xhttp
 * request. Bindings talk only to this interface — reply, forward, hold — so they never test
 * classes to find out what kind of message they were given, and the hold/resume/"gone" logic
 * lives once, in Hold.
 */
import type { CallResult } from '../engines/engine.js';
import type { Context } from './context.js';
import type { Counter } from './stats.js';
import type { ModuleHost } from './types.js';

export interface MessageOwner {
  /** what the message is: a SIP request, or an HTTP request (xhttp) */
  readonly kind: 'sip' | 'http';
  /**
   * Whether `sendReply` would send, without sending: true for a request (not an ACK) whose way
   * back is open. Fixed while a callback runs (what sl's deferrable replies rest on).
   */
  canReply(ctx: Context): boolean;
  /** A stateless reply (Kamailio's sl_send_reply), with ctx.replyHeaders. false when not sent. */
  sendReply(ctx: Context, code: number, reason: string): boolean;
  /**
   * A reply through the message's transaction when it has one (re-sent for retransmissions),
   * else stateless: Kamailio's sl `send_reply`, what registrar and auth answer with.
   */
  reply(ctx: Context, code: number, reason: string): boolean;
  /** Forward the request statelessly to `uri`, or to $du / the R-URI when null (SIP only). */
  forward(ctx: Context, uri: string | null): boolean;
  /** The To-tag this server puts in its replies to the message. */
  toTag(ctx: Context): string;
  /**
   * Keep the message past the running callback for async work: when the callback returns, the
   * owner does not finish it. Returns what later resumes it, or why it cannot be held.
   * `lightly` (a call waiting in place, host/waits.ts): a SIP request gets a transaction only to
   * hold it, which goes again, silently, when the script ends without using it statefully (a
   * stateless forward or no answer, as Kamailio's blocking call would leave it).
   */
  hold(ctx: Context, lightly?: boolean): Hold | string;
}

/**
 * What continues a held message: a named route to run on it (through the script version that
 * held it), or a callback suspended in place to go on with (host/waits.ts).
 */
export type ResumeStep = string | (() => CallResult);

/**
 * How an owner continues a held message: run the step on it and let the owner finish it unless
 * it was held again. false when the message is gone (cancelled, timed out, its connection
 * closed): nothing ran.
 */
export type ResumeFn = (ctx: Context, step: ResumeStep, arg?: string) => boolean;

/** Where a binding counts and tells of a message found gone: its counter and its module's rate-limited log. */
export interface GoneReport {
  readonly counter: Counter;
  readonly host: Pick<ModuleHost, 'complain'>;
}

/**
 * A held message. `resume` runs at most once; a message found gone is counted and logged (rate-
 * limited, ModuleHost.complain) here, for every binding that holds messages.
 */
export class Hold {
  private done = false;

  constructor(
    readonly ctx: Context,
    private readonly resumeFn: ResumeFn,
  ) {}

  /** true while nothing has resumed it (it may still be gone). */
  get pending(): boolean {
    return !this.done;
  }

  resume(route: string, gone: GoneReport, arg?: string): boolean {
    return this.go(route, gone, arg);
  }

  /** Go on with a callback suspended in place (host/waits.ts), as resume does with a route. */
  continueWith(run: () => CallResult, gone: GoneReport): boolean {
    return this.go(run, gone);
  }

  private go(step: ResumeStep, gone: GoneReport, arg?: string): boolean {
    if (this.done) return false;
    this.done = true;
    if (this.resumeFn(this.ctx, step, arg)) return true;
    gone.counter.value++;
    const what = typeof step === 'string' ? { route: step } : {};
    gone.host.complain('held message is gone (cancelled, timed out or connection closed); its script did not go on', what, 'info');
    return false;
  }
}

/**
 * Hold ctx's message for async work: the Hold, or why it cannot be held (for the caller's log
 * line and -1). Every binding that suspends goes through here, so they all refuse the same cases
 * with the same words.
 */
export function holdMessage(ctx: Context, lightly = false): Hold | string {
  const owner = ctx.owner;
  if (owner === null) return 'only a SIP request or an xhttp request can be held';
  if (ctx.suspended) return 'the message is already held';
  return owner.hold(ctx, lightly);
}
