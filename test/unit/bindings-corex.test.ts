import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import corex from '../../bindings/corex.js';
import { call, ctxOf, invite, registryWith, sip } from '../helpers/binding-harness.js';

const reg = registryWith(corex);

describe('KSR.corex', () => {
  it('has_ruri_user follows the current R-URI', () => {
    const ctx = ctxOf(invite());
    assert.equal(call(reg, 'KSR.corex.has_ruri_user', ctx), 1);
    ctx.newRuri = 'sip:example.com';
    assert.equal(call(reg, 'KSR.corex.has_ruri_user', ctx), -1);
    assert.equal(call(reg, 'KSR.corex.has_ruri_user', ctxOf(invite([], { ruri: 'sip:192.0.2.10' }))), -1);
    assert.equal(call(reg, 'KSR.corex.has_ruri_user', ctxOf(invite([], { ruri: 'tel:+15551234567' }))), 1);
  });

  it('has_ruri_user is negative for a reply and without a message', () => {
    const reply = sip([
      'SIP/2.0 200 OK',
      'Via: SIP/2.0/UDP 192.0.2.10;branch=z9hG4bK-x',
      'From: <sip:alice@example.org>;tag=a1',
      'To: <sip:bob@example.com>;tag=b2',
      'Call-ID: c2',
      'CSeq: 1 INVITE',
      'Content-Length: 0',
    ]);
    assert.equal(call(reg, 'KSR.corex.has_ruri_user', ctxOf(reply)), -1);
    assert.equal(call(reg, 'KSR.corex.has_ruri_user', ctxOf(null)), -1);
  });

  it('has_user_agent', () => {
    assert.equal(call(reg, 'KSR.corex.has_user_agent', ctxOf(invite(['User-Agent: x/1']))), 1);
    assert.equal(call(reg, 'KSR.corex.has_user_agent', ctxOf(invite(['User-Agent:']))), -1);
    assert.equal(call(reg, 'KSR.corex.has_user_agent', ctxOf(invite())), -1);
  });
});
