/**
 * registrar and usrloc against Kamailio 5.6: the 200 to a REGISTER (its Contact list, q and
 * expires), a re-REGISTER, removing one binding and `*`, an out-of-order CSeq, 423 with
 * min_expires_mode, max_contacts' 503, lookup of an unknown user, the best contact by q and an
 * INVITE to a registered sipp UAS through lookup and t_relay. Each case uses AoRs of its own:
 * one server serves the whole file.
 */
import { fileURLToPath } from 'node:url';
import { isReply } from './harness/peer.js';
import { startSippTraced } from './harness/sipp-trace.js';
import { compatSuite } from './harness/suite.js';
import { mask, STANDARD_MASKS, VIA_PARAM_ORDER, type View } from './harness/view.js';

const SCENARIOS = fileURLToPath(new URL('scenarios/', import.meta.url));

const lua = `
function ksr_request_route()
  if KSR.is_REGISTER() then
    KSR.registrar.save("location", 0)
    return
  end
  if KSR.siputils.has_totag() > 0 then
    if KSR.tm.t_relay() < 0 then KSR.sl.sl_reply_error() end
    return
  end
  if KSR.is_ACK() then return end
  local rc = KSR.registrar.lookup("location")
  if rc < 0 then
    KSR.hdr.append_to_reply("X-Rc: " .. rc .. "\\r\\n")
    KSR.sl.send_reply(404, "Not Found")
    return
  end
  if KSR.is_OPTIONS() then
    KSR.hdr.append_to_reply("X-Ru: " .. KSR.pv.get("$ru") .. "\\r\\n")
    KSR.sl.send_reply(200, "Found")
    return
  end
  KSR.tm.t_relay()
end
`;

const js = `
function ksr_request_route() {
  if (KSR.is_REGISTER()) {
    KSR.registrar.save("location", 0);
    return;
  }
  if (KSR.siputils.has_totag() > 0) {
    if (KSR.tm.t_relay() < 0) KSR.sl.sl_reply_error();
    return;
  }
  if (KSR.is_ACK()) return;
  var rc = KSR.registrar.lookup("location");
  if (rc < 0) {
    KSR.hdr.append_to_reply("X-Rc: " + rc + "\\r\\n");
    KSR.sl.send_reply(404, "Not Found");
    return;
  }
  if (KSR.is_OPTIONS()) {
    KSR.hdr.append_to_reply("X-Ru: " + KSR.pv.get("$ru") + "\\r\\n");
    KSR.sl.send_reply(200, "Found");
    return;
  }
  KSR.tm.t_relay();
}
`;

/** The registrar's reply: the Contact list with every parameter, and the error headers. */
const REG: View = { headers: ['contact', 'p-registrar-error', 'min-expires', 'retry-after', 'date'], masks: STANDARD_MASKS };
/**
 * The same where the list holds bindings saved by an earlier REGISTER of the flow: their
 * remaining seconds depend on when each server's second ticked, so expires is not compared.
 */
const REG_OLDER: View = { headers: REG.headers, masks: [...STANDARD_MASKS, mask(/expires=\d+/g, 'expires=<n>')] };
const PROBE: View = { headers: ['x-rc', 'x-ru'], masks: STANDARD_MASKS };
const AT_UAS: View = { headers: ['via', 'from', 'to', 'call-id', 'cseq', 'contact'], masks: [...STANDARD_MASKS, VIA_PARAM_ORDER] };
const AT_UAC: View = { headers: ['via', 'from', 'to', 'call-id', 'cseq', 'contact'], masks: [...STANDARD_MASKS, VIA_PARAM_ORDER] };

const reg = (user: string, port: number, contacts: string[], cseq: number, extra: string[] = []) => ({
  method: 'REGISTER',
  ruri: 'sip:example.com',
  to: `<sip:${user}@example.com>`,
  cseq,
  headers: [...(contacts.length > 0 ? [`Contact: ${contacts.map((c) => c.replace('{p}', String(port))).join(', ')}`] : []), ...extra],
});

const TRYING: readonly [string, string] = ['100 trying -- your call is important to us', '100 Trying'];

compatSuite({
  title: 'registrar and usrloc: REGISTER, re-REGISTER, unregister, lookup',
  peers: ['uac'],
  ports: ['sippUas'],
  modules: {
    tm: {}, sl: {}, siputils: {},
    usrloc: { preload: 'location' },
    registrar: { min_expires: 60, min_expires_mode: 1, max_contacts: 3 },
  },
  script: () => ({ lua, js }),
  cases: [
    {
      name: 'REGISTER of a new AoR: 200 lists the bindings by q with their expires',
      async flow({ peers: { uac } }) {
        uac.request(reg('c1', uac.port, ['<sip:c1@127.0.0.1:{p}>;expires=120', '<sip:c1b@127.0.0.1:{p}>;q=0.5', '<sip:c1c@127.0.0.1:{p}>;q=0.9'], 1, ['Expires: 300']));
        await uac.waitFor(isReply(200, 'REGISTER'), '200');
      },
      compare: { uac: REG },
    },
    {
      name: 're-REGISTER with a higher CSeq: the bindings take the new expires and q',
      async flow({ peers: { uac } }) {
        uac.request(reg('c2', uac.port, ['<sip:c2@127.0.0.1:{p}>', '<sip:c2b@127.0.0.1:{p}>;q=0.1'], 1, ['Expires: 600']));
        await uac.waitFor(isReply(200, 'REGISTER'), 'first 200');
        uac.request(reg('c2', uac.port, ['<sip:c2@127.0.0.1:{p}>;q=0.2', '<sip:c2b@127.0.0.1:{p}>;q=0.7'], 2, ['Expires: 900']));
        await uac.waitFor(isReply(200, 'REGISTER'), 'second 200');
      },
      compare: { uac: REG },
    },
    {
      name: 'expires=0 removes one binding; * with Expires: 0 all; * without it is 400',
      async flow({ peers: { uac } }) {
        uac.request(reg('c3', uac.port, ['<sip:c3@127.0.0.1:{p}>', '<sip:c3b@127.0.0.1:{p}>'], 1));
        await uac.waitFor(isReply(200, 'REGISTER'), '200');
        uac.request(reg('c3', uac.port, ['<sip:c3b@127.0.0.1:{p}>;expires=0'], 2));
        await uac.waitFor(isReply(200, 'REGISTER'), '200 after removing one');
        uac.request(reg('c3', uac.port, ['*'], 3, ['Expires: 60']));
        await uac.waitFor(isReply(400, 'REGISTER'), '400 to * with Expires 60');
        uac.request(reg('c3', uac.port, ['*'], 4, ['Expires: 0']));
        await uac.waitFor(isReply(200, 'REGISTER'), '200 to *');
        uac.request({ method: 'OPTIONS', ruri: 'sip:c3@example.com' });
        await uac.waitFor(isReply(404, 'OPTIONS'), 'lookup finds nothing');
      },
      compare: { uac: REG_OLDER },
    },
    {
      name: 'a lower CSeq with the same Call-ID is 400 Invalid CSeq number, listing the binding',
      async flow({ peers: { uac } }) {
        uac.request(reg('c4', uac.port, ['<sip:c4@127.0.0.1:{p}>'], 10));
        await uac.waitFor(isReply(200, 'REGISTER'), '200');
        uac.request(reg('c4', uac.port, ['<sip:c4@127.0.0.1:{p}>;expires=100'], 9));
        await uac.waitFor(isReply(400, 'REGISTER'), '400');
      },
      compare: { uac: REG_OLDER },
    },
    {
      name: 'min_expires_mode 1: an expires below min_expires is 423 with Min-Expires',
      async flow({ peers: { uac } }) {
        uac.request(reg('c5', uac.port, ['<sip:c5@127.0.0.1:{p}>;expires=30'], 1));
        await uac.waitFor(isReply(423, 'REGISTER'), '423');
      },
      compare: { uac: REG },
    },
    {
      name: 'max_contacts 3: a fourth binding is 503 Too many registered contacts',
      async flow({ peers: { uac } }) {
        uac.request(reg('c6', uac.port, ['<sip:a@127.0.0.1:{p}>', '<sip:b@127.0.0.1:{p}>', '<sip:c@127.0.0.1:{p}>'], 1));
        await uac.waitFor(isReply(200, 'REGISTER'), '200');
        uac.request(reg('c6', uac.port, ['<sip:d@127.0.0.1:{p}>'], 2));
        await uac.waitFor(isReply(503, 'REGISTER'), '503');
      },
      compare: { uac: REG_OLDER },
    },
    {
      name: 'lookup: an unknown user is -1 (404); the best q goes in the R-URI',
      async flow({ peers: { uac } }) {
        uac.request({ method: 'OPTIONS', ruri: 'sip:nobody@example.com' });
        await uac.waitFor(isReply(404, 'OPTIONS'), '404');
        uac.request(reg('c7', uac.port, ['<sip:low@127.0.0.1:{p}>;q=0.1', '<sip:high@127.0.0.1:{p}>;q=0.8', '<sip:mid@127.0.0.1:{p}>;q=0.8'], 1));
        await uac.waitFor(isReply(200, 'REGISTER'), '200');
        uac.request({ method: 'OPTIONS', ruri: 'sip:c7@example.com' });
        await uac.waitFor(isReply(200, 'OPTIONS'), 'lookup');
      },
      compare: { uac: PROBE },
    },
    {
      name: 'INVITE to a registered sipp UAS through lookup and t_relay; ACK and BYE in the dialog',
      async flow({ peers: { uac }, ports, keep }) {
        uac.request(reg('callee', uac.port, [`<sip:callee@127.0.0.1:${String(ports.sippUas)}>`], 1));
        await uac.waitFor(isReply(200, 'REGISTER'), '200');
        const uas = await startSippTraced(['-sf', `${SCENARIOS}invite-uas.xml`, '-i', '127.0.0.1', '-p', String(ports.sippUas), '-m', '1', '-timeout', '15', '-timeout_error'], ports.sippUas!);
        try {
          const invite = uac.request({ method: 'INVITE', ruri: 'sip:callee@example.com', to: '<sip:callee@example.com>', cseq: 1, headers: [`Contact: <sip:uac@127.0.0.1:${String(uac.port)}>`] });
          const ok = await uac.waitFor(isReply(200, 'INVITE'), '200 from the UAS');
          const target = `sip:callee@127.0.0.1:${String(ports.sippUas)}`;
          uac.request({ ...invite, method: 'ACK', ruri: target, cseqMethod: 'ACK', toTag: ok.to.tag, branch: 'z9hG4bK-peer-ack' });
          uac.request({ ...invite, method: 'BYE', ruri: target, cseq: 2, cseqMethod: 'BYE', toTag: ok.to.tag, branch: 'z9hG4bK-peer-bye' });
          await uac.waitFor(isReply(200, 'BYE'), '200 to the BYE');
          keep('sippUas', (await uas.done).received);
        } finally {
          uas.stop();
        }
      },
      compare: { uac: AT_UAC, sippUas: AT_UAS },
      differs: { doc: 'tm: automatic 100 reason phrase', replace: [TRYING] },
    },
  ],
});
