/**
 * KSR.uac.uac_auth on both engines: a real UDP next hop challenges the first INVITE (401 or
 * 407) and checks the digest of the second with its own MD5 computation (node:crypto, not
 * kemihost's code); the UAC gets the final answer. One table of cases, each run per engine.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import dgram from 'node:dgram';
import { once } from 'node:events';
import { describe, test } from 'node:test';
import { parseSipMessage, type SipMessage } from '../../host/sip/message.js';
import { answerTo } from '../helpers/next-hop.js';
import { ENGINES, startServer } from '../helpers/runtime.js';
import { UdpPeer } from '../helpers/sip-client.js';

const md5 = (s: string): string => createHash('md5').update(s).digest('hex');

interface Case {
  name: string;
  code: 401 | 407;
  qop: boolean;
  /** modules.uac */
  uac: Record<string, unknown>;
  /** failure-route lines before uac_auth (Lua, JS) */
  pre: [string, string];
  /** the call: "uac_auth()" or "uac_auth_mode(1)" */
  call: string;
  /** what the UAC gets */
  status: number;
  reason?: string;
  /** the password the next hop expects for alice@trunk.example */
  password: string;
}

const cases: Case[] = [
  {
    name: 'a 401 with qop=auth answered from the credential list: the next hop accepts the retry, the UAC gets 200',
    code: 401, qop: true, uac: { credential: ['bob:other.example:x', 'alice:trunk.example:s3cret'] }, pre: ['', ''], call: 'uac_auth()', status: 200, password: 's3cret',
  },
  {
    name: 'a 407 without qop answered from the auth_*_avp PVs: Proxy-Authorization',
    code: 407, qop: false,
    uac: { auth_username_avp: '$avp(au)', auth_password_avp: '$avp(ap)', auth_realm_avp: '$avp(ar)' },
    pre: ['KSR.pv.sets("$avp(au)", "alice")\nKSR.pv.sets("$avp(ap)", "pw2")\nKSR.pv.sets("$avp(ar)", "")', 'KSR.pv.sets("$avp(au)", "alice");\nKSR.pv.sets("$avp(ap)", "pw2");\nKSR.pv.sets("$avp(ar)", "");'],
    call: 'uac_auth()', status: 200, password: 'pw2',
  },
  {
    name: 'uac_auth_mode(1): the password PV holds the HA1',
    code: 401, qop: true,
    uac: { auth_username_avp: '$avp(au)', auth_password_avp: '$avp(ap)' },
    pre: [`KSR.pv.sets("$avp(au)", "alice")\nKSR.pv.sets("$avp(ap)", "${md5('alice:trunk.example:ha1pw')}")`, `KSR.pv.sets("$avp(au)", "alice");\nKSR.pv.sets("$avp(ap)", "${md5('alice:trunk.example:ha1pw')}");`],
    call: 'uac_auth_mode(1)', status: 200, password: 'ha1pw',
  },
  {
    name: 'no credential for the realm: -1, nothing is re-sent',
    code: 401, qop: true, uac: { credential: 'alice:elsewhere.example:x' }, pre: ['', ''], call: 'uac_auth()', status: 403, reason: 'rc -1', password: 'x',
  },
];

const script = (engine: 'lua' | 'js', port: number, c: Case): string => (engine === 'lua'
  ? `function ksr_request_route()
  KSR.tm.t_on_failure("AUTH")
  KSR.pv.sets("$ru", "sip:bob@127.0.0.1:${String(port)}")
  KSR.tm.t_relay()
end
function AUTH()
  if KSR.tm.t_check_status("401|407") < 0 then return end
  ${c.pre[0]}
  local rc = KSR.uac.${c.call}
  if rc > 0 then KSR.tm.t_relay() else KSR.tm.t_reply(403, "rc " .. rc) end
end`
  : `function ksr_request_route() {
  KSR.tm.t_on_failure("AUTH");
  KSR.pv.sets("$ru", "sip:bob@127.0.0.1:${String(port)}");
  KSR.tm.t_relay();
}
function AUTH() {
  if (KSR.tm.t_check_status("401|407") < 0) return;
  ${c.pre[1]}
  const rc = KSR.uac.${c.call};
  if (rc > 0) KSR.tm.t_relay(); else KSR.tm.t_reply(403, "rc " + rc);
}`);

/** Digest parameters of an Authorization value. */
function params(v: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const m of v.replace(/^Digest\s+/i, '').matchAll(/([a-z]+)=(?:"([^"]*)"|([^,\s]+))/gi)) out.set((m[1] ?? '').toLowerCase(), m[2] ?? m[3] ?? '');
  return out;
}

/** A trunk: challenges a request without credentials, checks the digest of one with them. */
async function trunk(c: Case): Promise<{ port: number; invites: SipMessage[]; close: () => void }> {
  const invites: SipMessage[] = [];
  const sock = dgram.createSocket('udp4');
  const nonce = 'n0nce-1234';
  sock.on('message', (d, ri) => {
    const m = parseSipMessage(d);
    if (!m.isRequest || m.method !== 'INVITE') return;
    invites.push(m);
    const send = (text: string): void => { sock.send(text, ri.port, ri.address); };
    const auth = m.getHeader(c.code === 401 ? 'authorization' : 'proxy-authorization');
    if (auth === undefined) {
      const ch = `${c.code === 401 ? 'WWW' : 'Proxy'}-Authenticate: Digest realm="trunk.example", nonce="${nonce}"${c.qop ? ', qop="auth"' : ''}, opaque="op1"`;
      send(answerTo(m, c.code, 'Unauthorized').replace('Content-Length: 0', `${ch}\r\nContent-Length: 0`));
      return;
    }
    const p = params(auth);
    const ha1 = md5(`alice:trunk.example:${c.password}`);
    const ha2 = md5(`INVITE:${p.get('uri') ?? ''}`);
    const want = c.qop ? md5(`${ha1}:${nonce}:${p.get('nc') ?? ''}:${p.get('cnonce') ?? ''}:auth:${ha2}`) : md5(`${ha1}:${nonce}:${ha2}`);
    const ok = p.get('response') === want && p.get('username') === 'alice' && p.get('uri') === m.ruri && p.get('opaque') === 'op1';
    send(answerTo(m, ok ? 200 : 403, ok ? 'OK' : 'Bad Digest'));
  });
  sock.bind(0, '127.0.0.1');
  await once(sock, 'listening');
  return { port: sock.address().port, invites, close: () => { sock.close(); } };
}

for (const engine of ENGINES) {
  describe(`KSR.uac.uac_auth [${engine}]`, () => {
    for (const c of cases) {
      test(c.name, async () => {
        const t = await trunk(c);
        const server = await startServer(engine, script(engine, t.port, c), { config: { modules: { uac: c.uac } } });
        const peer = await UdpPeer.open();
        try {
          peer.request({ method: 'INVITE', cseq: 5 }, server.udpPort);
          let r = await peer.next(3000);
          while (r !== null && r.status < 200) r = await peer.next(3000);
          assert.equal(r?.status, c.status, r?.reason);
          if (c.reason !== undefined) assert.equal(r.reason, c.reason);
          const expected = c.status === 200 ? 2 : 1;
          assert.equal(t.invites.length, expected, 'INVITEs at the trunk');
          const [first, second] = t.invites;
          if (second !== undefined && first !== undefined) {
            assert.equal(second.ruri, first.ruri);
            assert.equal(second.cseq.seq, 5, 'the CSeq is kept (Kamailio without the dialog module)');
            assert.notEqual(second.topVia.branch, first.topVia.branch, 'a new branch');
            assert.equal(second.getHeader(c.code === 401 ? 'proxy-authorization' : 'authorization'), undefined);
          }
        } finally {
          peer.close();
          await server.close();
          t.close();
        }
      });
    }
  });
}
