import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import maxfwd from '../../bindings/maxfwd.js';
import { call, ctxOf, registryWith, sip } from '../helpers/binding-harness.js';

function options(maxForwards: string | null): ReturnType<typeof sip> {
  return sip([
    'OPTIONS sip:bob@example.com SIP/2.0',
    'Via: SIP/2.0/UDP 198.51.100.7;branch=z9hG4bK-1',
    ...(maxForwards === null ? [] : [`Max-Forwards: ${maxForwards}`]),
    'From: <sip:alice@example.org>;tag=a1',
    'To: <sip:bob@example.com>',
    'Call-ID: mf1',
    'CSeq: 1 OPTIONS',
    'Content-Length: 0',
  ]);
}

describe('KSR.maxfwd', () => {
  const reg = registryWith(maxfwd);

  it('decrements the value for the forwarded request', () => {
    const ctx = ctxOf(options('70'));
    assert.equal(call(reg, 'KSR.maxfwd.process_maxfwd', ctx, 10), 1);
    assert.equal(ctx.headerEdits.maxForwards, 69);
    // Kamailio keeps the decremented value on the message: a second call decrements again.
    assert.equal(call(reg, 'KSR.maxfwd.process_maxfwd', ctx, 10), 1);
    assert.equal(ctx.headerEdits.maxForwards, 68);
  });

  it('adds the header with the limit when the request has none', () => {
    const ctx = ctxOf(options(null));
    assert.equal(call(reg, 'KSR.maxfwd.process_maxfwd', ctx, 10), 2);
    assert.equal(ctx.headerEdits.maxForwards, 10);
  });

  it('returns -1 when the value reached 0, and leaves the message alone', () => {
    const ctx = ctxOf(options('0'));
    assert.equal(call(reg, 'KSR.maxfwd.process_maxfwd', ctx, 10), -1);
    assert.equal(ctx.hasHeaderEdits, false);
    const one = ctxOf(options('1'));
    assert.equal(call(reg, 'KSR.maxfwd.process_maxfwd', one, 10), 1);
    assert.equal(one.headerEdits.maxForwards, 0);
    assert.equal(call(reg, 'KSR.maxfwd.process_maxfwd', one, 10), -1);
  });

  it('caps a value above max_limit (default 70) to max_limit', () => {
    const ctx = ctxOf(options('200'));
    assert.equal(call(reg, 'KSR.maxfwd.process_maxfwd', ctx, 10), 1);
    assert.equal(ctx.headerEdits.maxForwards, 70);
    const low = registryWith(maxfwd, { max_limit: 16 });
    const c2 = ctxOf(options('70'));
    assert.equal(call(low, 'KSR.maxfwd.process_maxfwd', c2, 10), 1);
    assert.equal(c2.headerEdits.maxForwards, 16);
  });

  it('refuses a limit outside 0..255 and a value that is not a number', () => {
    assert.equal(call(reg, 'KSR.maxfwd.process_maxfwd', ctxOf(options('70')), 256), -1);
    assert.equal(call(reg, 'KSR.maxfwd.process_maxfwd', ctxOf(options('70')), -1), -1);
    const bad = ctxOf(options('seventy'));
    assert.equal(call(reg, 'KSR.maxfwd.process_maxfwd', bad, 10), -2);
    assert.equal(bad.hasHeaderEdits, false);
    assert.equal(call(reg, 'KSR.maxfwd.process_maxfwd', ctxOf(null), 10), -2);
  });

  it('is_maxfwd_lt compares the value in force with the limit', () => {
    const ctx = ctxOf(options('5'));
    assert.equal(call(reg, 'KSR.maxfwd.is_maxfwd_lt', ctx, 10), 1);
    assert.equal(call(reg, 'KSR.maxfwd.is_maxfwd_lt', ctx, 5), -1);
    assert.equal(call(reg, 'KSR.maxfwd.is_maxfwd_lt', ctx, 3), -1);
    assert.equal(call(reg, 'KSR.maxfwd.process_maxfwd', ctx, 10), 1);
    assert.equal(call(reg, 'KSR.maxfwd.is_maxfwd_lt', ctx, 5), 1);
    assert.equal(call(reg, 'KSR.maxfwd.is_maxfwd_lt', ctxOf(options(null)), 5), -2);
    assert.equal(call(reg, 'KSR.maxfwd.is_maxfwd_lt', ctxOf(options('x')), 5), -3);
    assert.equal(call(reg, 'KSR.maxfwd.is_maxfwd_lt', ctx, 300), -1);
  });

  it('rejects a max_limit outside 0..255 at configuration time', () => {
    assert.throws(() => registryWith(maxfwd, { max_limit: 300 }));
    assert.throws(() => registryWith(maxfwd, { maxlimit: 10 }));
  });
});
