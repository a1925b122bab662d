/**
 * Hot reload: build beside, probe, swap (DESIGN.md §7). The new source is compiled into a NEW
 * engine instance and probed for the required callbacks; only a version that passes both is
 * handed to the ScriptRunner, in one assignment, so a reload is never half-applied. A failure
 * leaves the running version in place and is logged with file:line, counted and returned.
 *
 * Reloads run one at a time. Requests that arrive while one runs share the next one (a burst of
 * SIGHUPs or file events costs at most two builds), and nothing retries a failed build by itself:
 * the next trigger does.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { Logger } from 'pino';
import { REQUIRED_CALLBACKS, type EngineKind } from '../engines/engine.js';
import { createEngine } from '../engines/index.js';
import { describeError, isKemiError, KemiError, type KemiErrorCode } from '../errors.js';
import type { KemiRegistry } from '../kemi/registry.js';
import type { Counter, Stats } from '../kemi/stats.js';
import type { ScriptRunner } from '../script-runner.js';
import type { WaitHost } from '../waits.js';
import { ScriptVersion, type VersionInfo } from './version.js';

export interface BuildOptions {
  readonly kind: EngineKind;
  readonly registry: KemiRegistry;
  readonly log: Logger;
  readonly cpuMs: number;
  readonly memoryMb: number;
  readonly luaStdlib?: 'safe' | 'full';
  readonly waits?: WaitHost;
}

export function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/** Compile and probe one version. Throws KemiError (with the script location when known); leaves no engine behind. */
export async function buildVersion(number: number, source: string, path: string, opts: BuildOptions): Promise<ScriptVersion> {
  const engine = await createEngine(opts.kind, {
    registry: opts.registry,
    log: opts.log,
    cpuMs: opts.cpuMs,
    memoryMb: opts.memoryMb,
    ...(opts.luaStdlib === undefined ? {} : { luaStdlib: opts.luaStdlib }),
    ...(opts.waits === undefined ? {} : { waits: opts.waits }),
  });
  try {
    engine.load(source, path);
    for (const name of REQUIRED_CALLBACKS) {
      if (!engine.has(name)) {
        throw new KemiError('KEMI_ERR_SCRIPT_PROBE', `${path}: the script does not define ${name}()`, { location: path });
      }
    }
  } catch (e) {
    engine.dispose();
    throw e;
  }
  return new ScriptVersion(number, engine, { path, sha256: sha256(source) });
}

export type ReloadTrigger = 'rpc' | 'signal' | 'watch';

export interface ReloadError {
  readonly code: KemiErrorCode;
  readonly message: string;
  /** file:line in the script when the compiler said where */
  readonly location: string | null;
}

export type ReloadOutcome =
  | { readonly ok: true; readonly changed: boolean; readonly current: VersionInfo; readonly draining: VersionInfo[] }
  | { readonly ok: false; readonly error: ReloadError; readonly current: VersionInfo | null; readonly draining: VersionInfo[] };

interface Pending {
  readonly promise: Promise<ReloadOutcome>;
  /** false: skip the build when the file's hash is the current version's (file events) */
  force: boolean;
  trigger: ReloadTrigger;
}

export class Reloader {
  private tail: Promise<unknown> = Promise.resolve();
  private queued: Pending | null = null;
  private nextNumber = 1;
  private closed = false;
  private readonly reloads: Counter;
  private readonly failures: Counter;
  /** the last failed reload, for `script.info` */
  lastError: (ReloadError & { readonly at: string; readonly trigger: ReloadTrigger }) | null = null;

  constructor(
    private readonly runner: ScriptRunner,
    readonly path: string,
    private readonly build: BuildOptions,
    stats: Stats,
    private readonly log: Logger,
  ) {
    this.reloads = stats.counter('script', 'reloads');
    this.failures = stats.counter('script', 'reload_failures');
  }

  /** The first version, at start: a failure is the caller's (the process does not start). */
  async loadInitial(): Promise<void> {
    const source = await this.read();
    this.runner.install(await buildVersion(this.nextNumber, source, this.path, this.build));
    this.nextNumber++;
  }

  /**
   * Reload the script file. `force: false` (file events) skips the build when the content is
   * what already runs. Never throws: the outcome says what happened.
   */
  reload(trigger: ReloadTrigger, force = true): Promise<ReloadOutcome> {
    const q = this.queued;
    if (q !== null) {
      q.force ||= force;
      if (force) q.trigger = trigger;
      return q.promise;
    }
    const pending: { force: boolean; trigger: ReloadTrigger } = { force, trigger };
    const promise = this.tail.then(() => {
      this.queued = null;
      return this.attempt(pending.trigger, pending.force);
    });
    this.queued = Object.assign(pending, { promise });
    this.tail = promise;
    return promise;
  }

  /** Wait for a reload in progress; later ones are refused. */
  async close(): Promise<void> {
    this.closed = true;
    await this.tail;
  }

  private async attempt(trigger: ReloadTrigger, force: boolean): Promise<ReloadOutcome> {
    if (this.closed) return this.failed(trigger, { code: 'KEMI_ERR_ENGINE', message: 'the server is shutting down', location: null });
    let source: string;
    let version: ScriptVersion;
    try {
      source = await this.read();
      const cur = this.runner.current;
      if (!force && cur !== null && cur.source.sha256 === sha256(source)) return this.succeeded(false);
      version = await buildVersion(this.nextNumber, source, this.path, this.build);
    } catch (e) {
      return this.failed(trigger, errorOf(e));
    }
    // close() may have come while the build awaited
    if (this.isClosed()) {
      version.engine.dispose();
      return this.failed(trigger, { code: 'KEMI_ERR_ENGINE', message: 'the server is shutting down', location: null });
    }
    this.nextNumber++;
    const previous = this.runner.current?.number ?? null;
    this.runner.install(version);
    this.reloads.value++;
    this.lastError = null;
    const draining = this.runner.drainingVersions.map((v) => v.number);
    this.log.info({ trigger, version: version.number, previous, sha256: version.source.sha256, draining }, 'script reloaded');
    return this.succeeded(true);
  }

  private isClosed(): boolean {
    return this.closed;
  }

  private async read(): Promise<string> {
    try {
      return await readFile(this.path, 'utf8');
    } catch (e) {
      throw new KemiError('KEMI_ERR_SCRIPT_LOAD', `cannot read script ${this.path}: ${(e as Error).message}`);
    }
  }

  private succeeded(changed: boolean): ReloadOutcome {
    const cur = this.runner.current;
    if (cur === null) throw new Error('reload succeeded without a current version');
    return { ok: true, changed, current: cur.info(), draining: this.runner.drainingVersions.map((v) => v.info()) };
  }

  private failed(trigger: ReloadTrigger, error: ReloadError): ReloadOutcome {
    this.failures.value++;
    this.lastError = { ...error, at: new Date().toISOString(), trigger };
    const cur = this.runner.current;
    this.log.error(
      { trigger, code: error.code, at: error.location ?? undefined, serving: cur?.number },
      `script reload failed, version ${String(cur?.number ?? '-')} keeps serving: ${error.message}`,
    );
    return { ok: false, error, current: cur?.info() ?? null, draining: this.runner.drainingVersions.map((v) => v.info()) };
  }
}

function errorOf(e: unknown): ReloadError {
  if (isKemiError(e)) return { code: e.code, message: e.message, location: e.location ?? null };
  return { code: 'KEMI_ERR_ENGINE', message: describeError(e), location: null };
}
