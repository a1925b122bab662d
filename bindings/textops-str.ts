/** textops' string tests (Kamailio src/modules/textops/textops.c: ki_cmp_str & co.), return codes as there. */
import type { Context } from '../host/kemi/context.js';
import { bytes, pattern, text } from '../host/textops/patterns.js';
import { re, type TextopsState } from './textops-edit.js';

/** Kamailio's cmp_str: byte order, a shorter prefix first; 1 equal, -1 greater, -2 less. */
export function cmpStr(a: string, b: string, icase: boolean): number {
  const x = icase ? a.toLowerCase() : a;
  const y = icase ? b.toLowerCase() : b;
  if (x === y) return 1;
  return Buffer.compare(Buffer.from(x), Buffer.from(y)) > 0 ? -1 : -2;
}

export function startsWith(a: string, prefix: string): number {
  if (a.length < prefix.length) return -1;
  return cmpStr(a.slice(0, prefix.length), prefix, false);
}

export function endsWith(a: string, suffix: string): number {
  if (suffix.length > a.length) return -1;
  return cmpStr(a.slice(a.length - suffix.length), suffix, false);
}

/** str_find / str_ifind: 1 + the byte position of needle in txt, -1 when absent. */
export function strFind(txt: string, needle: string, icase: boolean): number {
  const t = bytes(icase ? txt.toLowerCase() : txt);
  const n = bytes(icase ? needle.toLowerCase() : needle);
  if (n.length > t.length) return -1;
  const at = t.indexOf(n);
  return at < 0 ? -1 : at + 1;
}

/** in_list / in_list_prefix: items split on the one-character separator, spaces trimmed. */
export function inList(s: TextopsState, subject: string, list: string, sep: string, prefix: boolean): number {
  if (sep.length !== 1) {
    if (sep.length > 1) s.host.complain('in_list separator must be one character', { sep });
    return -1;
  }
  if (subject === '' || list === '') return -1;
  for (const raw of list.split(sep)) {
    const item = raw.trim();
    if (item === '') continue;
    if (prefix ? subject.startsWith(item) : subject === item) return 1;
  }
  return -1;
}

/** search_str(text, re): 1 found, -1 not, -2 bad input. */
export function searchStr(s: TextopsState, str: string, source: string): number {
  if (str === '') return -2;
  const finder = re(s, source);
  if (finder === null) return -2;
  return finder.find(bytes(str), 0) === null ? -1 : 1;
}

/**
 * regex_substring(itext, regexp, mindex, mcount, dpv): the group `mindex` of the first match
 * (0 the whole match) stored in the pseudo-variable dpv; 1 done, -1 no match or no such group.
 */
export function regexSubstring(s: TextopsState, ctx: Context, input: string, source: string, mindex: number, mcount: number, dpv: string): number {
  // Kamailio compiles this one REG_EXTENDED only: case matters and `.` crosses lines
  const compiled = pattern(source, { icase: false, newline: false });
  if (!compiled.ok) {
    s.host.complain('invalid regular expression', { re: source, why: compiled.why });
    return -1;
  }
  const c = compiled.re;
  if (mindex < 0 || mcount < 0 || mindex > mcount) {
    s.host.complain('regex_substring: bad match index or count', { mindex, mcount });
    return -1;
  }
  const pv = s.host.pvs.resolve(dpv);
  if (pv?.set === undefined) {
    s.host.complain('regex_substring: not a writable pseudo-variable', { dpv });
    return -1;
  }
  const m = c.find(bytes(input), 0);
  const g = m?.groups[mindex];
  if (m === null || g === null || g === undefined) return -1;
  pv.set(ctx, text(g));
  return 1;
}
