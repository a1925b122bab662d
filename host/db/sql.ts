/**
 * The one SQL style kemihost code writes, and its translation per dialect.
 *
 *   placeholders   `?`, positional                 PostgreSQL gets $1, $2, …
 *   identifiers    "double-quoted" when needed      MySQL gets `backticks` (no ANSI_QUOTES assumed)
 *
 * Quote a column when it is a reserved word somewhere (`partition` is one in MySQL). Anything
 * inside '…' literals, backticks and comments is left alone. Translations are cached: store
 * queries are a few constant strings run many times.
 */
import type { Dialect } from './url.js';

const CACHE_MAX = 512;

function translate(dialect: Dialect, sql: string): string {
  let out = '';
  let n = 0;
  let i = 0;
  while (i < sql.length) {
    const c = sql[i] ?? '';
    if (c === "'") {
      // a literal: '' is an escaped quote; MySQL also takes \' by default
      let j = i + 1;
      while (j < sql.length) {
        const d = sql[j];
        if (d === '\\' && dialect === 'mysql') j += 2;
        else if (d === "'" && sql[j + 1] === "'") j += 2;
        else if (d === "'") break;
        else j++;
      }
      out += sql.slice(i, j + 1);
      i = j + 1;
    } else if (c === '"') {
      const end = sql.indexOf('"', i + 1);
      const stop = end < 0 ? sql.length : end;
      const name = sql.slice(i + 1, stop);
      out += dialect === 'mysql' ? `\`${name.replaceAll('`', '``')}\`` : `"${name}"`;
      i = stop + 1;
    } else if (c === '`') {
      const end = sql.indexOf('`', i + 1);
      const stop = end < 0 ? sql.length : end + 1;
      out += sql.slice(i, stop);
      i = stop;
    } else if (c === '-' && sql[i + 1] === '-') {
      const end = sql.indexOf('\n', i);
      const stop = end < 0 ? sql.length : end;
      out += sql.slice(i, stop);
      i = stop;
    } else if (c === '/' && sql[i + 1] === '*') {
      const end = sql.indexOf('*/', i + 2);
      const stop = end < 0 ? sql.length : end + 2;
      out += sql.slice(i, stop);
      i = stop;
    } else if (c === '?') {
      n++;
      out += dialect === 'postgres' ? `$${String(n)}` : '?';
      i++;
    } else {
      out += c;
      i++;
    }
  }
  return out;
}

/** Translates our SQL for one dialect, remembering the last few hundred distinct statements. */
export class SqlTranslator {
  private readonly cache = new Map<string, string>();

  constructor(readonly dialect: Dialect) {}

  sql(text: string): string {
    if (this.dialect === 'sqlite') return text;
    const hit = this.cache.get(text);
    if (hit !== undefined) return hit;
    const out = translate(this.dialect, text);
    if (this.cache.size >= CACHE_MAX) this.cache.clear();
    this.cache.set(text, out);
    return out;
  }
}

