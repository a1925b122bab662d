/**
 * KSR.pvx: Kamailio's pv module functions for scripts (XAVPs, AVPs, $var, $shv, the static
 * branch, evalx). The avp/var/shv functions go through the PV registry, so they see exactly
 * what `KSR.pv.get("$avp(x)")` & co. see; the XAVP ones are in pvx-xavp.ts.
 */
import type { Context } from '../host/kemi/context.js';
import { FormatCache, printFormat } from '../host/kemi/pv-format.js';
import { defineModule, fn, readFn, type ModuleHost, type Xval } from '../host/kemi/types.js';
import { isRecord, xavuSet, type XavpField, type XavpRecord, type XavpStore } from '../host/kemi/xavp.js';
import { Q_UNSPECIFIED } from '../host/sip/dset.js';
import { avpShift } from './pv-avp.js';
import { RECORD_TEXT } from './pv-xavp.js';
import { serializeFields, splitParams, xavpFns, xavuFns } from './pvx-xavp.js';

/** Kamailio's static branch ($sbranch): one per process there, one per runtime here. */
interface StaticBranch {
  uri: string;
  dstUri: string;
  path: string;
  q: number;
  flags: number;
}

interface State {
  readonly host: ModuleHost;
  readonly formats: FormatCache;
  sbranch: StaticBranch;
}

const emptyBranch = (): StaticBranch => ({ uri: '', dstUri: '', path: '', q: Q_UNSPECIFIED, flags: 0 });

function pvGet(s: State, ctx: Context, spec: string): Xval {
  return s.host.pvs.resolve(spec)?.get(ctx) ?? null;
}

function pvSet(s: State, ctx: Context, spec: string, v: Xval): number {
  const pv = s.host.pvs.resolve(spec);
  if (pv?.set === undefined) {
    s.host.complain(pv === null ? 'unknown pseudo-variable' : 'pseudo-variable is read-only', { pv: spec });
    return -1;
  }
  pv.set(ctx, v);
  return 1;
}

/** ki_avp_get_mode */
function avpGet(s: State, ctx: Context, name: string, whenNull: Xval): Xval {
  return pvGet(s, ctx, `$avp(${name})`) ?? whenNull;
}

/** xavp_copy: a one-level copy (fields that are records left out) of src[idx], put on dst (after the last dst, if any). */
function xavpCopy(s: State, ctx: Context, src: string, idx: number, dst: string): number {
  const x = ctx.xavps;
  const node = x.ops.get(x.root, src, idx);
  if (node === null) {
    s.host.complain('xavp_copy: no such source xavp', { xavp: src, index: idx });
    return -1;
  }
  let value = node.value;
  if (isRecord(value)) {
    value = value.filter((f) => !isRecord(f.value)).map((f) => ({ name: f.name, value: f.value }));
    // Kamailio's clone gives up on a record with no plain field
    if (value.length === 0) return -1;
  }
  const copy: XavpField = { name: dst, value };
  if (x.ops.get(x.root, dst) === null) x.root.unshift(copy);
  else x.ops.addLast(x.root, copy);
  return 1;
}

/** xavp/xavu_params_explode: "a=1;b=2" as one record {a, b} (all values strings). */
function explode(s: State, store: XavpStore, params: string, name: string, unique: boolean): number {
  const list = splitParams(params);
  if (list === null || name === '') {
    s.host.complain('params_explode: nothing to explode', { params, xavp: name });
    return -1;
  }
  const rec: XavpRecord = [];
  for (const p of list.reverse()) {
    if (unique) xavuSet(store.ops, rec, p.name, p.value);
    else store.ops.add(rec, p.name, p.value);
  }
  if (unique) xavuSet(store.ops, store.root, name, rec);
  else store.ops.add(store.root, name, rec);
  return 1;
}

function implode(s: State, ctx: Context, store: XavpStore, name: string, pv: string): number {
  if (name === '' || pv === '') return -1;
  const text = serializeFields(store, name);
  if (text === '') return -1;
  return pvSet(s, ctx, pv, text);
}

/** xavp_slist_explode: the items between any of the separator characters, as fields "v" of one record, in order. */
function slistExplode(ctx: Context, list: string, seps: string, mode: string, name: string): number {
  if (list === '' || seps === '' || name === '') return -1;
  const rec: XavpRecord = [];
  let item = '';
  const flush = (): void => {
    const v = mode.startsWith('t') ? item.trim() : item;
    if (v !== '') rec.push({ name: 'v', value: v });
    item = '';
  };
  for (const c of list) {
    if (seps.includes(c)) flush();
    else item += c;
  }
  flush();
  ctx.xavps.ops.add(ctx.xavps.root, name, rec);
  return 1;
}

/** pv_var_to_xavp: one $var (or every one, "*") as fields of a new record; earlier records of the name go. */
function varToXavp(s: State, ctx: Context, varname: string, name: string): number {
  const x = ctx.xavps;
  x.ops.rm(x.root, name, -1);
  if (varname === '*') {
    const rec: XavpRecord = [];
    for (const [k, v] of ctx.vars) if (v !== null && v !== '') x.ops.add(rec, k, v);
    if (rec.length > 0) x.ops.add(x.root, name, rec);
    return 1;
  }
  const v = ctx.vars.get(varname);
  if (v === undefined) {
    s.host.complain('pv_var_to_xavp: no such $var', { var: varname });
    return -1;
  }
  x.ops.add(x.root, name, [{ name: varname, value: v }]);
  return 1;
}

/** pv_xavp_to_var: every field of every record of the name becomes a $var. */
function xavpToVar(s: State, ctx: Context, name: string): number {
  const nodes = ctx.xavps.ops.all(ctx.xavps.root, name);
  if (nodes[0] === undefined || !isRecord(nodes[0].value)) {
    s.host.complain('pv_xavp_to_var: no such xavp record', { xavp: name });
    return -1;
  }
  for (const n of nodes) {
    if (!isRecord(n.value)) return -1;
    for (const f of n.value) {
      if (f.value === null || isRecord(f.value)) return -1;
      ctx.vars.set(f.name, f.value);
    }
  }
  return 1;
}

function printList(s: State, what: string, list: readonly XavpField[], level = 0): void {
  s.host.log.info({ level, count: list.length }, `+++++ start ${what} list (level=${String(level)})`);
  for (const f of list) {
    const v = f.value;
    s.host.log.info({ level, name: f.name, value: isRecord(v) ? RECORD_TEXT : v === null ? '<null>' : v }, `${what} ${f.name}`);
    if (isRecord(v)) printList(s, what, v, level + 1);
  }
  s.host.log.info({ level }, `----- end ${what} list (level=${String(level)})`);
}

/** sbranch_set_ruri: the static branch's URI, next hop, Path and flags become the R-URI's. */
function sbranchSetRuri(s: State, ctx: Context): number {
  const b = s.sbranch;
  if (b.uri === '' || ctx.msg === null || !ctx.msg.isRequest) return -1;
  ctx.newRuri = b.uri;
  ctx.dstUri = b.dstUri === '' ? null : b.dstUri;
  ctx.dset.ruriPath = b.path === '' ? null : b.path;
  ctx.dset.ruriQ = b.q;
  ctx.bflags = b.flags;
  return 1;
}

function sbranchAppend(s: State, ctx: Context): number {
  const b = s.sbranch;
  if (b.uri === '' || ctx.msg === null || !ctx.msg.isRequest) return -1;
  const ok = ctx.dset.append({ uri: b.uri, dstUri: b.dstUri === '' ? null : b.dstUri, path: b.path === '' ? null : b.path, q: b.q, bflags: b.flags, socket: null });
  return ok ? 1 : -1;
}

const SBRANCH_KEYS = ['uri', 'dst_uri', 'path', 'q', 'flags'] as const;

export default defineModule({
  name: 'pvx',
  doc: 'From Kamailio\'s pv module: XAVPs ($xavp, $xavu, $xavi), AVPs, $var, $shv, the static branch and evalx for scripts.',
  init: (host): State => ({ host, formats: new FormatCache(host.pvs, true), sbranch: emptyBranch() }),
  pvArgs: { evalx: [0], xavp_params_implode: [1], xavu_params_implode: [1] },
  functions: {
    ...xavpFns,
    ...xavuFns,
    xavp_copy: fn(['str', 'int', 'str'], 'int', (s: State, ctx, src, idx, dst) => xavpCopy(s, ctx, src, idx, dst),
      'Copy the xavp at index of src (one level: fields that are records left out) to dst, after the last dst if there is one; 1, -1 when src[idx] does not exist.'),
    xavp_copy_dst: fn(['str', 'int', 'str', 'int'], 'int', (s: State, ctx, src, idx, dst) => xavpCopy(s, ctx, src, idx, dst),
      'As xavp_copy: Kamailio 5.6\'s KEMI export ignores the destination index too (pv.c ki_xavp_copy_dst).'),
    xavp_params_explode: fn(['str', 'str'], 'int', (s: State, ctx, params, name) => explode(s, ctx.xavps, params, name, false),
      'Parse "a=1;b=2" into a new record on top of the xavp name (values are strings); 1, -1 when there is nothing to parse.'),
    xavu_params_explode: fn(['str', 'str'], 'int', (s: State, ctx, params, name) => explode(s, ctx.xavus, params, name, true),
      'Parse "a=1;b=2" into the xavu record of the name (replacing it; one field per name); 1, -1 when there is nothing to parse.'),
    xavp_params_implode: fn(['str', 'str'], 'int', (s: State, ctx, name, pv) => implode(s, ctx, ctx.xavps, name, pv),
      'Write the first record\'s plain fields as "a=1;b=2;" into a pseudo-variable; 1, -1 when there is no record or the PV is not writable.'),
    xavu_params_implode: fn(['str', 'str'], 'int', (s: State, ctx, name, pv) => implode(s, ctx, ctx.xavus, name, pv),
      'Write the xavu record\'s plain fields as "a=1;b=2;" into a pseudo-variable; 1, -1 when there is no record or the PV is not writable.'),
    xavp_slist_explode: fn(['str', 'str', 'str', 'str'], 'int', (_s: State, ctx, list, seps, mode, name) => slistExplode(ctx, list, seps, mode, name),
      'Split the list at any of the separator characters into fields "v" of a new record (mode "t": trim each item; empty items skipped); 1, -1 on an empty argument.'),
    pv_var_to_xavp: fn(['str', 'str'], 'int', (s: State, ctx, v, name) => varToXavp(s, ctx, v, name),
      'Replace the xavp name with one record holding $var(varname) (or every $var, "*"); 1, -1 when the $var was never set.'),
    pv_xavp_to_var: fn(['str'], 'int', (s: State, ctx, name) => xavpToVar(s, ctx, name),
      'Set a $var for each field of each record of the xavp name; 1, -1 when there is no record or a field is not a string or integer.'),
    pv_xavp_print: fn([], 'int', (s: State, ctx) => { printList(s, 'XAVP', ctx.xavps.root); return 1; }, 'Log every XAVP of the message at info; 1.'),
    pv_xavu_print: fn([], 'int', (s: State, ctx) => { printList(s, 'XAVU', ctx.xavus.root); return 1; }, 'Log every XAVU of the message at info; 1.'),
    pv_xavi_print: fn([], 'int', (s: State, ctx) => { printList(s, 'XAVI', ctx.xavis.root); return 1; }, 'Log every XAVI of the message at info; 1.'),
    avp_seti: fn(['str', 'int'], 'int', (s: State, ctx, n, v) => pvSet(s, ctx, `$avp(${n})`, v), 'Add an integer AVP on top (as $avp(name) = n); 1.'),
    avp_sets: fn(['str', 'str'], 'int', (s: State, ctx, n, v) => pvSet(s, ctx, `$avp(${n})`, v), 'Add a string AVP on top (as $avp(name) = "s"); 1.'),
    avp_rm: fn(['str'], 'int', (_s: State, ctx, n) => { avpShift(ctx, n); return 1; }, 'Remove the newest AVP of the name (destroy_avps without "all"); 1.'),
    // Kamailio 5.6.3's ki_avp_is_null removes the newest value before it looks
    avp_is_null: fn(['str'], 'int', (_s: State, ctx, n) => { avpShift(ctx, n); return ctx.avps.has(n) ? -1 : 1; },
      'As Kamailio 5.6.3: removes the newest AVP of the name, then 1 when none is left, else -1. KSR.pv.is_null("$avp(name)") only looks.'),
    avp_get: readFn(fn(['str'], 'xval', (s: State, ctx, n) => avpGet(s, ctx, n, null), 'The newest value of the AVP, or $null.'), true),
    avp_gete: readFn(fn(['str'], 'xval', (s: State, ctx, n) => avpGet(s, ctx, n, ''), 'The newest value of the AVP, or "".'), true),
    avp_getw: readFn(fn(['str'], 'xval', (s: State, ctx, n) => avpGet(s, ctx, n, '<null>'), 'The newest value of the AVP, or "<null>".'), true),
    var_seti: fn(['str', 'int'], 'int', (s: State, ctx, n, v) => pvSet(s, ctx, `$var(${n})`, v), 'Set $var(name) to an integer; 1.'),
    var_sets: fn(['str', 'str'], 'int', (s: State, ctx, n, v) => pvSet(s, ctx, `$var(${n})`, v), 'Set $var(name) to a string; 1.'),
    var_get: readFn(fn(['str'], 'xval', (s: State, ctx, n) => pvGet(s, ctx, `$var(${n})`) ?? 0, 'The value of $var(name); 0 when it was never set (as Kamailio).'), true),
    shv_seti: fn(['str', 'int'], 'int', (s: State, ctx, n, v) => pvSet(s, ctx, `$shv(${n})`, v), 'Set $shv(name) to an integer; 1.'),
    shv_sets: fn(['str', 'str'], 'int', (s: State, ctx, n, v) => pvSet(s, ctx, `$shv(${n})`, v), 'Set $shv(name) to a string; 1.'),
    shv_get: readFn(fn(['str'], 'xval', (s: State, ctx, n) => pvGet(s, ctx, `$shv(${n})`) ?? 0, 'The value of $shv(name); 0 when it was never set (as Kamailio).'), true),
    evalx: fn(['str', 'str'], 'int', (s: State, ctx, dst, fmt) => {
      const c = s.formats.get(fmt);
      if (!c.ok) {
        s.host.complain('evalx: unknown pseudo-variable in the format', { pv: c.bad });
        return -1;
      }
      return pvSet(s, ctx, dst, printFormat(c.parts, ctx));
    }, 'Print the format (its pseudo-variables evaluated) into the writable pseudo-variable dst; 1, -1 when dst is not writable or the format names an unknown PV.'),
    sbranch_set_ruri: fn([], 'int', (s: State, ctx) => sbranchSetRuri(s, ctx), 'Make the static branch ($sbranch) the R-URI branch (URI, $du, Path, q, flags); 1, -1 when its URI is empty.'),
    sbranch_append: fn([], 'int', (s: State, ctx) => sbranchAppend(s, ctx), 'Append the static branch to the destination set; 1, -1 when its URI is empty or the set is full.'),
    sbranch_reset: fn([], 'int', (s: State) => { s.sbranch = emptyBranch(); return 1; }, 'Empty the static branch; 1.'),
  },
  pvs: {
    sbranch: {
      param: true,
      get: (s: State, _ctx, key) => {
        const b = s.sbranch;
        switch (key) {
          case 'uri': return b.uri === '' ? null : b.uri;
          case 'dst_uri': return b.dstUri === '' ? null : b.dstUri;
          case 'path': return b.path === '' ? null : b.path;
          case 'q': return b.q === Q_UNSPECIFIED ? null : b.q;
          case 'flags': return b.flags;
          default: return null;
        }
      },
      set: (s: State, _ctx, key, v) => {
        const b = s.sbranch;
        const str = v === null ? '' : String(v);
        if (key === 'uri') b.uri = str;
        else if (key === 'dst_uri') b.dstUri = str;
        else if (key === 'path') b.path = str;
        else if (key === 'q') b.q = v === null ? Q_UNSPECIFIED : Number(v);
        else if (key === 'flags') b.flags = v === null ? 0 : Number(v) >>> 0;
      },
      doc: `the static branch used by KSR.pvx.sbranch_*: $sbranch(${SBRANCH_KEYS.join('|')}) (q as in $ru's q: 0..1000); one for the whole runtime, as Kamailio's is one per process`,
    },
  },
});
