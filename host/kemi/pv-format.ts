/**
 * Text with pseudo-variables in it, printed for a message: Kamailio's pv_parse_format +
 * pv_printf, which xlog's format strings and htable's `$sht(t=>key$var(x))` keys use. A text is
 * split once into literal parts and resolved PVs; printing is then a walk over the parts.
 */
import type { Context } from './context.js';
import type { ResolvedPv } from './pv.js';

export type FormatPart = string | ResolvedPv;

/** A compiled text, or the spelling of the first `$…` that names no pseudo-variable. */
export type Compiled = { readonly ok: true; readonly parts: readonly FormatPart[] } | { readonly ok: false; readonly bad: string };

interface PvLookup {
  resolve(spec: string): ResolvedPv | null;
}

/** Where a `$name`, `$name(...)` or `$(...)` starting at `at` ends; -1 when none does. */
export function pvEnd(text: string, at: number): number {
  let i = at + 1;
  if (text.charAt(i) !== '(') {
    const start = i;
    while (i < text.length && /[A-Za-z0-9_]/.test(text.charAt(i))) i++;
    if (i === start) return -1;
    if (text.charAt(i) !== '(') return i;
  }
  let depth = 0;
  for (; i < text.length; i++) {
    const c = text.charAt(i);
    if (c === '(') depth++;
    else if (c === ')' && --depth === 0) return i + 1;
  }
  return -1;
}

/**
 * Split `text` into literals and PVs. strict (xlog): a `$…` that is no known PV fails, as
 * pv_parse_format does; lenient (htable keys): it stays literal text.
 */
export function compileFormat(text: string, pvs: PvLookup, strict: boolean): Compiled {
  const parts: FormatPart[] = [];
  let lit = '';
  for (let i = 0; i < text.length; ) {
    if (text.charAt(i) !== '$') {
      const next = text.indexOf('$', i);
      const stop = next < 0 ? text.length : next;
      lit += text.slice(i, stop);
      i = stop;
      continue;
    }
    const end = pvEnd(text, i);
    const pv = end > 0 ? pvs.resolve(text.slice(i, end)) : null;
    if (pv === null) {
      if (strict) return { ok: false, bad: end > 0 ? text.slice(i, end) : text.slice(i, i + 2) };
      lit += '$';
      i++;
      continue;
    }
    if (lit !== '') parts.push(lit);
    lit = '';
    parts.push(pv);
    i = end;
  }
  if (lit !== '') parts.push(lit);
  return { ok: true, parts };
}

/** The text for this message: a PV without a value prints as Kamailio prints $null, "<null>". */
export function printFormat(parts: readonly FormatPart[], ctx: Context): string {
  let out = '';
  for (const p of parts) out += typeof p === 'string' ? p : String(p.get(ctx) ?? '<null>');
  return out;
}

/** Compiled texts by spelling, bounded: scripts pass the same constant formats on every message. */
export class FormatCache {
  private readonly cache = new Map<string, Compiled>();

  constructor(
    private readonly pvs: PvLookup,
    private readonly strict: boolean,
    private readonly max = 1024,
  ) {}

  get(text: string): Compiled {
    let c = this.cache.get(text);
    if (c === undefined) {
      c = compileFormat(text, this.pvs, this.strict);
      // formats built at run time (a Call-ID pasted in) must not grow the cache without bound
      if (this.cache.size >= this.max) this.cache.clear();
      this.cache.set(text, c);
    }
    return c;
  }
}
