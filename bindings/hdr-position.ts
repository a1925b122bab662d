/**
 * KSR.hdr functions that place a header next to another one, or test header values (Kamailio
 * 5.6 core kemi.c: hdr.append_after, hdr.insert_before, hdr.match_content). The placed headers
 * are text edits (lumps) on the received message, as textops' are, so they land exactly where
 * Kamailio puts them: after the first header with that name (else after the last header), or
 * before it (else before the first header).
 */
import type { Context } from '../host/kemi/context.js';
import { fn, type KemiFunctionDef } from '../host/kemi/types.js';
import { headerSpans, headersStart } from '../host/sip/header-spans.js';
import { canonicalHeaderName } from '../host/sip/header-names.js';
import { addEdits } from '../host/textops/edit.js';
import { bytes } from '../host/textops/patterns.js';
import { headerLine } from './header-line.js';

/** Kamailio's bound on a header name here (SR_KEMI_HNAME_SIZE less the room for ':'). */
const MAX_NAME = 124;

function nameOk(name: string): boolean {
  return name.length > 0 && name.length <= MAX_NAME && !/[\s:]/.test(name);
}

function place(ctx: Context, text: string, name: string, where: 'after' | 'before'): number {
  const msg = ctx.msg;
  const line = headerLine(text);
  if (msg === null || line === null || !nameOk(name)) return -1;
  const want = canonicalHeaderName(name);
  const spans = headerSpans(msg);
  const hit = spans.find((h) => h.name === want);
  let at: number;
  if (hit !== undefined) at = where === 'after' ? hit.next : hit.start;
  else if (where === 'after') at = spans.length > 0 ? (spans[spans.length - 1]?.next ?? headersStart(msg)) : headersStart(msg);
  else at = headersStart(msg);
  return addEdits(ctx, [{ start: at, end: at, text: bytes(line) }]) === 'ok' ? 1 : -1;
}

type Op = 'eq' | 'ne' | 'sw' | 'in';
type Which = 'first' | 'last' | 'all' | 'one';

const WHICH: Readonly<Record<string, Which>> = { f: 'first', l: 'last', a: 'all', o: 'one' };

function matches(op: Op, body: string, value: string): boolean {
  const b = body.toLowerCase();
  const v = value.toLowerCase();
  switch (op) {
    case 'eq': return b === v;
    case 'ne': return b !== v;
    case 'sw': return b.startsWith(v);
    case 'in': return b.includes(v);
  }
}

/**
 * match_content(name, op, value, which): compare the (trimmed) values of the headers with this
 * name, case-insensitively — eq, ne, sw (starts with), in (contains); "re" is refused, as
 * Kamailio 5.6 has not implemented it — over the first, the last, all, or at least one of them.
 */
function matchContent(ctx: Context, name: string, op: string, value: string, which: string): boolean {
  const msg = ctx.msg;
  const o = op.toLowerCase();
  const w = WHICH[which.charAt(0).toLowerCase()];
  if (msg === null || name.length === 0 || w === undefined || (o !== 'eq' && o !== 'ne' && o !== 'sw' && o !== 'in')) return false;
  const values = msg.getHeaders(name);
  if (values.length === 0) return false;
  const results = values.map((v) => matches(o, v.trim(), value));
  switch (w) {
    case 'first': return results[0] === true;
    case 'last': return results[results.length - 1] === true;
    case 'all': return results.every(Boolean);
    case 'one': return results.some(Boolean);
  }
}

export const positionFunctions: Record<string, KemiFunctionDef> = {
  append_after: fn(['str', 'str'], 'int', (_s, ctx, text, name) => place(ctx, text, name, 'after'),
    'Add a header ("Name: value\\r\\n") after the first header with this name (after the last header when there is none); 1 ok, -1 failed.'),
  insert_before: fn(['str', 'str'], 'int', (_s, ctx, text, name) => place(ctx, text, name, 'before'),
    'Add a header before the first header with this name (before the first header when there is none); 1 ok, -1 failed.'),
  match_content: fn(['str', 'str', 'str', 'str'], 'bool', (_s, ctx, name, op, value, which) => matchContent(ctx, name, op, value, which),
    'Whether the values of the headers with this name match: op eq, ne, sw (starts with), in (contains), case-insensitive; which: f(irst), l(ast), a(ll), o(ne at least).', true),
};
