/**
 * $xavp(...), $xavi(...) and $xavu(...), read and written as Kamailio 5.6's pv_xavp.c does:
 * `$xavp(a)` is the first node named a, `$xavp(a[i]=>f[j])` a field of the i-th record (a
 * negative index counts from the end), `$xavp(a=>f[*])` the first record's values of f joined
 * with ", ". Assigning `$xavp(a=>f)` puts a new record on top; `$xavp(a[0]=>f)` adds f to the
 * first record; `$xavp(a)` = $null removes the first a, `$xavp(a[*])` every a. $xavu has one
 * node per name and no indexes; $xavi is $xavp with names matched case-insensitively.
 */
import type { Context } from '../host/kemi/context.js';
import type { PvDef, Xval } from '../host/kemi/types.js';
import { isRecord, xavuSet, type XavpField, type XavpOps, type XavpStore, type XavpValue } from '../host/kemi/xavp.js';

/** An index as written: none, a number, or `*` (`+` reads as 0, as Kamailio 5.6 treats it). */
type Index = { readonly kind: 'none' } | { readonly kind: 'n'; readonly n: number } | { readonly kind: 'all' };

interface NamePart {
  readonly name: string;
  readonly index: Index;
}

export interface XavpSpec {
  readonly root: NamePart;
  readonly child: NamePart | null;
}

/** A record read where a value is wanted: Kamailio prints its address, we print its kind. */
export const RECORD_TEXT = '<<xavp:record>>';

/** What a node's value reads as from a script. */
export function scalar(v: XavpValue): Xval {
  return isRecord(v) ? RECORD_TEXT : v;
}

/** pv_xavp_fill_ni: a name up to '=', a blank or '[', then an optional [index]; rest is what follows. */
function namePart(s: string): { part: NamePart; rest: string } | null {
  const t = s.replace(/^[ \t\r\n]+/, '');
  const m = /^[^=\s[]*/.exec(t);
  const name = m?.[0] ?? '';
  if (name === '') return null;
  let rest = t.slice(name.length).replace(/^[ \t\r\n]+/, '');
  if (!rest.startsWith('[')) return { part: { name, index: { kind: 'none' } }, rest };
  const close = rest.indexOf(']');
  if (close < 0) return null;
  const ix = rest.slice(1, close).trim();
  rest = rest.slice(close + 1);
  let index: Index;
  if (ix === '*') index = { kind: 'all' };
  else if (ix === '+') index = { kind: 'n', n: 0 };
  else if (/^-?\d+$/.test(ix)) index = { kind: 'n', n: Number(ix) };
  else return null;
  return { part: { name, index }, rest };
}

/** Parse a $xavp/$xavi parameter; null when malformed (a reference to another PV as index is not supported). */
export function parseSpec(spec: string): XavpSpec | null {
  const r = namePart(spec);
  if (r === null) return null;
  if (!r.rest.startsWith('=')) return { root: r.part, child: null };
  if (!r.rest.startsWith('=>')) return null;
  const c = namePart(r.rest.slice(2));
  return c === null ? null : { root: r.part, child: c.part };
}

const idxOf = (i: Index): number => (i.kind === 'n' ? i.n : 0);

/** pv_get_xavp */
export function getXavp(store: XavpStore, spec: XavpSpec): Xval {
  const { ops, root } = store;
  let idx = idxOf(spec.root.index);
  if (idx < 0) idx += ops.count(root, spec.root.name);
  const node = ops.get(root, spec.root.name, idx);
  if (node === null) return null;
  if (spec.child === null) return scalar(node.value);
  if (!isRecord(node.value)) return null;
  const rec = node.value;
  const c = spec.child;
  let cidx = idxOf(c.index);
  if (cidx < 0) cidx += ops.count(rec, c.name);
  const at = ops.indexOf(rec, c.name, cidx);
  if (at < 0) return null;
  if (c.index.kind !== 'all') return scalar((rec[at] as XavpField).value);
  // [*]: this field and every later one of the same name
  const vals = rec.slice(at).filter((f) => ops.same(f.name, c.name)).map((f) => scalar(f.value) ?? '<null>');
  return vals.map(String).join(', ');
}

/** Kamailio 5.6 turns a negative index into count + idx + 1 when writing (so [-1] finds nothing). */
const writeIdx = (ops: XavpOps, list: XavpField[], name: string, idx: number): number => (idx < 0 ? ops.count(list, name) + idx + 1 : idx);

function rmChild(ops: XavpOps, rec: XavpField[], c: NamePart): void {
  if (c.index.kind === 'all') ops.rm(rec, c.name, -1);
  else if (c.index.kind === 'n') {
    const i = writeIdx(ops, rec, c.name, c.index.n);
    if (i >= 0) ops.rm(rec, c.name, i);
  } else ops.rm(rec, c.name, 0);
}

/** pv_set_xavp's $null branch */
function unsetXavp(store: XavpStore, spec: XavpSpec): void {
  const { ops, root } = store;
  const r = spec.root;
  if (spec.child === null) {
    if (r.index.kind === 'all') ops.rm(root, r.name, -1);
    else {
      const i = writeIdx(ops, root, r.name, idxOf(r.index));
      if (i >= 0) ops.rm(root, r.name, i);
    }
    return;
  }
  const c = spec.child;
  const nodes = r.index.kind === 'all' ? ops.all(root, r.name) : [ops.get(root, r.name, writeIdx(ops, root, r.name, idxOf(r.index)))];
  for (const n of nodes) if (n !== null && isRecord(n.value)) rmChild(ops, n.value, c);
}

/** pv_set_xavp: false where Kamailio's returns -1. */
export function setXavp(store: XavpStore, spec: XavpSpec, v: Xval): boolean {
  if (v === null) {
    unsetXavp(store, spec);
    return true;
  }
  const { ops, root } = store;
  const r = spec.root;
  const c = spec.child;
  if (c === null) {
    if (r.index.kind === 'none') {
      ops.add(root, r.name, v);
      return true;
    }
    if (r.index.kind === 'all') return false;
    return ops.set(root, r.name, writeIdx(ops, root, r.name, r.index.n), v);
  }
  if (r.index.kind === 'none') {
    ops.add(root, r.name, [{ name: c.name, value: v }]);
    return true;
  }
  if (r.index.kind === 'all') return true;
  const node = ops.get(root, r.name, writeIdx(ops, root, r.name, r.index.n));
  if (node === null) return true;
  if (!isRecord(node.value)) return false;
  if (c.index.kind === 'all') return true;
  if (c.index.kind === 'n') {
    ops.set(node.value, c.name, writeIdx(ops, node.value, c.name, c.index.n), v);
    return true;
  }
  ops.add(node.value, c.name, v);
  return true;
}

/** $xavu's parameter: `name` or `name=>child`, nothing else (pv_parse_xavu_name). */
export function parseXavuSpec(spec: string): { name: string; child: string | null } | null {
  const s = spec.trim();
  const eq = s.indexOf('=');
  if (eq < 0) return s === '' ? null : { name: s, child: null };
  if (eq >= s.length - 2 || s[eq + 1] !== '>') return null;
  return { name: s.slice(0, eq), child: s.slice(eq + 2) };
}

export function getXavu(store: XavpStore, name: string, child: string | null): Xval {
  const node = store.ops.get(store.root, name);
  if (node === null) return null;
  if (child === null) return scalar(node.value);
  if (!isRecord(node.value)) return null;
  const f = store.ops.get(node.value, child);
  return f === null ? null : scalar(f.value);
}

/** xavu_set_child_xval (and xavp/xavi's xavp_set_child_xval, which differ only in where a new record goes: both on top). */
export function setChild(store: XavpStore, name: string, child: string, v: XavpValue): void {
  const { ops, root } = store;
  const node = ops.get(root, name);
  if (node !== null && isRecord(node.value)) {
    const old = ops.get(node.value, child);
    if (old !== null) ops.rmNode(node.value, old);
    ops.add(node.value, child, v);
    return;
  }
  if (node !== null) ops.rmNode(root, node);
  ops.add(root, name, [{ name: child, value: v }]);
}

export function setXavu(store: XavpStore, name: string, child: string | null, v: Xval): void {
  const { ops, root } = store;
  if (v === null) {
    if (child === null) ops.rm(root, name, -1);
    else {
      const node = ops.get(root, name);
      if (node !== null && isRecord(node.value)) ops.rm(node.value, child, -1);
    }
    return;
  }
  if (child === null) xavuSet(ops, root, name, v);
  else setChild(store, name, child, v);
}

function xavpClass(pick: (ctx: Context) => XavpStore, what: string): PvDef {
  return {
    param: true,
    get: (_s, ctx, p) => {
      const spec = parseSpec(p);
      return spec === null ? null : getXavp(pick(ctx), spec);
    },
    set: (_s, ctx, p, v) => {
      const spec = parseSpec(p);
      if (spec !== null) setXavp(pick(ctx), spec, v);
    },
    doc: what,
  };
}

export const xavpPvs: Record<string, PvDef> = {
  xavp: xavpClass((ctx) => ctx.xavps, 'an XAVP of the current message: $xavp(name), $xavp(name[i]=>field[j]) (i from 0, the newest; negative from the end), $xavp(name=>field[*]); assigning $xavp(name=>field) adds a record on top, $xavp(name[0]=>field) a field to the first record, $null removes (the dispatcher\'s _dsdst_/_dsctx_ live here)'),
  xavi: xavpClass((ctx) => ctx.xavis, 'as $xavp, with names matched case-insensitively'),
  xavu: {
    param: true,
    get: (_s, ctx, p) => {
      const spec = parseXavuSpec(p);
      return spec === null ? null : getXavu(ctx.xavus, spec.name, spec.child);
    },
    set: (_s, ctx, p, v) => {
      const spec = parseXavuSpec(p);
      if (spec !== null) setXavu(ctx.xavus, spec.name, spec.child, v);
    },
    doc: 'a unique XAVP of the current message: $xavu(name) or $xavu(name=>field), one value each; assigning replaces, $null removes',
  },
};
