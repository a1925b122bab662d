/**
 * The per-message Context: everything a KSR call may touch while one message (or one HTTP
 * request, or one async completion) is processed. Script calls are synchronous, so an engine
 * is handed the Context for the duration of one callback; a resumed route gets the same object.
 */
import { DestinationSet } from '../sip/dset.js';
import type { SipMessage } from '../sip/message.js';
import type { HeaderEdits, SocketAddress, Source } from '../sip/types.js';
import type { MessageOwner } from './owner.js';
import type { Xval } from './types.js';
import { XavpStore } from './xavp.js';

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
  /** where msg came from; a tm reply route swaps in the reply's source for its run ($si there is the reply's, as in Kamailio) */
  src: Source;
  /** engine-independent id: log correlation and `$T(id_label)`-like uses */
  readonly id: number;

  /** `$ru` written by the script (null = unchanged R-URI) */
  newRuri: string | null = null;
  /** `$du` */
  dstUri: string | null = null;
  flags = 0;
  bflags = 0;
  forceRport = false;
  /** Kamailio's send flags (host/sip/types.ts SEND_*) for the replies to this request: set_reply_close & co. */
  replyFlags = 0;
  /** the same for what the request is forwarded as: set_forward_close & co. */
  forwardFlags = 0;
  /** the socket of ours to send the request from when it can (rr's double routing), null: any */
  sendSocket: SocketAddress | null = null;
  /** set by KSR.drop() / KSR.x.drop(): no reply, no relay */
  dropped = false;
  /** a reply was sent for this request (by sl or the default error reply) */
  replied = false;
  /** why the running callback stopped early, once KSR.x.exit/drop or a limit ended it */
  stop: 'exit' | 'drop' | null = null;

  /** header lines (with CRLF) for the next reply built for this message (append_to_reply) */
  readonly replyHeaders: string[] = [];
  /** the body (and its Content-Type) of the next reply built for this message (textops' set_reply_body) */
  replyBody: { readonly body: string; readonly contentType: string } | null = null;
  private edits: HeaderEdits | null = null;
  private varStore: Map<string, Xval> | null = null;
  private avpStore: Map<string, Xval[]> | null = null;
  private dsetStore: DestinationSet | null = null;
  private xavpStore: XavpStore | null = null;
  private xavuStore: XavpStore | null = null;
  private xaviStore: XavpStore | null = null;

  /** who answers for the message: replies, forwards, holds it (host/kemi/owner.ts); null for a reply or an event */
  owner: MessageOwner | null = null;
  /** the HTTP request, for a Context of kind 'http' (xhttp) */
  http: HttpRequestData | null = null;
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
   * true while async work holds this message. The owner sets it back to false when
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
    this.edits ??= { insert: [], append: [], remove: new Set(), maxForwards: null, recordRoute: null, dropRoutes: null, body: null };
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

  /** XAVPs (host/kemi/xavp.ts): named lists of records, made when first asked for. */
  get xavps(): XavpStore {
    this.xavpStore ??= new XavpStore();
    return this.xavpStore;
  }

  /** XAVUs: one node per name, setting replaces ($xavu, KSR.pvx.xavu_*). */
  get xavus(): XavpStore {
    this.xavuStore ??= new XavpStore();
    return this.xavuStore;
  }

  /** XAVIs: XAVPs whose names match case-insensitively ($xavi, KSR.pvx.xavi_*). */
  get xavis(): XavpStore {
    this.xaviStore ??= new XavpStore(true);
    return this.xaviStore;
  }

  /** The destination set (append_branch, lookup's branches): made when first asked for. */
  get dset(): DestinationSet {
    this.dsetStore ??= new DestinationSet();
    return this.dsetStore;
  }

  /** false while nothing asked for the destination set (t_relay then has the R-URI only) */
  get hasDset(): boolean {
    return this.dsetStore !== null;
  }

  /** Stop the running callback now (KSR.x.exit / KSR.x.drop). */
  stopScript(how: 'exit' | 'drop'): never {
    this.stop = how;
    if (how === 'drop') this.dropped = true;
    // eslint-disable-next-line @typescript-eslint/only-throw-error -- a sentinel, not an error: engines catch it by identity
    throw SCRIPT_STOP;
  }
}
