/**
 * xhttp's request handling: URL filter, body read with a cap, the event callback run on a
 * Context of kind 'http', and exactly one reply per request whatever the script does — its own
 * (KSR.xhttp.xhttp_reply), a default 500, a 504 when held too long, or a closed connection for
 * KSR.x.drop(). An Exchange is also the request's owner: async modules hold the request
 * past the callback and resume it in a route of their choosing.
 */
import { validateHeaderName, validateHeaderValue, type IncomingMessage, type OutgoingHttpHeaders, type ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import type { ErrorBoundary } from '../host/boundary.js';
import { Context } from '../host/kemi/context.js';
import { Hold, type MessageOwner, type ResumeStep } from '../host/kemi/owner.js';
import type { Counter } from '../host/kemi/stats.js';
import type { ScriptHandle } from '../host/kemi/types.js';
import { normalizeTarget } from '../host/http/normalize-path.js';
import { readBody } from '../host/http/read-body.js';
import type { Matcher } from '../host/safe-regex.js';
import { LogLimiter } from '../host/log-limiter.js';

export interface XhttpOptions {
  /** the script function run for each request; '' = none (every request gets 404) */
  readonly callback: string;
  /** url_skip, url_match: tested on the normalised URL (host/http/normalize-path.ts) */
  readonly skip: Matcher | null;
  readonly match: Matcher | null;
  readonly maxBodyBytes: number;
  readonly suspendTimeoutMs: number;
  readonly sendTimeoutMs: number;
}

export interface XhttpCounters {
  readonly requests: Counter;
  readonly replies: Counter;
  readonly defaultReplies: Counter;
  readonly errors: Counter;
  readonly timeouts: Counter;
  readonly notFound: Counter;
  readonly tooLarge: Counter;
  readonly dropped: Counter;
}

/** What xhttp offers other modules (ModuleHost.api('xhttp')): the exchange of a Context. */
export interface XhttpApi {
  exchangeOf(ctx: Context): Exchange | null;
}

type RunResult = ReturnType<ScriptHandle['run']>;

/** What the event callback gets as its one argument, as in Kamailio. */
const EVENT_NAME = 'xhttp:request';
/** Statuses whose replies carry no body and no Content-Length (RFC 9110 §6.4.1, §8.6). */
const NO_BODY = new Set([204, 304]);
/** Framing is ours: a script's append_to_reply must not contradict the body we send. */
const FRAMING = new Set(['content-length', 'transfer-encoding']);

export class XhttpServer {
  private closed = false;
  /** requests held for async work: answered 503 when the module closes */
  private readonly held = new Set<Exchange>();
  /** the exchange of each xhttp request Context, for xhttp_reply */
  private readonly exchanges = new WeakMap<Context, Exchange>();
  private readonly limiter = new LogLimiter(10_000);

  constructor(
    readonly opts: XhttpOptions,
    readonly stats: XhttpCounters,
    private readonly script: ScriptHandle,
    private readonly log: Logger,
    /** where the hold timers run (host/boundary.ts) */
    readonly boundary: ErrorBoundary,
  ) {}

  /** The HTTP listener's request handler. */
  readonly handle = (req: IncomingMessage, res: ServerResponse): void => {
    this.stats.requests.value++;
    if (this.closed) {
      sendPlain(res, 503, 'Service Unavailable', true);
      return;
    }
    if (!this.routed(req.url ?? '/')) {
      this.stats.notFound.value++;
      sendPlain(res, 404, 'Not Found', false);
      return;
    }
    this.readBody(req, res);
  };

  /**
   * Kamailio's order: url_skip first (a match skips), then url_match (no match skips). Both see
   * the normalised URL, so another spelling of a skipped path cannot slip past.
   */
  private routed(url: string): boolean {
    const o = this.opts;
    if (o.callback === '') return false;
    if (o.skip === null && o.match === null) return true;
    const n = normalizeTarget(url);
    if (o.skip?.test(n) === true) return false;
    return o.match === null || o.match.test(n);
  }

  private readBody(req: IncomingMessage, res: ServerResponse): void {
    readBody(req, this.opts.maxBodyBytes, (body) => { this.dispatch(req, res, body); }, () => { this.refuseTooLarge(res); });
  }

  private refuseTooLarge(res: ServerResponse): void {
    this.stats.tooLarge.value++;
    // The rest of the body is not read: close the connection after the reply.
    sendPlain(res, 413, 'Payload Too Large', true);
  }

  private dispatch(req: IncomingMessage, res: ServerResponse, body: Buffer): void {
    if (this.closed) {
      sendPlain(res, 503, 'Service Unavailable', true);
      return;
    }
    const sock = req.socket;
    const ctx = new Context('http', null, {
      proto: 'http',
      ip: plainIp(sock.remoteAddress),
      port: sock.remotePort ?? 0,
      localIp: plainIp(sock.localAddress),
      localPort: sock.localPort ?? 0,
    });
    ctx.http = { method: req.method ?? 'GET', url: req.url ?? '/', version: req.httpVersion, rawHeaders: req.rawHeaders, body };
    const ex = new Exchange(this, ctx, res);
    ctx.owner = ex;
    this.exchanges.set(ctx, ex);
    this.run(ex, this.opts.callback, EVENT_NAME);
  }

  /** The exchange of an xhttp request's Context; null for any other Context. */
  exchangeOf(ctx: Context): Exchange | null {
    return this.exchanges.get(ctx) ?? null;
  }

  /** Run the event callback, a resumed route or a callback waiting in place on the request, then settle what it left. */
  run(ex: Exchange, step: ResumeStep, arg: string | undefined): void {
    if (typeof step === 'string') this.settle(ex, step, this.script.run(step, ex.ctx, arg));
    else this.settle(ex, this.opts.callback, step());
  }

  private settle(ex: Exchange, route: string, r: RunResult): void {
    // Replied (or timed out, or the client left) while the callback ran: nothing more to do.
    if (ex.state === 'done') return;
    if (!r.ok) {
      // The failure itself is logged and counted by the script runner.
      this.stats.errors.value++;
      ex.finish(500, 'Internal Server Error');
      return;
    }
    // Held for async work: resume() or the hold timeout answers it.
    if (ex.state === 'held') return;
    if (r.stop === 'drop') {
      // KSR.x.drop(): "no reply". For HTTP that means closing the connection, never leaving it hanging.
      this.stats.dropped.value++;
      ex.abort();
      return;
    }
    this.stats.defaultReplies.value++;
    const key = `noreply|${route}`;
    if (this.limiter.allow(key)) {
      const { method, url } = ex.ctx.http ?? { method: '', url: '' };
      this.log.error(
        { route, method, url, suppressed: this.limiter.suppressed(key) },
        `${route}() returned without KSR.xhttp.xhttp_reply(); replied 500`,
      );
    }
    ex.finish(500, 'Internal Server Error');
  }

  hold(ex: Exchange): void {
    this.held.add(ex);
  }

  release(ex: Exchange): void {
    this.held.delete(ex);
  }

  timedOut(ex: Exchange): void {
    this.stats.timeouts.value++;
    const key = 'timeout';
    if (this.limiter.allow(key)) {
      const ms = this.opts.suspendTimeoutMs;
      this.log.warn({ url: ex.ctx.http?.url, ms, suppressed: this.limiter.suppressed(key) }, 'held HTTP request not resumed in time; replied 504');
    }
    ex.finish(504, 'Gateway Timeout');
  }

  /** Module close: answer what is held, refuse what still arrives. */
  close(): void {
    this.closed = true;
    for (const ex of [...this.held]) ex.finish(503, 'Service Unavailable');
  }
}

/**
 * One HTTP request handed to the script: its owner (host/kemi/owner.ts). It holds and resumes;
 * the SIP-only parts of the interface refuse (an HTTP request is answered by xhttp_reply).
 */
export class Exchange implements MessageOwner {
  readonly kind = 'http' as const;
  state: 'running' | 'held' | 'done' = 'running';
  private timer: NodeJS.Timeout | null = null;
  private watchingClose = false;

  constructor(
    private readonly server: XhttpServer,
    readonly ctx: Context,
    private readonly res: ServerResponse,
  ) {}

  canReply(): boolean {
    return false;
  }

  sendReply(): boolean {
    return false;
  }

  reply(): boolean {
    return false;
  }

  forward(): boolean {
    return false;
  }

  toTag(): string {
    return '';
  }

  hold(ctx: Context): Hold | string {
    if (ctx !== this.ctx || this.state !== 'running' || this.res.destroyed) return 'the HTTP request cannot be held (already answered, or the client left)';
    this.state = 'held';
    ctx.suspended = true;
    this.server.hold(this);
    this.timer = this.server.boundary.timeout('module-timer', this.server.opts.suspendTimeoutMs, () => { this.server.timedOut(this); }, null);
    if (!this.watchingClose) {
      this.watchingClose = true;
      // The client may leave while the request is held: then a later resume finds it gone.
      this.res.once('close', () => { this.settleDone(); });
    }
    return new Hold(ctx, (c, route, arg) => this.resume(c, route, arg));
  }

  resume(ctx: Context, route: ResumeStep, arg?: string): boolean {
    if (ctx !== this.ctx || this.state !== 'held') return false;
    this.unhold();
    this.state = 'running';
    this.server.run(this, route, arg);
    return true;
  }

  /**
   * KSR.xhttp.xhttp_reply: the one reply of this request. false when it cannot be sent (already
   * replied, client gone, a header or reason node refuses); then nothing was sent.
   */
  answer(code: number, reason: string, ctype: string, body: string): boolean {
    const headers = this.headersFor(ctype);
    if (headers === null) return false;
    const sent = this.send(code, reason, headers, body);
    if (sent) this.server.stats.replies.value++;
    return sent;
  }

  /** Whether xhttp_reply can still answer: not answered yet, the client still there. */
  canAnswer(): boolean {
    return this.state !== 'done' && !this.res.headersSent && !this.res.destroyed;
  }

  /**
   * The reply's headers as writeHead takes them: the Content-Type, then the script's
   * append_to_reply lines. null when node would refuse one, checked with node's own
   * validators, so that xhttp_reply's prediction of its result (xhttp.ts) is exact.
   */
  headersFor(ctype: string): string[] | null {
    const headers: string[] = [];
    const hasCtype = ctype !== '';
    if (hasCtype) headers.push('Content-Type', ctype);
    for (const line of this.ctx.replyHeaders) {
      const colon = line.indexOf(':');
      if (colon <= 0) continue;
      const name = line.slice(0, colon).trim();
      const lower = name.toLowerCase();
      if (FRAMING.has(lower) || (hasCtype && lower === 'content-type')) continue;
      headers.push(name, line.slice(colon + 1).trim());
    }
    try {
      for (let k = 0; k < headers.length; k += 2) {
        const name = headers[k] as string;
        validateHeaderName(name);
        validateHeaderValue(name, headers[k + 1] as string);
      }
    } catch {
      return null;
    }
    return headers;
  }

  /** A reply the host makes (default, error, timeout, shutdown): text/plain with the reason. */
  finish(code: number, reason: string): void {
    this.send(code, reason, ['Content-Type', 'text/plain'], `${reason}\n`);
  }

  /** End without a reply: close the connection. */
  abort(): void {
    this.settleDone();
    this.res.destroy();
  }

  /**
   * The body stays a string: node then writes the header block and the body in one write
   * (with a Buffer it needs a writev of two), measurably cheaper per request.
   */
  private send(code: number, reason: string, headers: string[], body: string): boolean {
    const res = this.res;
    if (this.state === 'done') return false;
    if (res.headersSent || res.destroyed) {
      this.settleDone();
      return false;
    }
    const hasBody = !NO_BODY.has(code);
    if (hasBody) headers.push('Content-Length', String(Buffer.byteLength(body, 'utf8')));
    try {
      // node checks the reason and every header name and value (no CR/LF, valid tokens).
      res.writeHead(code, reason, headers);
      // A client that does not read its reply must not keep the connection (and its buffer)
      // forever: with no 'timeout' listener node destroys the socket. Once the reply is out,
      // node replaces this with the keep-alive timeout, and clears it for the next request.
      res.setTimeout(this.server.opts.sendTimeoutMs);
    } catch {
      // Nothing was written: the script may try again, else the default reply follows.
      return false;
    }
    if (hasBody) res.end(body, 'utf8');
    else res.end();
    this.settleDone();
    this.ctx.replied = true;
    return true;
  }

  private unhold(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    this.ctx.suspended = false;
    this.server.release(this);
  }

  private settleDone(): void {
    if (this.state === 'done') return;
    this.unhold();
    this.state = 'done';
  }
}

/** A reply written by the host before any script ran (404, 413, 503). */
function sendPlain(res: ServerResponse, code: number, reason: string, close: boolean): void {
  if (res.headersSent || res.destroyed) return;
  const body = `${reason}\n`;
  const headers: OutgoingHttpHeaders = { 'Content-Type': 'text/plain', 'Content-Length': String(body.length) };
  if (close) headers.Connection = 'close';
  res.writeHead(code, reason, headers);
  res.end(body);
}

/** "::ffff:192.0.2.1" (an IPv4 client on a dual-stack socket) → "192.0.2.1", as $si shows it. */
function plainIp(ip: string | undefined): string {
  if (ip === undefined) return '';
  return ip.startsWith('::ffff:') && ip.includes('.') ? ip.slice(7) : ip;
}
