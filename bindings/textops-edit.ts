/**
 * textops' search, replace and subst families over the whole message, its headers and its body
 * (Kamailio src/modules/textops/textops.c). Searches read the message as received; edits are
 * recorded as lumps (host/sip/lumps.ts) and made when the message is sent or at
 * msg_apply_changes. As in Kamailio, search() covers the whole message while replace, subst
 * and search_append start after the start line (so the R-URI is only changed by subst_uri).
 */
import type { Context } from '../host/kemi/context.js';
import type { ModuleHost } from '../host/kemi/types.js';
import type { Finder } from '../host/safe-regex.js';
import { canonicalHeaderName } from '../host/sip/header-names.js';
import { parseUri } from '../host/sip/uri.js';
import { setUriUser } from '../host/sip/uri-edit.js';
import { addEdits, editBody, MAX_EDITS, searchedBody, type EditResult } from '../host/textops/edit.js';
import { headerSpans, headersStart, headText } from '../host/sip/header-spans.js';
import { bytes, pattern, text } from '../host/textops/patterns.js';
import { applyReplacements, parseSubst, runSubst, type Replacement, type SubstEnv, type SubstExpr } from '../host/textops/subst.js';

export interface TextopsState {
  readonly host: ModuleHost;
}

/** A script's pattern compiled, or a complaint (rate-limited) and null. */
export function re(s: TextopsState, source: string): Finder | null {
  const c = pattern(source);
  if (c.ok) return c.re;
  s.host.complain('invalid regular expression', { re: source, why: c.why });
  return null;
}

function subst(s: TextopsState, expr: string): SubstExpr | null {
  const p = parseSubst(expr);
  if (p.ok) return p.se;
  s.host.complain('invalid substitution expression', { expr, why: p.why });
  return null;
}

function env(s: TextopsState, ctx: Context): SubstEnv {
  return {
    uri: () => ctx.ruri,
    pv: (name) => {
      const v = s.host.pvs.resolve(name)?.get(ctx) ?? null;
      return v === null ? '' : String(v);
    },
  };
}

/** Every match of `re` in `str` from `from` (the first one only unless `all`); an empty match ends it. */
export function matches(finder: Finder, str: string, from: number, all: boolean, rep: string): Replacement[] | 'empty' {
  const out: Replacement[] = [];
  let at = from;
  while (at <= str.length) {
    const m = finder.find(str, at);
    if (m === null) break;
    if (m.end === m.start && all) return 'empty';
    out.push({ start: m.start, end: m.end, text: rep });
    if (!all) break;
    at = m.end;
  }
  return out;
}

/** The message from the first header on: what replace and subst search. */
function afterStartLine(ctx: Context): { str: string; from: number } | null {
  const msg = ctx.msg;
  if (msg === null) return null;
  return { str: msg.raw.toString('latin1'), from: headersStart(msg) };
}

export function search(s: TextopsState, ctx: Context, source: string): number {
  if (source === '') return 1;
  const finder = re(s, source);
  if (finder === null || ctx.msg === null) return -1;
  return finder.find(ctx.msg.raw.toString('latin1'), 0) === null ? -1 : 1;
}

export function searchBody(s: TextopsState, ctx: Context, source: string): number {
  if (source === '') return 1;
  const finder = re(s, source);
  if (finder === null || ctx.msg === null || ctx.msg.body.length === 0) return -1;
  return finder.find(ctx.msg.body.toString('latin1'), 0) === null ? -1 : 1;
}

/** search_hf: flags 'f' the first header of that name only, 'l' the last only, else any. */
export function searchHf(s: TextopsState, ctx: Context, name: string, source: string, flags: string): number {
  if (name === '' || source === '') return -1;
  const finder = re(s, source);
  const msg = ctx.msg;
  if (finder === null || msg === null) return -1;
  const head = headText(msg);
  const want = headerSpans(msg).filter((h) => h.name === canonical(name));
  const pick = flags.startsWith('f') ? want.slice(0, 1) : flags.startsWith('l') ? want.slice(-1) : want;
  return pick.some((h) => finder.find(head.slice(h.valueStart, h.end), 0) !== null) ? 1 : -1;
}

/** The header name as the spans hold it (lowercase, compact forms expanded). */
function canonical(name: string): string {
  return canonicalHeaderName(name.trim());
}

export function searchAppend(s: TextopsState, ctx: Context, source: string, add: string, body: boolean): number {
  const finder = re(s, source);
  if (finder === null) return -1;
  if (body) {
    const b = searchedBody(ctx);
    if (b.text === '') return -1;
    const m = finder.find(b.text, 0);
    if (m === null) return -1;
    return done(s, editBody(ctx, [{ start: m.end, end: m.end, text: bytes(add) }]));
  }
  const where = afterStartLine(ctx);
  if (where === null) return -1;
  const m = finder.find(where.str, where.from);
  if (m === null) return -1;
  return done(s, addEdits(ctx, [{ start: m.end, end: m.end, text: bytes(add) }]));
}

export type Scope = 'message' | 'headers' | 'body';

/** replace / replace_all / replace_hdrs / replace_body…: the first or every match of a pattern. */
export function replace(s: TextopsState, ctx: Context, source: string, rep: string, scope: Scope, all: boolean): number {
  const finder = re(s, source);
  if (finder === null) return -1;
  return replaceFound(s, ctx, scope, (str, from) => matches(finder, str, from, all, bytes(rep)), source);
}

/** replace_str / replace_hdrs_str / replace_body_str: plain text, mode 'f' first or 'a' all. */
export function replaceStr(s: TextopsState, ctx: Context, match: string, rep: string, mode: string, scope: Scope): number {
  if (mode !== 'f' && mode !== 'a') {
    s.host.complain('invalid replace mode (f or a)', { mode });
    return -1;
  }
  if (match === '') return 1;
  const key = bytes(match);
  return replaceFound(s, ctx, scope, (str, from) => {
    const out: Replacement[] = [];
    for (let at = str.indexOf(key, from); at >= 0; at = str.indexOf(key, at + key.length)) {
      out.push({ start: at, end: at + key.length, text: bytes(rep) });
      if (mode === 'f') break;
    }
    return out;
  }, match);
}

function replaceFound(s: TextopsState, ctx: Context, scope: Scope, find: (str: string, from: number) => Replacement[] | 'empty', what: string): number {
  const msg = ctx.msg;
  if (msg === null) return -1;
  if (scope === 'body') {
    const b = searchedBody(ctx);
    if (b.text === '') return -1;
    const found = find(b.text, 0);
    if (found === 'empty') return emptyMatch(s, what);
    if (found.length === 0) return -1;
    return done(s, editBody(ctx, found));
  }
  const where = afterStartLine(ctx);
  if (where === null) return -1;
  const str = scope === 'headers' ? where.str.slice(0, msg.headerBytes) : where.str;
  const found = find(str, where.from);
  if (found === 'empty') return emptyMatch(s, what);
  if (found.length === 0) return -1;
  return done(s, addEdits(ctx, found));
}

function emptyMatch(s: TextopsState, what: string): number {
  s.host.complain('the regular expression matched an empty string', { re: what });
  return -1;
}

/** 1 when the edits were recorded; else a complaint and -1. */
export function done(s: TextopsState, r: EditResult): number {
  if (r === 'ok') return 1;
  if (r === 'limit') s.host.complain(`more than ${String(MAX_EDITS)} text edits on one message; this one was not made`);
  else if (r === 'overlap') s.host.complain('an edit overlaps an earlier one on the same text and was left out (call msg_apply_changes between them)', {}, 'warn');
  else s.host.complain('the edit would leave a message that does not parse; it was not made', {}, 'warn');
  return -1;
}

/** subst: over the message after the start line. */
export function substMessage(s: TextopsState, ctx: Context, expr: string): number {
  const se = subst(s, expr);
  const where = afterStartLine(ctx);
  if (se === null || where === null) return -1;
  const reps = runSubst(se, where.str.slice(where.from), env(s, ctx)).map((r) => ({ ...r, start: r.start + where.from, end: r.end + where.from }));
  if (reps.length === 0) return -1;
  return done(s, addEdits(ctx, reps));
}

export function substBody(s: TextopsState, ctx: Context, expr: string): number {
  const se = subst(s, expr);
  const b = searchedBody(ctx);
  if (se === null || b.text === '') return -1;
  const reps = runSubst(se, b.text, env(s, ctx));
  if (reps.length === 0) return -1;
  return done(s, editBody(ctx, reps));
}

/** subst_uri: the R-URI (as the script set it, else as received) rewritten. */
export function substUri(s: TextopsState, ctx: Context, expr: string): number {
  const se = subst(s, expr);
  if (se === null || ctx.msg?.isRequest !== true) return -1;
  const uri = bytes(ctx.ruri);
  const reps = runSubst(se, uri, env(s, ctx));
  if (reps.length === 0) return -1;
  ctx.newRuri = text(applyReplacements(uri, reps));
  return 1;
}

/** subst_user: the R-URI's user part rewritten ('' when it has none). */
export function substUser(s: TextopsState, ctx: Context, expr: string): number {
  const se = subst(s, expr);
  if (se === null || ctx.msg?.isRequest !== true) return -1;
  const parsed = parseUri(ctx.ruri);
  if (parsed === null) return -1;
  const user = bytes(parsed.user);
  const reps = runSubst(se, user, env(s, ctx));
  if (reps.length === 0) return -1;
  const next = setUriUser(ctx.ruri, text(applyReplacements(user, reps)));
  if (next === null) return -1;
  ctx.newRuri = next;
  return 1;
}

/** subst_hf: in the values of headers of that name; flags 'f' the first only, 'l' the last only. */
export function substHf(s: TextopsState, ctx: Context, name: string, expr: string, flags: string): number {
  const se = subst(s, expr);
  const msg = ctx.msg;
  if (se === null || msg === null || name === '') return -1;
  const head = headText(msg);
  const want = headerSpans(msg).filter((h) => h.name === canonical(name));
  const pick = flags.startsWith('f') ? want.slice(0, 1) : flags.startsWith('l') ? want.slice(-1) : want;
  const all: Replacement[] = [];
  for (const h of pick) {
    for (const r of runSubst(se, head.slice(h.valueStart, h.end), env(s, ctx))) all.push({ start: r.start + h.valueStart, end: r.end + h.valueStart, text: r.text });
  }
  if (all.length === 0) return -1;
  return done(s, addEdits(ctx, all));
}
