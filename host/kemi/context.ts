/**
 * The per-message Context: everything a KSR call may touch while one message (or one HTTP
 * request, or one async completion) is processed. Script calls are synchronous, so an engine
 * is handed the Context for the duration of one callback; a resumed route gets the same object.
 */
import type { SipMessage } from '../sip/message.js';
import type { Xval } from './types.js';

export type TransportProto = 'udp' | 'tcp' | 'tls' | 'ws' | 'wss' | 'http';

/** Where a message came from and which of our sockets took it. */
export interface Source {
  readonly proto: TransportProto;
  readonly ip: string;
  readonly port: number;
  readonly localIp: string;
  readonly localPort: number;
}

/** Changes a script asked for on the request it will forward (Kamailio's lumps). */
export interface HeaderEdits {
  /** header lines (with CRLF) to put after the Vias, in order */
  readonly insert: string[];
  /** header lines (with CRLF) to put at the end of the header section */
  readonly append: string[];
  /** lowercase header names to leave out */
  readonly remove: Set<string>;
  /** value to write for Max-Forwards, or null to keep what came in (maxfwd) */
  maxForwards: number | null;
}

/** What the SIP layer does for a script; implemented by host/sip, used by bindings. */
export interface SipActions {
  /** Send a stateless reply for the request in ctx. false when it could not be sent. */
  sendReply(ctx: Context, code: number, reason: string): boolean;
  /**
   * Whether sendReply would send, without sending: true for a request (not an ACK) whose
   * way back is open. Fixed while a callback runs (what sl's deferrable replies rest on).
   */
  canReply(ctx: Context): boolean;
  /** Forward the request statelessly to `uri` (or $du / $ru when null). */
  forward(ctx: Context, uri: string | null): boolean;
  /** The To-tag this server puts in its replies to the request in ctx. */
  toTag(ctx: Context): string;
}

/**
 * Whoever owns a message that may wait for async work (the transaction layer for SIP, xhttp for
 * an HTTP request) installs one of these on the Context. Async bindings (async, http_async_client,
 * jsonrpc) only talk to this interface, so they work the same for SIP and HTTP.
 */
export interface Suspender {
  /**
   * Hold the message: when the running callback returns, the owner does not finish it (no
   * default reply). false when it cannot be held (then the caller must not suspend).
   */
  suspend(ctx: Context): boolean;
  /**
   * The async work is done: run `route` on ctx (through the script version that suspended it)
   * and, unless that route suspended again, let the owner finish the message. false when the
   * message is gone (cancelled, timed out, connection closed): nothing was run.
   */
  resume(ctx: Context, route: string, arg?: string): boolean;
}

/**
 * Hold ctx's message for async work: its Suspender, ready for the later `resume`, or why it
 * cannot be held (for the caller's log line and -1). Every binding that suspends goes through
 * here, so they all refuse the same cases with the same words.
 */
export function holdMessage(ctx: Context): Suspender | string {
  const sus = ctx.suspender;
  if (sus === null) return 'only a SIP request or an xhttp request can be suspended';
  if (ctx.suspended) return 'the message is already suspended';
  if (!sus.suspend(ctx)) return 'the message cannot be suspended (an ACK, a reply, or already answered)';
  return sus;
}

/**
 * The script version a suspended message belongs to. The ScriptRunner sets `ctx.version` when a
 * callback returns with the message suspended, and runs every later callback of that message
 * (the resume route) on the same version, so a reload cannot break a call in flight. Owners do
 * nothing extra: setting `ctx.suspended = false` when they let the message go (resumed,
 * answered, cancelled, timed out, closed) is what lets the version go (docs/operations.md).
 */
export interface VersionPin {
  /** `ctx.suspended` became false: the pin is released once nothing runs on ctx any more. */
  unsuspended(ctx: Context): void;
}

/**
 * An HTTP request (xhttp). The message PVs ($rm, $hdr(Name), $rb…) read it when a Context has
 * no SIP message, as Kamailio's do on the SIP message xhttp builds from the HTTP request.
 */
export interface HttpRequestData {
  readonly method: string;
  /** the request-target as received: path and query string ($hu) */
  readonly url: string;
  /** "1.1", "1.0" */
  readonly version: string;
  /** name, value, name, value… as received (node's rawHeaders): nothing is copied per request */
  readonly rawHeaders: readonly string[];
  readonly body: Buffer;
}

/** Thrown by KSR.x.exit()/drop(): ends the callback; the engine catches it and nothing else may. */
export class ScriptStop {
  readonly stop = true;
}
export const SCRIPT_STOP = new ScriptStop();

export type ContextKind = 'sip' | 'http' | 'event';

export class Context {
  readonly kind: ContextKind;
  msg: SipMessage | null;
  readonly src: Source;
  /** engine-independent id: log correlation and `$T(id_label)`-like uses */
  readonly id: number;

  /** `$ru` written by the script (null = unchanged R-URI) */
  newRuri: string | null = null;
  /** `$du` */
  dstUri: string | null = null;
  flags = 0;
  bflags = 0;
  forceRport = false;
  /** set by KSR.drop() / KSR.x.drop(): no reply, no relay */
  dropped = false;
  /** a reply was sent for this request (by sl or the default error reply) */
  replied = false;
  /** why the running callback stopped early, once KSR.x.exit/drop or a limit ended it */
  stop: 'exit' | 'drop' | null = null;

  /** header lines (with CRLF) for the next reply built for this message (append_to_reply) */
  readonly replyHeaders: string[] = [];
  private edits: HeaderEdits | null = null;
  private varStore: Map<string, Xval> | null = null;
  private avpStore: Map<string, Xval[]> | null = null;

  sip: SipActions | null = null;
  /** the HTTP request, for a Context of kind 'http' (xhttp) */
  http: HttpRequestData | null = null;
  /** set by the owner of a message that can wait for async work (see Suspender) */
  suspender: Suspender | null = null;
  /** the script version that suspended this message (see VersionPin); null when none holds it */
  version: VersionPin | null = null;
  private held = false;

  private static nextId = 1;

  constructor(kind: ContextKind, msg: SipMessage | null, src: Source) {
    this.kind = kind;
    this.msg = msg;
    this.src = src;
    this.id = Context.nextId++;
  }

  /**
   * true while async work holds this message. The owner (Suspender) sets it back to false when
   * it lets the message go, whatever the reason; that also releases the script version pin.
   */
  get suspended(): boolean {
    return this.held;
  }

  set suspended(v: boolean) {
    this.held = v;
    if (!v && this.version !== null) this.version.unsuspended(this);
  }

  /** The current R-URI: as rewritten by the script, else as received. */
  get ruri(): string {
    return this.newRuri ?? this.msg?.ruri ?? '';
  }

  get headerEdits(): HeaderEdits {
    this.edits ??= { insert: [], append: [], remove: new Set(), maxForwards: null };
    return this.edits;
  }

  get hasHeaderEdits(): boolean {
    return this.edits !== null;
  }

  get vars(): Map<string, Xval> {
    this.varStore ??= new Map();
    return this.varStore;
  }

  /** AVPs: a stack per name, newest first (Kamailio's assignment adds on top). */
  get avps(): Map<string, Xval[]> {
    this.avpStore ??= new Map();
    return this.avpStore;
  }

  /** Stop the running callback now (KSR.x.exit / KSR.x.drop). */
  stopScript(how: 'exit' | 'drop'): never {
    this.stop = how;
    if (how === 'drop') this.dropped = true;
    // eslint-disable-next-line @typescript-eslint/only-throw-error -- a sentinel, not an error: engines catch it by identity
    throw SCRIPT_STOP;
  }
}
