/**
 * The per-message XAVP stores (Kamailio's core/xavp.c). As there, every name shares one list
 * of nodes, newest first; a node's value is a string, an integer, null, or a record: another
 * such list (its fields, also newest first). Order across names matters for what prints and
 * implodes. Three stores live on the Context: $xavp (names case-sensitive), $xavi (the same,
 * names case-insensitive) and $xavu (one node per name: setting replaces). The dispatcher
 * keeps its failover list here (`_dsdst_`, `_dsctx_`); a failure route sees what the request
 * route left, as Kamailio's tm restores a transaction's XAVPs there.
 */
import type { Xval } from './types.js';

export type XavpValue = Xval | XavpRecord;

export interface XavpField {
  readonly name: string;
  value: XavpValue;
}

/** The fields of a record, or the root list itself: first = newest. */
export type XavpRecord = XavpField[];

export const isRecord = (v: XavpValue): v is XavpRecord => Array.isArray(v);

/** Name matching and the list operations of xavp.c, over one node list. */
export class XavpOps {
  constructor(readonly caseless: boolean) {}

  same(a: string, b: string): boolean {
    return this.caseless ? a.length === b.length && a.toLowerCase() === b.toLowerCase() : a === b;
  }

  /** Position in `list` of the idx-th node named `name` (idx ≥ 0), or -1. */
  indexOf(list: readonly XavpField[], name: string, idx: number): number {
    if (idx < 0) return -1;
    let n = 0;
    for (let i = 0; i < list.length; i++) {
      if (this.same((list[i] as XavpField).name, name) && n++ === idx) return i;
    }
    return -1;
  }

  get(list: readonly XavpField[], name: string, idx = 0): XavpField | null {
    const i = this.indexOf(list, name, idx);
    return i < 0 ? null : (list[i] as XavpField);
  }

  count(list: readonly XavpField[], name: string): number {
    let n = 0;
    for (const f of list) if (this.same(f.name, name)) n++;
    return n;
  }

  /** Every node named `name`, in list order. */
  all(list: readonly XavpField[], name: string): XavpField[] {
    return list.filter((f) => this.same(f.name, name));
  }

  /** xavp_add_value: a new node on top. */
  add(list: XavpField[], name: string, value: XavpValue): XavpField {
    const f = { name, value };
    list.unshift(f);
    return f;
  }

  /** xavp_add_last: after the last node of the same name, or on top when there is none. */
  addLast(list: XavpField[], f: XavpField): void {
    let at = -1;
    for (let i = 0; i < list.length; i++) if (this.same((list[i] as XavpField).name, f.name)) at = i;
    list.splice(at + 1, 0, f);
  }

  /** xavp_set_value: replace the idx-th node's value; false when there is no such node. */
  set(list: XavpField[], name: string, idx: number, value: XavpValue): boolean {
    const i = this.indexOf(list, name, idx);
    if (i < 0) return false;
    list[i] = { name: (list[i] as XavpField).name, value };
    return true;
  }

  /** xavp_rm_internal: the idx-th node, or every one when idx < 0; how many went. */
  rm(list: XavpField[], name: string, idx: number): number {
    let n = 0;
    let gone = 0;
    for (let i = 0; i < list.length; ) {
      if (!this.same((list[i] as XavpField).name, name)) {
        i++;
        continue;
      }
      if (idx < 0 || idx === n) {
        list.splice(i, 1);
        gone++;
        if (idx >= 0) return 1;
      } else {
        i++;
      }
      n++;
    }
    return gone;
  }

  /** Remove this very node. */
  rmNode(list: XavpField[], f: XavpField): void {
    const i = list.indexOf(f);
    if (i >= 0) list.splice(i, 1);
  }

  /** xavp_get_list_key_names: the distinct field names of a record, first seen first. */
  keys(rec: readonly XavpField[]): string[] {
    const out: string[] = [];
    for (const f of rec) if (!out.some((k) => k === f.name)) out.push(f.name);
    return out;
  }
}

export class XavpStore {
  /** the root list: every name, newest first */
  readonly root: XavpField[] = [];
  readonly ops: XavpOps;

  constructor(caseless = false) {
    this.ops = new XavpOps(caseless);
  }

  /** The records of a name, newest first (scalars left out). */
  list(name: string): readonly XavpRecord[] {
    const out: XavpRecord[] = [];
    for (const f of this.ops.all(this.root, name)) if (isRecord(f.value)) out.push(f.value);
    return out;
  }

  /** Add records on top (the first given becomes the first of the list), as the dispatcher fills _dsdst_. */
  prepend(name: string, records: readonly XavpRecord[]): void {
    this.root.unshift(...records.map((value) => ({ name, value })));
  }

  /** Remove the first node of a name (xavp_rm of the head); false when there was none. */
  shift(name: string): boolean {
    return this.ops.rm(this.root, name, 0) > 0;
  }

  /** The first value of a field of the record at `index` (0 = newest; negative from the end), or null. */
  field(name: string, index: number, key: string): Xval {
    const v = this.record(name, index)?.find((f) => this.ops.same(f.name, key))?.value ?? null;
    return isRecord(v) ? null : v;
  }

  record(name: string, index: number): XavpRecord | null {
    const i = index < 0 ? this.ops.count(this.root, name) + index : index;
    const v = this.ops.get(this.root, name, i)?.value ?? null;
    return isRecord(v) ? v : null;
  }

  /** Drop a whole name. */
  delete(name: string): void {
    this.ops.rm(this.root, name, -1);
  }
}

/** xavu_set_xval: replace the node of that name in place, or add one on top. */
export function xavuSet(ops: XavpOps, list: XavpField[], name: string, value: XavpValue): void {
  const i = ops.indexOf(list, name, 0);
  if (i < 0) list.unshift({ name, value });
  else list[i] = { name: (list[i] as XavpField).name, value };
}
