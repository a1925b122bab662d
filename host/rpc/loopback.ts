/** Which addresses a control listener without a token may bind. */
import { isIP } from 'node:net';

/** 127.0.0.0/8, ::1, ::ffff:127.x and localhost (brackets allowed). */
export function isLoopback(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  if (h === 'localhost' || h === '::1') return true;
  const v4 = h.startsWith('::ffff:') ? h.slice(7) : h;
  return isIP(v4) === 4 && v4.startsWith('127.');
}
