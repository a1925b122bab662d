/**
 * What KSR.http_async_client and KSR.async_http share: one HttpClient per runtime (its pooled
 * Agents), the queries in flight, the per-Context `$http_req` settings and results, and the
 * delivery of a result to the script — resuming the held message in the named route, or
 * running the route on a Context of its own. Every query ends in exactly one delivery: a reply,
 * an error or a timeout; when the held message is gone by then, nothing runs (counted, logged).
 */
import type { Logger } from 'pino';
import type { ErrorBoundary } from '../host/boundary.js';
import { Context } from '../host/kemi/context.js';
import { type Hold, holdMessage } from '../host/kemi/owner.js';
import type { Counter } from '../host/kemi/stats.js';
import type { ModuleHost, ScriptHandle } from '../host/kemi/types.js';
import { HttpClient, type QueryResult } from '../host/http-client/client.js';
import { LogLimiter } from '../host/log-limiter.js';
import { transactionOf } from '../host/sip/transaction/transaction-layer.js';
import { emptySettings, type ReqSettings } from './http-async-client-req.js';

/** The module parameters, resolved: the defaults of every query. */
export interface ClientDefaults {
  readonly connectionTimeoutMs: number;
  readonly tlsVersion: number;
  readonly tlsVerifyHost: boolean;
  readonly tlsVerifyPeer: boolean;
  readonly verbose: boolean;
  readonly followRedirect: boolean;
  readonly tlsClientCert: string;
  readonly tlsClientKey: string;
  readonly tlsCaPath: string;
  readonly tcpKeepalive: boolean;
  readonly tcpKaIdle: number;
  readonly maxBodyBytes: number;
  readonly maxInFlight: number;
}

export type QueryCounters = Readonly<Record<'requests' | 'replies' | 'errors' | 'timeouts' | 'gone' | 'refused', Counter>>;

/** A result as the route sees it. */
export interface Delivered {
  readonly id: string;
  readonly result: QueryResult;
  readonly xdata: string | null;
}

interface PerContext {
  req: ReqSettings | null;
  lastId: string | null;
  delivered: Delivered | null;
}

export interface QueryOrder {
  /** 'KSR.http_async_client.query', for log lines */
  readonly fname: string;
  readonly url: string;
  readonly route: string;
  /** false: never suspend (send, send_xdata) */
  readonly mayHold: boolean;
  readonly xdata: string | null;
  /** the async_http form: method and body given by the call; results also in $avp(http_*) */
  readonly method?: string;
  readonly body?: string;
  readonly avps: boolean;
  readonly timeoutMs: number;
  readonly c: QueryCounters;
}

export class HttpAsyncCore {
  readonly client: HttpClient;
  private readonly perCtx = new WeakMap<Context, PerContext>();
  private readonly inFlight = new Map<number, { abort(): void }>();
  private readonly limiter = new LogLimiter(10_000);
  private readonly idPrefix = `${process.pid.toString(36)}${Date.now().toString(36)}`;
  private nextId = 1;
  private closed = false;

  constructor(
    readonly defaults: ClientDefaults,
    private readonly log: Logger,
    private readonly script: ScriptHandle,
    /** every completion (a reply, an error, a timeout) runs inside it */
    private readonly boundary: ErrorBoundary,
  ) {
    this.client = new HttpClient(defaults.connectionTimeoutMs);
  }

  private state(ctx: Context): PerContext {
    let p = this.perCtx.get(ctx);
    if (p === undefined) {
      p = { req: null, lastId: null, delivered: null };
      this.perCtx.set(ctx, p);
    }
    return p;
  }

  /** The `$http_req` settings for the next query from ctx, created on first write. */
  settings(ctx: Context): ReqSettings {
    const p = this.state(ctx);
    p.req ??= emptySettings();
    return p.req;
  }

  peekSettings(ctx: Context): ReqSettings | undefined {
    return this.perCtx.get(ctx)?.req ?? undefined;
  }

  resetSettings(ctx: Context): void {
    const p = this.perCtx.get(ctx);
    if (p !== undefined) p.req = null;
  }

  delivered(ctx: Context): Delivered | null {
    return this.perCtx.get(ctx)?.delivered ?? null;
  }

  /** the query sent last from ctx, or the one whose result ctx holds, whichever came last */
  lastId(ctx: Context): string | null {
    return this.perCtx.get(ctx)?.lastId ?? null;
  }

  complain(c: QueryCounters | null, text: string, fields: Record<string, unknown> = {}): number {
    if (c !== null) c.refused.value++;
    if (this.limiter.allow(text)) this.log.error({ ...fields, at: this.script.location(), suppressed: this.limiter.suppressed(text) }, text);
    return -1;
  }

  /** Kamailio's rule: hold the message when it has a transaction (here also: an xhttp request). */
  private canHold(ctx: Context): boolean {
    if (ctx.owner === null || ctx.suspended) return false;
    return transactionOf(ctx) !== null || ctx.kind === 'http';
  }

  /** Where a held message found gone is told of: this core's rate-limited log. */
  private readonly goneNote: Pick<ModuleHost, 'complain'> = {
    complain: (text, fields = {}, level = 'info') => {
      if (this.limiter.allow(text)) this.log[level]({ ...fields, suppressed: this.limiter.suppressed(text) }, `http_async_client: ${text}`);
    },
  };

  /** Start a query. 0: the message is held; 1: the script goes on; -1: nothing was sent. */
  start(ctx: Context, o: QueryOrder): number {
    if (this.closed) return -1;
    const p = this.state(ctx);
    // the settings are for this one query, whatever happens to it
    const req = p.req ?? emptySettings();
    p.req = null;
    let url: URL;
    try {
      url = new URL(o.url);
    } catch {
      return this.complain(o.c, `${o.fname}: not a URL`, { url: o.url });
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') return this.complain(o.c, `${o.fname}: only http and https URLs`, { url: o.url });
    if (!this.script.has(o.route)) return this.complain(o.c, `${o.fname}: the script defines no function named "${o.route}"`, { route: o.route });
    if (this.inFlight.size >= this.defaults.maxInFlight) {
      return this.complain(o.c, `${o.fname}: ${String(this.defaults.maxInFlight)} queries already in flight (max_in_flight); query refused`);
    }

    let hold: Hold | null = null;
    if (o.mayHold && req.suspend !== false && this.canHold(ctx)) {
      const h = holdMessage(ctx);
      if (typeof h === 'string') return this.complain(o.c, `${o.fname}: ${h}`);
      hold = h;
    }

    const d = this.defaults;
    const body = o.body ?? req.body;
    const method = o.method ?? req.method ?? (body === null ? 'GET' : 'POST');
    const n = this.nextId++;
    const id = `${this.idPrefix}.${String(n)}`;
    p.lastId = id;
    const spec = {
      url,
      method,
      headers: req.headers,
      body,
      timeoutMs: req.timeoutMs ?? o.timeoutMs,
      username: req.username ?? '',
      password: req.password ?? '',
      authmethod: req.authmethod ?? 3,
      followRedirect: req.followRedirect ?? d.followRedirect,
      maxBodyBytes: d.maxBodyBytes,
      conn: {
        clientCert: req.tlsClientCert ?? d.tlsClientCert,
        clientKey: req.tlsClientKey ?? d.tlsClientKey,
        caPath: req.tlsCaPath ?? d.tlsCaPath,
        verifyPeer: d.tlsVerifyPeer,
        verifyHost: d.tlsVerifyHost,
        tlsVersion: d.tlsVersion,
        h2: req.h2 ?? false,
        tcpKeepalive: req.tcpKeepalive ?? d.tcpKeepalive,
        tcpKaIdle: req.tcpKaIdle ?? d.tcpKaIdle,
      },
    };
    if (d.verbose) this.log.info({ id, method, url: url.href, headers: spec.headers }, 'http_async_client: request');
    o.c.requests.value++;
    const src = ctx.src;
    const handle = this.client.query(spec, (result) => { this.boundary.run('module-promise', () => {
      this.inFlight.delete(n);
      if (this.closed) return;
      if (d.verbose) this.log.info({ id, status: result.res?.status, reason: result.res?.reason, headers: result.res?.rawHeaders, err: result.err }, 'http_async_client: response');
      if (result.ok) o.c.replies.value++;
      else if (result.timedOut) o.c.timeouts.value++;
      else o.c.errors.value++;
      const delivered: Delivered = { id, result, xdata: o.xdata };
      if (hold !== null) {
        this.put(ctx, delivered, o.avps);
        hold.resume(o.route, { counter: o.c.gone, host: this.goneNote });
        return;
      }
      const ectx = new Context('event', null, src);
      this.put(ectx, delivered, o.avps);
      this.script.run(o.route, ectx);
    }); });
    this.inFlight.set(n, handle);
    return hold !== null ? 0 : 1;
  }

  private put(ctx: Context, delivered: Delivered, avps: boolean): void {
    const p = this.state(ctx);
    p.delivered = delivered;
    p.lastId = delivered.id;
    if (!avps) return;
    const r = delivered.result;
    // async_http's results: each AVP holds this query's value only ($null ones are removed)
    ctx.avps.set('http_rc', [r.res?.status ?? 0]);
    if (r.res !== null) ctx.avps.set('http_rb', [r.res.body.toString('utf8')]);
    else ctx.avps.delete('http_rb');
    if (r.err !== null) ctx.avps.set('http_error', [r.err]);
    else ctx.avps.delete('http_error');
  }

  get inFlightCount(): number {
    return this.inFlight.size;
  }

  /** Abort every query in flight (their routes do not run) and close the connections. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const h of this.inFlight.values()) h.abort();
    this.inFlight.clear();
    await this.client.close();
  }
}

/**
 * One core per runtime, found by async_http through the runtime's PV registry (an object each
 * runtime has exactly one of), so the two modules share one client without a global.
 */
const cores = new WeakMap<object, HttpAsyncCore>();

export function registerCore(runtimeKey: object, core: HttpAsyncCore): void {
  cores.set(runtimeKey, core);
}

export function findCore(runtimeKey: object): HttpAsyncCore | undefined {
  return cores.get(runtimeKey);
}
