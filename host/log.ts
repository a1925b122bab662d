/** Structured logs (pino) on stderr; stdout carries only the ready line and command output. */
import { pino, type Logger } from 'pino';

export type LogLevel = 'error' | 'warn' | 'info' | 'debug' | 'silent';

export function createLogger(level: LogLevel): Logger {
  return pino({ level, base: { name: 'kemihost' } }, pino.destination({ fd: 2, sync: true }));
}
