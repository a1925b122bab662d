/**
 * textops' header tests and removals (Kamailio src/modules/textops/textops.c): they read the
 * headers as received; a removal deletes the header's line from the received text (a lump, as
 * Kamailio's del_lump), so it composes with the other text edits and never touches the Via
 * this server adds.
 */
import type { Context } from '../host/kemi/context.js';
import { canonicalHeaderName } from '../host/sip/header-names.js';
import { addEdits } from '../host/textops/edit.js';
import { headerSpans, type HeaderSpan } from '../host/sip/header-spans.js';
import { bytes } from '../host/textops/patterns.js';
import { done, re, type TextopsState } from './textops-edit.js';

/** Delete these header lines from what is sent: 1 done, -1 none (or refused: edit.ts addEdits). */
export function removeLines(s: TextopsState, ctx: Context, lines: readonly HeaderSpan[]): number {
  if (lines.length === 0) return -1;
  return done(s, addEdits(ctx, lines.map((h) => ({ start: h.start, end: h.next, text: '' }))));
}

function spans(ctx: Context): readonly HeaderSpan[] {
  return ctx.msg === null ? [] : headerSpans(ctx.msg);
}

export function isPresentHf(ctx: Context, name: string): number {
  return name !== '' && ctx.msg?.hasHeader(name) === true ? 1 : -1;
}

export function isPresentHfRe(s: TextopsState, ctx: Context, source: string): number {
  const finder = re(s, source);
  if (finder === null || ctx.msg === null) return -1;
  return ctx.msg.headers.some((h) => finder.find(bytes(h.rawName), 0) !== null) ? 1 : -1;
}

/** remove_hf: every header of that name (full or compact form); 1 when one was there, else -1. */
export function removeHf(s: TextopsState, ctx: Context, name: string): number {
  if (ctx.msg === null || name === '') return -1;
  const want = canonicalHeaderName(name.trim());
  return removeLines(s, ctx, spans(ctx).filter((h) => h.name === want));
}

/** remove_hf_re / remove_hf_exp: headers whose name matches `match` and not `skip`. */
export function removeHfRe(s: TextopsState, ctx: Context, match: string, skip: string | null): number {
  const m = re(s, match);
  const k = skip === null ? null : re(s, skip);
  if (m === null || (skip !== null && k === null) || ctx.msg === null) return -1;
  const gone = spans(ctx).filter((h) => (k === null || k.find(h.rawName, 0) === null) && m.find(h.rawName, 0) !== null);
  return removeLines(s, ctx, gone);
}

/** remove_hf_idx: the idx-th header of that name (0 first, negative from the end). */
export function removeHfIdx(s: TextopsState, ctx: Context, name: string, idx: number): number {
  if (ctx.msg === null || name === '') return -1;
  const want = canonicalHeaderName(name.trim());
  const at = spans(ctx).filter((h) => h.name === want);
  const one = at[idx < 0 ? at.length + idx : idx];
  return one === undefined ? -1 : removeLines(s, ctx, [one]);
}

/**
 * remove_hf_match(hname, op, expr): headers of that name whose value (trimmed) compares with
 * expr by op: "eq" equal, "ne" not equal, "re" matches the regular expression.
 */
export function removeHfMatch(s: TextopsState, ctx: Context, name: string, op: string, expr: string): number {
  const msg = ctx.msg;
  if (msg === null || name === '') return -1;
  let test: (v: string) => boolean;
  if (op === 'eq') test = (v) => v === bytes(expr);
  else if (op === 'ne') test = (v) => v !== bytes(expr);
  else if (op === 're') {
    const finder = re(s, expr);
    if (finder === null) return -1;
    test = (v) => finder.find(v, 0) !== null;
  } else {
    s.host.complain('unknown remove_hf_match operator (eq, ne, re)', { op });
    return -1;
  }
  const want = canonicalHeaderName(name.trim());
  const head = msg.raw.toString('latin1', 0, msg.headerBytes);
  const gone = spans(ctx).filter((h) => h.name === want && test(head.slice(h.valueStart, h.end).trim()));
  return removeLines(s, ctx, gone);
}

const PRIVACY = ['user', 'header', 'session', 'none', 'critical', 'id', 'history'];

/** is_privacy: the Privacy header names that value (RFC 3323 §4.2, RFC 3325, RFC 4244). */
export function isPrivacy(s: TextopsState, ctx: Context, value: string): number {
  const want = value.trim().toLowerCase();
  if (!PRIVACY.includes(want)) {
    s.host.complain('unknown privacy value', { value });
    return -1;
  }
  const have = (ctx.msg?.getHeaders('privacy') ?? []).flatMap((v) => v.split(/[;,]/)).map((v) => v.trim().toLowerCase());
  return have.includes(want) ? 1 : -1;
}
