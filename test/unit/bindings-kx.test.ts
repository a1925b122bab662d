import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import kx from '../../bindings/kx.js';
import { call, ctxOf, invite, registryWith, sip, UDP_SRC } from '../helpers/binding-harness.js';

const reg = registryWith(kx);

const reply = sip([
  'SIP/2.0 486 Busy Here',
  'Via: SIP/2.0/UDP 192.0.2.10;branch=z9hG4bK-x',
  'From: <sip:alice@example.org>;tag=a1',
  'To: <sip:bob@example.com>;tag=b2',
  'Call-ID: c2',
  'CSeq: 7 INVITE',
  'Content-Length: 0',
]);

describe('KSR.kx', () => {
  it('reads the R-URI, the rewritten R-URI and the original one', () => {
    const ctx = ctxOf(invite([], { ruri: 'sip:bob@example.com;transport=udp' }));
    assert.equal(call(reg, 'KSR.kx.get_ruri', ctx), 'sip:bob@example.com;transport=udp');
    assert.equal(call(reg, 'KSR.kx.get_ruser', ctx), 'bob');
    assert.equal(call(reg, 'KSR.kx.get_rhost', ctx), 'example.com');
    ctx.newRuri = 'sip:carol@192.0.2.99:5070';
    assert.equal(call(reg, 'KSR.kx.get_ruri', ctx), 'sip:carol@192.0.2.99:5070');
    assert.equal(call(reg, 'KSR.kx.get_ouri', ctx), 'sip:bob@example.com;transport=udp');
    assert.equal(call(reg, 'KSR.kx.get_ruser', ctx), 'carol');
    assert.equal(call(reg, 'KSR.kx.get_rhost', ctx), '192.0.2.99');
  });

  it('applies the get / gete / getw null conventions', () => {
    const ctx = ctxOf(invite([], { ruri: 'sip:example.com' }));
    assert.equal(call(reg, 'KSR.kx.get_ruser', ctx), null);
    assert.equal(call(reg, 'KSR.kx.gete_ruser', ctx), '');
    assert.equal(call(reg, 'KSR.kx.getw_ruser', ctx), '<null>');
    assert.equal(call(reg, 'KSR.kx.get_ua', ctx), null);
    assert.equal(call(reg, 'KSR.kx.gete_ua', ctx), '');
    assert.equal(call(reg, 'KSR.kx.get_body', ctx), null);
    assert.equal(call(reg, 'KSR.kx.gete_body', ctx), '');
    assert.equal(call(reg, 'KSR.kx.get_duri', ctx), null);
    assert.equal(call(reg, 'KSR.kx.getw_duri', ctx), '<null>');
  });

  it('reads From and To', () => {
    const ctx = ctxOf(invite());
    assert.equal(call(reg, 'KSR.kx.get_furi', ctx), 'sip:alice@example.org');
    assert.equal(call(reg, 'KSR.kx.get_fuser', ctx), 'alice');
    assert.equal(call(reg, 'KSR.kx.get_fhost', ctx), 'example.org');
    assert.equal(call(reg, 'KSR.kx.gete_fhost', ctx), 'example.org');
    assert.equal(call(reg, 'KSR.kx.get_turi', ctx), 'sip:bob@example.com');
    assert.equal(call(reg, 'KSR.kx.get_tuser', ctx), 'bob');
    assert.equal(call(reg, 'KSR.kx.get_thost', ctx), 'example.com');
  });

  it('reads a From URI of another scheme but no user/host from it', () => {
    const ctx = ctxOf(sip([
      'MESSAGE sip:bob@example.com SIP/2.0',
      'Via: SIP/2.0/UDP 198.51.100.7;branch=z9hG4bK-2',
      'From: <urn:uuid:f81d4fae-7dec-11d0-a765-00a0c91e6bf6>;tag=u',
      'To: <sip:bob@example.com>',
      'Call-ID: m1',
      'CSeq: 1 MESSAGE',
      'Content-Length: 0',
    ]));
    assert.equal(call(reg, 'KSR.kx.get_furi', ctx), 'urn:uuid:f81d4fae-7dec-11d0-a765-00a0c91e6bf6');
    assert.equal(call(reg, 'KSR.kx.get_fuser', ctx), null);
    assert.equal(call(reg, 'KSR.kx.gete_fhost', ctx), '');
  });

  it('reads the source, the receiving socket and the transport', () => {
    const ctx = ctxOf(invite());
    assert.equal(call(reg, 'KSR.kx.get_srcip', ctx), '198.51.100.7');
    assert.equal(call(reg, 'KSR.kx.get_srcport', ctx), 5062);
    assert.equal(call(reg, 'KSR.kx.get_srcuri', ctx), 'sip:198.51.100.7:5062');
    assert.equal(call(reg, 'KSR.kx.get_rcvip', ctx), '192.0.2.10');
    assert.equal(call(reg, 'KSR.kx.get_rcvport', ctx), 5060);
    assert.equal(call(reg, 'KSR.kx.get_proto', ctx), 'udp');
    assert.equal(call(reg, 'KSR.kx.get_protoid', ctx), 1);

    const tcp = ctxOf(invite(), { ...UDP_SRC, proto: 'tcp', ip: '2001:db8::7' });
    assert.equal(call(reg, 'KSR.kx.get_srcip', tcp), '2001:db8::7');
    assert.equal(call(reg, 'KSR.kx.get_srcuri', tcp), 'sip:[2001:db8::7]:5062;transport=tcp');
    assert.equal(call(reg, 'KSR.kx.get_proto', tcp), 'tcp');
    assert.equal(call(reg, 'KSR.kx.get_protoid', tcp), 2);

    const wss = ctxOf(invite(), { ...UDP_SRC, proto: 'wss' });
    assert.equal(call(reg, 'KSR.kx.get_proto', wss), 'wss');
    assert.equal(call(reg, 'KSR.kx.get_srcuri', wss), 'sip:198.51.100.7:5062;transport=ws');
    assert.equal(call(reg, 'KSR.kx.get_protoid', wss), 6);
  });

  it('reads method, Call-ID, User-Agent, body and lengths of a request', () => {
    const msg = invite(['User-Agent: softphone 1.2'], { body: 'v=0\r\n' });
    const ctx = ctxOf(msg);
    assert.equal(call(reg, 'KSR.kx.get_method', ctx), 'INVITE');
    assert.equal(call(reg, 'KSR.kx.get_callid', ctx), 'call-1@198.51.100.7');
    assert.equal(call(reg, 'KSR.kx.get_ua', ctx), 'softphone 1.2');
    assert.equal(call(reg, 'KSR.kx.get_body', ctx), 'v=0\r\n');
    assert.equal(call(reg, 'KSR.kx.get_bodylen', ctx), 5);
    assert.equal(call(reg, 'KSR.kx.get_msglen', ctx), msg.raw.length);
    assert.equal(call(reg, 'KSR.kx.get_msgbuf', ctx), msg.raw.toString('utf8'));
    assert.equal(call(reg, 'KSR.kx.get_msgtype', ctx), 1);
    assert.equal(call(reg, 'KSR.kx.get_status', ctx), -1);
    assert.equal(call(reg, 'KSR.kx.gets_status', ctx), null);
    assert.equal(call(reg, 'KSR.kx.get_cturi', ctx), 'sip:alice@198.51.100.7:5062');
  });

  it('reads status and CSeq method of a reply, and no R-URI', () => {
    const ctx = ctxOf(reply);
    assert.equal(call(reg, 'KSR.kx.get_status', ctx), 486);
    assert.equal(call(reg, 'KSR.kx.gets_status', ctx), '486');
    assert.equal(call(reg, 'KSR.kx.get_method', ctx), 'INVITE');
    assert.equal(call(reg, 'KSR.kx.get_msgtype', ctx), 2);
    assert.equal(call(reg, 'KSR.kx.get_ruri', ctx), null);
    assert.equal(call(reg, 'KSR.kx.get_ruser', ctx), null);
    assert.equal(call(reg, 'KSR.kx.gete_rhost', ctx), '');
    assert.equal(call(reg, 'KSR.kx.get_nhuri', ctx), null);
  });

  it('reads $du and the next hop', () => {
    const ctx = ctxOf(invite());
    assert.equal(call(reg, 'KSR.kx.get_nhuri', ctx), 'sip:bob@example.com');
    ctx.dstUri = 'sip:192.0.2.50:5080;transport=tcp';
    assert.equal(call(reg, 'KSR.kx.get_duri', ctx), 'sip:192.0.2.50:5080;transport=tcp');
    assert.equal(call(reg, 'KSR.kx.get_nhuri', ctx), 'sip:192.0.2.50:5080;transport=tcp');
  });

  it('reads the Digest username from Proxy-Authorization before Authorization', () => {
    const ctx = ctxOf(invite([
      'Authorization: Digest username="www-user", realm="example.org", nonce="n", uri="sip:bob@example.com", response="r"',
      'Proxy-Authorization: Digest username="alice@example.org", realm="example.org", nonce="n", uri="sip:bob@example.com", response="r"',
    ]));
    assert.equal(call(reg, 'KSR.kx.get_au', ctx), 'alice');
    const basic = ctxOf(invite(['Authorization: Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==']));
    assert.equal(call(reg, 'KSR.kx.get_au', basic), null);
    assert.equal(call(reg, 'KSR.kx.gete_au', basic), '');
  });

  it('returns its failure values without a SIP message', () => {
    const ctx = ctxOf(null);
    assert.equal(call(reg, 'KSR.kx.get_ruri', ctx), null);
    assert.equal(call(reg, 'KSR.kx.get_furi', ctx), null);
    assert.equal(call(reg, 'KSR.kx.get_method', ctx), null);
    assert.equal(call(reg, 'KSR.kx.get_callid', ctx), '');
    assert.equal(call(reg, 'KSR.kx.get_bodylen', ctx), 0);
    assert.equal(call(reg, 'KSR.kx.get_msglen', ctx), -1);
    assert.equal(call(reg, 'KSR.kx.get_msgtype', ctx), -1);
    assert.equal(call(reg, 'KSR.kx.get_srcip', ctx), '198.51.100.7');
  });

  it('gives the current time in seconds', () => {
    const before = Math.floor(Date.now() / 1000);
    const t = call(reg, 'KSR.kx.get_timestamp', ctxOf(null));
    assert.ok(typeof t === 'number' && t >= before && t <= before + 1);
  });
});
