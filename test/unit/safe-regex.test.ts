/** Script and config regexes: linear-time engine, errors as values, a bounded LRU cache (host/safe-regex.ts). */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { compileLinear, MAX_PATTERN_LENGTH, RegexCache } from '../../host/safe-regex.js';

test('RE2 syntax, unanchored, case-insensitive on request; what needs backtracking is an error value', () => {
  const ci = compileLinear('^user:[[:digit:]]+$', true);
  assert.ok(ci.ok);
  assert.equal(ci.re.test('USER:42'), true);
  const cs = compileLinear('b+', false);
  assert.ok(cs.ok);
  assert.equal(cs.re.test('abbc'), true);
  assert.equal(cs.re.test('ABBC'), false);
  for (const bad of ['(a)\\1', 'x(?=y)', '(', 'a{2000}', 'a'.repeat(MAX_PATTERN_LENGTH + 1)]) {
    const r = compileLinear(bad, false);
    assert.ok(!r.ok, bad.slice(0, 20));
    assert.ok(r.why.length > 0);
  }
});

test('the cache keeps the most recently used patterns, failures included, per case flag', () => {
  const cache = new RegexCache(2);
  const a = cache.get('a', true);
  const b = cache.get('b', true);
  assert.equal(cache.get('a', true), a, 'a hit is the same compiled pattern');
  assert.notEqual(cache.get('a', false), a, 'another flag is another entry');
  assert.equal(cache.size, 2, 'b, the least recently used, was dropped');
  assert.notEqual(cache.get('b', true), b, 'b compiled again');
  const bad = cache.get('(', true);
  assert.equal(bad.ok, false);
  assert.equal(cache.get('(', true), bad, 'a failure is cached too');
  assert.equal(cache.size, 2);
});
