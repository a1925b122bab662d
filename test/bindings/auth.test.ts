/**
 * KSR.auth on a real server, both engines: the UAC computes the digest itself
 * (test/helpers/digest-client.ts) from the challenge the server sent, and every return code of
 * pv_auth_check comes back in an X-Rc header. Nonce lifetime and replay: auth-nonce.test.ts.
 */
import assert from 'node:assert/strict';
import type { SipMessage } from '../../host/sip/message.js';
import { answerLine, challengeOf, type Answer, type Challenge } from '../helpers/digest-client.js';
import { runFlowCases, type FlowCase, type FlowEnv } from '../helpers/flow-cases.js';
import type { RequestSpec } from '../helpers/sip-client.js';

export const REALM = 'example.com';

/** pv_auth_check with these flags and checks; a failure challenges (flag 17 after -4: stale=true). */
export function pvCheck(flags: number, checks: number, challengeFlags = 1): Pick<FlowCase, 'lua' | 'js'> {
  return {
    lua: `local rc = KSR.auth.pv_auth_check("${REALM}", "secret", ${String(flags)}, ${String(checks)})
      KSR.hdr.append_to_reply("X-Rc: " .. rc .. "\\r\\n")
      if rc < 0 then
        local f = ${String(challengeFlags)}
        if rc == -4 then f = f + 16 end
        KSR.auth.auth_challenge("${REALM}", f)
        KSR.x.exit()
      end
      KSR.sl.sl_send_reply(200, "OK")`,
    js: `var rc = KSR.auth.pv_auth_check("${REALM}", "secret", ${String(flags)}, ${String(checks)});
      KSR.hdr.append_to_reply("X-Rc: " + rc + "\\r\\n");
      if (rc < 0) {
        KSR.auth.auth_challenge("${REALM}", rc == -4 ? ${String(challengeFlags)} + 16 : ${String(challengeFlags)});
        KSR.x.exit();
      }
      KSR.sl.sl_send_reply(200, "OK");`,
  };
}

/** alice registering herself */
export function register(extra: Partial<RequestSpec> = {}): RequestSpec {
  return { method: 'REGISTER', ruri: 'sip:example.com', fromUri: 'sip:alice@example.com', toUri: 'sip:alice@example.com', callId: 'reg-1@test', ...extra };
}

/** alice calling bob */
export function invite(extra: Partial<RequestSpec> = {}): RequestSpec {
  return { method: 'INVITE', ruri: 'sip:bob@example.com', fromUri: 'sip:alice@example.com', callId: 'inv-1@test', ...extra };
}

/** Send, expect a challenge (401 or 407), return it. */
export async function challenged(t: FlowEnv, spec: RequestSpec, status = spec.method === 'REGISTER' ? 401 : 407): Promise<Challenge> {
  const r = await t.send(spec);
  assert.equal(r.status, status, `challenge (${r.reason})`);
  const ch = challengeOf(r);
  assert.ok(ch !== null, 'the reply carries a Digest challenge');
  return ch;
}

/** The same request again (next CSeq) with the answer to `ch`; alice/secret unless told. */
export function answered(t: FlowEnv, spec: RequestSpec, ch: Challenge, a: Partial<Answer> = {}, extraHeaders: string[] = []): Promise<SipMessage> {
  const full: Answer = { username: 'alice', password: 'secret', method: spec.method ?? 'OPTIONS', uri: spec.ruri ?? '', ...a };
  return t.send({ ...spec, cseq: (spec.cseq ?? 1) + 1, headers: [...(spec.headers ?? []), ...extraHeaders, answerLine(ch, full)] });
}

export function rc(r: SipMessage): string {
  return r.getHeader('x-rc') ?? '(none)';
}

/** Challenge, answer, and expect this code (and 200 for 1). */
async function codeFor(t: FlowEnv, spec: RequestSpec, a: Partial<Answer>, want: string): Promise<SipMessage> {
  const ch = await challenged(t, spec);
  const r = await answered(t, spec, ch, a);
  assert.equal(rc(r), want);
  if (want === '1') assert.equal(r.status, 200);
  return r;
}

const cases: FlowCase[] = [
  {
    name: 'REGISTER without credentials: -5, and 401 Unauthorized with WWW-Authenticate (realm, nonce, qop="auth")',
    ...pvCheck(0, 0),
    async flow(t) {
      const r = await t.send(register());
      assert.equal(r.status, 401);
      assert.equal(r.reason, 'Unauthorized');
      assert.equal(rc(r), '-5');
      assert.match(r.getHeader('www-authenticate') ?? '', /^Digest realm="example\.com", nonce="[A-Za-z0-9_-]{35}", qop="auth"$/);
      assert.equal(r.getHeader('proxy-authenticate'), undefined);
    },
  },
  {
    name: 'INVITE without credentials: 407 Proxy Authentication Required with Proxy-Authenticate',
    ...pvCheck(0, 0),
    async flow(t) {
      const r = await t.send(invite());
      assert.equal(r.status, 407);
      assert.equal(r.reason, 'Proxy Authentication Required');
      assert.equal(rc(r), '-5');
      assert.match(r.getHeader('proxy-authenticate') ?? '', /^Digest realm="example\.com", nonce="[^"]+", qop="auth"$/);
    },
  },
  {
    name: 'the right password, qop=auth with nc and cnonce: 1 (REGISTER and INVITE)',
    ...pvCheck(0, 0),
    async flow(t) {
      await codeFor(t, register(), {}, '1');
      await codeFor(t, invite(), {}, '1');
    },
  },
  {
    name: 'the right password without qop (RFC 2069 response): 1',
    ...pvCheck(0, 0, 0),
    async flow(t) {
      const ch = await challenged(t, register());
      assert.deepEqual(ch.qop, [], 'flags 0: no qop');
      assert.equal(rc(await answered(t, register(), ch, { qop: null })), '1');
    },
  },
  {
    name: 'a wrong password: -2',
    ...pvCheck(0, 0),
    flow: (t) => codeFor(t, register(), { password: 'guess' }, '-2').then(() => undefined),
  },
  {
    name: 'credentials for another realm only: -5',
    ...pvCheck(0, 0),
    flow: (t) => codeFor(t, register(), { realm: 'other.org' }, '-5').then(() => undefined),
  },
  {
    name: 'a nonce with one character changed (forged): -1',
    ...pvCheck(0, 0),
    async flow(t) {
      const ch = await challenged(t, register());
      const n = ch.nonce;
      const forged = { ...ch, nonce: `${n.slice(0, 10)}${n.charAt(10) === 'A' ? 'B' : 'A'}${n.slice(11)}` };
      assert.equal(rc(await answered(t, register(), forged)), '-1');
      assert.equal(rc(await answered(t, register(), { ...ch, nonce: 'bm90IGEgbm9uY2Ugb2YgdGhlaXJz' })), '-1', 'a nonce not made by kemihost');
    },
  },
  {
    name: 'malformed or incomplete credentials: -1 (unclosed quote, no response, qop without cnonce, wrong response length)',
    ...pvCheck(0, 0),
    async flow(t) {
      const ch = await challenged(t, register());
      const base = `username="alice", realm="${REALM}", nonce="${ch.nonce}", uri="sip:example.com"`;
      for (const value of [`Digest username="alice", realm="${REALM}", nonce="${ch.nonce}`, `Digest ${base}`, `Digest ${base}, response="${'0'.repeat(32)}", qop=auth, nc=00000001`, `Digest ${base}, response="abc"`]) {
        const r = await t.send({ ...register(), cseq: 5, headers: [`Authorization: ${value}`] });
        assert.equal(rc(r), '-1', value);
      }
    },
  },
  {
    name: 'Basic credentials are not Digest ones: -5',
    ...pvCheck(0, 0),
    async flow(t) {
      const r = await t.send({ ...register(), headers: [`Authorization: Basic ${Buffer.from('alice:secret').toString('base64')}`] });
      assert.equal(rc(r), '-5');
    },
  },
  {
    name: 'flags 1: the password given is the HA1',
    lua: `local rc = KSR.auth.pv_auth_check("${REALM}", KSR.hdr.get("X-Ha1"), 1, 0)
      KSR.hdr.append_to_reply("X-Rc: " .. rc .. "\\r\\n")
      if rc < 0 then KSR.auth.auth_challenge("${REALM}", 1) KSR.x.exit() end
      KSR.sl.sl_send_reply(200, "OK")`,
    js: `var rc = KSR.auth.pv_auth_check("${REALM}", KSR.hdr.get("X-Ha1"), 1, 0);
      KSR.hdr.append_to_reply("X-Rc: " + rc + "\\r\\n");
      if (rc < 0) { KSR.auth.auth_challenge("${REALM}", 1); KSR.x.exit(); }
      KSR.sl.sl_send_reply(200, "OK");`,
    async flow(t) {
      const ha1 = 'c8a4f3e9e1cb67a6b8e4a1f3d0a6e9b1';
      const spec = register({ headers: [`X-Ha1: ${ha1}`] });
      const ch = await challenged(t, spec);
      assert.equal(rc(await answered(t, spec, ch, { ha1 })), '1');
      assert.equal(rc(await answered(t, spec, ch, { password: 'secret' })), '-2', 'the clear password does not do');
    },
  },
  {
    name: 'checks 1, REGISTER: the auth user must be the To user and From must be To, else -8',
    ...pvCheck(0, 1),
    async flow(t) {
      await codeFor(t, register(), {}, '1');
      await codeFor(t, register({ fromUri: 'sip:bob@example.com' }), {}, '-8');
      await codeFor(t, register(), { username: 'bob' }, '-8');
    },
  },
  {
    name: 'checks 1, INVITE: the auth user must be the From user, else -8; checks 0 does not look',
    ...pvCheck(0, 1),
    async flow(t) {
      await codeFor(t, invite(), {}, '1');
      await codeFor(t, invite({ fromUri: 'sip:mallory@example.com' }), {}, '-8');
    },
  },
  {
    name: 'checks 0: another user\'s From is not checked',
    ...pvCheck(0, 0),
    flow: (t) => codeFor(t, invite({ fromUri: 'sip:mallory@example.com' }), {}, '1').then(() => undefined),
  },
  {
    name: 'flags 4: the failure puts a challenge (qop=auth) in $avp(digest_challenge), which the script sends',
    lua: `local rc = KSR.auth.pv_auth_check("${REALM}", "secret", 4, 0)
      if rc < 0 then
        KSR.hdr.append_to_reply(KSR.pv.get("$avp(digest_challenge)"))
        KSR.sl.sl_send_reply(401, "Try Again")
        KSR.x.exit()
      end
      KSR.sl.sl_send_reply(200, "OK")`,
    js: `var rc = KSR.auth.pv_auth_check("${REALM}", "secret", 4, 0);
      if (rc < 0) {
        KSR.hdr.append_to_reply(KSR.pv.get("$avp(digest_challenge)"));
        KSR.sl.sl_send_reply(401, "Try Again");
        KSR.x.exit();
      }
      KSR.sl.sl_send_reply(200, "OK");`,
    async flow(t) {
      const ch = await challenged(t, register());
      assert.deepEqual(ch.qop, ['auth']);
      assert.equal((await answered(t, register(), ch)).status, 200);
    },
  },
  {
    name: 'PRACK (and ACK, CANCEL) are never challenged: 1 without credentials',
    ...pvCheck(0, 1),
    async flow(t) {
      const r = await t.send({ method: 'PRACK', ruri: 'sip:bob@example.com', toTag: 'x1', headers: ['RAck: 1 1 INVITE'] });
      assert.equal(rc(r), '1');
      assert.equal(r.status, 200);
    },
  },
  {
    name: 'algorithm SHA-256: the challenge names it and a SHA-256 response is accepted, an MD5 one is not',
    ...pvCheck(0, 0),
    config: { modules: { auth: { algorithm: 'SHA-256' } } },
    async flow(t) {
      const ch = await challenged(t, register());
      assert.equal(ch.algorithm, 'SHA-256');
      assert.equal(rc(await answered(t, register(), ch)), '1');
      assert.equal(rc(await answered(t, register(), { ...ch, algorithm: null })), '-1', 'an MD5 response is too short for SHA-256');
    },
  },
  {
    name: 'qop=auth-int (flags 2): the body is part of the digest',
    ...pvCheck(0, 0, 2),
    async flow(t) {
      const spec = invite({ body: 'v=0\r\n', headers: ['Content-Type: application/sdp'] });
      const ch = await challenged(t, spec);
      assert.deepEqual(ch.qop, ['auth-int']);
      assert.equal(rc(await answered(t, spec, ch, { qop: 'auth-int', body: 'v=0\r\n' })), '1');
      assert.equal(rc(await answered(t, spec, ch, { qop: 'auth-int', body: 'v=1\r\n' })), '-2', 'another body');
    },
  },
];

runFlowCases('KSR.auth challenges and pv_auth_check', cases);
