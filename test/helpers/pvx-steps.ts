/**
 * The KSR.pvx cases, written once: each a list of KSR calls with the result Kamailio 5.6.3's
 * pv.c / pv_xavp.c / core xavp.c give (read from its source). test/bindings/pvx.test.ts runs
 * them on both engines against these results; test/compat/pvx.test.ts runs the same scripts
 * under Kamailio and kemihost and compares the replies. The scripts keep to Lua 5.1 and
 * ECMAScript 5.1 (Kamailio's app_lua and app_jsdt).
 */

/** A KSR call: "pvx.xavp_sets" and its arguments. */
export type Call = [string, ...(string | number)[]];

/**
 * A call and its result as the reply prints it (nil/null as NULL, tables with sorted keys,
 * lists 1-based); null: a statement whose result is not printed (KSR.pv.sets returns nothing
 * here, a bool in Kamailio). A third element says why Kamailio is not asked about this one.
 */
export type Step = [Call, string | number | null] | [Call, string | number | null, string];

export interface PvxCase {
  readonly name: string;
  readonly steps: readonly Step[];
  /** send the request this many times */
  readonly repeat?: number;
  /** false: the binding test only */
  readonly compat?: boolean;
}

const GETD = 'Kamailio 5.6.3 cannot return a list or table to a script (app_lua: nil; app_jsdt: unsupported return type)';
const XAVU = 'Kamailio 5.6.3\'s xavu_params_explode links the new fields into the XAVU root list: its worker crashes freeing them twice';

function pvxSteps(name: string, steps: Step[], extra: { repeat?: number; compat?: boolean } = {}): PvxCase {
  return { name, steps, ...extra };
}

const LUA_SER = `local function ser(v)
  if v == nil then return "NULL" end
  if type(v) == "table" then
    local keys = {}
    for k in pairs(v) do keys[#keys + 1] = tostring(k) end
    table.sort(keys)
    local out = {}
    for _, k in ipairs(keys) do out[#out + 1] = k .. ":" .. ser(v[tonumber(k) or k]) end
    return "{" .. table.concat(out, ",") .. "}"
  end
  return tostring(v)
end`;

const JS_SER = `function ser(v) {
  var e = [], k, out = [];
  if (v === null || v === undefined) return "NULL";
  if (typeof v === "object") {
    if (v instanceof Array) {
      for (k = 0; k < v.length; k++) if (v[k] !== null && v[k] !== undefined) e.push([String(k + 1), v[k]]);
    } else {
      for (k in v) e.push([k, v[k]]);
    }
    e.sort(function (a, b) { return a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0; });
    for (k = 0; k < e.length; k++) out.push(e[k][0] + ":" + ser(e[k][1]));
    return "{" + out.join(",") + "}";
  }
  return String(v);
}`;

const arg = (a: string | number): string => (typeof a === 'number' ? String(a) : JSON.stringify(a));
const call = ([f, ...args]: Call): string => `KSR.${f}(${args.map(arg).join(', ')})`;

/** The steps kept for a run: every one, or only those Kamailio is asked about. */
export function stepsFor(c: PvxCase, compat: boolean): Step[] {
  return c.steps.filter((s) => !compat || s.length === 2);
}

/** The expected X-Pv value. */
export function expected(steps: readonly Step[]): string {
  return steps.filter((s) => s[1] !== null).map((s) => String(s[1])).join('|');
}

/** Lua: the helper and a function per case that runs its steps and returns the X-Pv value. */
export function luaCase(fnName: string, steps: readonly Step[]): string {
  const body = steps.map((s) => (s[1] === null ? `  ${call(s[0])}` : `  r[#r + 1] = ser(${call(s[0])})`)).join('\n');
  return `function ${fnName}()\n  local r = {}\n${body}\n  return table.concat(r, "|")\nend`;
}

export function jsCase(fnName: string, steps: readonly Step[]): string {
  const body = steps.map((s) => (s[1] === null ? `  ${call(s[0])};` : `  r.push(ser(${call(s[0])}));`)).join('\n');
  return `function ${fnName}() {\n  var r = [];\n${body}\n  return r.join("|");\n}`;
}

export { JS_SER, LUA_SER };

export const PVX_CASES: PvxCase[] = [
  pvxSteps('xavp scalars: get/gete/getw of nothing, sets/seti on top, index from either end, rm of the first', [
    [['pvx.xavp_get', 'a'], 'NULL'], [['pvx.xavp_gete', 'a'], ''], [['pvx.xavp_getw', 'a'], '<null>'], [['pvx.xavp_is_null', 'a'], 1],
    [['pvx.xavp_sets', 'a', 'x'], 1], [['pvx.xavp_seti', 'a', 5], 1],
    [['pvx.xavp_get', 'a'], 5], [['pv.get', '$xavp(a)'], 5], [['pv.get', '$xavp(a[1])'], 'x'], [['pv.get', '$xavp(a[-1])'], 'x'],
    [['pv.get', '$xavp(a[2])'], 'NULL'], [['pvx.xavp_is_null', 'a'], -1],
    [['pvx.xavp_rm', 'a'], 1], [['pvx.xavp_get', 'a'], 'x'], [['pvx.xavp_rm', 'a'], 1], [['pvx.xavp_rm', 'a'], 1], [['pvx.xavp_get', 'a'], 'NULL'],
  ]),
  pvxSteps('xavp records through child_*: set replaces the field, keys in record order, child_rm, null modes', [
    [['pvx.xavp_child_sets', 'r', 'f', 'v1'], 1], [['pvx.xavp_child_seti', 'r', 'g', 7], 1],
    [['pvx.xavp_child_get', 'r', 'f'], 'v1'], [['pvx.xavp_child_get', 'r', 'g'], 7], [['pv.get', '$xavp(r=>g)'], 7],
    [['pvx.xavp_get', 'r'], '<<xavp:record>>', 'kamailio prints the record\'s address'],
    [['pvx.xavp_child_sets', 'r', 'f', 'v2'], 1], [['pvx.xavp_child_get', 'r', 'f'], 'v2'], [['pv.get', '$xavp(r=>f[*])'], 'v2'],
    [['pvx.xavp_get_keys', 'r', 0], '{1:f,2:g}', GETD],
    [['pvx.xavp_child_is_null', 'r', 'h'], 1], [['pvx.xavp_child_is_null', 'r', 'f'], -1],
    [['pvx.xavp_child_gete', 'r', 'h'], ''], [['pvx.xavp_child_getw', 'r', 'h'], '<null>'],
    [['pvx.xavp_child_rm', 'r', 'f'], 1], [['pvx.xavp_child_get', 'r', 'f'], 'NULL'], [['pvx.xavp_child_get', 'nope', 'f'], 'NULL'],
    [['pvx.xavp_sets', 's', 'plain'], 1], [['pvx.xavp_child_seti', 's', 'k', 1], 1], [['pv.get', '$xavp(s[1])'], 'NULL'],
  ]),
  pvxSteps('$xavp assignment: name=>f adds a record on top, [i]=>f a field to record i, [i]=>f[j] replaces, $null removes', [
    [['pv.sets', '$xavp(c=>a)', '1'], null], [['pv.seti', '$xavp(c[0]=>b)', 2], null], [['pv.sets', '$xavp(c=>a)', 'new'], null],
    [['pv.get', '$xavp(c=>a)'], 'new'], [['pv.get', '$xavp(c[1]=>a)'], '1'], [['pv.get', '$xavp(c[1]=>b)'], 2],
    [['pv.get', '$xavp(c[0]=>b)'], 'NULL'], [['pv.get', '$xavp(c[-1]=>a)'], '1'],
    [['pv.sets', '$xavp(c[1]=>a)', 'second'], null], [['pv.get', '$xavp(c[1]=>a[*])'], 'second, 1'], [['pv.get', '$xavp(c[1]=>a[1])'], '1'],
    [['pv.unset', '$xavp(c[1]=>a)'], null], [['pv.get', '$xavp(c[1]=>a)'], '1'],
    [['pv.sets', '$xavp(c[0]=>a[0])', 'repl'], null], [['pv.get', '$xavp(c=>a)'], 'repl'], [['pv.sets', '$xavp(c[+]=>z)', 'it'], null], [['pv.get', '$xavp(c[0]=>z)'], 'it'], [['pv.get', '$xavp(c[+]=>z)'], 'it'],
    [['pv.unset', '$xavp(c)'], null], [['pv.get', '$xavp(c=>a)'], '1'],
    [['pv.sets', '$xavp(c)', 's'], null], [['pv.get', '$xavp(c)'], 's'], [['pv.unset', '$xavp(c[*])'], null],
    [['pv.get', '$xavp(c=>a)'], 'NULL'], [['pvx.xavp_is_null', 'c'], 1], [['pv.is_null', '$xavp(c)'], 'true'],
  ]),
  pvxSteps('getd/getd_p1/get_keys as tables; params_explode keeps order, implode writes a PV', [
    [['pvx.xavp_params_explode', 'a=1;b=2;b=3', 'p'], 1], [['pvx.xavp_getd_p1', 'p', 0], '{a:{1:1},b:{1:2,2:3}}', GETD],
    [['pvx.xavp_params_explode', 'c=x;', 'p'], 1], [['pvx.xavp_getd', 'p'], '{1:{c:{1:x}},2:{a:{1:1},b:{1:2,2:3}}}', GETD],
    [['pvx.xavp_getd_p1', 'p', -1], '{a:{1:1},b:{1:2,2:3}}', GETD], [['pvx.xavp_getd_p1', 'p', 5], 'NULL', GETD], [['pvx.xavp_getd', 'none'], 'NULL', GETD],
    [['pvx.xavp_get_keys', 'p', 1], '{1:a,2:b}', GETD], [['pvx.xavp_get_keys', 'p', 9], 'NULL', GETD],
    [['pvx.xavp_params_implode', 'p', '$var(out)'], 1], [['pv.get', '$var(out)'], 'c=x;'],
    [['pvx.xavp_params_explode', '', 'p'], -1], [['pvx.xavp_params_implode', 'none', '$var(out)'], -1],
    [['pvx.xavp_params_implode', 'p', '$rm'], -1],
  ]),
  pvxSteps('xavu: one value per name, set replaces, child_* on its record, params explode/implode', [
    [['pvx.xavu_sets', 'u', 'a'], 1], [['pvx.xavu_seti', 'u', 3], 1], [['pvx.xavu_get', 'u'], 3], [['pv.get', '$xavu(u)'], 3],
    [['pv.sets', '$xavu(u=>f)', 'x'], null], [['pv.get', '$xavu(u=>f)'], 'x'],
    [['pvx.xavu_child_sets', 'u', 'f', 'y'], 1], [['pvx.xavu_child_get', 'u', 'f'], 'y'], [['pvx.xavu_child_seti', 'u', 'n', 4], 1],
    [['pvx.xavu_child_gete', 'u', 'g'], ''], [['pvx.xavu_child_getw', 'u', 'g'], '<null>'], [['pvx.xavu_is_null', 'u'], -1],
    [['pvx.xavu_child_rm', 'u', 'f'], 1], [['pvx.xavu_child_get', 'u', 'f'], 'NULL'], [['pvx.xavu_child_get', 'u', 'n'], 4],
    [['pvx.xavu_params_explode', 'k=1;k=2', 'q'], 1, XAVU], [['pvx.xavu_params_implode', 'q', '$var(o)'], 1, XAVU], [['pv.get', '$var(o)'], 'k=1;', XAVU],
    [['pvx.xavu_rm', 'u'], 1], [['pvx.xavu_get', 'u'], 'NULL'], [['pvx.xavu_gete', 'u'], ''], [['pvx.xavu_getw', 'u'], '<null>'],
    [['pv.unset', '$xavu(q)'], null], [['pvx.xavu_is_null', 'q'], 1],
    [['pvx.xavp_child_sets', 'u', 'f', 'p'], 1], [['pvx.xavu_child_is_null', 'u', 'f'], -1],
  ]),
  pvxSteps('xavi: names case-insensitive, a store apart from xavp', [
    [['pvx.xavi_sets', 'Ab', 'x'], 1], [['pvx.xavi_get', 'aB'], 'x'], [['pv.get', '$xavi(AB)'], 'x'], [['pvx.xavp_get', 'Ab'], 'NULL'],
    [['pvx.xavi_child_sets', 'Rec', 'Fld', 'v'], 1], [['pvx.xavi_child_get', 'REC', 'fld'], 'v'], [['pv.get', '$xavi(rec=>FLD)'], 'v'],
    [['pvx.xavi_getd_p1', 'rec', 0], '{Fld:{1:v}}', GETD], [['pvx.xavi_get_keys', 'REC', 0], '{1:Fld}', GETD], [['pvx.xavi_getd', 'rEc'], '{1:{Fld:{1:v}}}', GETD],
    [['pvx.xavi_rm', 'ab'], 1], [['pvx.xavi_is_null', 'AB'], 1], [['pvx.xavi_seti', 'N', 1], 1], [['pvx.xavi_getw', 'n'], 1],
    [['pvx.xavi_child_seti', 'rec', 'FLD', 2], 1], [['pvx.xavi_child_getw', 'Rec', 'fld'], 2], [['pvx.xavi_child_gete', 'Rec', 'x'], ''],
    [['pvx.xavi_child_rm', 'rec', 'fld'], 1], [['pvx.xavi_child_is_null', 'rec', 'fld'], 1], [['pvx.xavi_gete', 'zz'], ''],
  ]),
  pvxSteps('xavp_copy (append after the last), slist_explode, $var to xavp and back', [
    [['pvx.xavp_child_sets', 's', 'a', '1'], 1], [['pvx.xavp_child_seti', 's', 'b', 2], 1],
    [['pvx.xavp_copy', 's', 0, 'd'], 1], [['pv.get', '$xavp(d=>b)'], 2], [['pvx.xavp_copy', 's', 0, 'd'], 1], [['pv.get', '$xavp(d[1]=>a)'], '1'],
    [['pvx.xavp_copy', 'nope', 0, 'd'], -1], [['pvx.xavp_copy_dst', 's', 0, 'd', 0], 1], [['pv.get', '$xavp(d[2]=>a)'], '1'],
    [['pvx.xavp_slist_explode', 'a, b,,c', ',', 't', 'l'], 1], [['pv.get', '$xavp(l=>v[*])'], 'a, b, c'], [['pv.get', '$xavp(l=>v[1])'], 'b'],
    [['pvx.xavp_slist_explode', '', ',', '', 'l'], -1],
    [['pvx.var_sets', 'x', 'X'], 1], [['pvx.var_seti', 'n', 4], 1], [['pvx.var_get', 'x'], 'X'], [['pvx.var_get', 'zz'], 0], [['pv.get', '$var(n)'], 4],
    [['pvx.pv_var_to_xavp', 'x', 'vx'], 1], [['pv.get', '$xavp(vx=>x)'], 'X'], [['pvx.pv_var_to_xavp', 'missing', 'vx'], -1],
    [['pvx.pv_xavp_to_var', 's'], 1], [['pvx.var_get', 'b'], 2], [['pvx.var_get', 'a'], '1'], [['pvx.pv_xavp_to_var', 'nope'], -1],
    [['pvx.pv_xavp_print'], 1, 'only logs'], [['pvx.pv_xavu_print'], 1, 'only logs'], [['pvx.pv_xavi_print'], 1, 'only logs'],
  ]),
  pvxSteps('avp_*, shv_*, evalx share the stores of $avp, $shv, $var', [
    [['pvx.avp_sets', 'k', 'one'], 1], [['pvx.avp_seti', 'k', 2], 1], [['pvx.avp_get', 'k'], 2], [['pv.get', '$avp(k)'], 2],
    [['pvx.avp_rm', 'k'], 1], [['pvx.avp_get', 'k'], 'one'], [['pvx.avp_rm', 'k'], 1], [['pvx.avp_get', 'k'], 'NULL'],
    [['pvx.avp_gete', 'k'], ''], [['pvx.avp_getw', 'k'], '<null>'], [['pvx.avp_rm', 'k'], 1],
    [['pv.seti', '$avp(k)', 3], null], [['pv.seti', '$avp(k)', 4], null], [['pvx.avp_get', 'k'], 4],
    [['pvx.avp_is_null', 'k'], -1], [['pv.get', '$avp(k)'], 3], [['pvx.avp_is_null', 'k'], 1], [['pv.get', '$avp(k)'], 'NULL'],
    [['pvx.avp_seti', 'z', 1], 1], [['pvx.avp_seti', 'z', 2], 1], [['pvx.avp_seti', 'z', 3], 1], [['pv.get', '$(avp(z)[1])'], 2],
    [['pv.get', '$(avp(z)[-1])'], 'NULL'], [['pv.unset', '$avp(z)'], null], [['pv.get', '$avp(z)'], 2], [['pv.unset', '$(avp(z)[*])'], null],
    [['pv.get', '$avp(z)'], 'NULL'],
    [['pvx.shv_sets', 'pvx_s', 'v'], 1, 'kamailio wants $shv declared (shvset)'], [['pvx.shv_get', 'pvx_s'], 'v', 'kamailio wants $shv declared (shvset)'], [['pv.get', '$shv(pvx_s)'], 'v', 'kamailio wants $shv declared (shvset)'], [['pvx.shv_get', 'pvx_unset'], 0],
    [['pvx.shv_seti', 'pvx_s', 9], 1, 'kamailio wants $shv declared (shvset)'], [['pv.get', '$shv(pvx_s)'], 9, 'kamailio wants $shv declared (shvset)'],
    [['pvx.var_sets', 'x', 'X'], 1], [['pvx.evalx', '$var(e)', '$rm-$var(x)'], 1], [['pv.get', '$var(e)'], 'OPTIONS-X'],
    [['pvx.evalx', '$var(e)', '$var(pvx_none)'], 1], [['pv.get', '$var(e)'], '<null>', 'a $var never set reads as $null here, 0 in Kamailio (docs/compatibility.md, pv)'],
    [['pvx.evalx', '$rm', 'x'], -1, 'Kamailio 5.6.3\'s ki_pv_evalx calls the setter of a read-only PV: its worker crashes'], [['pvx.evalx', '$var(e)', '$bogus(x)'], -1],
  ]),
  pvxSteps('sbranch: empty fails; set_ruri makes it the R-URI, append adds a branch, reset empties', [
    [['pvx.sbranch_reset'], 1], [['pvx.sbranch_set_ruri'], -1], [['pvx.sbranch_append'], -1],
    [['pv.sets', '$sbranch(uri)', 'sip:sb@example.org'], null], [['pv.sets', '$sbranch(dst_uri)', 'sip:127.0.0.1:5099'], null],
    [['pvx.sbranch_set_ruri'], 1], [['pv.get', '$ru'], 'sip:sb@example.org'], [['pv.get', '$du'], 'sip:127.0.0.1:5099'],
    [['pvx.sbranch_append'], 1], [['pvx.sbranch_reset'], 1], [['pv.get', '$sbranch(uri)'], 'NULL'], [['pvx.sbranch_append'], -1],
  ]),
  pvxSteps('argument types: a numeric string for an int, a number for a string, as invoke converts', [
    [['pvx.xavp_seti', 'n', '12'], 1], [['pvx.xavp_get', 'n'], 12], [['pvx.xavp_sets', 's', 5], 1], [['pvx.xavp_get', 's'], '5'],
    [['pvx.xavu_child_seti', 'u', 'f', '-3'], 1], [['pvx.xavu_child_get', 'u', 'f'], -3], [['pvx.xavp_getd_p1', 'n', 0], 'NULL'],
    [['pvx.xavp_get_keys', 's', 0], '{}'],
  ], { compat: false }),
  pvxSteps('xavps belong to one message: the next request starts without them', [
    [['pvx.xavp_get', 'm'], 'NULL'], [['pvx.xavu_get', 'm'], 'NULL'], [['pvx.xavi_get', 'm'], 'NULL'],
    [['pvx.xavp_sets', 'm', '1'], 1], [['pvx.xavu_sets', 'm', '1'], 1], [['pvx.xavi_sets', 'm', '1'], 1],
  ], { repeat: 2, compat: false }),
];
