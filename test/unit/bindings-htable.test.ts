import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import htable from '../../bindings/htable.js';
import { HtTable } from '../../bindings/htable-store.js';
import type { Context } from '../../host/kemi/context.js';
import type { KemiRegistry } from '../../host/kemi/registry.js';
import { defineModule, type Xval } from '../../host/kemi/types.js';
import { call, ctxOf, invite, recordingLog, registryWith } from '../helpers/binding-harness.js';

const TABLES = {
  tables: {
    plain: {},
    cnt: { initval: 0 },
    ipban: { autoexpire: 1 },
    refresh: { autoexpire: 1, updateexpire: 1 },
    keep: { autoexpire: 1, updateexpire: 0 },
  },
};

/** A PV the key of a $sht(...) name can hold: $tk reads ctx.vars.get('tk'). */
const tkModule = defineModule({
  name: 'tk',
  doc: 'test PV',
  functions: {},
  pvs: { tk: { get: (_s, ctx) => ctx.vars.get('tk') ?? null, doc: 'test key part' } },
});

const registries: KemiRegistry[] = [];
function tables(params: Record<string, unknown> = TABLES, extras: Parameters<typeof registryWith>[2] = {}): KemiRegistry {
  const r = registryWith(htable, params, { with: [tkModule], ...extras });
  registries.push(r);
  return r;
}

after(async () => {
  for (const r of registries) await r.close();
});

function pv(reg: KemiRegistry, ctx: Context, spec: string): { get(): Xval; set(v: Xval): void } {
  const p = reg.pvs.resolve(spec);
  if (p === null) throw new Error(`no PV ${spec}`);
  return { get: () => p.get(ctx), set: (v) => { assert.ok(p.set); p.set(ctx, v); } };
}

describe('KSR.htable', () => {
  const reg = tables();
  const ctx = ctxOf(invite());
  const ht = (name: string, ...args: unknown[]): unknown => call(reg, `KSR.htable.${name}`, ctx, ...args);

  it('sets and gets string and integer items, with the three null conventions', () => {
    assert.equal(ht('sht_sets', 'plain', 'a', 'alice'), 1);
    assert.equal(ht('sht_seti', 'plain', 'n', 42), 1);
    assert.equal(ht('sht_get', 'plain', 'a'), 'alice');
    assert.equal(ht('sht_get', 'plain', 'n'), 42);
    assert.equal(ht('sht_gete', 'plain', 'n'), 42);
    assert.equal(ht('sht_get', 'plain', 'none'), null);
    assert.equal(ht('sht_gete', 'plain', 'none'), '');
    assert.equal(ht('sht_getw', 'plain', 'none'), '<null>');
    assert.equal(ht('sht_get', 'cnt', 'none'), 0);
    ht('sht_reset', 'plain');
  });

  it('increments and decrements integer items', () => {
    assert.equal(ht('sht_inc', 'cnt', 'c'), 1);
    assert.equal(ht('sht_inc', 'cnt', 'c'), 2);
    assert.equal(ht('sht_dec', 'cnt', 'c'), 1);
    assert.equal(ht('sht_dec', 'cnt', 'd'), -1);
    assert.equal(ht('sht_inc', 'plain', 'x'), -255, 'no item and no initval');
    ht('sht_seti', 'plain', 'x', 9);
    assert.equal(ht('sht_inc', 'plain', 'x'), 10);
    ht('sht_sets', 'plain', 's', 'text');
    assert.equal(ht('sht_inc', 'plain', 's'), -255, 'a string item');
    assert.equal(ht('sht_inc', 'nosuch', 'x'), -255);
    ht('sht_reset', 'plain');
    ht('sht_reset', 'cnt');
  });

  it('removes items and tells whether one is set', () => {
    assert.equal(ht('sht_is_null', 'plain', 'k'), 1);
    ht('sht_sets', 'plain', 'k', 'v');
    assert.equal(ht('sht_is_null', 'plain', 'k'), -1);
    assert.equal(ht('sht_rm', 'plain', 'k'), 1);
    assert.equal(ht('sht_rm', 'plain', 'k'), 1);
    assert.equal(ht('sht_is_null', 'plain', 'k'), 1);
    assert.equal(ht('sht_is_null', 'nosuch', 'k'), 2);
  });

  it('sht_is_null is -2 for any item of a table with initval, set or not, as in Kamailio', () => {
    assert.equal(ht('sht_is_null', 'cnt', 'unset'), -2);
    ht('sht_seti', 'cnt', 'set', 3);
    assert.equal(ht('sht_is_null', 'cnt', 'set'), -2);
    ht('sht_reset', 'cnt');
  });

  it('removes and matches by name and by value', () => {
    for (const [k, v] of [['alice', 'sip:alice@a'], ['albert', 'sip:albert@b'], ['bob', 'tel:+1'], ['carl', 'sip:carl@a']]) {
      ht('sht_sets', 'plain', k, v);
    }
    ht('sht_seti', 'plain', 'num', 7);
    assert.equal(ht('sht_match_name', 'plain', 'eq', 'bob'), 1);
    assert.equal(ht('sht_match_name', 'plain', 'eq', 'bo'), -1);
    assert.equal(ht('sht_match_name', 'plain', 'sw', 'al'), 1);
    assert.equal(ht('sht_match_name', 'plain', 're', '^C.R'), 1, 'case-insensitive');
    assert.equal(ht('sht_match_name', 'plain', 'ne', 'bob'), 1);
    assert.equal(ht('sht_match_name', 'plain', 'xx', 'bob'), -1);
    assert.equal(ht('sht_match_str_value', 'plain', 'sw', 'tel:'), 1);
    assert.equal(ht('sht_match_str_value', 'plain', 'eq', '7'), -1, 'integer values are not strings');

    assert.equal(ht('sht_rm_name_re', 'plain', '^al'), 1);
    assert.equal(ht('sht_get', 'plain', 'alice'), null);
    assert.equal(ht('sht_get', 'plain', 'albert'), null);
    assert.equal(ht('sht_rm_value_re', 'plain', '@a$'), 1);
    assert.equal(ht('sht_get', 'plain', 'carl'), null);
    assert.equal(ht('sht_get', 'plain', 'bob'), 'tel:+1');
    assert.equal(ht('sht_rm_name', 'plain', 'in', 'u'), 1);
    assert.equal(ht('sht_get', 'plain', 'num'), null);
    assert.equal(ht('sht_rm_value', 'plain', 'sw', 'tel:'), 1);
    assert.equal(ht('sht_get', 'plain', 'bob'), null);
    assert.equal(ht('sht_rm_name', 'plain', 'eq', 'x'), -1, 'eq is not a removal operator');
    assert.equal(ht('sht_rm_name_re', 'plain', '('), -1, 'bad regex');
    ht('sht_seti', 'plain', 'z', 1);
    assert.equal(ht('sht_reset', 'plain'), 1);
    assert.equal(ht('sht_get', 'plain', 'z'), null);
  });

  it('logs an unknown table once and returns the failure values', () => {
    const { log, records } = recordingLog();
    const r = tables(TABLES, { log });
    const c = ctxOf(null);
    for (let i = 0; i < 3; i++) {
      assert.equal(call(r, 'KSR.htable.sht_sets', c, 'nosuch', 'k', 'v'), -1);
      assert.equal(call(r, 'KSR.htable.sht_get', c, 'nosuch', 'k'), null);
      assert.equal(call(r, 'KSR.htable.sht_gete', c, 'nosuch', 'k'), '');
      assert.equal(call(r, 'KSR.htable.sht_rm', c, 'nosuch', 'k'), -1);
      assert.equal(call(r, 'KSR.htable.sht_reset', c, 'nosuch'), -1);
      assert.equal(call(r, 'KSR.htable.sht_match_name', c, 'nosuch', 'eq', 'k'), -1);
      assert.equal(call(r, 'KSR.htable.sht_lock', c, 'nosuch', 'k'), -1);
      assert.equal(call(r, 'KSR.htable.sht_get', c, 'other', 'k'), null);
    }
    const about = (t: string): number => records.filter((x) => x.table === t).length;
    assert.equal(about('nosuch'), 1);
    assert.equal(about('other'), 1);
  });

  it('sht_lock / sht_unlock are accepted', () => {
    assert.equal(ht('sht_lock', 'plain', 'k'), 1);
    assert.equal(ht('sht_unlock', 'plain', 'k'), 1);
  });

  it('$sht reads, writes and removes items; the key may hold PVs', () => {
    const c = ctxOf(invite());
    const item = pv(reg, c, '$sht(plain=>pk)');
    assert.equal(item.get(), null);
    item.set('v1');
    assert.equal(ht('sht_get', 'plain', 'pk'), 'v1');
    item.set(5);
    assert.equal(item.get(), 5);
    item.set(null);
    assert.equal(ht('sht_get', 'plain', 'pk'), null);
    assert.equal(pv(reg, c, '$sht(cnt=>unset)').get(), 0);

    c.vars.set('tk', 'alice');
    pv(reg, c, '$sht(plain=>user::$tk::n)').set(3);
    assert.equal(ht('sht_get', 'plain', 'user::alice::n'), 3);
    c.vars.set('tk', 'bob');
    assert.equal(pv(reg, c, '$sht(plain=>user::$tk::n)').get(), null);
    assert.equal(pv(reg, c, '$sht( plain =>$(tk))').get(), null);
    assert.equal(pv(reg, c, '$sht(plain=>$nope)').get(), null, 'an unknown $name stays literal');
    ht('sht_seti', 'plain', '$nope', 1);
    assert.equal(pv(reg, c, '$sht(plain=>$nope)').get(), 1);
    assert.equal(pv(reg, c, '$sht(nosuch=>k)').get(), null);
    assert.equal(pv(reg, c, '$sht(no-arrow)').get(), null);
    ht('sht_reset', 'plain');
  });

  it('$shtinc / $shtdec / $shtcn / $shtcv', () => {
    const c = ctxOf(null);
    assert.equal(pv(reg, c, '$shtinc(cnt=>i)').get(), 1);
    assert.equal(pv(reg, c, '$shtinc(cnt=>i)').get(), 2);
    assert.equal(pv(reg, c, '$shtdec(cnt=>i)').get(), 1);
    assert.equal(pv(reg, c, '$shtinc(plain=>i)').get(), null);
    for (const [k, v] of [['a1', 'x-one'], ['a2', 'y-two'], ['b1', 'x-three']]) ht('sht_sets', 'plain', k, v);
    ht('sht_seti', 'plain', 'n1', 7);
    assert.equal(pv(reg, c, '$shtcn(plain=>**)').get(), 4);
    assert.equal(pv(reg, c, '$shtcn(plain=>^a)').get(), 2);
    assert.equal(pv(reg, c, '$shtcn(plain=>~~1$)').get(), 3);
    assert.equal(pv(reg, c, '$shtcn(plain=>%~b)').get(), 1);
    assert.equal(pv(reg, c, '$shtcn(plain=>~%2)').get(), 1);
    assert.equal(pv(reg, c, '$shtcn(plain=>==a1)').get(), 1);
    assert.equal(pv(reg, c, '$shtcn(plain=>eq7)').get(), 0);
    assert.equal(pv(reg, c, '$shtcv(plain=>^x-)').get(), 2);
    assert.equal(pv(reg, c, '$shtcv(plain=>eq7)').get(), 1);
    assert.equal(pv(reg, c, '$shtcv(plain=>==y-two)').get(), 1);
    assert.equal(pv(reg, c, '$shtcn(nosuch=>**)').get(), null);
    ht('sht_reset', 'plain');
    ht('sht_reset', 'cnt');
  });

  it('tables of two runtimes are separate', () => {
    const other = tables();
    ht('sht_sets', 'plain', 'mine', 'yes');
    assert.equal(call(other, 'KSR.htable.sht_get', ctx, 'plain', 'mine'), null);
    ht('sht_reset', 'plain');
  });

  it('expires items after autoexpire seconds, per updateexpire', async () => {
    const c = ctxOf(null);
    const h = (name: string, ...args: unknown[]): unknown => call(reg, `KSR.htable.${name}`, c, ...args);
    h('sht_sets', 'ipban', '198.51.100.7', 'banned');
    h('sht_seti', 'refresh', 'k', 1);
    h('sht_seti', 'keep', 'k', 1);
    h('sht_setxi', 'ipban', 'long', 1, 3);
    h('sht_setxs', 'plain', 'forever', 'v', 1);
    assert.equal(pv(reg, c, '$shtex(ipban=>198.51.100.7)').get(), 1);
    assert.equal(pv(reg, c, '$shtex(plain=>forever)').get(), 0);
    assert.equal(h('sht_get', 'ipban', '198.51.100.7'), 'banned');
    await sleep(600);
    h('sht_seti', 'refresh', 'k', 2);
    h('sht_seti', 'keep', 'k', 2);
    await sleep(600);
    assert.equal(h('sht_get', 'ipban', '198.51.100.7'), null);
    assert.equal(h('sht_is_null', 'ipban', '198.51.100.7'), 1);
    assert.equal(h('sht_get', 'refresh', 'k'), 2, 'updated 0.6 s ago: restarted');
    assert.equal(h('sht_get', 'keep', 'k'), null, 'updateexpire 0: gone 1 s after creation');
    assert.equal(h('sht_get', 'ipban', 'long'), 1, 'its own 3 s expiry');
    assert.equal(h('sht_get', 'plain', 'forever'), 'v', 'no autoexpire: per-item expiry ignored');
    assert.equal(pv(reg, c, '$shtcn(ipban=>**)').get(), 1);
    await sleep(600);
    assert.equal(h('sht_get', 'refresh', 'k'), null);
    h('sht_reset', 'plain');
    h('sht_reset', 'ipban');
  });

  it('sht_setex and $shtex change the expiry of an item', async () => {
    const c = ctxOf(null);
    const h = (name: string, ...args: unknown[]): unknown => call(reg, `KSR.htable.${name}`, c, ...args);
    h('sht_seti', 'ipban', 'a', 1);
    h('sht_seti', 'ipban', 'b', 1);
    h('sht_seti', 'ipban', 'c', 1);
    assert.equal(h('sht_setex', 'ipban', 'a', 3), 1);
    pv(reg, c, '$shtex(ipban=>b)').set(0);
    pv(reg, c, '$shtex(ipban=>c)').set('3');
    assert.equal(pv(reg, c, '$shtex(ipban=>a)').get(), 3);
    assert.equal(pv(reg, c, '$shtex(ipban=>b)').get(), 0);
    assert.equal(h('sht_setex', 'nosuch', 'a', 3), -1);
    await sleep(1100);
    assert.equal(h('sht_get', 'ipban', 'a'), 1);
    assert.equal(h('sht_get', 'ipban', 'b'), 1, 'expire 0: never');
    assert.equal(h('sht_get', 'ipban', 'c'), 1);
    h('sht_reset', 'ipban');
  });

  it('validates the table declarations', () => {
    assert.throws(() => registryWith(htable, { tables: { 'a=>b': {} } }));
    assert.throws(() => registryWith(htable, { tables: { a: { autoexpire: -1 } } }));
    assert.throws(() => registryWith(htable, { tables: { a: { updateexpire: 2 } } }));
    assert.throws(() => registryWith(htable, { tables: { a: { dbtable: 'x' } } }));
    assert.throws(() => registryWith(htable, { htable: 'a=>size=4' }));
    const none = tables({});
    assert.equal(call(none, 'KSR.htable.sht_get', ctxOf(null), 'a', 'b'), null);
  });
});

describe('HtTable', () => {
  it('sweep drops expired items nobody read', () => {
    const t = new HtTable('t', { autoexpire: 1, initval: undefined, updateexpire: true });
    t.set('a', 1, 1_000);
    t.set('b', 2, 1_500);
    t.set('c', 3, 1_500, 10);
    t.sweep(2_200);
    assert.equal(t.size, 2);
    t.sweep(2_600);
    assert.equal(t.size, 1);
    assert.equal(t.get('c', 2_600), 3);
    assert.equal(t.expiresIn('c', 2_600), 9);
  });

  it('never expires without autoexpire', () => {
    const t = new HtTable('t', { autoexpire: 0, initval: 5, updateexpire: true });
    t.set('a', 1, 0, 1);
    t.sweep(1e12);
    assert.equal(t.get('a', 1e12), 1);
    assert.equal(t.add('b', 2, 0), 7);
  });
});
