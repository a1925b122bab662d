/**
 * The rest of KSR.auth, both engines: consume_credentials (what the next hop receives),
 * has_credentials, the credentials PVs, the challenge functions and their failure codes,
 * pv_www/pv_proxy_authenticate, auth_get_www_authenticate, auth_algorithm, realm_prefix and
 * Authentication-Info.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { answerLine, authorize, challengeOf } from '../helpers/digest-client.js';
import { runFlowCases, type FlowCase } from '../helpers/flow-cases.js';
import { answered, challenged, invite, pvCheck, rc, REALM, register } from './auth.test.js';

const md5 = (s: string): string => createHash('md5').update(s).digest('hex');

/** check, consume (when X-Consume is there), then forward statelessly to X-Dest */
const relay: Pick<FlowCase, 'lua' | 'js'> = {
  lua: `local rc = KSR.auth.pv_auth_check("${REALM}", "secret", 0, 0)
    if rc < 0 then KSR.auth.auth_challenge("${REALM}", 1) KSR.x.exit() end
    if KSR.hdr.is_present("X-Consume") > 0 then KSR.auth.consume_credentials() end
    KSR.pv.sets("$du", KSR.hdr.get("X-Dest"))
    KSR.forward()`,
  js: `var rc = KSR.auth.pv_auth_check("${REALM}", "secret", 0, 0);
    if (rc < 0) { KSR.auth.auth_challenge("${REALM}", 1); KSR.x.exit(); }
    if (KSR.hdr.is_present("X-Consume") > 0) KSR.auth.consume_credentials();
    KSR.pv.sets("$du", KSR.hdr.get("X-Dest"));
    KSR.forward();`,
};

/** the script's results in X-R: "a,b,c" */
function results(lua: string, js: string): Pick<FlowCase, 'lua' | 'js'> {
  return {
    lua: `local r = {${lua}}
      local out = {}
      for i, v in ipairs(r) do out[i] = (string.gsub(tostring(v), "[\\r\\n]", "")) end
      KSR.hdr.append_to_reply("X-R: " .. table.concat(out, ",") .. "\\r\\n")
      KSR.sl.sl_send_reply(200, "OK")`,
    js: `var r = [${js}];
      KSR.hdr.append_to_reply("X-R: " + r.map(function (v) { return String(v).replace(/[\\r\\n]/g, ""); }).join(",") + "\\r\\n");
      KSR.sl.sl_send_reply(200, "OK");`,
  };
}

const cases: FlowCase[] = [
  {
    name: 'consume_credentials: the next hop gets the request without the credentials used, other realms\' kept',
    ...relay,
    uas: 1,
    async flow(t) {
      const uas = t.uas[0]!;
      const other = `Proxy-Authorization: Digest username="alice", realm="downstream.org", nonce="n1", uri="sip:bob@example.com", response="${'1'.repeat(32)}"`;
      for (const consume of [true, false]) {
        const spec = invite({ headers: [`X-Dest: sip:127.0.0.1:${String(uas.port)}`, ...(consume ? ['X-Consume: 1'] : [])], callId: `consume-${String(consume)}@test` });
        const ch = await challenged(t, spec);
        const answer = answerLine(ch, { username: 'alice', password: 'secret', method: 'INVITE', uri: spec.ruri ?? '' });
        t.uac.request({ ...spec, cseq: 2, headers: [...(spec.headers ?? []), other, answer] }, t.server.udpPort);
        const got = await uas.next(3000);
        assert.ok(got !== null, 'the INVITE reached the next hop');
        const creds = got.getHeaders('proxy-authorization');
        if (consume) assert.deepEqual(creds, [other.slice('Proxy-Authorization: '.length)], 'only the other realm\'s credentials are left');
        else assert.equal(creds.length, 2, 'without consume_credentials both are relayed');
      }
    },
  },
  {
    name: 'consume_credentials without a check before it: -1',
    ...results('KSR.auth.consume_credentials()', 'KSR.auth.consume_credentials()'),
    async flow(t) {
      assert.equal((await t.send(invite({ headers: ['Proxy-Authorization: Digest username="a", realm="example.com"'] }))).getHeader('x-r'), '-1');
    },
  },
  {
    name: 'has_credentials: 1 for Authorization or Proxy-Authorization with the realm, -1 otherwise',
    ...results('KSR.auth.has_credentials("example.com"), KSR.auth.has_credentials("EXAMPLE.com"), KSR.auth.has_credentials("other.org")',
      'KSR.auth.has_credentials("example.com"), KSR.auth.has_credentials("EXAMPLE.com"), KSR.auth.has_credentials("other.org")'),
    async flow(t) {
      for (const h of ['Authorization', 'Proxy-Authorization']) {
        const r = await t.send(invite({ headers: [`${h}: Digest username="alice", realm="example.com", nonce="x", uri="sip:a", response="y"`] }));
        assert.equal(r.getHeader('x-r'), '1,1,-1', h);
      }
      assert.equal((await t.send(invite())).getHeader('x-r'), '-1,-1,-1');
    },
  },
  {
    name: 'the credentials PVs: $au $ad $aU $ar $adu $aa $adn $adc $ado ($null without credentials)',
    ...results(
      ['$au', '$ad', '$aU', '$ar', '$adu', '$aa', '$adn', '$adc', '$ado'].map((n) => `KSR.pv.getvs("${n}", "(null)")`).join(', '),
      ['$au', '$ad', '$aU', '$ar', '$adu', '$aa', '$adn', '$adc', '$ado'].map((n) => `KSR.pv.getvs("${n}", "(null)")`).join(', '),
    ),
    async flow(t) {
      const value = 'Digest username="alice@example.org", realm="example.com", nonce="N1", uri="sip:bob@example.com", response="R", algorithm=MD5, cnonce="C1", opaque="O1", qop=auth, nc=00000001';
      const r = await t.send(invite({ headers: [`Proxy-Authorization: ${value}`] }));
      assert.equal(r.getHeader('x-r'), 'alice,example.org,alice@example.org,example.com,sip:bob@example.com,MD5,N1,C1,O1');
      assert.equal((await t.send(invite())).getHeader('x-r'), Array(9).fill('(null)').join(','));
    },
  },
  {
    name: 'www_challenge sends 401, proxy_challenge 407, whatever the method; flags 16 add stale=true',
    lua: `if KSR.hdr.get("X-Kind") == "www" then KSR.auth.www_challenge("${REALM}", 17) else KSR.auth.proxy_challenge("${REALM}", 0) end`,
    js: `if (KSR.hdr.get("X-Kind") == "www") KSR.auth.www_challenge("${REALM}", 17); else KSR.auth.proxy_challenge("${REALM}", 0);`,
    async flow(t) {
      const w = await t.send(invite({ headers: ['X-Kind: www'] }));
      assert.equal(w.status, 401);
      assert.match(w.getHeader('www-authenticate') ?? '', /^Digest realm="example\.com", nonce="[^"]+", qop="auth", stale=true$/);
      const p = await t.send(register({ headers: ['X-Kind: proxy'] }));
      assert.equal(p.status, 407);
      assert.match(p.getHeader('proxy-authenticate') ?? '', /^Digest realm="example\.com", nonce="[^"]+"$/);
    },
  },
  {
    name: 'a realm that cannot go in a header: -2 and 500; with flags 4: -2 and no reply from auth',
    lua: `local rc = KSR.auth.auth_challenge(KSR.hdr.get("X-Realm"), tonumber(KSR.hdr.get("X-Flags")))
      KSR.hdr.append_to_reply("X-Rc: " .. rc .. "\\r\\n")
      if rc == -2 and KSR.hdr.get("X-Flags") == "4" then KSR.sl.sl_send_reply(403, "Script") end`,
    js: `var rc = KSR.auth.auth_challenge(KSR.hdr.get("X-Realm"), Number(KSR.hdr.get("X-Flags")));
      KSR.hdr.append_to_reply("X-Rc: " + rc + "\\r\\n");
      if (rc == -2 && KSR.hdr.get("X-Flags") == "4") KSR.sl.sl_send_reply(403, "Script");`,
    async flow(t) {
      const a = await t.send(invite({ headers: ['X-Realm: a"b', 'X-Flags: 0'] }));
      assert.equal(a.status, 500);
      const b = await t.send(invite({ headers: ['X-Realm: a"b', 'X-Flags: 4'] }));
      assert.equal(b.status, 403);
      assert.equal(rc(b), '-2');
    },
  },
  {
    name: 'pv_www_authenticate checks Authorization, pv_proxy_authenticate Proxy-Authorization, pv_www_authenticate_method its method',
    lua: `local w = KSR.auth.pv_www_authenticate("${REALM}", "secret", 0)
      local p = KSR.auth.pv_proxy_authenticate("${REALM}", "secret", 0)
      local m = KSR.auth.pv_www_authenticate_method("${REALM}", "secret", 0, "REGISTER")
      KSR.hdr.append_to_reply("X-R: " .. w .. "," .. p .. "," .. m .. "\\r\\n")
      if w < 0 then KSR.auth.www_challenge("${REALM}", 1) else KSR.sl.sl_send_reply(200, "OK") end`,
    js: `var w = KSR.auth.pv_www_authenticate("${REALM}", "secret", 0);
      var p = KSR.auth.pv_proxy_authenticate("${REALM}", "secret", 0);
      var m = KSR.auth.pv_www_authenticate_method("${REALM}", "secret", 0, "REGISTER");
      KSR.hdr.append_to_reply("X-R: " + w + "," + p + "," + m + "\\r\\n");
      if (w < 0) KSR.auth.www_challenge("${REALM}", 1); else KSR.sl.sl_send_reply(200, "OK");`,
    async flow(t) {
      const spec = invite();
      const ch = await challenged(t, spec, 401);
      const r = await answered(t, spec, ch);
      assert.equal(r.getHeader('x-r'), '1,-5,-2', 'the INVITE digest does not match method REGISTER');
    },
  },
  {
    name: 'auth_get_www_authenticate puts the whole header line in a PV; auth_algorithm switches to SHA-256',
    ...results('KSR.auth.auth_get_www_authenticate("example.com", 1, "$var(h)"), KSR.pv.get("$var(h)"), KSR.auth.auth_algorithm("SHA-256"), KSR.auth.auth_algorithm("SHA-512"), KSR.auth.auth_get_www_authenticate("example.com", 0, "$var(h)"), KSR.pv.get("$var(h)")',
      'KSR.auth.auth_get_www_authenticate("example.com", 1, "$var(h)"), KSR.pv.get("$var(h)"), KSR.auth.auth_algorithm("SHA-256"), KSR.auth.auth_algorithm("SHA-512"), KSR.auth.auth_get_www_authenticate("example.com", 0, "$var(h)"), KSR.pv.get("$var(h)")'),
    async flow(t) {
      const r = await t.send(invite());
      const parts = (r.getHeader('x-r') ?? '').split(',');
      assert.equal(parts[0], '1');
      assert.match(parts.slice(1, 4).join(','), /^WWW-Authenticate: Digest realm="example\.com", nonce="[^"]+", qop="auth"$/);
      assert.deepEqual(parts.slice(4, 7), ['1', '-1', '1']);
      assert.match(parts.slice(7).join(','), /^WWW-Authenticate: Digest realm="example\.com", nonce="[^"]+", algorithm=SHA-256$/);
    },
  },
  {
    name: 'realm_prefix: a check and a challenge for sip.example.com use example.com',
    lua: `local rc = KSR.auth.pv_auth_check("sip.${REALM}", "secret", 0, 0)
      KSR.hdr.append_to_reply("X-Rc: " .. rc .. "\\r\\n")
      if rc < 0 then KSR.auth.auth_challenge("sip.${REALM}", 1) KSR.x.exit() end
      KSR.sl.sl_send_reply(200, "OK")`,
    js: `var rc = KSR.auth.pv_auth_check("sip.${REALM}", "secret", 0, 0);
      KSR.hdr.append_to_reply("X-Rc: " + rc + "\\r\\n");
      if (rc < 0) { KSR.auth.auth_challenge("sip.${REALM}", 1); KSR.x.exit(); }
      KSR.sl.sl_send_reply(200, "OK");`,
    config: { modules: { auth: { realm_prefix: 'sip.' } } },
    async flow(t) {
      const ch = await challenged(t, register());
      assert.equal(ch.realm, REALM);
      assert.equal(rc(await answered(t, register(), ch)), '1');
    },
  },
  {
    name: 'add_authinfo_hdr: the 200 carries Authentication-Info with the rspauth the UAC can check',
    ...pvCheck(0, 0),
    config: { modules: { auth: { add_authinfo_hdr: 1 } } },
    async flow(t) {
      const spec = register();
      const ch = await challenged(t, spec);
      const r = await t.send({ ...spec, cseq: 2, headers: [`Authorization: ${authorize(ch, { username: 'alice', password: 'secret', method: 'REGISTER', uri: 'sip:example.com', cnonce: 'c0ffee', nc: 1 })}`] });
      assert.equal(r.status, 200);
      const ha1 = md5(`alice:${REALM}:secret`);
      const rspauth = md5(`${ha1}:${ch.nonce}:00000001:c0ffee:auth:${md5(':sip:example.com')}`);
      assert.equal(r.getHeader('authentication-info'), `nextnonce="${ch.nonce}", qop=auth, rspauth="${rspauth}", cnonce="c0ffee", nc=00000001`);
      assert.equal(challengeOf(r), null);
    },
  },
];

runFlowCases('KSR.auth functions', cases);
