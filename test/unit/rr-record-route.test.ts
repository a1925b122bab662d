/**
 * The Record-Route KSR.rr asks for, as the SIP layer writes it for a receiving and a sending
 * socket. The expected lines are what Kamailio 5.6 wrote for the same calls (its ports
 * replaced by ours), parameter order included.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { pino } from 'pino';
import rr from '../../bindings/rr.js';
import { Context } from '../../host/kemi/context.js';
import { NO_SCRIPT } from '../../host/kemi/offline-script.js';
import { KemiRegistry } from '../../host/kemi/registry.js';
import { recordRouteFor } from '../../host/sip/record-route.js';
import type { Source } from '../../host/sip/types.js';
import { call, invite, myself, sip } from '../helpers/binding-harness.js';

function registry(params: Record<string, unknown> = {}): KemiRegistry {
  return new KemiRegistry([rr], { log: pino({ level: 'silent' }), myself, script: NO_SCRIPT, params: { rr: params } });
}

const reg = registry();
const UDP_IN: Source = { proto: 'udp', ip: '198.51.100.7', port: 5062, localIp: '192.0.2.10', localPort: 5060 };
const TCP_IN: Source = { proto: 'tcp', ip: '198.51.100.7', port: 40000, localIp: '192.0.2.10', localPort: 5060 };
const UDP_OUT = { proto: 'udp', localIp: '192.0.2.10', localPort: 5060 };
const UDP_OUT_OTHER = { proto: 'udp', localIp: '192.0.2.11', localPort: 5070 };
const V6_OUT = { proto: 'udp', localIp: '2001:db8::1', localPort: 5070 };

/** Run calls on a fresh INVITE (From-tag a1) and write its Record-Route for `src` → `out`. */
function written(calls: readonly [string, ...unknown[]][], src: Source, out: { proto: string; localIp: string; localPort: number }, r = reg): { lines: string[]; rcs: unknown[] } {
  const ctx = new Context('sip', invite(), src);
  const rcs = calls.map(([name, ...args]) => call(r, `KSR.rr.${name}`, ctx, ...args));
  const text = recordRouteFor(ctx.hasHeaderEdits ? ctx.headerEdits : null, src, out);
  return { lines: text === '' ? [] : text.replace(/\r\n$/, '').split('\r\n'), rcs };
}

describe('KSR.rr Record-Route as written per send (Kamailio 5.6 as the oracle)', () => {
  it('record_route on the same socket: one header, port 5060 and UDP left out, ftag', () => {
    assert.deepEqual(written([['record_route']], UDP_IN, UDP_OUT).lines, ['Record-Route: <sip:192.0.2.10;lr;ftag=a1>']);
  });

  it('TCP in, UDP out: two headers, the sending socket on top, both r2=on', () => {
    assert.deepEqual(written([['record_route']], TCP_IN, UDP_OUT_OTHER).lines, [
      'Record-Route: <sip:192.0.2.11:5070;r2=on;lr;ftag=a1>',
      'Record-Route: <sip:192.0.2.10;transport=tcp;r2=on;lr;ftag=a1>',
    ]);
  });

  it('same transport, another address: two headers; IPv6 in brackets', () => {
    assert.deepEqual(written([['record_route']], UDP_IN, V6_OUT).lines, [
      'Record-Route: <sip:[2001:db8::1]:5070;r2=on;lr;ftag=a1>',
      'Record-Route: <sip:192.0.2.10;r2=on;lr;ftag=a1>',
    ]);
  });

  it('enable_double_rr 0: one header naming the receiving socket; 2: always two', () => {
    assert.deepEqual(written([['record_route']], TCP_IN, UDP_OUT_OTHER, registry({ enable_double_rr: 0 })).lines, ['Record-Route: <sip:192.0.2.10;transport=tcp;lr;ftag=a1>']);
    assert.deepEqual(written([['record_route']], UDP_IN, UDP_OUT, registry({ enable_double_rr: 2 })).lines, [
      'Record-Route: <sip:192.0.2.10;r2=on;lr;ftag=a1>',
      'Record-Route: <sip:192.0.2.10;r2=on;lr;ftag=a1>',
    ]);
  });

  it('add_rr_param before and after, record_route_params: lr, ftag, params, earlier, later', () => {
    const w = written([['add_rr_param', ';a=1'], ['record_route_params', ';p=2'], ['add_rr_param', ';c=3'], ['record_route']], UDP_IN, UDP_OUT);
    assert.deepEqual(w.lines, ['Record-Route: <sip:192.0.2.10;lr;ftag=a1;p=2;a=1;c=3>']);
    assert.deepEqual(w.rcs, [1, 1, 1, -1], 'a second record_route is refused');
    const d = written([['add_rr_param', ';a=1'], ['record_route_params', ';p=2'], ['add_rr_param', ';c=3']], TCP_IN, UDP_OUT_OTHER);
    assert.deepEqual(d.lines, [
      'Record-Route: <sip:192.0.2.11:5070;r2=on;lr;ftag=a1;p=2;a=1;c=3>',
      'Record-Route: <sip:192.0.2.10;transport=tcp;r2=on;lr;ftag=a1;p=2;a=1;c=3>',
    ]);
  });

  it('record_route_advertised_address: ftag before lr; transport and r2 when the transport changes', () => {
    const calls: [string, ...unknown[]][] = [['add_rr_param', ';a=1'], ['record_route_advertised_address', 'example.net:5070'], ['add_rr_param', ';c=3']];
    assert.deepEqual(written(calls, UDP_IN, UDP_OUT).lines, ['Record-Route: <sip:example.net:5070;ftag=a1;lr;a=1;c=3>']);
    assert.deepEqual(written(calls, TCP_IN, UDP_OUT_OTHER).lines, [
      'Record-Route: <sip:example.net:5070;transport=udp;r2=on;ftag=a1;lr;a=1;c=3>',
      'Record-Route: <sip:example.net:5070;transport=tcp;r2=on;ftag=a1;lr;a=1;c=3>',
    ]);
  });

  it('record_route_preset: params then lr; a later add_rr_param answers -1 with one header (double routing on), 1 with two', () => {
    const one = written([['add_rr_param', ';a=1'], ['record_route_preset_one', 'example.net:5070;x=y'], ['add_rr_param', ';c=3']], TCP_IN, UDP_OUT_OTHER);
    assert.deepEqual(one.lines, ['Record-Route: <sip:example.net:5070;x=y;ftag=a1;a=1;lr;c=3>']);
    assert.deepEqual(one.rcs, [1, 1, -1]);
    const two = written([['add_rr_param', ';a=1'], ['record_route_preset', 'one.example:5070', 'two.example;r2=on'], ['add_rr_param', ';c=3']], UDP_IN, UDP_OUT);
    assert.deepEqual(two.lines, ['Record-Route: <sip:one.example:5070;ftag=a1;a=1;lr;c=3>', 'Record-Route: <sip:two.example;r2=on;ftag=a1;a=1;lr;c=3>']);
    assert.deepEqual(two.rcs, [1, 1, 1]);
    assert.deepEqual(written([['record_route_preset', 'one.example:5070', '']], UDP_IN, UDP_OUT).lines, ['Record-Route: <sip:one.example:5070;ftag=a1;lr>']);
    assert.deepEqual(written([['record_route_preset', 'one', 'two']], UDP_IN, UDP_OUT, registry({ enable_double_rr: 0 })).rcs, [-1]);
  });

  it('record_route twice, a preset after it, remove_record_route: -1, -1, 1, and still -1 after (as Kamailio)', () => {
    const w = written([['record_route'], ['record_route'], ['record_route_preset_one', 'x.example'], ['remove_record_route'], ['record_route']], UDP_IN, UDP_OUT);
    assert.deepEqual(w.rcs, [1, -1, -1, 1, -1]);
    assert.deepEqual(w.lines, [], 'removed: nothing written');
  });

  it('enable_full_lr, append_fromtag 0, add_username, sips', () => {
    const r = registry({ enable_full_lr: 1, append_fromtag: 0, add_username: 1 });
    assert.deepEqual(written([['record_route']], UDP_IN, UDP_OUT, r).lines, ['Record-Route: <sip:bob@192.0.2.10;lr=on>']);
    const ctx = new Context('sip', invite([], { ruri: 'sips:bob@example.com' }), UDP_IN);
    call(reg, 'KSR.rr.record_route', ctx);
    assert.equal(recordRouteFor(ctx.headerEdits, UDP_IN, UDP_OUT), 'Record-Route: <sips:192.0.2.10;lr;ftag=a1>\r\n');
    const ignore = new Context('sip', invite([], { ruri: 'sips:bob@example.com' }), UDP_IN);
    call(registry({ ignore_sips: 1 }), 'KSR.rr.record_route', ignore);
    assert.equal(recordRouteFor(ignore.headerEdits, UDP_IN, UDP_OUT), 'Record-Route: <sip:192.0.2.10;lr;ftag=a1>\r\n');
  });

  it('an in-dialog request going upstream carries its To-tag as ftag (the dialog\'s From-tag)', () => {
    const notify = sip([
      'NOTIFY sip:alice@198.51.100.7:5062 SIP/2.0',
      'Via: SIP/2.0/UDP 198.51.100.8;branch=z9hG4bK-n',
      'Route: <sip:192.0.2.10;lr;ftag=a1>',
      'From: <sip:bob@example.com>;tag=b2',
      'To: <sip:alice@example.org>;tag=a1',
      'Call-ID: sub-1',
      'CSeq: 3 NOTIFY',
      'Content-Length: 0',
    ]);
    const ctx = new Context('sip', notify, UDP_IN);
    call(reg, 'KSR.rr.loose_route', ctx);
    call(reg, 'KSR.rr.record_route', ctx);
    assert.equal(recordRouteFor(ctx.headerEdits, UDP_IN, UDP_OUT), 'Record-Route: <sip:192.0.2.10;lr;ftag=a1>\r\n');
  });

  it('nothing for a reply or without a message; add_rr_param without one fails', () => {
    const ctx = new Context('event', null, UDP_IN);
    assert.equal(call(reg, 'KSR.rr.record_route', ctx), -1);
    assert.equal(call(reg, 'KSR.rr.add_rr_param', ctx, ';a=1'), -1);
    assert.equal(call(reg, 'KSR.rr.add_rr_param', new Context('sip', invite(), UDP_IN), ';x'.repeat(300)), -1, 'more than 512 bytes pending');
  });
});
