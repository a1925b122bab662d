/** The dialog store (bounds, lookups, profiles) and the BYE it builds for each side. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { pino } from 'pino';
import { ErrorBoundary } from '../../host/boundary.js';
import { byeSpec } from '../../host/dialog/bye.js';
import { DLG_DELETED, type Dialog } from '../../host/dialog/dialog.js';
import { DialogStore, type NewDialog } from '../../host/dialog/store.js';
import { Stats } from '../../host/kemi/stats.js';
import { until } from '../helpers/until.js';

function store(max = 10, onExpire: (d: Dialog) => void = () => undefined): DialogStore {
  const s = new DialogStore(max, 4096, new ErrorBoundary(pino({ level: 'silent' }), new Stats()), onExpire);
  s.declareProfile('caller', true);
  s.declareProfile('calls', false);
  return s;
}

function spec(callId: string, tag = 'ft'): NewDialog {
  return {
    callId, fromUri: 'sip:alice@example.com', toUri: 'sip:bob@example.com', reqUri: 'sip:bob@example.com',
    caller: { tag, contact: 'sip:alice@127.0.0.1:5070', routeSet: ['sip:10.0.0.1;lr'], cseq: 7, socket: 'udp:127.0.0.1:5060' }, timeout: 60,
  };
}

test('max: the store refuses a dialog past its bound, and takes one again after a removal', () => {
  const s = store(2);
  const a = s.create(spec('a'));
  assert.ok(a !== null && s.create(spec('b')) !== null);
  assert.equal(s.create(spec('c')), null);
  s.remove(a);
  assert.equal(a.state, DLG_DELETED);
  assert.ok(s.create(spec('c')) !== null);
  assert.equal(s.size, 2);
});

test('lookups: by the did cookie (hex h_entry.h_id), by Call-ID and tags either way; malformed cookies find nothing', () => {
  const s = store();
  const d = s.create(spec('x@h')) as Dialog;
  d.callee.tag = 'tt';
  assert.equal(s.byDid(d.did), d);
  assert.equal(s.byDid(`${d.did}z`), null);
  assert.equal(s.byDid('1.2.3'), null);
  assert.equal(s.find('x@h', 'ft', 'tt'), d);
  assert.equal(s.find('x@h', 'tt', 'ft'), d, 'a request from the callee');
  assert.equal(s.find('x@h', 'ft', 'other'), null);
  assert.equal(s.find('y@h', 'ft', 'tt'), null);
});

test('profiles: sizes with and without a value, removal of one value or all, removal with the dialog', () => {
  const s = store();
  const a = s.create(spec('a')) as Dialog;
  const b = s.create(spec('b')) as Dialog;
  s.addToProfile(a, 'caller', 'alice');
  s.addToProfile(a, 'caller', 'alice');
  s.addToProfile(b, 'caller', 'bob');
  s.addToProfile(a, 'calls', 'ignored');
  s.addToProfile(b, 'calls', '');
  assert.equal(s.profileSize('caller', 'alice'), 1);
  assert.equal(s.profileSize('caller', ''), 2);
  assert.equal(s.profileSize('calls', 'anything'), 2, 'a profile without values counts them all');
  assert.equal(s.isInProfile(a, 'calls', ''), true);
  assert.equal(s.removeFromProfile(a, 'caller', 'bob'), false);
  assert.equal(s.removeFromProfile(a, 'caller', ''), true);
  assert.equal(s.profileSize('caller', ''), 1);
  s.remove(b);
  assert.equal(s.profileSize('caller', ''), 0);
  assert.equal(s.profileSize('calls', ''), 1);
  assert.equal(s.profileTakesValue('nosuch'), undefined);
});

test('the BYE to each side: R-URI, Route, tags, CSeq; a host name is refused', () => {
  const s = store();
  const d = s.create(spec('c')) as Dialog;
  d.callee.tag = 'tt';
  d.callee.contact = 'sip:bob@127.0.0.2:5080;transport=tcp';
  const toCaller = byeSpec(d, 'caller', 'X-Why: timeout\r\n');
  assert.ok(typeof toCaller !== 'string');
  assert.equal(toCaller.ruri, 'sip:alice@127.0.0.1:5070');
  assert.deepEqual([toCaller.proto, toCaller.ip, toCaller.port], ['udp', '10.0.0.1', 5060], 'to the first Route');
  assert.deepEqual(toCaller.headers, [
    'Max-Forwards: 70\r\n', 'Route: <sip:10.0.0.1;lr>\r\n', 'From: <sip:bob@example.com>;tag=tt\r\n', 'To: <sip:alice@example.com>;tag=ft\r\n',
    'Call-ID: c\r\n', 'CSeq: 1 BYE\r\n', 'X-Why: timeout\r\n',
  ]);
  const toCallee = byeSpec(d, 'callee', '');
  assert.ok(typeof toCallee !== 'string');
  assert.deepEqual([toCallee.proto, toCallee.ip, toCallee.port], ['tcp', '127.0.0.2', 5080]);
  assert.ok(toCallee.headers.includes('CSeq: 8 BYE\r\n'));
  d.callee.contact = 'sip:bob@host.example';
  assert.match(byeSpec(d, 'callee', '') as string, /not an IP address/);
});

test('a dialog timer calls back once, through the boundary', async () => {
  let fired: Dialog | null = null;
  const s = store(10, (d) => { fired = d; });
  const d = s.create(spec('t')) as Dialog;
  s.arm(d, 0.05);
  await until(() => fired !== null, 2000, 'the dialog timer');
  assert.equal(fired, d);
  s.close();
});

test('a lifetime past what one Node timer holds (2^31-1 ms) does not fire early', async () => {
  let fired = false;
  const s = store(10, () => { fired = true; });
  const d = s.create(spec('long')) as Dialog;
  s.arm(d, 30 * 86400);
  // the absence of an event: a plain timer would have fired (at once, with a warning) by now
  await new Promise((r) => setTimeout(r, 30));
  assert.equal(fired, false);
  assert.ok(d.expiresAt > Date.now() + 29 * 86400 * 1000);
  s.close();
});
