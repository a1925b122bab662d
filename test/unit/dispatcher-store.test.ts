/**
 * The dispatcher's list-file reader, set order and state rules (host/dispatcher), without SIP:
 * Kamailio's line format with its leniencies, the order inside a set, the thresholds that turn
 * failures into inactive and successes back into active, the state letters, the reply codes.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { DS_INACTIVE, DS_PROBING, DS_TRYING, makeDestination, orderSet } from '../../host/dispatcher/destination.js';
import { replyCodes } from '../../host/dispatcher/prober.js';
import { ListFileError, parseListLine, type DsRow } from '../../host/dispatcher/sources.js';
import { walkOrder } from '../../host/dispatcher/set-order.js';
import { DsStore, flagsText, parseMarkState, parseRpcState } from '../../host/dispatcher/store.js';

describe('dispatcher list file lines', () => {
  test('fields, optional ones, comments and blank lines', () => {
    assert.deepEqual(parseListLine('1 sip:10.0.0.1:5060 8 20 duid=a;weight=5'), { setid: 1, uri: 'sip:10.0.0.1:5060', flags: 8, priority: 20, attrs: 'duid=a;weight=5' });
    assert.deepEqual(parseListLine('\t2\tsip:gw.example.com # the rest is a comment'), { setid: 2, uri: 'sip:gw.example.com', flags: 0, priority: 0, attrs: '' });
    assert.deepEqual(parseListLine('3 sip:a 0 5#x'), { setid: 3, uri: 'sip:a', flags: 0, priority: 5, attrs: '' });
    assert.equal(parseListLine('   # only a comment'), null);
    assert.equal(parseListLine(''), null);
    assert.throws(() => parseListLine('4'), ListFileError);
  });

  test('Kamailio reads digits as far as they go: a non-number set id is 0', () => {
    assert.equal(parseListLine('x sip:a')?.setid, 0);
  });
});

describe('dispatcher set order', () => {
  const d = (uri: string, prio: number) => makeDestination(uri, 0, prio, '', false);
  test('priority high to low; equal priorities: the one loaded last first', () => {
    const out = orderSet([d('sip:a', 0), d('sip:b', 10), d('sip:c', 0), d('sip:e', 10)]).map((x) => x.uri);
    assert.deepEqual(out, ['sip:e', 'sip:b', 'sip:c', 'sip:a']);
  });
  test('transport, port and address of a destination; a bad URI', () => {
    const x = makeDestination('sip:[::1]:5070;transport=TCP', 0, 0, 'weight=500;rweight=20', false);
    assert.deepEqual([x.host, x.port, x.proto, x.ip, x.attrs.weight, x.attrs.rweight], ['::1', 5070, 'tcp', '::1', 0, 20]);
    assert.equal(makeDestination('sips:10.0.0.1', 0, 0, '', true).proto, 'none');
    assert.equal(makeDestination('sip:10.0.0.1', 0, 0, '', true).attrs.body, 'none=yes');
    assert.throws(() => makeDestination('http://x', 0, 0, '', false));
  });
});

describe('dispatcher states', () => {
  const rows: DsRow[] = [{ setid: 1, uri: 'sip:10.0.0.1', flags: 0, priority: 0, attrs: '' }];
  const store = async (probing: number, inactive: number, events: string[] = []): Promise<DsStore> => {
    const s = new DsStore({
      read: () => Promise.resolve(rows), strict: false, attrsNone: false, reloadDeltaS: 5, rand: Math.random,
      resolve: () => Promise.resolve(null), skippedRow: () => undefined,
      probingThreshold: probing, inactiveThreshold: inactive, changed: (uri, up) => { events.push(`${uri} ${up ? 'up' : 'down'}`); },
    });
    await s.load();
    return s;
  };
  const flags = (s: DsStore): string => flagsText(s.find(1, 'sip:10.0.0.1')?.flags ?? -1);

  test('failures count toward ds_probing_threshold, then inactive; successes toward ds_inactive_threshold', async () => {
    const events: string[] = [];
    const s = await store(3, 2, events);
    s.updateState(1, 'sip:10.0.0.1', DS_TRYING | DS_PROBING);
    s.updateState(1, 'SIP:10.0.0.1', DS_TRYING | DS_PROBING);
    assert.equal(flags(s), 'TP', 'two failures: trying');
    s.updateState(1, 'sip:10.0.0.1', DS_TRYING | DS_PROBING);
    assert.equal(flags(s), 'IP', 'the third: inactive');
    s.updateState(1, 'sip:10.0.0.1', DS_TRYING | DS_PROBING);
    assert.equal(flags(s), 'IP', 'a failure while inactive stays inactive');
    s.updateState(1, 'sip:10.0.0.1', DS_PROBING);
    assert.equal(flags(s), 'IP', 'one success of two');
    s.updateState(1, 'sip:10.0.0.1', DS_PROBING);
    assert.equal(flags(s), 'AP');
    assert.deepEqual(events, ['sip:10.0.0.1 down', 'sip:10.0.0.1 up']);
  });

  test('set_state ignores thresholds; unknown destinations are refused; reload_delta', async () => {
    const s = await store(3, 3);
    assert.equal(s.setState(1, 'sip:10.0.0.1', DS_INACTIVE), true);
    assert.equal(flags(s), 'IX');
    assert.equal(s.setState(1, 'sip:10.9.9.9', 0), false);
    assert.equal(s.updateState(2, 'sip:10.0.0.1', 0), false);
    await s.reload(1000);
    assert.throws(() => s.reload(1003), /ongoing reload/);
    await s.reload(1005);
  });

  test('state letters of ds_mark_dst and dispatcher.set_state; ping reply codes', () => {
    assert.equal(parseMarkState('ip'), DS_INACTIVE | DS_PROBING);
    assert.equal(parseMarkState('IA'), 0, 'a clears what came before');
    assert.equal(parseMarkState('x'), -1);
    assert.equal(parseRpcState('tp'), DS_TRYING | DS_PROBING);
    assert.equal(parseRpcState('0'), DS_INACTIVE);
    assert.equal(parseRpcState('q'), -1);
    const ok = replyCodes('class=4;code=503');
    assert.deepEqual([404, 480, 503, 500, 200].map(ok), [true, true, true, false, false]);
  });
});

describe('dispatcher set walk order (Kamailio\'s AVL tree, children first)', () => {
  test('ascending inserts, one set, and an arbitrary order', () => {
    assert.deepEqual(walkOrder([1, 2, 3, 4, 7]), [1, 3, 7, 4, 2]);
    assert.deepEqual(walkOrder([1, 3]), [3, 1]);
    assert.deepEqual(walkOrder([5]), [5]);
    assert.deepEqual(walkOrder([3, 1, 3, 2]), [1, 3, 2], 'a repeated id changes nothing; a left-right case rotates twice');
  });
});
