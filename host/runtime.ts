/**
 * One running kemihost: transports, script engine, bindings. Two runtimes in one process
 * (the tests do this) share nothing.
 */
import { readFileSync } from 'node:fs';
import type { Logger } from 'pino';
import { MODULES } from '../bindings/index.js';
import type { Config } from './config.js';
import { REQUIRED_CALLBACKS, type EngineKind, type ScriptEngine } from './engines/engine.js';
import { createEngine, engineKindOf } from './engines/index.js';
import { KemiError } from './errors.js';
import { HttpListener, splitHostPort, type HttpHandler } from './http/server.js';
import { KemiRegistry } from './kemi/registry.js';
import { Stats } from './kemi/stats.js';
import { formatListen, parseListen } from './sip/listen.js';
import { Myself } from './sip/myself.js';
import { SipRouter } from './sip/router.js';
import type { SipSocket } from './sip/socket.js';
import { TcpListener } from './sip/tcp-transport.js';
import { UdpListener } from './sip/udp-transport.js';
import { ScriptRunner } from './script-runner.js';

export interface RuntimeOptions {
  readonly config: Config;
  /** absolute or cwd-relative path of the routing script */
  readonly scriptPath: string;
  readonly log: Logger;
}

export class Runtime {
  readonly stats = new Stats();
  readonly myself = new Myself();
  readonly registry: KemiRegistry;
  /** runs callbacks of the current script version (for the SIP router and the bindings) */
  readonly script: ScriptRunner;
  readonly engineKind: EngineKind;
  private engine: ScriptEngine | null = null;
  private readonly sockets: SipSocket[] = [];
  private http: HttpListener | null = null;
  private httpHandler: HttpHandler | null = null;
  private closed = false;

  private constructor(private readonly opts: RuntimeOptions) {
    this.script = new ScriptRunner(() => this.engine, opts.log.child({ module: 'script' }), this.stats);
    this.engineKind = engineKindOf(opts.scriptPath);
    this.registry = new KemiRegistry(MODULES, {
      log: opts.log,
      stats: this.stats,
      myself: this.myself,
      script: this.script,
      params: opts.config.modules,
      http: opts.config.http.listen === 'off' ? null : {
        setHandler: (h) => {
          this.httpHandler = h;
          this.http?.setHandler(h);
        },
        address: () => this.httpAddress,
      },
    });
  }

  /** Load the script, then open the listeners. Throws KemiError for a bad script or address. */
  static async start(opts: RuntimeOptions): Promise<Runtime> {
    const rt = new Runtime(opts);
    try {
      await rt.loadScript();
      await rt.openListeners();
    } catch (e) {
      await rt.close();
      throw e;
    }
    return rt;
  }

  get scriptPath(): string {
    return this.opts.scriptPath;
  }

  /** The current script version; throws before start. */
  get currentEngine(): ScriptEngine {
    if (this.engine === null) throw new KemiError('KEMI_ERR_ENGINE', 'no script loaded');
    return this.engine;
  }

  /** "udp:127.0.0.1:5060" for every SIP socket, with the port actually bound. */
  get sipAddresses(): string[] {
    return this.sockets.map((s) => formatListen(s.proto, s.localIp, s.localPort));
  }

  get httpAddress(): string | null {
    return this.http === null ? null : `${this.http.host.includes(':') ? `[${this.http.host}]` : this.http.host}:${String(this.http.port)}`;
  }

  private async loadScript(): Promise<void> {
    const { config, scriptPath, log } = this.opts;
    let source: string;
    try {
      source = readFileSync(scriptPath, 'utf8');
    } catch (e) {
      throw new KemiError('KEMI_ERR_SCRIPT_LOAD', `cannot read script ${scriptPath}: ${(e as Error).message}`);
    }
    const engine = await createEngine(this.engineKind, {
      registry: this.registry,
      log: log.child({ module: 'engine' }),
      cpuMs: config.limits.cpu_ms,
      memoryMb: config.limits.memory_mb,
    });
    try {
      engine.load(source, scriptPath);
      for (const name of REQUIRED_CALLBACKS) {
        if (!engine.has(name)) {
          throw new KemiError('KEMI_ERR_SCRIPT_PROBE', `${scriptPath}: the script does not define ${name}()`, { location: scriptPath });
        }
      }
    } catch (e) {
      engine.dispose();
      throw e;
    }
    this.engine = engine;
  }

  private async openListeners(): Promise<void> {
    const { config, log } = this.opts;
    const router = new SipRouter({
      log: log.child({ module: 'sip' }),
      stats: this.stats,
      myself: this.myself,
      script: this.script,
      maxMessageBytes: config.limits.max_message_bytes,
      serverHeader: config.sip.server_header,
    });
    const tcpOpts = {
      maxMessageBytes: config.limits.max_message_bytes,
      idleTimeoutMs: config.sip.tcp_idle_timeout_ms,
      partialTimeoutMs: config.sip.tcp_partial_timeout_ms,
      maxConnections: config.sip.tcp_max_connections,
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
    for (const alias of config.aliases) {
      const m = /^(\[[^\]]+\]|[^:]+)(?::(\d+))?$/.exec(alias);
      this.myself.add(m?.[1] ?? alias, Number(m?.[2] ?? 0));
    }
    if (config.http.listen !== 'off') {
      const { host, port } = splitHostPort(config.http.listen);
      const http = new HttpListener(
        { host, port, headersTimeoutMs: 10_000, requestTimeoutMs: 30_000, keepAliveTimeoutMs: 5_000, maxHeaderBytes: 16_384 },
        log.child({ module: 'http' }),
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
    await Promise.allSettled(this.sockets.map((s) => s.close()));
    if (this.http !== null) await this.http.close();
    await this.registry.close();
    this.engine?.dispose();
    this.engine = null;
  }
}
