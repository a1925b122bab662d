/**
 * Unit-test harness for one binding: a registry holding just that module, real SIP messages
 * parsed by host/sip, a Context, and calls through invoke() exactly as an engine makes them.
 */
import { pino, type Logger } from 'pino';
import { Context } from '../../host/kemi/context.js';
import { Hold, type MessageOwner, type ResumeFn } from '../../host/kemi/owner.js';
import type { Source } from '../../host/sip/types.js';
import { invoke, luaTypeName } from '../../host/kemi/invoke.js';
import { KemiRegistry } from '../../host/kemi/registry.js';
import { NO_SCRIPT } from '../../host/kemi/offline-script.js';
import type { AnyModuleDef, MyselfMatcher } from '../../host/kemi/types.js';
import { parseSipMessage, type SipMessage } from '../../host/sip/message.js';

/** This test server's own addresses. */
export const MYSELF_IP = '192.0.2.10';

export const myself: MyselfMatcher = {
  isMyself: (host, port) => host.replace(/^\[|\]$/g, '') === MYSELF_IP && (port === 0 || port === 5060),
  isMyselfIp: (ip) => ip === MYSELF_IP,
};

export interface RegistryExtras {
  /** more modules, e.g. one declaring a PV the tested one reads */
  readonly with?: readonly AnyModuleDef[];
  readonly log?: Logger;
}

export function registryWith(mod: AnyModuleDef, params: Record<string, unknown> = {}, extras: RegistryExtras = {}): KemiRegistry {
  return new KemiRegistry([mod, ...(extras.with ?? [])], {
    log: extras.log ?? pino({ level: 'silent' }),
    myself,
    script: NO_SCRIPT,
    params: { [mod.name]: params },
  });
}

/** A logger that keeps its records, to count what a binding logged. */
export function recordingLog(): { log: Logger; records: Record<string, unknown>[] } {
  const records: Record<string, unknown>[] = [];
  const log = pino({ level: 'debug' }, { write: (line: string) => { records.push(JSON.parse(line) as Record<string, unknown>); } });
  return { log, records };
}

/** A message from its lines: CRLF-joined, the blank line added, then the body as given. */
export function sip(lines: readonly string[], body = ''): SipMessage {
  return parseSipMessage(Buffer.from(`${lines.join('\r\n')}\r\n\r\n${body}`, 'utf8'));
}

export const UDP_SRC: Source = { proto: 'udp', ip: '198.51.100.7', port: 5062, localIp: MYSELF_IP, localPort: 5060 };

export function ctxOf(msg: SipMessage | null, src: Source = UDP_SRC): Context {
  return new Context('sip', msg, src);
}

export interface SentReply {
  readonly code: number;
  readonly reason: string;
  /** ctx.replyHeaders at the time of sending */
  readonly headers: readonly string[];
}

/**
 * Stand-in for a message's owner (host/kemi/owner.ts): records the replies a binding asks for;
 * holds through `resumeFn` when given one (else holding is refused).
 */
export class RecordingOwner implements MessageOwner {
  readonly kind = 'sip' as const;
  readonly replies: SentReply[] = [];

  constructor(
    private readonly ok = true,
    private readonly resumeFn: ResumeFn | null = null,
  ) {}

  sendReply(ctx: Context, code: number, reason: string): boolean {
    this.replies.push({ code, reason, headers: [...ctx.replyHeaders] });
    if (this.ok) ctx.replied = true;
    return this.ok;
  }

  reply(ctx: Context, code: number, reason: string): boolean {
    return this.sendReply(ctx, code, reason);
  }

  canReply(): boolean {
    return this.ok;
  }

  forward(): boolean {
    return false;
  }

  toTag(): string {
    return 'test-to-tag';
  }

  hold(ctx: Context): Hold | string {
    if (this.resumeFn === null) return 'this test owner does not hold';
    ctx.suspended = true;
    return new Hold(ctx, this.resumeFn);
  }
}

/** Call `KSR.<name>` with script values, checked and converted as an engine's call is. */
export function call(reg: KemiRegistry, name: string, ctx: Context, ...args: unknown[]): unknown {
  const f = reg.lookup(name);
  if (f === undefined) throw new Error(`no such function: ${name}`);
  return invoke(f, ctx, args, luaTypeName);
}

/** An INVITE from alice to bob with the given extra header lines. */
export function invite(extra: readonly string[] = [], opts: { ruri?: string; body?: string; cseq?: string } = {}): SipMessage {
  const body = opts.body ?? '';
  return sip(
    [
      `INVITE ${opts.ruri ?? 'sip:bob@example.com'} SIP/2.0`,
      'Via: SIP/2.0/UDP 198.51.100.7:5062;branch=z9hG4bK-1;rport',
      'Max-Forwards: 70',
      'From: "Alice" <sip:alice@example.org>;tag=a1',
      'To: <sip:bob@example.com>',
      'Call-ID: call-1@198.51.100.7',
      `CSeq: ${opts.cseq ?? '1 INVITE'}`,
      'Contact: <sip:alice@198.51.100.7:5062>',
      ...extra,
      `Content-Length: ${String(Buffer.byteLength(body))}`,
    ],
    body,
  );
}
