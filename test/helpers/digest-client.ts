/**
 * A UAC's side of digest authentication for the tests, written from RFC 2617 §3.2.2 and
 * RFC 7616 §3.4 with node:crypto (not with kemihost's own code, so a test checks the server
 * against an independent computation): read a challenge, build the Authorization value.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { SipMessage } from '../../host/sip/message.js';

export interface Challenge {
  readonly header: 'www-authenticate' | 'proxy-authenticate';
  readonly realm: string;
  readonly nonce: string;
  /** the qop values offered ([] when none) */
  readonly qop: readonly string[];
  readonly stale: boolean;
  /** as sent; null when the challenge names none (then MD5) */
  readonly algorithm: string | null;
  readonly opaque: string | null;
  /** the whole header value */
  readonly raw: string;
}

/** The challenge of a 401/407, or null when it has none. */
export function challengeOf(reply: SipMessage): Challenge | null {
  for (const header of ['www-authenticate', 'proxy-authenticate'] as const) {
    const raw = reply.getHeader(header);
    if (raw === undefined) continue;
    const m = /^\s*Digest\s+(.*)$/is.exec(raw);
    if (m === null) return null;
    const params = new Map<string, string>();
    const re = /([A-Za-z-]+)\s*=\s*(?:"([^"]*)"|([^\s,]+))/g;
    for (let p = re.exec(m[1] ?? ''); p !== null; p = re.exec(m[1] ?? '')) params.set((p[1] ?? '').toLowerCase(), p[2] ?? p[3] ?? '');
    const qop = params.get('qop');
    return {
      header,
      realm: params.get('realm') ?? '',
      nonce: params.get('nonce') ?? '',
      qop: qop === undefined ? [] : qop.split(',').map((q) => q.trim()).filter((q) => q !== ''),
      stale: (params.get('stale') ?? '').toLowerCase() === 'true',
      algorithm: params.get('algorithm') ?? null,
      opaque: params.get('opaque') ?? null,
      raw,
    };
  }
  return null;
}

export interface Answer {
  readonly username: string;
  readonly password: string;
  readonly method: string;
  readonly uri: string;
  /** 'auth', 'auth-int' or null (RFC 2069 form); default: 'auth' when offered, else null */
  readonly qop?: 'auth' | 'auth-int' | null;
  /** nonce count, default 1 */
  readonly nc?: number;
  readonly cnonce?: string;
  /** the request body, for auth-int */
  readonly body?: string;
  /** the realm to answer for (default the challenge's) */
  readonly realm?: string;
  /** give this HA1 instead of computing it from the password */
  readonly ha1?: string;
}

function hash(alg: string, s: string): string {
  return createHash(alg.toUpperCase() === 'SHA-256' ? 'sha256' : 'md5').update(s).digest('hex');
}

/** The Authorization / Proxy-Authorization value answering `ch`. */
export function authorize(ch: Challenge, a: Answer): string {
  const alg = ch.algorithm ?? 'MD5';
  const realm = a.realm ?? ch.realm;
  const qop = a.qop === undefined ? (ch.qop.includes('auth') ? 'auth' : null) : a.qop;
  const nc = (a.nc ?? 1).toString(16).padStart(8, '0');
  const cnonce = a.cnonce ?? randomBytes(6).toString('hex');
  const ha1 = a.ha1 ?? hash(alg, `${a.username}:${realm}:${a.password}`);
  const ha2 = qop === 'auth-int' ? hash(alg, `${a.method}:${a.uri}:${hash(alg, a.body ?? '')}`) : hash(alg, `${a.method}:${a.uri}`);
  const response = qop === null ? hash(alg, `${ha1}:${ch.nonce}:${ha2}`) : hash(alg, `${ha1}:${ch.nonce}:${nc}:${cnonce}:${qop}:${ha2}`);
  const parts = [`username="${a.username}"`, `realm="${realm}"`, `nonce="${ch.nonce}"`, `uri="${a.uri}"`, `response="${response}"`];
  if (ch.algorithm !== null) parts.push(`algorithm=${ch.algorithm}`);
  if (ch.opaque !== null) parts.push(`opaque="${ch.opaque}"`);
  if (qop !== null) parts.push(`qop=${qop}`, `nc=${nc}`, `cnonce="${cnonce}"`);
  return `Digest ${parts.join(', ')}`;
}

/** The header line carrying the answer: Authorization for a 401, Proxy-Authorization for a 407. */
export function answerLine(ch: Challenge, a: Answer): string {
  return `${ch.header === 'www-authenticate' ? 'Authorization' : 'Proxy-Authorization'}: ${authorize(ch, a)}`;
}
