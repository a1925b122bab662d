/**
 * The regular expressions textops, textopsx and sdpops take from a script, compiled once and
 * kept (scripts pass the same constant patterns on every message). They run in the linear-time
 * engine of host/safe-regex.ts with Kamailio's regcomp flags: textops compiles its patterns
 * REG_EXTENDED | REG_ICASE | REG_NEWLINE, so they ignore case and `.` stops at a line end.
 *
 * Matching works on byte strings (latin1: one character per byte of the message), as Kamailio's
 * regexec does on the buffer: offsets are byte offsets into the message, and a pattern or a
 * replacement from the script is turned into its UTF-8 bytes first (`bytes`).
 */
import { compileFinder, type CompiledFinder, type PosixFlags } from '../safe-regex.js';

const MAX_CACHED = 256;
const cache = new Map<string, CompiledFinder>();

export const TEXTOPS_FLAGS: PosixFlags = { icase: true, newline: true };

/** Compile (or find in the cache) a pattern given in script text. */
export function pattern(source: string, flags: PosixFlags = TEXTOPS_FLAGS): CompiledFinder {
  const key = `${flags.icase ? 'i' : '-'}${flags.newline ? 'n' : '-'}${source}`;
  const hit = cache.get(key);
  if (hit !== undefined) return hit;
  // a pattern built per message must not grow the cache without bound
  if (cache.size >= MAX_CACHED) cache.clear();
  const compiled = compileFinder(bytes(source), flags);
  cache.set(key, compiled);
  return compiled;
}

/** Script text → its UTF-8 bytes as a latin1 string (what it looks like inside a message). */
export function bytes(s: string): string {
  // ASCII, the common case, is already its own byte string
  // eslint-disable-next-line no-control-regex -- the test is for any non-ASCII character
  return /[^\x00-\x7f]/.test(s) ? Buffer.from(s, 'utf8').toString('latin1') : s;
}

/** A byte string from a message → script text (UTF-8 decoded). */
export function text(b: string): string {
  // eslint-disable-next-line no-control-regex -- the test is for any non-ASCII character
  return /[^\x00-\x7f]/.test(b) ? Buffer.from(b, 'latin1').toString('utf8') : b;
}
