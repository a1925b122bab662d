/**
 * Dialogs under Kamailio and kemihost (dialog with rr, tm, sl, siputils; send_bye 1): the
 * same script record-routes and tracks an INVITE with dlg_manage and a 1 s timeout; after the
 * 200 and the ACK (routed by loose_route) both servers end the call with a BYE to each side.
 * Compared: the BYEs' R-URI, Route (with proxies on each side too), From/To (tags), Call-ID, CSeq
 * and Max-Forwards; at the UAS the INVITE's Record-Route with the dialog cookie (its value
 * masked: it is an id); the return codes of the profile, flag and variable functions and what
 * the BYE route reads of its dialog, in X-Rc / X-Dlg.
 */
import type { SipMessage } from '../../host/sip/message.js';
import type { RequestSpec } from '../helpers/sip-client.js';
import { isReply, isRequest, type Peer } from './harness/peer.js';
import { compatSuite } from './harness/suite.js';
import { mask, STANDARD_MASKS, type View } from './harness/view.js';

const lua = (p: Readonly<Record<string, number>>): string => `
function ksr_request_route()
  if KSR.siputils.has_totag() > 0 then
    if KSR.rr.loose_route() > 0 then
      if KSR.pv.get("$rU") == "uas" and KSR.is_BYE() then
        KSR.dialog.get_profile_size_static("calls", "$var(c)")
        KSR.hdr.append("X-Dlg: " .. KSR.dialog.is_known_dlg() .. "," .. tostring(KSR.pv.get("$dlg_var(plan)")) .. "," .. KSR.dialog.is_in_profile_static("calls") .. "," .. KSR.dialog.dlg_isflagset(3) .. "," .. KSR.pv.get("$var(c)") .. "," .. tostring(KSR.pv.get("$dlg(state)")) .. "\\r\\n")
      end
      KSR.tm.t_relay()
    else
      KSR.sl.sl_send_reply(404, "Not here")
    end
    return
  end
  KSR.rr.record_route()
  if KSR.pv.get("$rU") == "info" then
    local rc = KSR.dialog.dlg_manage() .. "," .. KSR.dialog.set_dlg_profile("caller", "alice") .. "," .. KSR.dialog.set_dlg_profile_static("calls")
    rc = rc .. "," .. KSR.dialog.is_in_profile("caller", "alice") .. "," .. KSR.dialog.is_in_profile("caller", "bob") .. "," .. KSR.dialog.dlg_setflag(3)
    rc = rc .. "," .. KSR.dialog.dlg_isflagset(3) .. "," .. KSR.dialog.dlg_isflagset(4) .. "," .. KSR.dialog.var_sets("plan", "gold") .. "," .. KSR.dialog.var_get("plan")
    KSR.dialog.get_profile_size("caller", "alice", "$var(n)")
    rc = rc .. "," .. KSR.dialog.is_known_dlg() .. "," .. KSR.pv.get("$var(n)") .. "," .. tostring(KSR.pv.get("$dlg(state)"))
    KSR.hdr.append("X-Rc: " .. rc .. "\\r\\n")
  elseif KSR.dialog.dlg_manage() > 0 then
    KSR.dialog.dlg_set_timeout(1)
  end
  KSR.setdsturi("sip:127.0.0.1:${String(p.uas)}")
  KSR.tm.t_relay()
end
`;

const js = (p: Readonly<Record<string, number>>): string => `
function ksr_request_route() {
  if (KSR.siputils.has_totag() > 0) {
    if (KSR.rr.loose_route() > 0) {
      if (KSR.pv.get("$rU") == "uas" && KSR.is_BYE()) {
        KSR.dialog.get_profile_size_static("calls", "$var(c)");
        KSR.hdr.append("X-Dlg: " + KSR.dialog.is_known_dlg() + "," + KSR.pv.get("$dlg_var(plan)") + "," + KSR.dialog.is_in_profile_static("calls") + "," + KSR.dialog.dlg_isflagset(3) + "," + KSR.pv.get("$var(c)") + "," + KSR.pv.get("$dlg(state)") + "\\r\\n");
      }
      KSR.tm.t_relay();
    } else {
      KSR.sl.sl_send_reply(404, "Not here");
    }
    return;
  }
  KSR.rr.record_route();
  if (KSR.pv.get("$rU") == "info") {
    var rc = KSR.dialog.dlg_manage() + "," + KSR.dialog.set_dlg_profile("caller", "alice") + "," + KSR.dialog.set_dlg_profile_static("calls");
    rc = rc + "," + KSR.dialog.is_in_profile("caller", "alice") + "," + KSR.dialog.is_in_profile("caller", "bob") + "," + KSR.dialog.dlg_setflag(3);
    rc = rc + "," + KSR.dialog.dlg_isflagset(3) + "," + KSR.dialog.dlg_isflagset(4) + "," + KSR.dialog.var_sets("plan", "gold") + "," + KSR.dialog.var_get("plan");
    KSR.dialog.get_profile_size("caller", "alice", "$var(n)");
    rc = rc + "," + KSR.dialog.is_known_dlg() + "," + KSR.pv.get("$var(n)") + "," + KSR.pv.get("$dlg(state)");
    KSR.hdr.append("X-Rc: " + rc + "\\r\\n");
  } else if (KSR.dialog.dlg_manage() > 0) {
    KSR.dialog.dlg_set_timeout(1);
  }
  KSR.setdsturi("sip:127.0.0.1:${String(p.uas)}");
  KSR.tm.t_relay();
}
`;

const DID = mask(/;did=[0-9a-f]+\.[0-9a-f]+/g, ';did=<did>');
const BYE_HEADERS = ['x-rc', 'x-dlg', 'route', 'from', 'to', 'call-id', 'cseq', 'max-forwards'];
/** At the UAS: the INVITE's Record-Route, and the BYE from the server. */
const AT_UAS: View = { headers: ['record-route', ...BYE_HEADERS], masks: [...STANDARD_MASKS, DID], only: (m) => m.isRequest && (m.method === 'BYE' || m.method === 'INVITE') };
/** At the UAC: the BYE from the server. */
const AT_UAC: View = { headers: BYE_HEADERS, masks: [...STANDARD_MASKS, DID], only: (m) => m.isRequest && m.method === 'BYE' };

/** An INVITE for `user` through the server, answered 200 by the UAS with the Record-Route copied. */
async function answered(uac: Peer, uas: Peer, user: string): Promise<{ invite: RequestSpec; ok: SipMessage }> {
  const invite = uac.request({ method: 'INVITE', ruri: `sip:${user}@127.0.0.1`, headers: [`Contact: <sip:uac@127.0.0.1:${String(uac.port)}>`] });
  const req = await uas.waitFor(isRequest('INVITE'), 'INVITE');
        uas.reply(req, 200, 'OK', { headers: req.getHeaders('record-route').map((v) => `Record-Route: ${v}`) });
  const ok = await uac.waitFor(isReply(200, 'INVITE'), '200 to the INVITE');
  return { invite, ok };
}

/** The ACK of the 2xx, end to end: to the UAS's Contact, through the Route set the 200 brought. */
function ack(uac: Peer, uas: Peer, invite: RequestSpec, ok: SipMessage): void {
  uac.request({
    ...invite, method: 'ACK', cseqMethod: 'ACK', branch: 'z9hG4bK-peer-ack', ruri: `sip:uas@127.0.0.1:${String(uas.port)}`, toTag: ok.to.tag,
    headers: ok.getHeaders('record-route').map((v) => `Route: ${v}`),
  });
}

compatSuite({
  title: 'dialog: timeout BYEs; profiles, flags and vars',
  peers: ['uac', 'uas'],
  modules: { tm: {}, sl: {}, rr: {}, siputils: {}, dialog: { send_bye: 1, profiles_with_value: 'caller', profiles_no_value: 'calls' } },
  script: (p) => ({ lua: lua(p), js: js(p) }),
  cases: [
    {
      name: 'a confirmed dialog times out after 1 s: a BYE to the caller and one to the callee',
      async flow({ peers: { uac, uas } }) {
        const { invite, ok } = await answered(uac, uas, 'dlg');
        ack(uac, uas, invite, ok);
        await uas.waitFor(isRequest('ACK'), 'ACK');
        const [toUac, toUas] = await Promise.all([uac.waitFor(isRequest('BYE'), 'BYE', 6000), uas.waitFor(isRequest('BYE'), 'BYE', 6000)]);
        uac.reply(toUac, 200, 'OK');
        uas.reply(toUas, 200, 'OK');
      },
      compare: { uas: AT_UAS, uac: AT_UAC },
    },
    {
      name: 'profiles, flags and vars on the INVITE (return codes, get_profile_size, $dlg(state)); what the BYE route sees of its dialog',
      async flow({ peers: { uac, uas } }) {
        const { invite, ok } = await answered(uac, uas, 'info');
        ack(uac, uas, invite, ok);
        await uas.waitFor(isRequest('ACK'), 'ACK');
        uac.request({
          ...invite, method: 'BYE', cseq: 2, branch: 'z9hG4bK-peer-bye', ruri: `sip:uas@127.0.0.1:${String(uas.port)}`, toTag: ok.to.tag,
          headers: ok.getHeaders('record-route').map((v) => `Route: ${v}`),
        });
        uas.reply(await uas.waitFor(isRequest('BYE'), 'BYE'), 200, 'OK');
        await uac.waitFor(isReply(200, 'BYE'), '200 to the BYE');
      },
      compare: { uas: AT_UAS, uac: AT_UAC },
    },
    {
      name: 'with two proxies on each side (Record-Routes before and after ours): each timeout BYE carries that side\'s route set',
      async flow({ peers: { uac, uas } }) {
        // two proxies each side: up2 next to us, up1 next to the caller; down2 next to us, down1 next to the callee
        const up = `<sip:127.0.0.1:${String(uac.port)};lr;side=up2>, <sip:127.0.0.1:${String(uac.port)};lr;side=up1>`;
        const invite = uac.request({ method: 'INVITE', ruri: 'sip:dlg@127.0.0.1', headers: [`Contact: <sip:uac@127.0.0.1:${String(uac.port)}>`, `Record-Route: ${up}`] });
        const req = await uas.waitFor(isRequest('INVITE'), 'INVITE');
        const rrs = [`<sip:127.0.0.1:${String(uas.port)};lr;side=down1>`, `<sip:127.0.0.1:${String(uas.port)};lr;side=down2>`, ...req.getHeaders('record-route')];
        uas.reply(req, 200, 'OK', { headers: rrs.map((v) => `Record-Route: ${v}`) });
        const ok = await uac.waitFor(isReply(200, 'INVITE'), '200 to the INVITE');
        // the upstream proxies took their own Routes off: ours, then the downstream proxies'
        const route = ok.getHeaders('record-route').flatMap((v) => v.split(/,\s*(?=<)/)).reverse().slice(2);
        uac.request({
          ...invite, method: 'ACK', cseqMethod: 'ACK', branch: 'z9hG4bK-peer-ack', ruri: `sip:uas@127.0.0.1:${String(uas.port)}`, toTag: ok.to.tag,
          headers: route.map((v) => `Route: ${v}`),
        });
        await uas.waitFor(isRequest('ACK'), 'ACK');
        const [toUac, toUas] = await Promise.all([uac.waitFor(isRequest('BYE'), 'BYE', 6000), uas.waitFor(isRequest('BYE'), 'BYE', 6000)]);
        uac.reply(toUac, 200, 'OK');
        uas.reply(toUas, 200, 'OK');
      },
      compare: { uas: AT_UAS, uac: AT_UAC },
    },
  ],
});
