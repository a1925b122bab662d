/**
 * auth with the password from the script (pv_auth_check), the credentials PVs and
 * has_credentials, then nonce_count and one_time_nonce: the same flows under Kamailio 5.6 and
 * kemihost, the UAC computing each answer from the challenge that server sent. Return codes
 * come back in X-Rc, so they are compared with Kamailio's, and so is the challenge's form
 * (nonces masked: each server makes its own).
 */
import assert from 'node:assert/strict';
import { answerLine, challengeOf, type Answer } from '../helpers/digest-client.js';
import type { RequestSpec } from '../helpers/sip-client.js';
import { isReply, type Peer } from './harness/peer.js';
import { compatSuite } from './harness/suite.js';
import { mask, STANDARD_MASKS, type View } from './harness/view.js';

const lua = `
function ksr_request_route()
  local u = KSR.pv.get("$rU")
  if u == "pvs" then
    local names = {"$au", "$ad", "$aU", "$ar", "$adu", "$aa", "$adn", "$adc", "$ado"}
    local out = {}
    for i, n in ipairs(names) do out[i] = KSR.pv.getvs(n, "(null)") end
    KSR.hdr.append_to_reply("X-R: " .. table.concat(out, ",") .. "\\r\\n")
    KSR.sl.sl_send_reply(200, "OK")
    KSR.x.exit()
  end
  if u == "has" then
    KSR.hdr.append_to_reply("X-R: " .. KSR.auth.has_credentials("example.com") .. "," .. KSR.auth.has_credentials("other.org") .. "\\r\\n")
    KSR.sl.sl_send_reply(200, "OK")
    KSR.x.exit()
  end
  local flags = 0
  if u == "avp" then flags = 4 end
  local rc = KSR.auth.pv_auth_check("example.com", "secret", flags, 1)
  KSR.hdr.append_to_reply("X-Rc: " .. rc .. "\\r\\n")
  if rc < 0 then
    if u == "avp" then
      KSR.hdr.append_to_reply(KSR.pv.get("$avp(digest_challenge)"))
      KSR.sl.sl_send_reply(401, "Unauthorized")
    elseif rc == -4 then
      KSR.auth.auth_challenge("example.com", 17)
    elseif u == "int" then
      KSR.auth.auth_challenge("example.com", 2)
    else
      KSR.auth.auth_challenge("example.com", 1)
    end
    KSR.x.exit()
  end
  KSR.sl.sl_send_reply(200, "OK")
end
`;

const js = `
function ksr_request_route() {
  var u = KSR.pv.get("$rU");
  if (u == "pvs") {
    var names = ["$au", "$ad", "$aU", "$ar", "$adu", "$aa", "$adn", "$adc", "$ado"];
    var out = [];
    for (var i = 0; i < names.length; i++) out.push(KSR.pv.getvs(names[i], "(null)"));
    KSR.hdr.append_to_reply("X-R: " + out.join(",") + "\\r\\n");
    KSR.sl.sl_send_reply(200, "OK");
    KSR.x.exit();
  }
  if (u == "has") {
    KSR.hdr.append_to_reply("X-R: " + KSR.auth.has_credentials("example.com") + "," + KSR.auth.has_credentials("other.org") + "\\r\\n");
    KSR.sl.sl_send_reply(200, "OK");
    KSR.x.exit();
  }
  var flags = u == "avp" ? 4 : 0;
  var rc = KSR.auth.pv_auth_check("example.com", "secret", flags, 1);
  KSR.hdr.append_to_reply("X-Rc: " + rc + "\\r\\n");
  if (rc < 0) {
    if (u == "avp") {
      KSR.hdr.append_to_reply(KSR.pv.get("$avp(digest_challenge)"));
      KSR.sl.sl_send_reply(401, "Unauthorized");
    } else {
      KSR.auth.auth_challenge("example.com", rc == -4 ? 17 : u == "int" ? 2 : 1);
    }
    KSR.x.exit();
  }
  KSR.sl.sl_send_reply(200, "OK");
}
`;

const NONCE = mask(/nonce="[^"]*"/g, 'nonce="<nonce>"');
const AT_UAC: View = { headers: ['www-authenticate', 'proxy-authenticate', 'x-rc', 'x-r', 'cseq'], masks: [...STANDARD_MASKS, NONCE] };

function register(user = 'alice', extra: Partial<RequestSpec> = {}): RequestSpec {
  return { method: 'REGISTER', ruri: `sip:${user}@example.com`, fromUri: 'sip:alice@example.com', toUri: 'sip:alice@example.com', ...extra };
}

/** Send `spec`, wait for its challenge, then send answers (CSeq 2, 3…) each waited for. */
async function answers(uac: Peer, spec: RequestSpec, list: readonly Partial<Answer>[], edit: (nonce: string) => string = (n) => n): Promise<void> {
  uac.request(spec);
  const ch = challengeOf(await uac.waitFor(isReply(401), '401'));
  assert.ok(ch !== null, 'a challenge');
  let cseq = 1;
  for (const a of list) {
    cseq++;
    const line = answerLine({ ...ch, nonce: edit(ch.nonce) }, { username: 'alice', password: 'secret', method: 'REGISTER', uri: spec.ruri ?? '', cnonce: 'peer-cnonce', ...a });
    uac.request({ ...spec, cseq, headers: [...(spec.headers ?? []), line] });
    const n = cseq;
    await uac.waitFor((m) => !m.isRequest && m.cseq.seq === n, `the reply to CSeq ${String(n)}`);
  }
}

compatSuite<'uac'>({
  title: 'auth: pv_auth_check, the credentials PVs, has_credentials',
  peers: ['uac'],
  modules: { sl: {}, auth: {} },
  script: () => ({ lua, js }),
  cases: [
    {
      name: 'REGISTER: no credentials (-5, qop="auth" challenge), the right password (1), a wrong one (-2), another realm (-5)',
      flow: ({ peers: { uac } }) => answers(uac, register(), [{}, { password: 'wrong' }, { realm: 'other.org' }]),
      compare: { uac: AT_UAC },
    },
    {
      name: 'checks 1: From is not To (-8), the auth user is not the To user (-8)',
      async flow({ peers: { uac } }) {
        await answers(uac, register('alice', { fromUri: 'sip:bob@example.com' }), [{}]);
        await answers(uac, register('alice', { callId: 'peer-second@compat' }), [{ username: 'bob' }]);
      },
      compare: { uac: AT_UAC },
    },
    {
      name: 'a nonce with a character of its hash changed: -1',
      flow: ({ peers: { uac } }) => answers(uac, register(), [{}], (n) => `${n.slice(0, 20)}${n.charAt(20) === 'A' ? 'B' : 'A'}${n.slice(21)}`),
      compare: { uac: AT_UAC },
    },
    {
      name: 'flags 4: the challenge in $avp(digest_challenge), sent by the script',
      flow: ({ peers: { uac } }) => answers(uac, register('avp'), [{ password: 'wrong' }]),
      compare: { uac: AT_UAC },
    },
    {
      name: 'qop=auth-int (challenge flags 2): the body\'s hash is part of the digest',
      flow: ({ peers: { uac } }) => answers(uac, register('int', { body: 'hello', headers: ['Content-Type: text/plain'] }), [{ qop: 'auth-int', body: 'hello' }]),
      compare: { uac: AT_UAC },
      differs: {
        doc: 'auth: qop=auth-int',
        expect: (kamailio) => {
          const [challenge, refused] = kamailio.uac ?? [];
          assert.deepEqual(refused?.filter((l) => l.startsWith('x-rc')), ['x-rc: -2'], 'Kamailio still refuses a right auth-int answer');
          return { uac: [challenge ?? [], ['200 OK', 'x-rc: 1', 'cseq: 2 REGISTER']] };
        },
      },
    },
    {
      name: 'the credentials PVs from Proxy-Authorization, and $null without credentials',
      async flow({ peers: { uac } }) {
        uac.request({ method: 'OPTIONS', ruri: 'sip:pvs@example.com', headers: ['Proxy-Authorization: Digest username="alice@example.org", realm="example.com", nonce="N1", uri="sip:pvs@example.com", response="R", algorithm=MD5, cnonce="C1", opaque="O1", qop=auth, nc=00000001'] });
        await uac.waitFor(isReply(200), '200');
        uac.request({ method: 'OPTIONS', ruri: 'sip:pvs@example.com', cseq: 2 });
        await uac.waitFor((m) => !m.isRequest && m.cseq.seq === 2, 'the second 200');
      },
      compare: { uac: AT_UAC },
    },
    {
      name: 'has_credentials with Authorization for the realm',
      async flow({ peers: { uac } }) {
        uac.request({ method: 'OPTIONS', ruri: 'sip:has@example.com', headers: ['Authorization: Digest username="alice", realm="example.com", nonce="x", uri="sip:a", response="y"'] });
        await uac.waitFor(isReply(200), '200');
      },
      compare: { uac: AT_UAC },
    },
  ],
});

compatSuite<'uac'>({
  title: 'auth: algorithm SHA-256',
  peers: ['uac'],
  modules: { sl: {}, auth: { algorithm: 'SHA-256' } },
  script: () => ({ lua, js }),
  cases: [
    {
      name: 'the challenge names SHA-256; a SHA-256 answer (1), a wrong password (-2)',
      flow: ({ peers: { uac } }) => answers(uac, register(), [{}, { password: 'wrong' }]),
      compare: { uac: AT_UAC },
    },
  ],
});

compatSuite<'uac'>({
  title: 'auth: nonce_count and one_time_nonce',
  peers: ['uac'],
  modules: { sl: {}, auth: { qop: 'auth', nonce_count: 1, one_time_nonce: 1 } },
  script: () => ({ lua, js }),
  cases: [
    {
      name: 'nonce_count: nc 1 (1), nc 1 again (-4, challenge with stale=true), nc 2 (1)',
      flow: ({ peers: { uac } }) => answers(uac, register(), [{ nc: 1 }, { nc: 1 }, { nc: 2 }]),
      compare: { uac: AT_UAC },
    },
    {
      name: 'one_time_nonce for a response without nc: accepted once (1), then -6',
      flow: ({ peers: { uac } }) => answers(uac, register(), [{ qop: null }, { qop: null }]),
      compare: { uac: AT_UAC },
    },
  ],
});
