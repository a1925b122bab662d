import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import siputils from '../../bindings/siputils.js';
import { call, ctxOf, invite, MYSELF_IP, registryWith, sip, UDP_SRC } from '../helpers/binding-harness.js';

const reg = registryWith(siputils);

function reply(extra: readonly string[]): ReturnType<typeof sip> {
  return sip([
    'SIP/2.0 200 OK',
    'Via: SIP/2.0/UDP 192.0.2.10;branch=z9hG4bK-x',
    ...extra,
    'From: <sip:alice@example.org>;tag=a1',
    'To: <sip:bob@example.com>;tag=b2',
    'Call-ID: c2',
    'CSeq: 1 INVITE',
    'Content-Length: 0',
  ]);
}

describe('KSR.siputils', () => {
  it('has_totag tells an in-dialog request from an initial one', () => {
    assert.equal(call(reg, 'KSR.siputils.has_totag', ctxOf(invite())), -1);
    const bye = sip([
      'BYE sip:alice@198.51.100.7:5062 SIP/2.0',
      'Via: SIP/2.0/UDP 198.51.100.8;branch=z9hG4bK-3',
      'From: <sip:bob@example.com>;tag=b2',
      'To: <sip:alice@example.org>;tag=a1',
      'Call-ID: call-1',
      'CSeq: 2 BYE',
      'Content-Length: 0',
    ]);
    assert.equal(call(reg, 'KSR.siputils.has_totag', ctxOf(bye)), 1);
    assert.equal(call(reg, 'KSR.siputils.has_totag', ctxOf(null)), -1);
  });

  it('is_request / is_reply', () => {
    assert.equal(call(reg, 'KSR.siputils.is_request', ctxOf(invite())), 1);
    assert.equal(call(reg, 'KSR.siputils.is_reply', ctxOf(invite())), -1);
    assert.equal(call(reg, 'KSR.siputils.is_request', ctxOf(reply([]))), -1);
    assert.equal(call(reg, 'KSR.siputils.is_reply', ctxOf(reply([]))), 1);
    assert.equal(call(reg, 'KSR.siputils.is_request', ctxOf(null)), -1);
  });

  it('is_first_hop for requests counts the Vias', () => {
    assert.equal(call(reg, 'KSR.siputils.is_first_hop', ctxOf(invite())), 1);
    const twoVias = sip([
      'OPTIONS sip:bob@example.com SIP/2.0',
      'Via: SIP/2.0/UDP 198.51.100.8;branch=z9hG4bK-p, SIP/2.0/UDP 198.51.100.7;branch=z9hG4bK-u',
      'From: <sip:alice@example.org>;tag=a1',
      'To: <sip:bob@example.com>',
      'Call-ID: o1',
      'CSeq: 1 OPTIONS',
      'Content-Length: 0',
    ]);
    assert.equal(call(reg, 'KSR.siputils.is_first_hop', ctxOf(twoVias)), -1);
  });

  it('is_first_hop for replies looks at the top Record-Route', () => {
    assert.equal(call(reg, 'KSR.siputils.is_first_hop', ctxOf(reply([]))), 1);
    const ours = reply([`Record-Route: <sip:${MYSELF_IP};lr>`, 'Record-Route: <sip:192.0.2.77;lr>']);
    assert.equal(call(reg, 'KSR.siputils.is_first_hop', ctxOf(ours)), 1);
    const theirs = reply(['Record-Route: <sip:192.0.2.77;lr>', `Record-Route: <sip:${MYSELF_IP};lr>`]);
    assert.equal(call(reg, 'KSR.siputils.is_first_hop', ctxOf(theirs)), -1);
    // Mode 0 wants an IP in the Record-Route; mode 1 accepts a name, but this one is not ours.
    const named = reply(['Record-Route: <sip:proxy.example.com;lr>']);
    assert.equal(call(reg, 'KSR.siputils.is_first_hop', ctxOf(named)), -1);
    assert.equal(call(reg, 'KSR.siputils.is_first_hop_mode', ctxOf(named), 1), -1);
    // A reply that comes from the very address in the Record-Route is a loop.
    const looped = ctxOf(ours, { ...UDP_SRC, ip: MYSELF_IP, port: 5060 });
    assert.equal(call(reg, 'KSR.siputils.is_first_hop', looped), -1);
    assert.equal(call(reg, 'KSR.siputils.is_first_hop_mode', looped, 1), 1);
  });

  it('is_uri', () => {
    assert.equal(call(reg, 'KSR.siputils.is_uri', ctxOf(null), 'sip:alice@example.org;transport=tcp'), 1);
    assert.equal(call(reg, 'KSR.siputils.is_uri', ctxOf(null), 'tel:+15551234567'), 1);
    assert.equal(call(reg, 'KSR.siputils.is_uri', ctxOf(null), 'alice@example.org'), -1);
    assert.equal(call(reg, 'KSR.siputils.is_uri', ctxOf(null), ''), -1);
  });

  it('is_tel_number / is_numeric / is_alphanum / is_alphanumex', () => {
    const c = ctxOf(null);
    assert.equal(call(reg, 'KSR.siputils.is_tel_number', c, '+4930123'), 1);
    assert.equal(call(reg, 'KSR.siputils.is_tel_number', c, '030123'), 1);
    assert.equal(call(reg, 'KSR.siputils.is_tel_number', c, '+030123'), -2);
    assert.equal(call(reg, 'KSR.siputils.is_tel_number', c, '+'), -2);
    assert.equal(call(reg, 'KSR.siputils.is_tel_number', c, ''), -2);
    assert.equal(call(reg, 'KSR.siputils.is_tel_number', c, '12a'), -2);
    assert.equal(call(reg, 'KSR.siputils.is_numeric', c, '0123'), 1);
    assert.equal(call(reg, 'KSR.siputils.is_numeric', c, '-1'), -2);
    assert.equal(call(reg, 'KSR.siputils.is_numeric', c, ''), -2);
    assert.equal(call(reg, 'KSR.siputils.is_alphanum', c, 'abc123XYZ'), 1);
    assert.equal(call(reg, 'KSR.siputils.is_alphanum', c, 'ab-c'), -3);
    assert.equal(call(reg, 'KSR.siputils.is_alphanum', c, ''), -2);
    assert.equal(call(reg, 'KSR.siputils.is_alphanumex', c, 'ab-c_d', '-_'), 1);
    assert.equal(call(reg, 'KSR.siputils.is_alphanumex', c, 'ab-c.d', '-_'), -3);
  });

  it('uri_param / uri_param_value / uri_param_any on the current R-URI', () => {
    const ctx = ctxOf(invite([], { ruri: 'sip:bob@example.com;lr;transport=TCP' }));
    assert.equal(call(reg, 'KSR.siputils.uri_param', ctx, 'lr'), 1);
    assert.equal(call(reg, 'KSR.siputils.uri_param', ctx, 'transport'), -1);
    assert.equal(call(reg, 'KSR.siputils.uri_param_value', ctx, 'transport', 'TCP'), 1);
    assert.equal(call(reg, 'KSR.siputils.uri_param_value', ctx, 'transport', 'udp'), -1);
    assert.equal(call(reg, 'KSR.siputils.uri_param_any', ctx, 'transport'), 1);
    assert.equal(call(reg, 'KSR.siputils.uri_param_any', ctx, 'maddr'), -1);
    ctx.newRuri = 'sip:bob@example.com;maddr=192.0.2.1';
    assert.equal(call(reg, 'KSR.siputils.uri_param_any', ctx, 'maddr'), 1);
    assert.equal(call(reg, 'KSR.siputils.uri_param', ctx, 'lr'), -1);
  });
});
