/**
 * auth_db + auth as Kamailio's example script uses them (kamailio-basic-kemi-lua.lua,
 * ksr_route_auth: auth_check of the From host against "subscriber" with flag 1, auth_challenge
 * with flags 0, consume_credentials), on one SQLite subscriber table both servers read: a sipp
 * REGISTER answering the challenge with -au/-ap, a wrong password, an unknown user, an INVITE
 * with Proxy-Authorization relayed without it, a user mismatch. The script also puts
 * auth_check's result in X-Rc, so the return codes are compared too. The INVITEs' From carries
 * the server's port: kemihost's is_myself takes a URI without a port as 5060, where Kamailio
 * 5.6's KEMI is_myself_furi matches any port (reported, not auth's to change).
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { openDatabase } from '../../host/db/database.js';
import { ensureSchema } from '../../host/db/ensure-schema.js';
import { SUBSCRIBER_TABLE } from '../../host/db/schema/subscriber.js';
import { answerLine, challengeOf } from '../helpers/digest-client.js';
import { SIPP_FIXTURES } from '../helpers/sipp.js';
import { isReply, isRequest, type Peer } from './harness/peer.js';
import { runSippTraced } from './harness/sipp-trace.js';
import { compatSuite, type FlowRun } from './harness/suite.js';
import { mask, STANDARD_MASKS, VIA_PARAM_ORDER, type View } from './harness/view.js';

const md5 = (s: string): string => createHash('md5').update(s).digest('hex');

async function subscribers(): Promise<string> {
  const file = join(mkdtempSync(join(tmpdir(), 'kh-compat-auth-')), 'kamailio.db');
  const db = await openDatabase(`sqlite://${file}`, pino({ level: 'silent' }));
  await ensureSchema(db, [SUBSCRIBER_TABLE]);
  for (const [u, pw] of [['alice', 'secret'], ['bob', 'bobpw']] as const) {
    await db.exec('INSERT INTO subscriber (username, domain, password, ha1, ha1b) VALUES (?, ?, ?, ?, ?)',
      [u, 'example.com', pw, md5(`${u}:example.com:${pw}`), md5(`${u}@example.com:example.com:${pw}`)]);
  }
  await db.close();
  // four slashes: Kamailio's db_sqlite reads the path after the third as relative to its working
  // directory (-w, a temporary one here); "//tmp/…" is the same file for kemihost
  return `sqlite:///${file}`;
}

const DB_URL = await subscribers();

const lua = (p: Readonly<Record<string, number>>): string => `
function ksr_request_route()
  ksr_route_auth()
  if KSR.is_REGISTER() then
    KSR.sl.sl_send_reply(200, "OK")
    KSR.x.exit()
  end
  KSR.pv.sets("$du", "sip:127.0.0.1:${String(p.uas)}")
  KSR.forward()
end

function ksr_route_auth()
  if KSR.is_REGISTER() or KSR.is_myself_furi() then
    local rc = KSR.auth_db.auth_check(KSR.kx.gete_fhost(), "subscriber", 1)
    if rc < 0 then
      KSR.hdr.append_to_reply("X-Rc: " .. rc .. "\\r\\n")
      KSR.auth.auth_challenge(KSR.kx.gete_fhost(), 0)
      KSR.x.exit()
    end
    if not KSR.is_method_in("RP") then
      KSR.auth.consume_credentials()
    end
  end
  if (not KSR.is_myself_furi()) and (not KSR.is_myself_ruri()) then
    KSR.sl.sl_send_reply(403, "Not relaying")
    KSR.x.exit()
  end
  return 1
end
`;

const js = (p: Readonly<Record<string, number>>): string => `
function ksr_request_route() {
  ksr_route_auth();
  if (KSR.is_REGISTER()) {
    KSR.sl.sl_send_reply(200, "OK");
    KSR.x.exit();
  }
  KSR.pv.sets("$du", "sip:127.0.0.1:${String(p.uas)}");
  KSR.forward();
}

function ksr_route_auth() {
  if (KSR.is_REGISTER() || KSR.is_myself_furi()) {
    var rc = KSR.auth_db.auth_check(KSR.kx.gete_fhost(), "subscriber", 1);
    if (rc < 0) {
      KSR.hdr.append_to_reply("X-Rc: " + rc + "\\r\\n");
      KSR.auth.auth_challenge(KSR.kx.gete_fhost(), 0);
      KSR.x.exit();
    }
    if (!KSR.is_method_in("RP")) KSR.auth.consume_credentials();
  }
  if (!KSR.is_myself_furi() && !KSR.is_myself_ruri()) {
    KSR.sl.sl_send_reply(403, "Not relaying");
    KSR.x.exit();
  }
  return 1;
}
`;

/** nonces differ by construction: their presence and the rest of the challenge are compared */
const NONCE = mask(/nonce="[^"]*"/g, 'nonce="<nonce>"');

const AT_UAC: View = { headers: ['www-authenticate', 'proxy-authenticate', 'x-rc', 'cseq'], masks: [...STANDARD_MASKS, NONCE] };
const AT_UAS: View = { headers: ['via', 'from', 'to', 'cseq', 'proxy-authorization', 'x-other'], masks: [...STANDARD_MASKS, VIA_PARAM_ORDER] };

/** a request, the challenge to it, and the request again answering it with these credentials */
async function withAnswer(uac: Peer, spec: Parameters<Peer['request']>[0], status: number, username: string, password: string, extra: string[] = []): Promise<void> {
  uac.request(spec);
  const ch = challengeOf(await uac.waitFor(isReply(status), String(status)));
  assert.ok(ch !== null, 'a challenge');
  uac.request({ ...spec, cseq: 2, headers: [...extra, answerLine(ch, { username, password, method: spec.method ?? 'OPTIONS', uri: spec.ruri ?? '' })] });
}

async function sippRegister(run: FlowRun<'uac' | 'uas'>, scenario: string, user: string, password: string): Promise<void> {
  const r = await runSippTraced([
    `127.0.0.1:${String(run.server.port)}`, '-sf', `${SIPP_FIXTURES}${scenario}`, '-i', '127.0.0.1', '-p', String(run.ports.sipp),
    '-m', '1', '-s', user, '-au', user, '-ap', password, '-cid_str', 'peer-sipp-%u@compat', '-timeout', '10', '-timeout_error',
  ]);
  assert.equal(r.code, 0, `sipp: ${r.output}`);
  run.keep('sipp', r.received);
}

compatSuite<'uac' | 'uas'>({
  title: 'auth_db: the example script\'s ksr_route_auth on a SQLite subscriber table',
  peers: ['uac', 'uas'],
  ports: ['sipp'],
  modules: { sl: {}, kx: {}, db_sqlite: {}, auth: {}, auth_db: { db_url: DB_URL, calculate_ha1: 1, password_column: 'password' } },
  script: (p) => ({ lua: lua(p), js: js(p) }),
  cases: [
    {
      name: 'sipp REGISTER with [authentication] (-au alice -ap secret): 401 (-5), then 200',
      flow: (run) => sippRegister(run, 'register-auth-uac.xml', 'alice', 'secret'),
      compare: { sipp: AT_UAC },
    },
    {
      name: 'sipp REGISTER with a wrong password: 401 (-5), then 401 (-2)',
      flow: (run) => sippRegister(run, 'register-auth-refused-uac.xml', 'alice', 'wrong'),
      compare: { sipp: AT_UAC },
    },
    {
      name: 'REGISTER of an unknown user: 401 (-5), then 401 (-3)',
      async flow({ peers: { uac } }) {
        const spec = { method: 'REGISTER', ruri: 'sip:127.0.0.1', fromUri: 'sip:dave@example.com', toUri: 'sip:dave@example.com' };
        await withAnswer(uac, spec, 401, 'dave', 'x');
        await uac.waitFor((m) => !m.isRequest && m.status === 401 && m.cseq.seq === 2, 'the second 401');
      },
      compare: { uac: AT_UAC },
    },
    {
      name: 'INVITE from a local user: 407 (-5), then relayed with its Proxy-Authorization consumed, another realm\'s kept',
      async flow({ server, peers: { uac, uas } }) {
        const other = 'Proxy-Authorization: Digest username="alice", realm="downstream.org", nonce="n1", uri="sip:bob@127.0.0.1", response="00000000000000000000000000000000"';
        const spec = { method: 'INVITE', ruri: 'sip:bob@127.0.0.1', fromUri: `sip:alice@127.0.0.1:${String(server.port)}`, headers: [`Contact: <sip:alice@127.0.0.1:${String(uac.port)}>`] };
        await withAnswer(uac, spec, 407, 'alice', 'secret', [other]);
        const inv = await uas.waitFor(isRequest('INVITE'), 'the authenticated INVITE');
        uas.reply(inv, 486, 'Busy Here');
        await uac.waitFor(isReply(486), '486');
      },
      compare: { uac: AT_UAC, uas: AT_UAS },
    },
    {
      name: 'INVITE with bob\'s credentials and alice\'s From (flag 1): 407 (-5), then 407 (-8)',
      async flow({ server, peers: { uac } }) {
        const spec = { method: 'INVITE', ruri: 'sip:carol@127.0.0.1', fromUri: `sip:alice@127.0.0.1:${String(server.port)}` };
        await withAnswer(uac, spec, 407, 'bob', 'bobpw');
        await uac.waitFor((m) => !m.isRequest && m.status === 407 && m.cseq.seq === 2, 'the second 407');
      },
      compare: { uac: AT_UAC },
    },
  ],
});
