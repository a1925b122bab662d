/**
 * Regular expressions that a script or the config supplies, run in a linear-time engine (re2js,
 * a port of RE2). JavaScript's RegExp backtracks: `(a+)+$` over 27 "a"s and a "!" takes ~10 s,
 * and inside a KSR call no cpu_ms limit applies, so one htable call stalled the whole server.
 * RE2 answers it in microseconds, for any pattern and any input.
 *
 * Syntax is RE2's (https://github.com/google/re2/wiki/Syntax): the common ground of POSIX ERE
 * (Kamailio's regcomp) and JavaScript — classes, alternation, repetition, anchors, \d \w \s,
 * [[:digit:]] — works alike. What needs backtracking (backreferences like \1, lookahead (?=…))
 * does not compile: the caller gets an error and reports it (a KSR function: -1 and a log line).
 *
 * re2js compiles slowly (~35 µs) and matches slower than RegExp (~0.3–0.7 µs against ~15 ns for
 * a short key; bench/peer-input.ts), so compiled patterns are kept in a bounded LRU cache.
 */
import { RE2JS } from 're2js';
import { describeError } from './errors.js';

/** Longer patterns are refused: compiling is linear in the pattern, but not free. */
export const MAX_PATTERN_LENGTH = 4096;

export interface Matcher {
  /** unanchored: true when the pattern matches somewhere in `s`, as RegExp.prototype.test */
  test(s: string): boolean;
}

export type Compiled = { readonly ok: true; readonly re: Matcher } | { readonly ok: false; readonly why: string };

/** Compile one pattern; never throws. */
export function compileLinear(source: string, caseInsensitive: boolean): Compiled {
  if (source.length > MAX_PATTERN_LENGTH) return { ok: false, why: `pattern longer than ${String(MAX_PATTERN_LENGTH)} characters` };
  try {
    return { ok: true, re: RE2JS.compile(source, caseInsensitive ? RE2JS.CASE_INSENSITIVE : 0) };
  } catch (e) {
    return { ok: false, why: describeError(e) };
  }
}

/**
 * Compiled patterns by (flags, source), the least recently used dropped past `max`. Failures
 * are cached too, so a script repeating a bad pattern costs one compile, not one per message.
 * A hit only stamps its entry (re-inserting into a Map costs ~200 ns, as much as a match);
 * the eviction scan that finds the oldest stamp runs on a miss, next to a ~35 µs compile.
 */
export class RegexCache {
  /** by case-insensitivity, then source */
  private readonly byFlag = [new Map<string, Entry>(), new Map<string, Entry>()] as const;
  private tick = 0;

  constructor(private readonly max = 256) {}

  get(source: string, caseInsensitive: boolean): Compiled {
    const map = this.byFlag[caseInsensitive ? 1 : 0];
    const hit = map.get(source);
    if (hit !== undefined) {
      hit.used = ++this.tick;
      return hit.compiled;
    }
    if (this.size >= this.max) this.evictOldest();
    const compiled = compileLinear(source, caseInsensitive);
    map.set(source, { compiled, used: ++this.tick });
    return compiled;
  }

  get size(): number {
    return this.byFlag[0].size + this.byFlag[1].size;
  }

  private evictOldest(): void {
    let oldest: { map: Map<string, Entry>; key: string; used: number } | null = null;
    for (const map of this.byFlag) {
      for (const [key, e] of map) if (oldest === null || e.used < oldest.used) oldest = { map, key, used: e.used };
    }
    oldest?.map.delete(oldest.key);
  }
}

interface Entry {
  readonly compiled: Compiled;
  used: number;
}

/** One match: where it is in the input (UTF-16 indices) and its groups (null: did not take part). */
export interface FoundMatch {
  readonly start: number;
  readonly end: number;
  readonly groups: readonly (string | null)[];
}

export interface Finder {
  /** the first match at or after `from`, or null */
  find(s: string, from: number): FoundMatch | null;
}

/** What POSIX regcomp flags a caller wants, in RE2's terms. */
export interface PosixFlags {
  readonly icase: boolean;
  /** REG_NEWLINE: `.` stops at a newline and ^/$ match at line boundaries */
  readonly newline: boolean;
}

export type CompiledFinder = { readonly ok: true; readonly re: Finder } | { readonly ok: false; readonly why: string };

/**
 * Compile for searching with positions and groups (textops' replace and subst), with POSIX's
 * leftmost-longest rule, as regexec picks among alternatives. Never throws.
 */
export function compileFinder(source: string, flags: PosixFlags): CompiledFinder {
  if (source.length > MAX_PATTERN_LENGTH) return { ok: false, why: `pattern longer than ${String(MAX_PATTERN_LENGTH)} characters` };
  let f = RE2JS.LONGEST_MATCH;
  if (flags.icase) f |= RE2JS.CASE_INSENSITIVE;
  f |= flags.newline ? RE2JS.MULTILINE : RE2JS.DOTALL;
  try {
    const re = RE2JS.compile(source, f);
    return {
      ok: true,
      re: {
        find(s, from) {
          const m = re.matcher(s);
          if (!m.find(from)) return null;
          const groups: (string | null)[] = [];
          for (let g = 0; g <= m.groupCount(); g++) groups.push(m.group(g));
          return { start: m.start(), end: m.end(), groups };
        },
      },
    };
  } catch (e) {
    return { ok: false, why: describeError(e) };
  }
}
