/**
 * Nonces on a real server, both engines: expiry (-4, then a challenge with stale=true),
 * nonce_count (a reused nc is refused), one_time_nonce (-6), the auth_checks_* bindings to
 * Call-ID, From tag, R-URI and source address, and a fixed secret shared by two servers.
 */
import assert from 'node:assert/strict';
import { startServer, routeScript } from '../helpers/runtime.js';
import { UdpPeer } from '../helpers/sip-client.js';
import { until } from '../helpers/until.js';
import { answerLine, challengeOf } from '../helpers/digest-client.js';
import { runFlowCases, type FlowCase } from '../helpers/flow-cases.js';
import { answered, challenged, invite, pvCheck, rc, register } from './auth.test.js';

const auth = (p: Record<string, unknown>): Record<string, unknown> => ({ modules: { auth: p } });

const cases: FlowCase[] = [
  {
    name: 'an expired nonce: -4, and the challenge the script then sends (flags 16) says stale=true',
    ...pvCheck(0, 0),
    config: auth({ nonce_expire: 1 }),
    async flow(t) {
      const issued = Math.floor(Date.now() / 1000);
      const ch = await challenged(t, register());
      assert.equal(rc(await answered(t, register(), ch)), '1', 'valid while fresh');
      // valid until issued+1 inclusive: stale from the second after
      await until(() => Math.floor(Date.now() / 1000) >= issued + 2, 3000, 'the nonce to expire');
      const r = await answered(t, register(), ch);
      assert.equal(rc(r), '-4');
      assert.equal(r.status, 401);
      const again = challengeOf(r);
      assert.equal(again?.stale, true);
      assert.notEqual(again.nonce, ch.nonce, 'a new nonce');
      assert.equal(rc(await answered(t, register(), again)), '1', 'the new nonce works');
    },
  },
  {
    name: 'nonce_count: an nc not above the last one accepted is refused as stale (-4); a higher one is accepted',
    ...pvCheck(0, 0),
    config: auth({ qop: 'auth', nonce_count: 1 }),
    async flow(t) {
      const ch = await challenged(t, register());
      assert.equal(rc(await answered(t, register(), ch, { nc: 1 })), '1');
      assert.equal(rc(await answered(t, register(), ch, { nc: 1 })), '-4', 'the same nc again (a replay)');
      assert.equal(rc(await answered(t, register(), ch, { nc: 2 })), '1', 'the next nc');
      assert.equal(rc(await answered(t, register(), ch, { nc: 2 })), '-4');
      assert.equal(rc(await answered(t, register(), ch, { nc: 1 })), '-4', 'a lower nc');
      assert.equal(rc(await answered(t, register(), ch, { nc: 256 })), '-4', 'nc is kept in a byte: 256 is too big');
    },
  },
  {
    name: 'nonce_count: a nonce whose slot was taken by newer nonces (nc_array_size) is stale',
    ...pvCheck(0, 0),
    config: auth({ qop: 'auth', nonce_count: 1, nc_array_size: 2 }),
    async flow(t) {
      const first = await challenged(t, register());
      await challenged(t, register());
      await challenged(t, register());
      assert.equal(rc(await answered(t, register(), first)), '-4', 'two newer nonces took its slot');
    },
  },
  {
    name: 'one_time_nonce: a nonce is accepted once, a second use is -6 (nonce reused)',
    ...pvCheck(0, 0),
    config: auth({ one_time_nonce: 1 }),
    async flow(t) {
      const ch = await challenged(t, register());
      assert.equal(rc(await answered(t, register(), ch)), '1');
      assert.equal(rc(await answered(t, register(), ch, { nc: 2 })), '-6');
      assert.equal(rc(await answered(t, register(), ch, { password: 'guess' })), '-6', 'refused before the password is looked at');
    },
  },
  {
    name: 'auth_checks_register 2: the nonce is bound to the Call-ID (another Call-ID: -4)',
    ...pvCheck(0, 0),
    config: auth({ auth_checks_register: 2 }),
    async flow(t) {
      const ch = await challenged(t, register({ callId: 'call-a@test' }));
      assert.match(ch.nonce, /^[A-Za-z0-9_-]{51}$/, 'a bound nonce carries the second tag');
      assert.equal(rc(await answered(t, register({ callId: 'call-a@test' }), ch)), '1');
      assert.equal(rc(await answered(t, register({ callId: 'call-b@test' }), ch)), '-4');
    },
  },
  {
    name: 'auth_checks_no_dlg 5: bound to the R-URI and the From tag; auth_checks_in_dlg (To tag) is another setting',
    ...pvCheck(0, 0),
    config: auth({ auth_checks_no_dlg: 5 }),
    async flow(t) {
      const spec = invite({ fromTag: 'ft1' });
      const ch = await challenged(t, spec);
      assert.equal(rc(await answered(t, spec, ch)), '1');
      assert.equal(rc(await answered(t, { ...spec, fromTag: 'ft2' }, ch)), '-4', 'another From tag');
      assert.equal(rc(await answered(t, { ...spec, ruri: 'sip:carol@example.com' }, ch, { uri: 'sip:carol@example.com' })), '-4', 'another R-URI');
      // in a dialog (To tag) auth_checks_in_dlg (0) applies: nothing is compared, the bound nonce is fine
      assert.equal(rc(await answered(t, { ...spec, toTag: 'tt1', fromTag: 'ft2' }, ch)), '1', 'in a dialog the From tag is not checked');
    },
  },
  {
    name: 'auth_checks_no_dlg 8: bound to the source address (127.0.0.2 cannot use 127.0.0.1\'s nonce)',
    ...pvCheck(0, 0),
    config: auth({ auth_checks_no_dlg: 8 }),
    async flow(t) {
      const ch = await challenged(t, invite());
      const other = await UdpPeer.open('127.0.0.2');
      try {
        other.request({ ...invite(), cseq: 2, headers: [answerLine(ch, { username: 'alice', password: 'secret', method: 'INVITE', uri: 'sip:bob@example.com' })] }, t.server.udpPort);
        const r = await other.next(3000);
        assert.equal(r === null ? null : rc(r), '-4');
      } finally {
        other.close();
      }
      assert.equal(rc(await answered(t, invite(), ch)), '1', 'the address it was made for');
    },
  },
  {
    name: 'a fixed secret: a second server accepts the first one\'s nonces; with a random secret it does not (-1)',
    ...pvCheck(0, 0),
    config: auth({ secret: 'a-shared-secret-of-some-length-42' }),
    async flow(t) {
      const ch = await challenged(t, register());
      for (const [secret, want] of [['a-shared-secret-of-some-length-42', '1'], [null, '-1']] as const) {
        const other = await startServer('lua', routeScript('lua', pvCheck(0, 0).lua), { config: secret === null ? {} : auth({ secret }) });
        try {
          t.uac.request({ ...register(), cseq: 3, headers: [answerLine(ch, { username: 'alice', password: 'secret', method: 'REGISTER', uri: 'sip:example.com' })] }, other.udpPort);
          const r = await t.uac.next(3000);
          // a nonce made in an earlier second than the second server's start is stale with a random secret (Kamailio's rule)
          const got = r === null ? null : rc(r);
          if (want === '1') assert.equal(got, '1');
          else assert.ok(got === '-1' || got === '-4', `a random secret refuses it (got ${String(got)})`);
        } finally {
          await other.close();
        }
      }
    },
  },
];

runFlowCases('KSR.auth nonces', cases);
