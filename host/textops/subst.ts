/**
 * sed-like substitution expressions, as Kamailio's core re.c parses them for subst, subst_uri,
 * subst_user, subst_body and subst_hf: `/re/replacement/flags`. The first character is the
 * separator (any but a backslash); flags are `i` (ignore case), `g` (every match) and `s` (`.`
 * matches a newline too). The replacement knows \0-\9 (the match and its groups), \\ \n \r \t,
 * \$ (a dollar), \u (the request URI) and pseudo-variables ($ru, $var(x), $hdr(X)).
 */
import type { Finder } from '../safe-regex.js';
import { bytes, pattern } from './patterns.js';

type Token =
  | { readonly kind: 'text'; readonly s: string }
  | { readonly kind: 'group'; readonly n: number }
  | { readonly kind: 'uri' }
  | { readonly kind: 'pv'; readonly name: string };

export interface SubstExpr {
  readonly re: Finder;
  readonly tokens: readonly Token[];
  readonly global: boolean;
}

export type ParsedSubst = { readonly ok: true; readonly se: SubstExpr } | { readonly ok: false; readonly why: string };

const ESCAPES: Record<string, string> = { '\\': '\\', n: '\n', r: '\r', t: '\t', $: '$' };
/** $name, $name(param), $(name…) — the forms a replacement uses */
const PV = /^\$(\([^)]*\)|[A-Za-z_][A-Za-z0-9_.]*(\([^)]*\))?)/;

const parsedCache = new Map<string, ParsedSubst>();

export function parseSubst(expr: string): ParsedSubst {
  const hit = parsedCache.get(expr);
  if (hit !== undefined) return hit;
  const parsed = parse(expr);
  if (parsedCache.size >= 256) parsedCache.clear();
  parsedCache.set(expr, parsed);
  return parsed;
}

function parse(expr: string): ParsedSubst {
  if (expr.length < 3) return { ok: false, why: 'expression is too short' };
  const sep = expr[0] as string;
  if (sep === '\\') return { ok: false, why: 'invalid separator \\' };
  let p = 1;
  while (p < expr.length && !(expr[p] === sep && expr[p - 1] !== '\\')) p++;
  if (p >= expr.length) return { ok: false, why: 'no separator after the regular expression' };
  const source = expr.slice(1, p);
  const tokens: Token[] = [];
  let lit = '';
  p++;
  for (; p < expr.length; p++) {
    const c = expr[p] as string;
    if (c === '\\') {
      const e = expr[p + 1];
      if (e === undefined) return { ok: false, why: 'a backslash ends the replacement' };
      p++;
      if (e >= '0' && e <= '9') {
        if (lit !== '') tokens.push({ kind: 'text', s: lit });
        lit = '';
        tokens.push({ kind: 'group', n: Number(e) });
      } else if (e === 'u') {
        if (lit !== '') tokens.push({ kind: 'text', s: lit });
        lit = '';
        tokens.push({ kind: 'uri' });
      } else lit += ESCAPES[e] ?? e;
    } else if (c === '$') {
      const m = PV.exec(expr.slice(p));
      if (m === null) return { ok: false, why: 'bad pseudo-variable in the replacement' };
      if (lit !== '') tokens.push({ kind: 'text', s: lit });
      lit = '';
      tokens.push({ kind: 'pv', name: m[0] });
      p += m[0].length - 1;
    } else if (c === sep) break;
    else lit += c;
  }
  if (p >= expr.length) return { ok: false, why: 'no separator after the replacement' };
  if (lit !== '') tokens.push({ kind: 'text', s: lit });
  let icase = false;
  let newline = true;
  let global = false;
  for (const f of expr.slice(p + 1)) {
    if (f === 'i') icase = true;
    else if (f === 's') newline = false;
    else if (f === 'g') global = true;
    else return { ok: false, why: `unknown flag ${f}` };
  }
  const c = pattern(source, { icase, newline });
  if (!c.ok) return { ok: false, why: `bad regular expression: ${c.why}` };
  return { ok: true, se: { re: c.re, tokens, global } };
}

export interface Replacement {
  /** byte offsets in the searched string */
  readonly start: number;
  readonly end: number;
  /** the replacement, as a byte string */
  readonly text: string;
}

/** Values a replacement may name: the request URI and pseudo-variables (script text). */
export interface SubstEnv {
  uri(): string;
  pv(name: string): string;
}

/**
 * The replacements `se` makes in `s` (a byte string): the first match, or every one with `g`.
 * An empty match ends the search (Kamailio's subst_run stops there too, so `g` cannot loop).
 */
export function runSubst(se: SubstExpr, s: string, env: SubstEnv): Replacement[] {
  const out: Replacement[] = [];
  let from = 0;
  while (from <= s.length) {
    const m = se.re.find(s, from);
    if (m === null) break;
    let rep = '';
    for (const t of se.tokens) {
      if (t.kind === 'text') rep += bytes(t.s);
      else if (t.kind === 'group') rep += m.groups[t.n] ?? '';
      else if (t.kind === 'uri') rep += bytes(env.uri());
      else rep += bytes(env.pv(t.name));
    }
    out.push({ start: m.start, end: m.end, text: rep });
    if (!se.global || m.end === m.start) break;
    from = m.end;
  }
  return out;
}

/** `s` with the replacements made (they come in order and do not overlap). */
export function applyReplacements(s: string, reps: readonly Replacement[]): string {
  let out = '';
  let at = 0;
  for (const r of reps) {
    out += s.slice(at, r.start) + r.text;
    at = r.end;
  }
  return out + s.slice(at);
}
