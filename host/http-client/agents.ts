/**
 * The undici dispatchers of the async HTTP client. Most queries share one pooled keep-alive
 * Agent; TLS material, verification, the TLS version, TCP keepalive and HTTP/2 are connection
 * options, so a query asking for others needs an Agent of its own. Those are cached by their
 * option tuple (a script uses a handful of combinations) and the cache is bounded: past it the
 * least recently used Agent is closed (gracefully: its requests in flight finish).
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { PeerCertificate, SecureVersion } from 'node:tls';
import { Agent } from 'undici';

export interface TlsOptions {
  /** PEM file paths, '' = none */
  readonly clientCert: string;
  readonly clientKey: string;
  /** a directory of PEM CA certificates (curl's CAPATH) or one PEM file; '' = node's default CAs */
  readonly caPath: string;
  readonly verifyPeer: boolean;
  readonly verifyHost: boolean;
  /** curl's CURLOPT_SSLVERSION number; 0 = default */
  readonly tlsVersion: number;
}

export interface ConnOptions extends TlsOptions {
  readonly h2: boolean;
  readonly tcpKeepalive: boolean;
  /** seconds before the first keepalive probe; 0 = the OS default */
  readonly tcpKaIdle: number;
}

const MAX_AGENTS = 16;
/** how long an idle pooled connection is kept */
const KEEP_ALIVE_MS = 30_000;

/** curl's CURL_SSLVERSION_* → the lowest TLS version node may negotiate. */
function minVersion(v: number): SecureVersion | undefined {
  switch (v) {
    case 1:
    case 4:
      return 'TLSv1';
    case 5:
      return 'TLSv1.1';
    case 6:
      return 'TLSv1.2';
    case 7:
      return 'TLSv1.3';
    default:
      return undefined;
  }
}

/** PEM CA certificates from a file, or from every *.pem / *.crt file of a directory. */
function readCa(path: string): Buffer[] {
  if (!statSync(path).isDirectory()) return [readFileSync(path)];
  return readdirSync(path)
    .filter((f) => /\.(pem|crt|cer)$/i.test(f))
    .sort()
    .map((f) => readFileSync(join(path, f)));
}

/** The TLS connection options this client sets (a subset of node's, typed for undici's connector). */
interface TlsConnect {
  rejectUnauthorized: boolean;
  checkServerIdentity?: (host: string, cert: PeerCertificate) => Error | undefined;
  cert?: Buffer;
  key?: Buffer;
  ca?: Buffer[];
  minVersion?: SecureVersion;
}

function tlsOf(o: ConnOptions): TlsConnect {
  const tls: TlsConnect = { rejectUnauthorized: o.verifyPeer };
  if (!o.verifyHost) tls.checkServerIdentity = () => undefined;
  if (o.clientCert !== '') tls.cert = readFileSync(o.clientCert);
  if (o.clientKey !== '') tls.key = readFileSync(o.clientKey);
  if (o.caPath !== '') tls.ca = readCa(o.caPath);
  const min = minVersion(o.tlsVersion);
  if (min !== undefined) tls.minVersion = min;
  return tls;
}

export class AgentCache {
  private readonly agents = new Map<string, Agent>();
  private closed = false;

  constructor(private readonly connectTimeoutMs: number) {}

  /** The Agent for these options; throws (with the file named) when TLS material cannot be read. */
  get(o: ConnOptions): Agent {
    if (this.closed) throw new Error('the HTTP client is closed');
    const key = JSON.stringify([o.clientCert, o.clientKey, o.caPath, o.verifyPeer, o.verifyHost, o.tlsVersion, o.h2, o.tcpKeepalive, o.tcpKaIdle]);
    const hit = this.agents.get(key);
    if (hit !== undefined) {
      // most recently used last: the Map's order is the eviction order
      this.agents.delete(key);
      this.agents.set(key, hit);
      return hit;
    }
    const agent = new Agent({
      keepAliveTimeout: KEEP_ALIVE_MS,
      allowH2: o.h2,
      connect: {
        ...tlsOf(o),
        timeout: this.connectTimeoutMs,
        keepAlive: o.tcpKeepalive,
        ...(o.tcpKaIdle > 0 ? { keepAliveInitialDelay: o.tcpKaIdle * 1000 } : {}),
      },
    });
    this.agents.set(key, agent);
    if (this.agents.size > MAX_AGENTS) {
      const [oldKey, old] = this.agents.entries().next().value as [string, Agent];
      this.agents.delete(oldKey);
      old.close().catch(() => undefined);
    }
    return agent;
  }

  get size(): number {
    return this.agents.size;
  }

  /** Close every Agent at once: their connections are destroyed, requests in flight fail. */
  async close(): Promise<void> {
    this.closed = true;
    const all = [...this.agents.values()];
    this.agents.clear();
    await Promise.allSettled(all.map((a) => a.destroy()));
  }
}
