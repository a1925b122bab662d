/**
 * uac's Record-Route parameter value (bindings/uac-rr-codec.ts) against values Kamailio 5.6 wrote
 * (test/compat/uac-dialog.test.ts): the same text for the same URIs and key, each URI recovered
 * from the other, and the values Kamailio would decline declined.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decodeUriPair, encodeUriPair } from '../../bindings/uac-rr-codec.js';

const ALICE = 'sip:alice@example.com';
const HIDDEN = 'sip:hidden@example.net';
const BOB = 'sip:bob@example.com';
const ROBIN = 'sip:robin.the.boy.wonder@gotham.org';

describe('uac Record-Route codec', () => {
  it('writes what Kamailio writes (restore_passwd "kemi-secret"), the shorter URI first or second', () => {
    assert.equal(encodeUriPair(ALICE, HIDDEN, 'kemi-secret'), 'a2VtaSR2aGRyS1F2fGF0MXouLnNtAA--');
    assert.equal(encodeUriPair(BOB, ROBIN, 'kemi-secret'), 'a2VtaT1zZUp5M2FucC9ubGkkeR0LEA4XLQ5CBw0CH0sbGQI-');
  });

  it('gives back either URI from the other, with and without a key, for every padding length', () => {
    for (const key of ['', 'k', 'kemi-secret']) {
      for (const [a, b] of [[ALICE, HIDDEN], [BOB, ROBIN], ['sip:a@b', 'sip:ab@c'], ['sip:x@y.z', 'sip:x@y.z.w']] as const) {
        const v = encodeUriPair(a, b, key);
        assert.ok(v !== null && /^[A-Za-z0-9+/]+-{0,2}$/.test(v), v ?? 'null');
        assert.equal(decodeUriPair(v, a, key), b, `${a} → ${b} key "${key}"`);
        assert.equal(decodeUriPair(v, b, key), a, `${b} → ${a} key "${key}"`);
      }
    }
  });

  it('declines what Kamailio declines: no value, a character outside the table, a header URI longer than the pair, an unprintable or empty result', () => {
    assert.equal(decodeUriPair('', ALICE, ''), null);
    assert.equal(decodeUriPair('ab=c', ALICE, ''), null);
    assert.equal(decodeUriPair(encodeUriPair('sip:a@b', 'sip:c@d', '') ?? '', ALICE, ''), null);
    assert.equal(decodeUriPair('AAAA', 'sip:', ''), null);
    assert.equal(encodeUriPair(`sip:${'a'.repeat(1100)}@x`, ALICE, ''), null);
  });
});
