/**
 * What `kemihost check` reads in a script, from its tokens (lexer.ts), without running it:
 * every use of `KSR.<module>.<function>` (a call with its literal arguments, or a bare value —
 * a presence test such as `if not KSR.auth then`), and the global functions it defines (the
 * callbacks and routes the host may call by name).
 */
import type { Language, Token } from './lexer.js';

export type Arg =
  | { readonly kind: 'string'; readonly value: string }
  | { readonly kind: 'number'; readonly value: number }
  | { readonly kind: 'expr' };

export interface KsrUse {
  readonly line: number;
  /** ['sl', 'sl_send_reply'], ['info'], ['auth'] */
  readonly path: readonly string[];
  /** the arguments of a call; null when KSR.… is used as a value */
  readonly args: readonly Arg[] | null;
  /** JS: the call is the operand of `await` (a call that waits in place must be, docs/waiting.md) */
  readonly awaited: boolean;
}

export interface ScriptScan {
  readonly uses: readonly KsrUse[];
  /** global function name → line of its definition */
  readonly functions: ReadonlyMap<string, number>;
}

const OPEN = new Set(['(', '[', '{']);
const CLOSE = new Set([')', ']', '}']);

function isPunct(t: Token | undefined, text: string): boolean {
  return t?.kind === 'punct' && t.text === text;
}

/** The arguments of a call whose '(' is at `open`; and the index after its ')'. */
function readArgs(toks: readonly Token[], open: number): [Arg[], number] {
  const args: Arg[] = [];
  let depth = 0;
  let cur: Token[] = [];
  let i = open + 1;
  const flush = (): void => {
    if (cur.length === 0) return;
    const [a, b] = cur;
    if (cur.length === 1 && a?.kind === 'string') args.push({ kind: 'string', value: a.text });
    else if (cur.length === 1 && a?.kind === 'number') args.push({ kind: 'number', value: Number(a.text) });
    else if (cur.length === 2 && isPunct(a, '-') && b?.kind === 'number') args.push({ kind: 'number', value: -Number(b.text) });
    else args.push({ kind: 'expr' });
    cur = [];
  };
  for (; i < toks.length; i++) {
    const t = toks[i] as Token;
    if (t.kind === 'punct' && OPEN.has(t.text)) depth++;
    else if (t.kind === 'punct' && CLOSE.has(t.text)) {
      if (depth === 0) break;
      depth--;
    } else if (depth === 0 && isPunct(t, ',')) {
      flush();
      continue;
    }
    cur.push(t);
  }
  flush();
  return [args, i + 1];
}

function scanUses(toks: readonly Token[], lang: Language): KsrUse[] {
  const uses: KsrUse[] = [];
  for (let i = 0; i < toks.length; i++) {
    const t = toks[i] as Token;
    if (t.kind !== 'name' || t.text !== 'KSR' || isPunct(toks[i - 1], '.')) continue;
    const path: string[] = [];
    let k = i + 1;
    while (path.length < 2 && isPunct(toks[k], '.') && toks[k + 1]?.kind === 'name') {
      path.push((toks[k + 1] as Token).text);
      k += 2;
    }
    if (path.length === 0) continue;
    const next = toks[k];
    const awaited = lang === 'js' && toks[i - 1]?.kind === 'name' && toks[i - 1]?.text === 'await';
    if (isPunct(next, '(')) {
      const [args, after] = readArgs(toks, k);
      uses.push({ line: t.line, path, args, awaited });
      i = after - 1;
    } else if (lang === 'lua' && next?.kind === 'string') {
      // Lua's call with one string and no parentheses: KSR.info "text"
      uses.push({ line: t.line, path, args: [{ kind: 'string', value: next.text }], awaited });
    } else {
      uses.push({ line: t.line, path, args: null, awaited });
    }
    i = Math.max(i, k - 1);
  }
  return uses;
}

/** Lua: `function name(` and `name = function` (not `local`, not a field: `a.b`, `a:b`). */
function luaFunctions(toks: readonly Token[]): Map<string, number> {
  const out = new Map<string, number>();
  for (let i = 0; i < toks.length; i++) {
    const t = toks[i] as Token;
    const prev = toks[i - 1];
    if (t.kind === 'name' && t.text === 'function' && toks[i + 1]?.kind === 'name' && isPunct(toks[i + 2], '(') && prev?.text !== 'local') {
      const name = (toks[i + 1] as Token).text;
      if (!out.has(name)) out.set(name, t.line);
    } else if (t.kind === 'name' && isPunct(toks[i + 1], '=') && toks[i + 2]?.text === 'function' && !isPunct(prev, '.') && !isPunct(prev, ':') && prev?.text !== 'local') {
      if (!out.has(t.text)) out.set(t.text, t.line);
    }
  }
  return out;
}

/**
 * JS, at the top level only (a nested declaration is not global): `function name(`,
 * `async function name(`, and `const|let|var name =` a function or an arrow function.
 */
function jsFunctions(toks: readonly Token[]): Map<string, number> {
  const out = new Map<string, number>();
  let depth = 0;
  for (let i = 0; i < toks.length; i++) {
    const t = toks[i] as Token;
    if (isPunct(t, '{')) depth++;
    else if (isPunct(t, '}')) depth = Math.max(0, depth - 1);
    if (depth !== 0 || t.kind !== 'name') continue;
    if (t.text === 'function' && toks[i + 1]?.kind === 'name' && isPunct(toks[i + 2], '(')) {
      const name = (toks[i + 1] as Token).text;
      if (!out.has(name)) out.set(name, t.line);
    } else if ((t.text === 'const' || t.text === 'let' || t.text === 'var') && toks[i + 1]?.kind === 'name' && isPunct(toks[i + 2], '=')) {
      const v = toks[i + 3];
      const isFn = v?.text === 'function' || v?.text === 'async' || isPunct(v, '(') || (v?.kind === 'name' && isPunct(toks[i + 4], '=>'));
      const name = (toks[i + 1] as Token).text;
      if (isFn && !out.has(name)) out.set(name, t.line);
    }
  }
  return out;
}

export function scanScript(toks: readonly Token[], lang: Language): ScriptScan {
  return { uses: scanUses(toks, lang), functions: lang === 'lua' ? luaFunctions(toks) : jsFunctions(toks) };
}
