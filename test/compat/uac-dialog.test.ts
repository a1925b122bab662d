/**
 * uac restore_mode "auto" (and "manual") within the dialog against Kamailio 5.6: an INVITE record-routed with
 * its From and/or To replaced carries `;vsf=` / `;vst=` in its Record-Route (the same bytes:
 * the URIs XORed with restore_passwd, Kamailio's encoding), and the ACK and BYE that come back
 * through loose_route get the replaced URI on the caller's side and the original one on the
 * callee's. Compared: From, To, Record-Route and Route at both peers, for every message of
 * INVITE / 200 / ACK / BYE / 200, the BYE sent by either side. In manual mode the script
 * calls uac_restore_from / uac_restore_to after loose_route; their return codes go in X-Rc.
 */
import type { SipMessage } from '../../host/sip/message.js';
import { isReply, isRequest } from './harness/peer.js';
import { compatSuite, type FlowRun } from './harness/suite.js';
import { STANDARD_MASKS, type View } from './harness/view.js';

/** manual mode: the restore calls after loose_route, their return codes in X-Rc */
const luaManual = 'KSR.hdr.append("X-Rc: " .. KSR.uac.uac_restore_from() .. "," .. KSR.uac.uac_restore_to() .. "\\r\\n")';
const jsManual = 'KSR.hdr.append("X-Rc: " + KSR.uac.uac_restore_from() + "," + KSR.uac.uac_restore_to() + "\\r\\n");';

const lua = (p: Readonly<Record<string, number>>, restore = ''): string => `
function ksr_request_route()
  if KSR.siputils.has_totag() > 0 then
    if KSR.rr.loose_route() > 0 then
      ${restore}
      KSR.tm.t_relay()
    else
      KSR.sl.sl_send_reply(404, "Not here")
    end
    return
  end
  KSR.rr.record_route()
  local u = KSR.pv.get("$rU")
  if u == "from" or u == "both" then
    KSR.uac.uac_replace_from("", "sip:hidden@example.net")
  end
  if u == "to" or u == "both" then
    KSR.uac.uac_replace_to("\\"Robin\\"", "sip:robin.the.boy.wonder@gotham.org")
  end
  KSR.pv.sets("$du", "sip:127.0.0.1:${String(p.uas)}")
  if KSR.tm.t_relay() < 0 then KSR.sl.sl_reply_error() end
end
`;

const js = (p: Readonly<Record<string, number>>, restore = ''): string => `
function ksr_request_route() {
  if (KSR.siputils.has_totag() > 0) {
    if (KSR.rr.loose_route() > 0) {
      ${restore}
      KSR.tm.t_relay();
    } else {
      KSR.sl.sl_send_reply(404, "Not here");
    }
    return;
  }
  KSR.rr.record_route();
  var u = KSR.pv.get("$rU");
  if (u == "from" || u == "both") KSR.uac.uac_replace_from("", "sip:hidden@example.net");
  if (u == "to" || u == "both") KSR.uac.uac_replace_to("\\"Robin\\"", "sip:robin.the.boy.wonder@gotham.org");
  KSR.pv.sets("$du", "sip:127.0.0.1:${String(p.uas)}");
  if (KSR.tm.t_relay() < 0) KSR.sl.sl_reply_error();
}
`;

const VIEW: View = { reason: false, headers: ['from', 'to', 'record-route', 'route', 'x-rc'], masks: STANDARD_MASKS };

type Run = FlowRun<'uac' | 'uas'>;

/** The header's URI between angle brackets (the peers always write them). */
const uriOf = (value: string): string => /<([^>]*)>/.exec(value)?.[1] ?? value;

/**
 * INVITE, 200 (Record-Route copied), ACK through our Route, then a BYE from the caller
 * (`byCallee` false) or from the callee, each side using the From / To it was shown.
 */
async function call({ peers: { uac, uas } }: Run, user: string, byCallee: boolean): Promise<void> {
  const invite = uac.request({ method: 'INVITE', ruri: `sip:${user}@127.0.0.1` });
  const atUas: SipMessage = await uas.waitFor(isRequest('INVITE'), 'INVITE');
  const rr = atUas.getHeaders('record-route');
  uas.reply(atUas, 200, 'OK', { headers: rr.map((v) => `Record-Route: ${v}`) });
  const ok = await uac.waitFor(isReply(200, 'INVITE'), '200 to the INVITE');
  const route = ok.getHeaders('record-route').map((v) => `Route: ${v}`);
  const contact = `sip:uas@127.0.0.1:${String(uas.port)}`;
  const inDialog = { ruri: contact, toTag: ok.to.tag, headers: route };
  uac.request({ ...invite, ...inDialog, method: 'ACK', cseqMethod: 'ACK', branch: `z9hG4bK-peer-ack-${user}` });
  await uas.waitFor(isRequest('ACK'), 'ACK');
  if (!byCallee) {
    uac.request({ ...invite, ...inDialog, method: 'BYE', cseq: 2, branch: `z9hG4bK-peer-bye-${user}` });
    uas.reply(await uas.waitFor(isRequest('BYE'), 'BYE'), 200, 'OK');
    await uac.waitFor(isReply(200, 'BYE'), '200 to the BYE');
    return;
  }
  // the callee's BYE: its From is the To it got, its To the From it got, the Route set reversed
  uas.request({
    method: 'BYE',
    ruri: `sip:alice@127.0.0.1:${String(uac.port)}`,
    callId: atUas.callId,
    fromUri: uriOf(atUas.getHeader('to') ?? ''),
    fromTag: 'peer-uas',
    to: `<${uriOf(atUas.getHeader('from') ?? '')}>`,
    toTag: atUas.from.tag,
    cseq: 1,
    branch: `z9hG4bK-peer-ubye-${user}`,
    headers: [...rr].reverse().map((v) => `Route: ${v}`),
  });
  uac.reply(await uac.waitFor(isRequest('BYE'), 'BYE from the callee'), 200, 'OK');
  await uas.waitFor(isReply(200, 'BYE'), '200 to the callee\'s BYE');
}

compatSuite({
  title: 'uac: restore_mode auto within the dialog (Record-Route vsf / vst)',
  peers: ['uac', 'uas'],
  modules: { tm: {}, sl: {}, siputils: {}, rr: { append_fromtag: 1 }, uac: { restore_mode: 'auto', restore_passwd: 'kemi-secret' } },
  script: (p) => ({ lua: lua(p), js: js(p) }),
  cases: [
    { name: 'From replaced: the caller hangs up', flow: (run) => call(run, 'from', false), compare: { uas: VIEW, uac: VIEW } },
    { name: 'From replaced: the callee hangs up', flow: (run) => call(run, 'from', true), compare: { uas: VIEW, uac: VIEW } },
    { name: 'To replaced (a longer URI): the caller hangs up', flow: (run) => call(run, 'to', false), compare: { uas: VIEW, uac: VIEW } },
    { name: 'From and To replaced: the callee hangs up', flow: (run) => call(run, 'both', true), compare: { uas: VIEW, uac: VIEW } },
    { name: 'nothing replaced: no parameter, nothing rewritten', flow: (run) => call(run, 'none', true), compare: { uas: VIEW, uac: VIEW } },
  ],
});

compatSuite({
  title: 'uac: restore_mode manual within the dialog (uac_restore_from / uac_restore_to)',
  peers: ['uac', 'uas'],
  modules: { tm: {}, sl: {}, siputils: {}, rr: { append_fromtag: 1 }, uac: { restore_mode: 'manual' } },
  script: (p) => ({ lua: lua(p, luaManual), js: js(p, jsManual) }),
  cases: [
    { name: 'From and To replaced: the caller hangs up', flow: (run) => call(run, 'both', false), compare: { uas: VIEW, uac: VIEW } },
    { name: 'To replaced: the callee hangs up', flow: (run) => call(run, 'to', true), compare: { uas: VIEW, uac: VIEW } },
    { name: 'nothing replaced: both calls -1', flow: (run) => call(run, 'none', false), compare: { uas: VIEW, uac: VIEW } },
  ],
});
