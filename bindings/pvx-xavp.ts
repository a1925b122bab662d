/**
 * KSR.pvx's XAVP functions (Kamailio 5.6's pv.c ki_xav*), over the stores of host/kemi/xavp.ts.
 * One table per family: xavp and xavi share everything but name matching; xavu keeps one node
 * per name. Return conventions follow Kamailio: get → $null, gete → "", getw → "<null>".
 */
import type { Context } from '../host/kemi/context.js';
import { fn, readFn, type KemiFunctionDef, type Xval } from '../host/kemi/types.js';
import { isRecord, xavuSet, type XavpField, type XavpRecord, type XavpStore, type XavpValue } from '../host/kemi/xavp.js';
import { scalar, setChild } from './pv-xavp.js';

type NullMode = 'none' | 'empty' | 'print';
type Family = 'xavp' | 'xavi' | 'xavu';
type Fns = Record<string, KemiFunctionDef>;

const whenNull = (m: NullMode): Xval => (m === 'none' ? null : m === 'empty' ? '' : '<null>');
const orNull = (v: Xval, m: NullMode): Xval => v ?? whenNull(m);

/** A value as getd returns it: a record becomes a table of field name → list of values. */
export type Structured = Xval | Structured[] | { [k: string]: Structured };

export function storeOf(ctx: Context, f: Family): XavpStore {
  return f === 'xavp' ? ctx.xavps : f === 'xavi' ? ctx.xavis : ctx.xavus;
}

/** ki_xav_dict: each distinct field name → the values of every field of that name. */
function dict(store: XavpStore, rec: XavpRecord): { [k: string]: Structured } {
  const out: { [k: string]: Structured } = {};
  for (const k of store.ops.keys(rec)) {
    out[k] = store.ops.all(rec, k).map((f) => (isRecord(f.value) ? dict(store, f.value) : f.value));
  }
  return out;
}

/** ki_xav_getd_helper: every record of a name (from index on), or the one at `index`. */
export function getd(store: XavpStore, name: string, index: number | null): Structured {
  const nodes = store.ops.all(store.root, name);
  let i = index ?? 0;
  if (i < 0) {
    if (-i > nodes.length) return null;
    i += nodes.length;
  }
  const first = nodes[i];
  if (first === undefined) return null;
  if (index !== null) return isRecord(first.value) ? dict(store, first.value) : null;
  const out: Structured[] = [];
  for (const n of nodes.slice(i)) if (isRecord(n.value)) out.push(dict(store, n.value));
  return out;
}

function getKeys(store: XavpStore, name: string, index: number): Structured {
  const n = store.ops.get(store.root, name, index);
  if (n === null) return null;
  return isRecord(n.value) ? store.ops.keys(n.value) : [];
}

function first(store: XavpStore, name: string): XavpField | null {
  return store.ops.get(store.root, name, 0);
}

function childOf(store: XavpStore, name: string, child: string): XavpField | null {
  const n = first(store, name);
  return n === null || !isRecord(n.value) ? null : store.ops.get(n.value, child, 0);
}

const isNull = (f: XavpField | null): number => (f === null || f.value === null ? 1 : -1);
const valueOf = (f: XavpField | null, m: NullMode): Xval => (f === null ? whenNull(m) : orNull(scalar(f.value), m));

/** get/gete/getw and child_get/gete/getw of a family: reads, so an unchanged Context answers again. */
function getters(fam: Family, child: (s: XavpStore, name: string, c: string) => XavpField | null): Fns {
  const out: Fns = {};
  const modes: [string, NullMode, string][] = [['get', 'none', 'or $null'], ['gete', 'empty', 'or "" when $null'], ['getw', 'print', 'or "<null>" when $null']];
  for (const [suffix, mode, what] of modes) {
    out[`${fam}_${suffix}`] = readFn(fn(['str'], 'xval', (_s, ctx, name) => valueOf(first(storeOf(ctx, fam), name), mode),
      `The value of the first ${fam} of the name (a record reads as "<<xavp:record>>"), ${what}.`), true);
    out[`${fam}_child_${suffix}`] = readFn(fn(['str', 'str'], 'xval', (_s, ctx, name, c) => valueOf(child(storeOf(ctx, fam), name, c), mode),
      `The value of a field of the first ${fam} record of the name, ${what}.`), true);
  }
  return out;
}

/**
 * The functions xavp and xavi share (names compared exactly or case-insensitively). getd and
 * get_keys are not `read`s: a call plan hands the isolate primitive answers only.
 */
function listFamily(fam: 'xavp' | 'xavi'): Fns {
  const st = (ctx: Context): XavpStore => storeOf(ctx, fam);
  const add = (ctx: Context, name: string, v: XavpValue): number => {
    const s = st(ctx);
    s.ops.add(s.root, name, v);
    return 1;
  };
  return {
    ...getters(fam, childOf),
    [`${fam}_getd`]: fn(['str'], 'xval', (_s, ctx, name) => getd(st(ctx), name, null) as Xval,
      `Every record of the ${fam} name as a list of tables (field name → list of values), or $null.`),
    [`${fam}_getd_p1`]: fn(['str', 'int'], 'xval', (_s, ctx, name, i) => getd(st(ctx), name, i) as Xval,
      `The record at an index (negative from the end) as a table (field name → list of values), or $null.`),
    [`${fam}_get_keys`]: fn(['str', 'int'], 'xval', (_s, ctx, name, i) => getKeys(st(ctx), name, i) as Xval,
      `The distinct field names of the record at an index, as a list, or $null.`),
    [`${fam}_is_null`]: readFn(fn(['str'], 'int', (_s, ctx, name) => isNull(first(st(ctx), name)),
      `1 when there is no ${fam} of the name or its value is $null, else -1.`), true),
    [`${fam}_child_is_null`]: readFn(fn(['str', 'str'], 'int', (_s, ctx, name, c) => isNull(childOf(st(ctx), name, c)),
      `1 when the first record has no such field or it is $null, else -1.`), true),
    [`${fam}_rm`]: fn(['str'], 'int', (_s, ctx, name) => {
      const s = st(ctx);
      s.ops.rm(s.root, name, 0);
      return 1;
    }, `Remove the first ${fam} of the name; 1 (also when there was none).`),
    [`${fam}_child_rm`]: fn(['str', 'str'], 'int', (_s, ctx, name, c) => {
      const n = first(st(ctx), name);
      if (n !== null && isRecord(n.value)) st(ctx).ops.rm(n.value, c, 0);
      return 1;
    }, 'Remove the first field of the name from the first record; 1 (also when there was none).'),
    [`${fam}_seti`]: fn(['str', 'int'], 'int', (_s, ctx, name, v) => add(ctx, name, v), `Add an integer ${fam} on top; 1.`),
    [`${fam}_sets`]: fn(['str', 'str'], 'int', (_s, ctx, name, v) => add(ctx, name, v), `Add a string ${fam} on top; 1.`),
    [`${fam}_child_seti`]: fn(['str', 'str', 'int'], 'int', (_s, ctx, name, c, v) => {
      setChild(st(ctx), name, c, v);
      return 1;
    }, 'Set a field of the first record (replacing the field; a new record on top when there is none); 1.'),
    [`${fam}_child_sets`]: fn(['str', 'str', 'str'], 'int', (_s, ctx, name, c, v) => {
      setChild(st(ctx), name, c, v);
      return 1;
    }, 'Set a string field of the first record (replacing the field; a new record on top when there is none); 1.'),
  };
}

/** parse_params over "a=1;b;c=x" (one trailing ';' allowed): names and values in order; null when empty. */
export function splitParams(s: string): { name: string; value: string }[] | null {
  const body = s.endsWith(';') ? s.slice(0, -1) : s;
  if (body.trim() === '') return null;
  const out: { name: string; value: string }[] = [];
  for (const part of body.split(';')) {
    const eq = part.indexOf('=');
    const name = (eq < 0 ? part : part.slice(0, eq)).trim();
    if (name === '') return null;
    let value = eq < 0 ? '' : part.slice(eq + 1).trim();
    if (value.length >= 2 && value.startsWith('"') && value.endsWith('"')) value = value.slice(1, -1);
    out.push({ name, value });
  }
  return out;
}

/** xavp_serialize_fields: "name=value;" per scalar field of the first record ("name;" for ""), in record order. */
export function serializeFields(store: XavpStore, name: string): string {
  const n = first(store, name);
  if (n === null || !isRecord(n.value)) return '';
  let out = '';
  for (const f of n.value) {
    if (typeof f.value === 'number') out += `${f.name}=${String(f.value >>> 0)};`;
    else if (typeof f.value === 'string') out += f.value === '' ? `${f.name};` : `${f.name}=${f.value};`;
  }
  return out;
}

export const xavpFns: Fns = { ...listFamily('xavp'), ...listFamily('xavi') };

/** The xavu functions: one node per name, one field per name in a record. */
export const xavuFns: Fns = {
  ...getters('xavu', (s, name, c) => {
    const n = first(s, name);
    return n === null || !isRecord(n.value) ? null : s.ops.get(n.value, c, 0);
  }),
  xavu_is_null: readFn(fn(['str'], 'int', (_s, ctx, name) => isNull(first(ctx.xavus, name)), '1 when there is no xavu of the name or it is $null, else -1.'), true),
  // Kamailio 5.6 looks the record up among the XAVPs here, not the XAVUs (pv.c ki_xavu_child_is_null)
  xavu_child_is_null: readFn(fn(['str', 'str'], 'int', (_s, ctx, name, c) => isNull(childOf(ctx.xavps, name, c)),
    '1 when the first $xavp (sic: Kamailio 5.6 looks among the XAVPs) of the name has no such field or it is $null, else -1.'), true),
  xavu_rm: fn(['str'], 'int', (_s, ctx, name) => {
    ctx.xavus.ops.rm(ctx.xavus.root, name, -1);
    return 1;
  }, 'Remove the xavu of the name; 1.'),
  xavu_child_rm: fn(['str', 'str'], 'int', (_s, ctx, name, c) => {
    const n = first(ctx.xavus, name);
    if (n !== null && isRecord(n.value)) ctx.xavus.ops.rm(n.value, c, -1);
    return 1;
  }, 'Remove a field of the xavu record; 1.'),
  xavu_seti: fn(['str', 'int'], 'int', (_s, ctx, name, v) => {
    xavuSet(ctx.xavus.ops, ctx.xavus.root, name, v);
    return 1;
  }, 'Set the xavu of the name to an integer (replacing it); 1.'),
  xavu_sets: fn(['str', 'str'], 'int', (_s, ctx, name, v) => {
    xavuSet(ctx.xavus.ops, ctx.xavus.root, name, v);
    return 1;
  }, 'Set the xavu of the name to a string (replacing it); 1.'),
  xavu_child_seti: fn(['str', 'str', 'int'], 'int', (_s, ctx, name, c, v) => {
    setChild(ctx.xavus, name, c, v);
    return 1;
  }, 'Set a field of the xavu record (replacing it; a new record when there is none); 1.'),
  xavu_child_sets: fn(['str', 'str', 'str'], 'int', (_s, ctx, name, c, v) => {
    setChild(ctx.xavus, name, c, v);
    return 1;
  }, 'Set a string field of the xavu record (replacing it; a new record when there is none); 1.'),
};
