/**
 * Just enough of a Lua and a JavaScript lexer for `kemihost check`: names, strings, numbers and
 * punctuation with their line numbers, comments left out. It never runs the script. Strings are
 * decoded for the common escapes only (a KSR call's literal arguments are plain text in
 * practice); JS template literals and regex literals are skipped as opaque values.
 */

export type TokenKind = 'name' | 'string' | 'number' | 'punct' | 'other';

export interface Token {
  readonly kind: TokenKind;
  /** a name, the decoded string, the number's text, the punctuation */
  readonly text: string;
  readonly line: number;
}

export type Language = 'lua' | 'js';

const NAME_START = /[A-Za-z_$]/;
const NAME_PART = /[A-Za-z0-9_$]/;
const DIGIT = /[0-9]/;
const ESCAPES: Readonly<Record<string, string>> = { n: '\n', t: '\t', r: '\r', '\\': '\\', '"': '"', "'": "'", '0': '\0' };

/** After these tokens a `/` in JS starts a regex literal, not a division. */
const REGEX_AFTER = new Set(['(', ',', '=', ':', '[', '!', '&', '|', '?', '{', '}', ';', '+', '-', '*', '%', '<', '>', '~', '^', 'return', 'typeof', 'case', 'do', 'else', 'in', 'of', 'new', 'delete', 'void', 'throw']);

export function tokenize(src: string, lang: Language): Token[] {
  const out: Token[] = [];
  let i = 0;
  let line = 1;
  const n = src.length;
  const push = (kind: TokenKind, text: string, at: number): void => { out.push({ kind, text, line: at }); };
  const countLines = (from: number, to: number): void => {
    for (let k = from; k < to; k++) if (src.charCodeAt(k) === 10) line++;
  };
  /** Lua long bracket at i: `[`, `=`*, `[` → its level, or -1. */
  const longLevel = (at: number): number => {
    if (src[at] !== '[') return -1;
    let k = at + 1;
    while (src[k] === '=') k++;
    return src[k] === '[' ? k - at - 1 : -1;
  };
  const skipLong = (at: number, level: number): number => {
    const close = `]${'='.repeat(level)}]`;
    const end = src.indexOf(close, at + level + 2);
    const stop = end < 0 ? n : end + close.length;
    countLines(at, stop);
    return stop;
  };
  const quoted = (quote: string): void => {
    const start = line;
    let s = '';
    i++;
    while (i < n && src[i] !== quote) {
      const c = src[i] as string;
      if (c === '\n') { line++; break; }
      if (c === '\\' && i + 1 < n) {
        const e = src[i + 1] as string;
        s += ESCAPES[e] ?? e;
        if (e === '\n') line++;
        i += 2;
        continue;
      }
      s += c;
      i++;
    }
    i++;
    push('string', s, start);
  };

  while (i < n) {
    const c = src[i] as string;
    if (c === '\n') { line++; i++; continue; }
    if (c === ' ' || c === '\t' || c === '\r') { i++; continue; }
    if (lang === 'lua' && c === '-' && src[i + 1] === '-') {
      const level = longLevel(i + 2);
      if (level >= 0) { i = skipLong(i + 2, level); continue; }
      while (i < n && src[i] !== '\n') i++;
      continue;
    }
    if (lang === 'js' && c === '/' && src[i + 1] === '/') { while (i < n && src[i] !== '\n') i++; continue; }
    if (lang === 'js' && c === '/' && src[i + 1] === '*') {
      const end = src.indexOf('*/', i + 2);
      const stop = end < 0 ? n : end + 2;
      countLines(i, stop);
      i = stop;
      continue;
    }
    if (c === '"' || c === "'") { quoted(c); continue; }
    if (lang === 'lua' && c === '[' && longLevel(i) >= 0) {
      const level = longLevel(i);
      const start = line;
      const body = i + level + 2;
      i = skipLong(i, level);
      push('string', src.slice(body, Math.max(body, i - level - 2)).replace(/^\r?\n/, ''), start);
      continue;
    }
    if (lang === 'js' && c === '`') {
      const start = line;
      i++;
      while (i < n && src[i] !== '`') {
        if (src[i] === '\\') i++;
        else if (src[i] === '\n') line++;
        i++;
      }
      i++;
      push('other', 'template', start);
      continue;
    }
    if (lang === 'js' && c === '/') {
      const prev = out[out.length - 1];
      if (prev === undefined || REGEX_AFTER.has(prev.text)) {
        const start = line;
        i++;
        let inClass = false;
        while (i < n && src[i] !== '\n' && (inClass || src[i] !== '/')) {
          if (src[i] === '\\') i++;
          else if (src[i] === '[') inClass = true;
          else if (src[i] === ']') inClass = false;
          i++;
        }
        i++;
        while (i < n && NAME_PART.test(src[i] as string)) i++;
        push('other', 'regex', start);
        continue;
      }
    }
    if (NAME_START.test(c)) {
      const s = i;
      while (i < n && NAME_PART.test(src[i] as string)) i++;
      push('name', src.slice(s, i), line);
      continue;
    }
    if (DIGIT.test(c) || (c === '.' && DIGIT.test(src[i + 1] ?? ''))) {
      const s = i;
      while (i < n && /[0-9A-Za-z_.]/.test(src[i] as string)) {
        if ((src[i] === 'e' || src[i] === 'E') && (src[i + 1] === '-' || src[i + 1] === '+')) i++;
        i++;
      }
      push('number', src.slice(s, i), line);
      continue;
    }
    // two-character punctuation that matters here: Lua's ".." (concatenation) and "~=", "=="
    const two = src.slice(i, i + 2);
    if (two === '..' || two === '==' || two === '~=' || two === '!=' || two === '=>' || two === '&&' || two === '||') {
      push('punct', two, line);
      i += 2;
      continue;
    }
    push('punct', c, line);
    i++;
  }
  return out;
}
