import { z } from 'zod';
import type { Logger } from 'pino';
import type { Context } from '../host/kemi/context.js';
import { compileFormat, printFormat, type FormatPart } from '../host/kemi/pv-format.js';
import { defineModule, fn, type ModuleHost, type PvDef, type Xval } from '../host/kemi/types.js';
import { LogLimiter } from '../host/log-limiter.js';
import { RegexCache, type Matcher } from '../host/safe-regex.js';
import { HtTable, type HtValue } from './htable-store.js';

const tableSchema = z
  .object({
    size: z
      .number()
      .int()
      .min(0)
      .max(31)
      .default(4)
      .describe("Kamailio's bucket exponent (2^size slots). Accepted and informative only: a table here is a Map that grows with its items."),
    autoexpire: z
      .number()
      .int()
      .min(0)
      .default(0)
      .describe('Seconds an item lives after it was set (or last updated, see updateexpire); 0 = items never expire.'),
    initval: z
      .number()
      .int()
      .optional()
      .describe('Integer read for an item that is not set (instead of null), and where sht_inc/sht_dec start from on such an item.'),
    updateexpire: z
      .union([z.literal(0), z.literal(1)])
      .default(1)
      .describe('1: updating an item restarts its expiry; 0: an item expires autoexpire seconds after it was created, however often it is updated.'),
  })
  .strict();

const params = z
  .object({
    tables: z
      .record(z.string().regex(/^[^\s=>()$]+$/), tableSchema)
      .default({})
      .describe(
        'The hash tables scripts may use, by name (Kamailio\'s modparam("htable", "htable", "name=>...")). They live as long as the runtime, across script reloads. A name not declared here is a run-time error: logged, and the function returns its failure value.',
      ),
  })
  .strict();

/** A `$sht(table=>key)` name: the key may hold pseudo-variables, expanded per message as in Kamailio. */
interface CellSpec {
  readonly table: string;
  readonly key: string | readonly FormatPart[];
}

interface HtState {
  readonly tables: ReadonlyMap<string, HtTable>;
  readonly log: Logger;
  readonly pvs: ModuleHost['pvs'];
  /** unknown table name → when it was last logged */
  readonly warned: Map<string, number>;
  /** parsed `$sht(...)` names; bounded because names may be built at run time */
  readonly specs: Map<string, CellSpec | null>;
  /** the script's regexes, compiled (linear-time engine, bounded cache) */
  readonly regexes: RegexCache;
  readonly limiter: LogLimiter;
  readonly timer: NodeJS.Timeout | null;
}

const WARN_EVERY_MS = 60_000;
const MAX_REMEMBERED = 1024;
/** Kamailio's default timer_interval is 20 s; a table with a shorter autoexpire is swept as often. */
const MAX_SWEEP_MS = 20_000;
const MIN_SWEEP_MS = 1_000;
/** sht_inc / sht_dec failure value (Kamailio's). */
const ADD_FAILED = -255;

function table(s: HtState, name: string): HtTable | null {
  const t = s.tables.get(name);
  if (t !== undefined) return t;
  // A script asking for a table that was never declared would log on every message: once a minute is enough.
  const now = Date.now();
  const last = s.warned.get(name);
  if (last === undefined || now - last >= WARN_EVERY_MS) {
    if (s.warned.size >= MAX_REMEMBERED) s.warned.clear();
    s.warned.set(name, now);
    s.log.error({ table: name }, 'no such htable: declare it under modules.htable.tables');
  }
  return null;
}

type NullMode = 'get' | 'gete' | 'getw';

function nullOf(mode: NullMode): Xval {
  return mode === 'gete' ? '' : mode === 'getw' ? '<null>' : null;
}

function getMode(s: HtState, htname: string, key: string, mode: NullMode): Xval {
  const t = table(s, htname);
  if (t === null) return nullOf(mode);
  return t.get(key, Date.now()) ?? t.initval ?? nullOf(mode);
}

function set(s: HtState, htname: string, key: string, value: HtValue, expireSec = 0): number {
  const t = table(s, htname);
  if (t === null) return -1;
  t.set(key, value, Date.now(), expireSec);
  return 1;
}

function add(s: HtState, htname: string, key: string, delta: number): number {
  const t = table(s, htname);
  return t?.add(key, delta, Date.now()) ?? ADD_FAILED;
}

/**
 * Case-insensitive, unanchored, as Kamailio's regcomp(REG_EXTENDED|REG_ICASE), in RE2's syntax
 * and linear time (host/safe-regex.ts). null for a pattern that does not compile there.
 */
function regex(s: HtState, src: string): Matcher | null {
  const c = s.regexes.get(src, true);
  if (c.ok) return c.re;
  const key = `re ${src}`;
  if (s.limiter.allow(key)) s.log.error({ regex: src, why: c.why, suppressed: s.limiter.suppressed(key) }, 'htable: bad or unsupported regular expression (RE2 syntax: no backreferences or lookaround)');
  return null;
}

/** A string test for the rm/match operators; null for an unknown operator or a bad regex. */
function matcher(s: HtState, op: string, val: string, ops: readonly string[]): ((x: string) => boolean) | null {
  if (!ops.includes(op)) {
    const key = `op ${op}`;
    if (s.limiter.allow(key)) s.log.error({ op, suppressed: s.limiter.suppressed(key) }, 'htable: unsupported match operator');
    return null;
  }
  switch (op) {
    case 'eq':
      return (x) => x === val;
    case 'ne':
      return (x) => x !== val;
    case 'sw':
      return (x) => x.startsWith(val);
    case 'in':
      return (x) => x.includes(val);
    default: {
      const re = regex(s, val);
      return re === null ? null : (x) => re.test(x);
    }
  }
}

const RM_OPS = ['re', 'sw', 'in'] as const;
const MATCH_OPS = ['eq', 'ne', 're', 'sw', 'in'] as const;

/** Remove the items whose name (or string value) passes the test; 1 done, -1 failed. */
function removeBy(s: HtState, htname: string, test: ((x: string) => boolean) | null, byValue: boolean): number {
  const t = table(s, htname);
  if (t === null || test === null) return -1;
  t.removeWhere((k, v) => (byValue ? typeof v === 'string' && test(v) : test(k)), Date.now());
  return 1;
}

function matchBy(s: HtState, htname: string, op: string, val: string, byValue: boolean): number {
  const t = table(s, htname);
  const test = t === null ? null : matcher(s, op, val, MATCH_OPS);
  if (t === null || test === null) return -1;
  for (const [k, v] of t.entries(Date.now())) {
    if (byValue ? typeof v === 'string' && test(v) : test(k)) return 1;
  }
  return -1;
}

/**
 * $shtcn / $shtcv: Kamailio's ht_count_cells_re. The expression is a regex, or starts with an
 * operator: `~~` regex, `~%` ends with, `%~` starts with, `==` equals, `eq` integer value
 * equals ($shtcv only), `**` every item.
 */
function count(s: HtState, t: HtTable, exp: string, byValue: boolean): number {
  const now = Date.now();
  const op = exp.length >= 2 ? exp.slice(0, 2) : '';
  if (op === '**') return [...t.entries(now)].length;
  const known = ['~~', '~%', '%~', '==', 'eq'].includes(op);
  const val = known ? exp.slice(2) : exp;
  if (val === '' || (op === 'eq' && !byValue)) return 0;
  let test: (x: HtValue) => boolean;
  if (op === 'eq') {
    const n = parseInt(val, 10);
    test = (x) => typeof x === 'number' && x === n;
  } else if (op === '~%') {
    test = (x) => typeof x === 'string' && x.endsWith(val);
  } else if (op === '%~') {
    test = (x) => typeof x === 'string' && x.startsWith(val);
  } else if (op === '==') {
    test = (x) => x === val;
  } else {
    const re = regex(s, val);
    if (re === null) return 0;
    test = (x) => typeof x === 'string' && re.test(x);
  }
  let n = 0;
  for (const [k, v] of t.entries(now)) if (test(byValue ? v : k)) n++;
  return n;
}

/** `table=>key`: the table name ends at `=` or blank; the key is everything after `=>`. */
function parseSpec(s: HtState, name: string): CellSpec | null {
  const m = /^\s*([^=\s]+)\s*=>([\s\S]*)$/.exec(name);
  if (m === null) return null;
  const tableName = m[1] ?? '';
  const key = m[2] ?? '';
  if (!key.includes('$')) return { table: tableName, key };
  const c = compileFormat(key, s.pvs, false);
  return { table: tableName, key: c.ok ? c.parts : key };
}

/** The table and the key a `$sht(...)`-style name designates for this message. */
function cellOf(s: HtState, ctx: Context, name: string): { t: HtTable; key: string } | null {
  let spec = s.specs.get(name);
  if (spec === undefined) {
    spec = parseSpec(s, name);
    // Logged when first seen only: a constant bad name in a script would log on every message.
    if (spec === null) s.log.error({ name }, 'htable: bad name, expected table=>key');
    if (s.specs.size >= MAX_REMEMBERED) s.specs.clear();
    s.specs.set(name, spec);
  }
  if (spec === null) return null;
  const t = table(s, spec.table);
  if (t === null) return null;
  const key =
    typeof spec.key === 'string'
      ? spec.key
      : printFormat(spec.key, ctx);
  return { t, key };
}

function cellPv(get: (s: HtState, t: HtTable, key: string) => Xval, doc: string): PvDef<HtState> {
  return {
    param: true,
    doc,
    get: (s, ctx, name) => {
      const c = cellOf(s, ctx, name);
      return c === null ? null : get(s, c.t, c.key);
    },
  };
}

const pvs: Record<string, PvDef<HtState>> = {
  sht: {
    param: true,
    doc: 'An htable item, $sht(table=>key): its value (initval or null when not set); assigning null removes it.',
    get: (s, ctx, name) => {
      const c = cellOf(s, ctx, name);
      return c === null ? null : (c.t.get(c.key, Date.now()) ?? c.t.initval ?? null);
    },
    set: (s, ctx, name, value) => {
      const c = cellOf(s, ctx, name);
      if (c === null) return;
      if (value === null) c.t.delete(c.key);
      else c.t.set(c.key, value, Date.now());
    },
  },
  shtex: {
    param: true,
    doc: 'Seconds until an htable item expires, $shtex(table=>key) (0: not set, never, or no autoexpire); assigning sets them (<= 0: never).',
    get: (s, ctx, name) => {
      const c = cellOf(s, ctx, name);
      return c === null ? null : c.t.expiresIn(c.key, Date.now());
    },
    set: (s, ctx, name, value) => {
      const c = cellOf(s, ctx, name);
      // Kamailio takes an integer; anything else means 0 (never expires).
      const n = typeof value === 'number' ? value : /^\s*-?\d+\s*$/.test(value ?? '') ? parseInt(value ?? '0', 10) : 0;
      c?.t.setExpire(c.key, n, Date.now());
    },
  },
  shtcn: cellPv((s, t, exp) => count(s, t, exp, false), 'How many items of a table have a name matching, $shtcn(table=>exp); see count operators.'),
  shtcv: cellPv((s, t, exp) => count(s, t, exp, true), 'How many items of a table have a value matching, $shtcv(table=>exp).'),
  shtinc: cellPv((_s, t, key) => t.add(key, 1, Date.now()), 'Increment an integer htable item and read the new value, $shtinc(table=>key); null when it cannot.'),
  shtdec: cellPv((_s, t, key) => t.add(key, -1, Date.now()), 'Decrement an integer htable item and read the new value, $shtdec(table=>key); null when it cannot.'),
};

function sweepAll(tables: ReadonlyMap<string, HtTable>): void {
  const now = Date.now();
  for (const t of tables.values()) t.sweep(now);
}

/** KSR.htable: shared key/value tables with expiry (Kamailio's htable module, iterators aside). */
export default defineModule({
  name: 'htable',
  doc: 'Shared hash tables with expiry (Kamailio htable), declared in the config; they survive script reloads.',
  params,
  pvs,
  init: (host, raw): HtState => {
    const p = params.parse(raw);
    const tables = new Map<string, HtTable>();
    let shortest = 0;
    for (const [name, spec] of Object.entries(p.tables)) {
      tables.set(name, new HtTable(name, { autoexpire: spec.autoexpire, initval: spec.initval, updateexpire: spec.updateexpire === 1 }));
      if (spec.autoexpire > 0 && (shortest === 0 || spec.autoexpire < shortest)) shortest = spec.autoexpire;
    }
    let timer: NodeJS.Timeout | null = null;
    if (shortest > 0) {
      const every = Math.min(MAX_SWEEP_MS, Math.max(MIN_SWEEP_MS, shortest * 1000));
      // The sweep only frees memory; it must not keep the process alive (the boundary's timers are unref'd).
      timer = host.boundary.interval('module-timer', every, () => { sweepAll(tables); });
    }
    return { tables, log: host.log, pvs: host.pvs, warned: new Map(), specs: new Map(), regexes: new RegexCache(), limiter: new LogLimiter(10_000), timer };
  },
  close: (s) => {
    if (s.timer !== null) clearInterval(s.timer);
  },
  functions: {
    sht_get: fn(['str', 'str'], 'xval', (s: HtState, _c, h, k) => getMode(s, h, k, 'get'),
      'The value (int or str) of an item; initval or null when it is not set or the table does not exist.'),
    sht_gete: fn(['str', 'str'], 'xval', (s: HtState, _c, h, k) => getMode(s, h, k, 'gete'),
      'The value of an item; initval or an empty string when it is not set.'),
    sht_getw: fn(['str', 'str'], 'xval', (s: HtState, _c, h, k) => getMode(s, h, k, 'getw'),
      'The value of an item; initval or "<null>" when it is not set (for log lines).'),
    sht_sets: fn(['str', 'str', 'str'], 'int', (s: HtState, _c, h, k, v) => set(s, h, k, v),
      'Set an item to a string; 1 done, -1 when the table does not exist.'),
    sht_seti: fn(['str', 'str', 'int'], 'int', (s: HtState, _c, h, k, v) => set(s, h, k, v),
      'Set an item to an integer; 1 done, -1 when the table does not exist.'),
    sht_setxs: fn(['str', 'str', 'str', 'int'], 'int', (s: HtState, _c, h, k, v, ex) => set(s, h, k, v, ex),
      'Set an item to a string, expiring in the given seconds (> 0, autoexpire tables only; else the table default); 1 done, -1 no table.'),
    sht_setxi: fn(['str', 'str', 'int', 'int'], 'int', (s: HtState, _c, h, k, v, ex) => set(s, h, k, v, ex),
      'Set an item to an integer, expiring in the given seconds (> 0, autoexpire tables only; else the table default); 1 done, -1 no table.'),
    sht_setex: fn(['str', 'str', 'int'], 'int', (s: HtState, _c, h, k, ex) => {
      const t = table(s, h);
      if (t === null) return -1;
      t.setExpire(k, ex, Date.now());
      return 1;
    }, 'Make an item expire in the given seconds (<= 0: never; no effect without autoexpire); 1 done, -1 no table.'),
    sht_rm: fn(['str', 'str'], 'int', (s: HtState, _c, h, k) => {
      const t = table(s, h);
      if (t === null) return -1;
      t.delete(k);
      return 1;
    }, 'Remove an item (same as assigning null to $sht); 1 done (also when it was not set), -1 no table.'),
    sht_rm_name_re: fn(['str', 'str'], 'int', (s: HtState, _c, h, re) => removeBy(s, h, matcher(s, 're', re, RM_OPS), false),
      'Remove the items whose name matches the regex (case-insensitive, RE2 syntax, linear time: no backreferences or lookaround); 1 done, -1 no table or a bad or unsupported regex.'),
    sht_rm_value_re: fn(['str', 'str'], 'int', (s: HtState, _c, h, re) => removeBy(s, h, matcher(s, 're', re, RM_OPS), true),
      'Remove the items whose string value matches the regex (case-insensitive, RE2 syntax); 1 done, -1 no table or a bad or unsupported regex.'),
    sht_rm_name: fn(['str', 'str', 'str'], 'int', (s: HtState, _c, h, op, v) => removeBy(s, h, matcher(s, op, v, RM_OPS), false),
      'Remove the items whose name matches: op re (regex, case-insensitive, RE2 syntax), sw (starts with) or in (contains); 1 done, -1 no table, bad op or bad regex.'),
    sht_rm_value: fn(['str', 'str', 'str'], 'int', (s: HtState, _c, h, op, v) => removeBy(s, h, matcher(s, op, v, RM_OPS), true),
      'Remove the items whose string value matches: op re (regex, case-insensitive, RE2 syntax), sw or in; 1 done, -1 no table, bad op or bad regex.'),
    sht_match_name: fn(['str', 'str', 'str'], 'int', (s: HtState, _c, h, op, v) => matchBy(s, h, op, v, false),
      'Positive when an item name matches: op eq, ne, re (regex, case-insensitive, RE2 syntax), sw or in; -1 otherwise (also no table, bad op or a bad or unsupported regex).'),
    sht_match_str_value: fn(['str', 'str', 'str'], 'int', (s: HtState, _c, h, op, v) => matchBy(s, h, op, v, true),
      'Positive when an item string value matches: op eq, ne, re (regex, case-insensitive, RE2 syntax), sw or in; -1 otherwise (also no table, bad op or a bad or unsupported regex).'),
    sht_inc: fn(['str', 'str'], 'int', (s: HtState, _c, h, k) => add(s, h, k, 1),
      'Increment an integer item and return the new value (an unset item starts at initval); -255 when there is no table, no item without initval, or a string item.'),
    sht_dec: fn(['str', 'str'], 'int', (s: HtState, _c, h, k) => add(s, h, k, -1),
      'Decrement an integer item and return the new value (an unset item starts at initval); -255 on failure like sht_inc.'),
    sht_is_null: fn(['str', 'str'], 'int', (s: HtState, _c, h, k) => {
      const t = table(s, h);
      if (t === null) return 2;
      // As Kamailio: a table with initval never reads as null, so the item is not looked at.
      if (t.initval !== undefined) return -2;
      return t.has(k, Date.now()) ? -1 : 1;
    }, 'Positive when the item is not set (1; 2 when the table does not exist), -1 when it is set; -2 for any item of a table with initval (it never reads as null).'),
    sht_reset: fn(['str'], 'int', (s: HtState, _c, h) => {
      const t = table(s, h);
      if (t === null) return -1;
      t.clear();
      return 1;
    }, 'Remove every item of a table; 1 done, -1 no table.'),
    sht_lock: fn(['str', 'str'], 'int', (s: HtState, _c, h) => (table(s, h) === null ? -1 : 1),
      'Accepted for compatibility: script calls never interleave here, so each one is already atomic; 1, or -1 no table.'),
    sht_unlock: fn(['str', 'str'], 'int', (s: HtState, _c, h) => (table(s, h) === null ? -1 : 1),
      'Accepted for compatibility (see sht_lock); 1, or -1 no table.'),
  },
});
