/**
 * textopsx's iterators (Kamailio 5.6 textopsx.c): walk the headers (hf_iterator_*) or the body
 * lines (bl_iterator_*) of the received message by name, read the current one ($hfitname,
 * $hfitbody, $blitval or the KEMI getters), and remove it or add text after / before it. The
 * edits are text edits on the received message (lumps), as Kamailio's del_lump / anchor_lump.
 *
 * Kamailio keeps four iterator slots per process, never freed, that outlive the message; here
 * the iterators belong to the message (up to four names each), so one left running cannot point
 * into the next message.
 */
import type { Context } from '../host/kemi/context.js';
import { fn, type KemiFunctionDef, type ModuleHost, type PvDef, type Xval } from '../host/kemi/types.js';
import { headerSpans, type HeaderSpan } from '../host/sip/header-spans.js';
import { addEdits } from '../host/textops/edit.js';
import { bytes, text as scriptText } from '../host/textops/patterns.js';
import { done } from './textops-edit.js';

/** Kamailio's HF_ITERATOR_SIZE / BL_ITERATOR_SIZE and the name bound (a name of 32 bytes or more is refused). */
const MAX_ITERATORS = 4;
const MAX_NAME = 31;

interface HfIterator {
  spans: readonly HeaderSpan[];
  /** index of the current header; -1 before the first */
  at: number;
  /** next() ran past the last: next and prev answer -1 until start or end */
  eoh: boolean;
}

interface BlLine {
  readonly start: number;
  readonly end: number;
}

interface BlIterator {
  /** the received body's offset in msg.raw and its text (latin1) */
  offset: number;
  text: string;
  line: BlLine | null;
  eob: boolean;
}

interface Iterators {
  hf: Map<string, HfIterator>;
  bl: Map<string, BlIterator>;
}

export interface IteratorState {
  readonly host: ModuleHost;
  readonly of: WeakMap<Context, Iterators>;
}

function iterators(s: IteratorState, ctx: Context): Iterators {
  let it = s.of.get(ctx);
  if (it === undefined) {
    it = { hf: new Map(), bl: new Map() };
    s.of.set(ctx, it);
  }
  return it;
}

/** The slot for `name`, made on first use; null when four other names are in use or the name is too long. */
function slot<T>(s: IteratorState, map: Map<string, T>, name: string, make: () => T): T | null {
  const cur = map.get(name);
  if (cur !== undefined) return cur;
  if (name.length === 0 || name.length > MAX_NAME) {
    s.host.complain('iterator name empty or longer than 31 characters', { name: name.slice(0, 40) });
    return null;
  }
  if (map.size >= MAX_ITERATORS) {
    s.host.complain(`no iterator available: at most ${String(MAX_ITERATORS)} names per message`, { name });
    return null;
  }
  const fresh = make();
  map.set(name, fresh);
  return fresh;
}

function hfStart(s: IteratorState, ctx: Context, name: string): number {
  const msg = ctx.msg;
  const it = slot(s, iterators(s, ctx).hf, name, () => ({ spans: [], at: -1, eoh: false }));
  if (it === null) return -1;
  it.at = -1;
  it.eoh = false;
  it.spans = msg === null ? [] : headerSpans(msg);
  return it.spans.length === 0 ? -1 : 1;
}

function hf(s: IteratorState, ctx: Context, name: string): HfIterator | null {
  return s.of.get(ctx)?.hf.get(name) ?? null;
}

function hfNext(s: IteratorState, ctx: Context, name: string): number {
  const it = hf(s, ctx, name);
  if (it === null || it.eoh) return -1;
  it.at++;
  if (it.at < it.spans.length) return 1;
  it.at = -1;
  it.eoh = true;
  return -1;
}

/** One header back; at the first, back to the start (as Kamailio, answering 1). */
function hfPrev(s: IteratorState, ctx: Context, name: string): number {
  const it = hf(s, ctx, name);
  if (it === null || it.eoh) return -1;
  it.at = it.at > 0 ? it.at - 1 : -1;
  return 1;
}

function hfEnd(s: IteratorState, ctx: Context, name: string): number {
  const it = hf(s, ctx, name);
  if (it === null) return -1;
  it.at = -1;
  it.eoh = false;
  return 1;
}

function hfCurrent(s: IteratorState, ctx: Context, name: string): HeaderSpan | null {
  const it = hf(s, ctx, name);
  return it === null || it.at < 0 ? null : (it.spans[it.at] ?? null);
}

function hfEdit(s: IteratorState, ctx: Context, name: string, how: 'rm' | 'append' | 'insert', text = ''): number {
  const h = hfCurrent(s, ctx, name);
  if (h === null) return -1;
  const at = how === 'append' ? h.next : h.start;
  const lump = how === 'rm' ? { start: h.start, end: h.next, text: '' } : { start: at, end: at, text: bytes(text) };
  return done(s, addEdits(ctx, [lump]));
}

/** The value as Kamailio's parser keeps it: leading blanks skipped, trailing ones kept (compared in test/compat). */
function headerBody(ctx: Context, h: HeaderSpan): string {
  return ctx.msg?.raw.toString('utf8', h.valueStart, h.end) ?? '';
}

function blStart(s: IteratorState, ctx: Context, name: string): number {
  const msg = ctx.msg;
  const it = slot(s, iterators(s, ctx).bl, name, () => ({ offset: 0, text: '', line: null, eob: false }));
  if (it === null) return -1;
  it.line = null;
  it.eob = false;
  it.offset = msg?.headerBytes ?? 0;
  it.text = msg === null ? '' : msg.body.toString('latin1');
  return it.text.length === 0 ? -1 : 1;
}

function bl(s: IteratorState, ctx: Context, name: string): BlIterator | null {
  return s.of.get(ctx)?.bl.get(name) ?? null;
}

/** The next line, its line end included. */
function blNext(s: IteratorState, ctx: Context, name: string): number {
  const it = bl(s, ctx, name);
  if (it === null || it.eob) return -1;
  const from = it.line === null ? 0 : it.line.end;
  if (from >= it.text.length) {
    it.line = null;
    it.eob = true;
    return -1;
  }
  const nl = it.text.indexOf('\n', from);
  it.line = { start: from, end: nl < 0 ? it.text.length : nl + 1 };
  return 1;
}

function blEnd(s: IteratorState, ctx: Context, name: string): number {
  const it = bl(s, ctx, name);
  if (it === null) return -1;
  it.line = null;
  it.eob = false;
  it.text = '';
  return 1;
}

function blEdit(s: IteratorState, ctx: Context, name: string, how: 'rm' | 'append' | 'insert', text = ''): number {
  const it = bl(s, ctx, name);
  const l = it?.line ?? null;
  if (it === null || l === null) return -1;
  if (ctx.hasHeaderEdits && ctx.headerEdits.body !== null) {
    s.host.complain('the body was replaced as a whole (set_body, sdpops, a media relay): its received lines can no longer be edited', {}, 'warn');
    return -1;
  }
  const at = how === 'append' ? l.end : l.start;
  const lump = how === 'rm' ? { start: it.offset + l.start, end: it.offset + l.end, text: '' } : { start: it.offset + at, end: it.offset + at, text: bytes(text) };
  return done(s, addEdits(ctx, [lump]));
}

function blValue(s: IteratorState, ctx: Context, name: string): Xval {
  const it = bl(s, ctx, name);
  const l = it?.line ?? null;
  if (it === null || l === null) return null;
  return scriptText(it.text.slice(l.start, l.end));
}

export const iteratorFunctions: Record<string, KemiFunctionDef<IteratorState>> = {
  hf_iterator_start: fn(['str'], 'int', (s: IteratorState, ctx, n) => hfStart(s, ctx, n), 'Start (or restart) the header iterator with this name, before the first header; -1 when there are no headers or no iterator is free (4 names).'),
  hf_iterator_next: fn(['str'], 'int', (s: IteratorState, ctx, n) => hfNext(s, ctx, n), 'Move to the next header; -1 past the last (then -1 until started again).'),
  hf_iterator_prev: fn(['str'], 'int', (s: IteratorState, ctx, n) => hfPrev(s, ctx, n), 'Move to the previous header (from the first: back to the start).'),
  hf_iterator_end: fn(['str'], 'int', (s: IteratorState, ctx, n) => hfEnd(s, ctx, n), 'Close the iterator.'),
  hf_iterator_rm: fn(['str'], 'int', (s: IteratorState, ctx, n) => hfEdit(s, ctx, n, 'rm'), 'Remove the current header from what is sent.'),
  hf_iterator_append: fn(['str', 'str'], 'int', (s: IteratorState, ctx, n, t) => hfEdit(s, ctx, n, 'append', t), 'Add text (headers, "Name: value\\r\\n") after the current header.'),
  hf_iterator_insert: fn(['str', 'str'], 'int', (s: IteratorState, ctx, n, t) => hfEdit(s, ctx, n, 'insert', t), 'Add text before the current header.'),
  hf_iterator_hname: fn(['str'], 'xval', (s: IteratorState, ctx, n) => hfCurrent(s, ctx, n)?.rawName ?? null, 'The current header\'s name as written, or null.'),
  hf_iterator_hbody: fn(['str'], 'xval', (s: IteratorState, ctx, n) => {
    const h = hfCurrent(s, ctx, n);
    return h === null ? null : headerBody(ctx, h);
  }, 'The current header\'s value, or null.'),
  bl_iterator_start: fn(['str'], 'int', (s: IteratorState, ctx, n) => blStart(s, ctx, n), 'Start (or restart) the body-line iterator with this name; -1 when there is no body or no iterator is free.'),
  bl_iterator_next: fn(['str'], 'int', (s: IteratorState, ctx, n) => blNext(s, ctx, n), 'Move to the next body line; -1 past the last.'),
  bl_iterator_end: fn(['str'], 'int', (s: IteratorState, ctx, n) => blEnd(s, ctx, n), 'Close the iterator.'),
  bl_iterator_rm: fn(['str'], 'int', (s: IteratorState, ctx, n) => blEdit(s, ctx, n, 'rm'), 'Remove the current body line from what is sent.'),
  bl_iterator_append: fn(['str', 'str'], 'int', (s: IteratorState, ctx, n, t) => blEdit(s, ctx, n, 'append', t), 'Add text after the current body line.'),
  bl_iterator_insert: fn(['str', 'str'], 'int', (s: IteratorState, ctx, n, t) => blEdit(s, ctx, n, 'insert', t), 'Add text before the current body line.'),
  bl_iterator_value: fn(['str'], 'xval', (s: IteratorState, ctx, n) => blValue(s, ctx, n), 'The current body line, its line end included, or null.'),
};

export const iteratorPvs: Record<string, PvDef<IteratorState>> = {
  hfitname: { param: true, get: (s, ctx, n) => hfCurrent(s, ctx, n)?.rawName ?? null, doc: 'the name of the header textopsx\'s iterator `name` is at' },
  hfitbody: {
    param: true,
    get: (s, ctx, n) => {
      const h = hfCurrent(s, ctx, n);
      return h === null ? null : headerBody(ctx, h);
    },
    doc: 'the value of the header textopsx\'s iterator `name` is at',
  },
  blitval: { param: true, get: (s, ctx, n) => blValue(s, ctx, n), doc: 'the body line textopsx\'s body iterator `name` is at (with its line end)' },
};
