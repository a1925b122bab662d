/**
 * One running kemihost: transports, script engine, bindings. Two runtimes in one process
 * (the tests do this) share nothing.
 */
import type { Logger } from 'pino';
import { MODULES } from '../bindings/index.js';
import { ErrorBoundary } from './boundary.js';
import { dbOptionsFrom } from './db/config.js';
import { Databases } from './db/databases.js';
import { backpressureCounters } from './backpressure.js';
import type { Config } from './config.js';
import type { EngineKind, ScriptEngine } from './engines/engine.js';
import { engineKindOf } from './engines/index.js';
import { KemiError } from './errors.js';
import { HttpListener, splitHostPort, type HttpHandler } from './http/server.js';
import { KemiRegistry } from './kemi/registry.js';
import type { AnyModuleDef } from './kemi/types.js';
import { Stats } from './kemi/stats.js';
import { formatListen, parseListen } from './sip/listen.js';
import { Myself } from './sip/myself.js';
import { SipRouter } from './sip/router.js';
import { SipPort } from './sip/sip-port.js';
import type { SipSocket } from './sip/socket.js';
import { timersFrom } from './sip/transaction/config.js';
import { TcpListener } from './sip/tcp-transport.js';
import { UdpListener } from './sip/udp-transport.js';
import { ScriptRunner } from './script-runner.js';
import { Waits } from './waits.js';
import { Reloader, type ReloadOutcome, type ReloadTrigger } from './reload/reloader.js';
import { ScriptWatcher } from './reload/watcher.js';
import type { RpcMethodDef } from './rpc/jsonrpc.js';
import { rpcMethods } from './rpc/methods.js';
import { RpcServer } from './rpc/server.js';

export interface RuntimeOptions {
  readonly config: Config;
  /** absolute or cwd-relative path of the routing script */
  readonly scriptPath: string;
  readonly log: Logger;
  /** bindings added after the standard list: tests use this for test-only modules */
  readonly extraModules?: readonly AnyModuleDef[];
}

export class Runtime {
  readonly stats = new Stats();
  readonly myself = new Myself();
  /** what modules send through outside a message (nathelper's keepalives); attached to the router once it is open */
  private readonly sipPort = new SipPort();
  /** where every piece of work that enters this runtime runs (host/boundary.ts) */
  readonly boundary: ErrorBoundary;
  /** the modules' databases, one per db_url (host/db) */
  readonly databases: Databases;
  readonly registry: KemiRegistry;
  /** runs callbacks of the current script version (for the SIP router and the bindings) */
  readonly script: ScriptRunner;
  /** callbacks waiting in place */
  readonly waits: Waits;
  readonly engineKind: EngineKind;
  /** builds, probes and swaps script versions (hot reload) */
  readonly reloader: Reloader;
  readonly startedAt = new Date();
  private watcher: ScriptWatcher | null = null;
  private rpc: RpcServer | null = null;
  /** the control RPC methods: the listener's, and KSR.jsonrpcs's (built once, when first needed) */
  private controlMethods: Map<string, RpcMethodDef> | null = null;
  private readonly sockets: SipSocket[] = [];
  private http: HttpListener | null = null;
  private router: SipRouter | null = null;
  private httpHandler: HttpHandler | null = null;
  private closed = false;

  private constructor(private readonly opts: RuntimeOptions) {
    this.boundary = new ErrorBoundary(opts.log.child({ module: 'core' }), this.stats);
    this.databases = new Databases(opts.log.child({ module: 'db' }), dbOptionsFrom(opts.config));
    this.script = new ScriptRunner(opts.log.child({ module: 'script' }), this.stats);
    const { limits } = opts.config;
    this.waits = new Waits(opts.log.child({ module: 'wait' }), this.stats, this.boundary, this.script, { waitMs: limits.wait_ms, maxWaiting: limits.max_waiting });
    this.engineKind = engineKindOf(opts.scriptPath);
    this.registry = new KemiRegistry(opts.extraModules === undefined ? MODULES : [...MODULES, ...opts.extraModules], {
      log: opts.log,
      stats: this.stats,
      boundary: this.boundary,
      myself: this.myself,
      script: this.script,
      params: opts.config.modules,
      dbUrl: opts.config.db_url,
      databases: this.databases,
      controlRpc: () => this.rpcMethodMap(),
      sip: this.sipPort,
      http: opts.config.http.listen === 'off' ? null : {
        setHandler: (h) => {
          this.httpHandler = h;
          this.http?.setHandler(h);
        },
        address: () => this.httpAddress,
      },
    });
    this.reloader = new Reloader(
      this.script,
      opts.scriptPath,
      {
        kind: this.engineKind,
        registry: this.registry,
        log: opts.log.child({ module: 'engine' }),
        cpuMs: limits.cpu_ms,
        memoryMb: limits.memory_mb,
        luaStdlib: opts.config.lua.stdlib,
        waits: this.waits,
      },
      this.stats,
      opts.log.child({ module: 'reload' }),
    );
  }

  /** Load the script, then open the listeners. Throws KemiError for a bad script or address. */
  static async start(opts: RuntimeOptions): Promise<Runtime> {
    const rt = new Runtime(opts);
    try {
      await rt.registry.start();
      await rt.reloader.loadInitial();
      await rt.openListeners();
      await rt.openControl();
    } catch (e) {
      await rt.close();
      throw e;
    }
    return rt;
  }

  get scriptPath(): string {
    return this.opts.scriptPath;
  }

  /** The current script version's engine; throws before start. */
  get currentEngine(): ScriptEngine {
    const v = this.script.current;
    if (v === null) throw new KemiError('KEMI_ERR_ENGINE', 'no script loaded');
    return v.engine;
  }

  /** host:port of the control RPC listener, or null when it is off. */
  get rpcAddress(): string | null {
    return this.rpc?.address ?? null;
  }

  /** Reload the script file (SIGHUP, RPC, --watch); never throws, the outcome says what happened. */
  reload(trigger: ReloadTrigger, force = true): Promise<ReloadOutcome> {
    return this.reloader.reload(trigger, force);
  }

  private rpcMethodMap(): Map<string, RpcMethodDef> {
    this.controlMethods ??= rpcMethods(this);
    return this.controlMethods;
  }

  /** The control RPC listener and the file watcher, when configured. */
  private async openControl(): Promise<void> {
    const { config, log } = this.opts;
    if (config.reload.watch) {
      this.watcher = new ScriptWatcher(this.opts.scriptPath, config.reload.debounce_ms, () => { void this.reload('watch', false); }, log.child({ module: 'reload' }));
      this.watcher.start();
    }
    const r = config.rpc;
    if (r.listen === 'off') return;
    this.rpc = new RpcServer(
      {
        listen: r.listen,
        token: r.token,
        maxBodyBytes: r.max_body_bytes,
        requestTimeoutMs: r.request_timeout_ms,
        maxConnections: r.max_connections,
        maxUnsentBytes: r.max_unsent_bytes,
        stalledTimeoutMs: r.stalled_timeout_ms,
      },
      this.rpcMethodMap(),
      this,
      log.child({ module: 'rpc' }),
      this.boundary,
    );
    await this.rpc.listen();
  }

  /** "udp:127.0.0.1:5060" for every SIP socket, with the port actually bound. */
  get sipAddresses(): string[] {
    return this.sockets.map((s) => formatListen(s.proto, s.localIp, s.localPort));
  }

  get httpAddress(): string | null {
    return this.http === null ? null : `${this.http.host.includes(':') ? `[${this.http.host}]` : this.http.host}:${String(this.http.port)}`;
  }

  private async openListeners(): Promise<void> {
    const { config, log } = this.opts;
    const router = new SipRouter({
      log: log.child({ module: 'sip' }),
      boundary: this.boundary,
      stats: this.stats,
      myself: this.myself,
      script: this.script,
      maxMessageBytes: config.limits.max_message_bytes,
      serverHeader: config.sip.server_header,
      tm: timersFrom(config.modules.tm),
      takeReply: this.sipPort.takeReply,
    });
    this.router = router;
    const tcpOpts = {
      maxMessageBytes: config.limits.max_message_bytes,
      idleTimeoutMs: config.sip.tcp_idle_timeout_ms,
      partialTimeoutMs: config.sip.tcp_partial_timeout_ms,
      maxConnections: config.sip.tcp_max_connections,
      maxUnsentBytes: config.sip.tcp_max_unsent_bytes,
      stalledTimeoutMs: config.sip.tcp_stalled_timeout_ms,
      backpressure: backpressureCounters(this.stats, 'tcp'),
    };
    for (const spec of config.listen) {
      const l = parseListen(spec);
      const sock =
        l.proto === 'udp'
          ? new UdpListener(l.host, l.port, log.child({ module: 'udp' }))
          : new TcpListener(l.host, l.port, tcpOpts, log.child({ module: 'tcp' }), router.onFrameError);
      try {
        await sock.listen(router.receive);
      } catch (e) {
        throw new KemiError('KEMI_ERR_LISTEN', `cannot listen on ${spec}: ${(e as Error).message}`);
      }
      this.sockets.push(sock);
      router.addSocket(sock);
      this.myself.add(sock.localIp, sock.localPort);
    }
    this.sipPort.attach(router);
    for (const alias of config.aliases) {
      const m = /^(\[[^\]]+\]|[^:]+)(?::(\d+))?$/.exec(alias);
      this.myself.add(m?.[1] ?? alias, Number(m?.[2] ?? 0));
    }
    if (config.http.listen !== 'off') {
      const { host, port } = splitHostPort(config.http.listen);
      const h = config.http;
      const http = new HttpListener(
        {
          host,
          port,
          headersTimeoutMs: h.headers_timeout_ms,
          requestTimeoutMs: h.request_timeout_ms,
          keepAliveTimeoutMs: h.keepalive_timeout_ms,
          maxHeaderBytes: h.max_header_bytes,
          maxConnections: h.max_connections,
          maxUnsentBytes: h.max_unsent_bytes,
          stalledTimeoutMs: h.stalled_timeout_ms,
          backpressure: backpressureCounters(this.stats, 'http'),
        },
        log.child({ module: 'http' }),
        this.boundary,
      );
      if (this.httpHandler !== null) http.setHandler(this.httpHandler);
      try {
        await http.listen();
      } catch (e) {
        throw new KemiError('KEMI_ERR_LISTEN', `cannot listen on http ${config.http.listen}: ${(e as Error).message}`);
      }
      this.http = http;
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    // No reload may swap a version in while the rest goes down; the control listener goes first.
    this.watcher?.close();
    await this.reloader.close();
    if (this.rpc !== null) await this.rpc.close();
    // Callbacks waiting in place go on now with their calls' failure values, while what they
    // send can still leave (docs/waiting.md).
    this.waits.close();
    // Transaction timers stop first: none may fire on a socket that is closing.
    this.sipPort.attach(null);
    this.router?.close();
    await Promise.allSettled(this.sockets.map((s) => s.close()));
    // Modules close before the HTTP listener: xhttp answers the requests it holds (and any that still arrive), so
    // the HTTP listener's drain below does not wait for requests nobody will answer.
    await this.registry.close();
    await this.databases.close();
    if (this.http !== null) await this.http.close();
    this.script.disposeAll();
  }
}
