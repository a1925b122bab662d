/**
 * Stateful relaying (tm, siputils.has_totag, pv $du/$rU/$rs/$T_reply_code): a whole call from a
 * sipp UAC through the server to a sipp UAS with t_on_reply; a 486 into the failure route,
 * which relays to a second UAS; a CANCEL of a ringing INVITE. The script routes by R-URI user.
 */
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { parseNameAddr } from '../../host/sip/name-addr.js';
import { isReply, isRequest } from './harness/peer.js';
import { runSippTraced, startSippTraced } from './harness/sipp-trace.js';
import { compatSuite } from './harness/suite.js';
import { STANDARD_MASKS, VIA_PARAM_ORDER, type View } from './harness/view.js';

const SCENARIOS = fileURLToPath(new URL('scenarios/', import.meta.url));

const lua = (p: Readonly<Record<string, number>>): string => `
function ksr_request_route()
  if KSR.is_CANCEL() then
    if KSR.tm.t_check_trans() > 0 then KSR.tm.t_relay() end
    KSR.x.exit()
  end
  if KSR.siputils.has_totag() > 0 then
    -- in-dialog (ACK of a 2xx, BYE): to the R-URI, the callee's Contact
    if KSR.tm.t_relay() < 0 then KSR.sl.sl_reply_error() end
    KSR.x.exit()
  end
  KSR.hdr.append("X-Relayed-By: compat\\r\\n")
  KSR.tm.t_on_reply("ON_REPLY")
  KSR.tm.t_on_failure("ON_FAILURE")
  if KSR.pv.get("$rU") == "sipp" then
    KSR.pv.sets("$du", "sip:127.0.0.1:${String(p.sippUas)}")
  else
    KSR.pv.sets("$du", "sip:127.0.0.1:${String(p.uas1)}")
  end
  if KSR.tm.t_relay() < 0 then KSR.sl.sl_reply_error() end
end

function ON_REPLY()
  KSR.hdr.append("X-Reply-Route: " .. KSR.pv.get("$rs") .. "\\r\\n")
end

function ON_FAILURE()
  if KSR.tm.t_is_canceled() > 0 then return end
  if KSR.pv.get("$T_reply_code") == 486 then
    KSR.tm.t_on_reply("ON_REPLY")
    KSR.pv.sets("$du", "sip:127.0.0.1:${String(p.uas2)}")
    KSR.tm.t_relay()
  end
end
`;

const js = (p: Readonly<Record<string, number>>): string => `
function ksr_request_route() {
  if (KSR.is_CANCEL()) {
    if (KSR.tm.t_check_trans() > 0) KSR.tm.t_relay();
    KSR.x.exit();
  }
  if (KSR.siputils.has_totag() > 0) {
    if (KSR.tm.t_relay() < 0) KSR.sl.sl_reply_error();
    KSR.x.exit();
  }
  KSR.hdr.append("X-Relayed-By: compat\\r\\n");
  KSR.tm.t_on_reply("ON_REPLY");
  KSR.tm.t_on_failure("ON_FAILURE");
  if (KSR.pv.get("$rU") == "sipp") {
    KSR.pv.sets("$du", "sip:127.0.0.1:${String(p.sippUas)}");
  } else {
    KSR.pv.sets("$du", "sip:127.0.0.1:${String(p.uas1)}");
  }
  if (KSR.tm.t_relay() < 0) KSR.sl.sl_reply_error();
}

function ON_REPLY() {
  KSR.hdr.append("X-Reply-Route: " + KSR.pv.get("$rs") + "\\r\\n");
}

function ON_FAILURE() {
  if (KSR.tm.t_is_canceled() > 0) return;
  if (KSR.pv.get("$T_reply_code") == 486) {
    KSR.tm.t_on_reply("ON_REPLY");
    KSR.pv.sets("$du", "sip:127.0.0.1:${String(p.uas2)}");
    KSR.tm.t_relay();
  }
}
`;

/**
 * A request a UAS received: where it was sent, every Via (the server's branch and port masked,
 * parameters in sorted order: where received= goes differs), what the script added, the body.
 */
const AT_UAS: View = {
  headers: ['via', 'max-forwards', 'from', 'to', 'call-id', 'cseq', 'contact', 'subject', 'content-type', 'content-length', 'x-relayed-by'],
  body: true,
  masks: [...STANDARD_MASKS, VIA_PARAM_ORDER],
};

/** A reply the caller received: the server's Via is gone, t_on_reply's header is there. */
const AT_UAC: View = {
  headers: ['via', 'from', 'to', 'call-id', 'cseq', 'contact', 'content-type', 'content-length', 'x-reply-route'],
  body: true,
  masks: [...STANDARD_MASKS, VIA_PARAM_ORDER],
};

/** Reason phrases of the replies tm makes itself (docs/compatibility.md, tm). */
const TRYING: readonly [string, string] = ['100 trying -- your call is important to us', '100 Trying'];
const CANCELING: readonly [string, string] = ['200 canceling', '200 OK'];

const sdp = 'v=0\r\no=peer 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 6000 RTP/AVP 0\r\n';

compatSuite({
  title: 'tm: stateful relay, reply and failure routes, CANCEL',
  peers: ['uac', 'uas1', 'uas2'],
  ports: ['sippUac', 'sippUas'],
  modules: { tm: {}, tmx: {}, sl: {}, siputils: {} },
  script: (p) => ({ lua: lua(p), js: js(p) }),
  cases: [
    {
      name: 'sipp call: INVITE → 180 → 200 → ACK → BYE → 200, t_on_reply on the INVITE\'s replies',
      async flow({ server, ports, keep }) {
        const uas = await startSippTraced([
          '-sf', `${SCENARIOS}invite-uas.xml`, '-i', '127.0.0.1', '-p', String(ports.sippUas), '-m', '1', '-timeout', '15', '-timeout_error',
        ], ports.sippUas!);
        try {
          const uac = await runSippTraced([
            `127.0.0.1:${String(server.port)}`, '-sf', `${SCENARIOS}invite-uac.xml`, '-i', '127.0.0.1', '-p', String(ports.sippUac),
            '-m', '1', '-cid_str', 'peer-sipp-%u@compat', '-timeout', '15', '-timeout_error',
          ]);
          assert.equal(uac.code, 0, `sipp UAC: ${uac.output}`);
          const callee = await uas.done;
          assert.equal(callee.code, 0, `sipp UAS: ${callee.output}`);
          keep('sippUac', uac.received);
          keep('sippUas', callee.received);
        } finally {
          uas.stop();
        }
      },
      compare: { sippUac: AT_UAC, sippUas: AT_UAS },
      differs: { doc: 'tm: automatic 100 reason phrase', replace: [TRYING] },
    },
    {
      name: '486 from the first UAS: ACKed hop by hop, the failure route relays to the second UAS, which answers',
      async flow({ peers: { uac, uas1, uas2 } }) {
        uac.request({ method: 'INVITE', ruri: 'sip:busy@127.0.0.1', body: sdp, headers: [`Contact: <sip:uac@127.0.0.1:${String(uac.port)}>`, 'Content-Type: application/sdp'] });
        const first = await uas1.waitFor(isRequest('INVITE'), 'INVITE');
        uas1.reply(first, 486, 'Busy Here');
        await uas1.waitFor(isRequest('ACK'), 'the ACK of the 486');
        const second = await uas2.waitFor(isRequest('INVITE'), 'INVITE on the second branch');
        uas2.reply(second, 180, 'Ringing');
        uas2.reply(second, 200, 'OK');
        const ok = await uac.waitFor(isReply(200, 'INVITE'), '200');
        const contact = parseNameAddr(ok.getHeader('contact') ?? '');
        assert.ok(contact !== null, 'the 200 has a Contact');
        uac.request({ method: 'ACK', ruri: contact.uri, toTag: ok.to.tag });
        await uas2.waitFor(isRequest('ACK'), 'the ACK of the 200');
      },
      compare: { uac: AT_UAC, uas1: AT_UAS, uas2: AT_UAS },
      differs: { doc: 'tm: automatic 100 reason phrase', replace: [TRYING] },
    },
    {
      name: 'CANCEL of a ringing INVITE: 200 to the CANCEL, CANCEL to the UAS, its 487 ACKed and relayed',
      async flow({ peers: { uac, uas1 } }) {
        const invite = uac.request({ method: 'INVITE', ruri: 'sip:ring@127.0.0.1', headers: [`Contact: <sip:uac@127.0.0.1:${String(uac.port)}>`] });
        const inv = await uas1.waitFor(isRequest('INVITE'), 'INVITE');
        uas1.reply(inv, 180, 'Ringing');
        await uac.waitFor(isReply(180), '180');
        uac.cancel(invite);
        const cancel = await uas1.waitFor(isRequest('CANCEL'), 'CANCEL');
        uas1.reply(cancel, 200, 'OK');
        uas1.reply(inv, 487, 'Request Terminated');
        await uas1.waitFor(isRequest('ACK'), 'the ACK of the 487');
        uac.ack(invite, await uac.waitFor(isReply(487), '487'));
      },
      compare: { uac: AT_UAC, uas1: AT_UAS },
      differs: { doc: 'tm: automatic 100 reason phrase; tm: 200 to a CANCEL reason phrase', replace: [TRYING, CANCELING] },
    },
  ],
});
