import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseNameAddr } from '../../host/sip/name-addr.js';
import { firstElementEnd, splitElements } from '../../host/sip/split.js';
import { formatHostPort, parseUri, unescapeUser } from '../../host/sip/uri.js';
import { parseFirstVia, parseVia } from '../../host/sip/via.js';

describe('parseUri', () => {
  it('reads every part of a sip: URI', () => {
    const u = parseUri('sip:alice:secret@atlanta.example.com:5070;transport=TCP;LR;maddr=239.0.0.1?subject=project%20x&priority=urgent');
    assert.ok(u !== null);
    assert.equal(u.scheme, 'sip');
    assert.equal(u.user, 'alice');
    assert.equal(u.password, 'secret');
    assert.equal(u.host, 'atlanta.example.com');
    assert.equal(u.port, 5070);
    assert.deepEqual([...u.params], [['transport', 'TCP'], ['lr', ''], ['maddr', '239.0.0.1']]);
    assert.equal(u.headers, 'subject=project%20x&priority=urgent');
  });

  it('handles sips:, scheme case, host-only and IPv6 references', () => {
    const s = parseUri('SIPS:bob@[2001:db8::1]:5061');
    assert.deepEqual([s?.scheme, s?.user, s?.host, s?.port], ['sips', 'bob', '[2001:db8::1]', 5061]);
    const h = parseUri('sip:[::1]');
    assert.deepEqual([h?.user, h?.host, h?.port], ['', '[::1]', 0]);
    const ip = parseUri('sip:192.0.2.4;lr');
    assert.deepEqual([ip?.host, ip?.params.get('lr')], ['192.0.2.4', '']);
  });

  it('reads tel: URIs (RFC 3966)', () => {
    const t = parseUri('tel:+1-201-555-0123;phone-context=example.com');
    assert.deepEqual([t?.scheme, t?.user, t?.host, t?.params.get('phone-context')], ['tel', '+1-201-555-0123', '', 'example.com']);
  });

  it('returns null for other schemes and malformed URIs', () => {
    for (const bad of [
      'http://example.com', 'mailto:a@b', 'sip:', 'sip:@example.com', 'sip:alice@', 'sip:example.com:70000',
      'sip:example.com:', 'sip:alice@exa mple.com', 'sip:a@b;;lr', 'sip:a@b;=x', 'sip:a@b;x=', 'sip:a@[::1', 'sip:a@[zz]',
      '<sip:a@b>', 'sip:a@b>', 'sip:a"b@c', 'tel:', 'sip:a@b junk', 'sip:a@b:5060x',
    ]) {
      assert.equal(parseUri(bad), null, bad);
    }
  });

  it('keeps escapes as written; unescapeUser decodes them as UTF-8', () => {
    assert.equal(parseUri('sip:%61lice@example.com')?.user, '%61lice');
    assert.equal(unescapeUser('%61lice'), 'alice');
    assert.equal(unescapeUser('J%C3%BCrgen'), 'Jürgen');
    assert.equal(unescapeUser('100%'), '100%');
    assert.equal(unescapeUser('%ZZ%4'), '%ZZ%4');
    assert.equal(unescapeUser('plain'), 'plain');
  });

  it('formatHostPort brackets bare IPv6 and omits port 0', () => {
    assert.equal(formatHostPort('example.com', 5060), 'example.com:5060');
    assert.equal(formatHostPort('example.com', 0), 'example.com');
    assert.equal(formatHostPort('::1', 5060), '[::1]:5060');
    assert.equal(formatHostPort('[::1]', 0), '[::1]');
  });
});

describe('parseNameAddr', () => {
  it('quoted display name with escapes, params after the URI', () => {
    const n = parseNameAddr('"Bob \\"the\\" Builder" <sip:bob@example.com;transport=tcp> ;tag=abc;Expires=60;lr');
    assert.ok(n !== null);
    assert.equal(n.displayName, 'Bob "the" Builder');
    assert.equal(n.uri, 'sip:bob@example.com;transport=tcp');
    assert.deepEqual([...n.params], [['tag', 'abc'], ['expires', '60'], ['lr', '']]);
    assert.equal(n.tag, 'abc');
  });

  it('bare addr-spec: parameters belong to the header', () => {
    const n = parseNameAddr('sip:alice@example.com;tag=88;user=phone');
    assert.deepEqual([n?.displayName, n?.uri, n?.tag, n?.params.get('user')], ['', 'sip:alice@example.com', '88', 'phone']);
  });

  it('token display names, no display name, any scheme', () => {
    assert.equal(parseNameAddr('A. G. Bell <sip:agb@example.com>')?.displayName, 'A. G. Bell');
    assert.equal(parseNameAddr('<sip:x@example.com>')?.displayName, '');
    assert.equal(parseNameAddr('<http://www.example.com>;tag=1')?.uri, 'http://www.example.com');
    assert.equal(parseNameAddr('"" <sip:x@y>')?.displayName, '');
    assert.equal(parseNameAddr('x <sip:a@b>;p="quoted; value"')?.params.get('p'), '"quoted; value"');
  });

  it('rejects the malformed forms', () => {
    for (const bad of [
      '', '"unterminated <sip:a@b>', 'Bell, Alexander <sip:a@b>', '< sip:a@b >', '<sip:a@b', 'sip:a@b?x=y',
      'sip:a@b,c', '<sip:a@b>;;tag=1', '<sip:a@b> junk', '"x" sip:a@b', '<>', '<nocolon>', '<sip:a@b>;tag=',
    ]) {
      assert.equal(parseNameAddr(bad), null, bad);
    }
  });
});

describe('parseVia', () => {
  it('reads protocol, sent-by and the parameters a proxy uses', () => {
    const v = parseVia('SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK776;received=192.0.2.200;rport=5061;ttl=16');
    assert.ok(v !== null);
    assert.deepEqual(
      [v.protocol, v.transport, v.host, v.port, v.branch, v.received, v.rport, v.params.get('ttl')],
      ['SIP/2.0/UDP', 'UDP', '192.0.2.1', 5060, 'z9hG4bK776', '192.0.2.200', '5061', '16'],
    );
  });

  it('rport present without a value, absent, IPv6 sent-by and received', () => {
    assert.equal(parseVia('SIP/2.0/TCP h;rport')?.rport, '');
    assert.equal(parseVia('SIP/2.0/TCP h;branch=z9hG4bK1')?.rport, null);
    const v6 = parseVia('SIP/2.0/UDP [2001:db8::9:1]:5062;received=2001:db8::9:255;branch=z9hG4bK2');
    assert.deepEqual([v6?.host, v6?.port, v6?.received], ['[2001:db8::9:1]', 5062, '2001:db8::9:255']);
  });

  it('normalises case and the LWS the grammar allows', () => {
    const v = parseVia('sip / 2.0 / ws  client.example.com : 8080 ; branch = z9hG4bK3');
    assert.deepEqual([v?.protocol, v?.transport, v?.host, v?.port, v?.branch], ['SIP/2.0/WS', 'WS', 'client.example.com', 8080, 'z9hG4bK3']);
  });

  it('parseFirstVia reads only the first element of a list', () => {
    const v = parseFirstVia('SIP/2.0/UDP a.example.com;branch=z9hG4bK1 , SIP/2.0/UDP b.example.com;;');
    assert.deepEqual([v?.host, v?.branch, v?.raw], ['a.example.com', 'z9hG4bK1', 'SIP/2.0/UDP a.example.com;branch=z9hG4bK1']);
    assert.equal(parseVia('SIP/2.0/UDP a.example.com, SIP/2.0/UDP b'), null);
  });

  it('rejects malformed elements', () => {
    for (const bad of [
      '', 'SIP/2.0/UDP', 'SIP/2.0/UDP ', 'SIP/2.0 host', 'SIP/2.0/UDPhost', 'SIP/2.0/UDP host:', 'SIP/2.0/UDP host:99999',
      'SIP/2.0/UDP 192.0.2.15;;', 'SIP/2.0/UDP host;branch=', 'SIP/2.0/UDP host junk', 'SIP/2.0/UDP [::1',
    ]) {
      assert.equal(parseVia(bad), null, bad);
    }
  });
});

describe('splitElements', () => {
  it('splits on commas outside quotes and angle brackets', () => {
    assert.deepEqual(splitElements('<sip:a,b@x>;p=1, "Doe, J" <sip:j@x> ,sip:c@x'), ['<sip:a,b@x>;p=1', '"Doe, J" <sip:j@x>', 'sip:c@x']);
    assert.deepEqual(splitElements(' , a,,b , '), ['a', 'b']);
    assert.deepEqual(splitElements('"a\\", b" <sip:x>'), ['"a\\", b" <sip:x>']);
    assert.deepEqual(splitElements(''), []);
  });

  it('firstElementEnd finds the first separating comma', () => {
    assert.equal(firstElementEnd('a, b'), 1);
    assert.equal(firstElementEnd('"x,y" <a,b>, c'), 11);
    assert.equal(firstElementEnd('no comma'), 8);
    assert.equal(firstElementEnd('"unterminated, quote'), 20);
  });
});
