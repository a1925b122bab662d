/**
 * Structured logs (pino) on stderr; stdout carries only the ready line and command output.
 *
 * A log line is never a copy of what a peer sent: errors are written as their name, code,
 * message and a short stack (never their other properties — a SipParseError carries the whole
 * message it refused), and every string field is cut at MAX_FIELD characters. Logs are
 * rate-limited where peers can trigger them (host/log-limiter.ts), and each line stays small.
 */
import { pino, type Logger } from 'pino';

export type LogLevel = 'error' | 'warn' | 'info' | 'debug' | 'silent';

/** Longest string field written; longer ones end in "…(N chars)". */
export const MAX_FIELD = 300;
const MAX_STACK_LINES = 8;

/** A string as a log field: at most MAX_FIELD characters. */
export function capField(s: string): string {
  return s.length <= MAX_FIELD ? s : `${s.slice(0, MAX_FIELD)}…(${String(s.length)} chars)`;
}

interface LoggedError {
  type: string;
  message: string;
  code?: string;
  stack?: string;
  cause?: string;
}

/** An error as a log field: what it is and where, nothing it carries. */
export function errorField(e: unknown): LoggedError | string {
  if (!(e instanceof Error)) return capField(typeof e === 'string' ? e : String(e));
  const out: LoggedError = { type: e.name, message: capField(e.message) };
  const code = (e as { code?: unknown }).code;
  if (typeof code === 'string') out.code = code;
  if (e.stack !== undefined) out.stack = e.stack.split('\n', MAX_STACK_LINES).map(capField).join('\n');
  if (e.cause !== undefined) out.cause = capField(e.cause instanceof Error ? e.cause.message : typeof e.cause === 'string' ? e.cause : 'non-Error cause');
  return out;
}

function capValue(v: unknown, depth: number): unknown {
  if (typeof v === 'string') return capField(v);
  if (v instanceof Error) return errorField(v);
  if (Buffer.isBuffer(v)) return `<${String(v.length)} bytes>`;
  if (v === null || typeof v !== 'object') return v;
  if (depth >= 2) return Array.isArray(v) ? `<array of ${String(v.length)}>` : '<object>';
  if (Array.isArray(v)) return v.slice(0, 20).map((x) => capValue(x, depth + 1));
  const out: Record<string, unknown> = {};
  let n = 0;
  for (const [k, x] of Object.entries(v)) {
    if (n++ >= 40) break;
    out[k] = capValue(x, depth + 1);
  }
  return out;
}

/** pino's log formatter: every field capped (runs only for lines actually written). */
function capFields(obj: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(obj)) out[k] = capValue(v, 0);
  return out;
}

/** The `err` serializer: runs after capFields, which already turned an Error into a plain field. */
function errSerializer(e: unknown): unknown {
  return e instanceof Error ? errorField(e) : e;
}

/** Longest message text (a script's KSR.info line included). */
export const MAX_MESSAGE = 4096;

export const LOG_OPTIONS = {
  serializers: { err: errSerializer },
  formatters: { log: capFields },
  hooks: {
    logMethod(this: Logger, args: Parameters<Logger['info']>, method: (...a: unknown[]) => void): void {
      const last = args.length - 1;
      const m: unknown = args[last];
      if (typeof m === 'string' && m.length > MAX_MESSAGE) args[last] = `${m.slice(0, MAX_MESSAGE)}…(${String(m.length)} chars)`;
      method.apply(this, args);
    },
  },
} as const;

export function createLogger(level: LogLevel): Logger {
  return pino({ level, base: { name: 'kemihost' }, ...LOG_OPTIONS }, pino.destination({ fd: 2, sync: true }));
}
