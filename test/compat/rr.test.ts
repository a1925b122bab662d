/**
 * Record-routing and loose routing (rr, with tm, sl, siputils, tmx): the Record-Route of a
 * relayed INVITE in its forms, as the UAS sees it and as the 200 brings it back to the UAC;
 * loose_route on in-dialog requests (our Route consumed, the next hop, strict routers on either
 * side, a pre-loaded Route) with what the rr calls returned, in X-Rc. The script routes an
 * initial request by R-URI user and an in-dialog one by loose_route.
 */
import { isReply, isRequest } from './harness/peer.js';
import { compatSuite, type FlowRun } from './harness/suite.js';
import { STANDARD_MASKS, type View } from './harness/view.js';

const lua = (p: Readonly<Record<string, number>>): string => `
function ksr_request_route()
  local user = KSR.pv.get("$rU")
  if KSR.siputils.has_totag() > 0 or user == "pre" then
    local rc = KSR.rr.loose_route()
    local info = rc .. "," .. tostring(KSR.pv.get("$du")) .. "," .. KSR.rr.check_route_param("nat=yes") .. "," .. KSR.rr.is_direction("downstream") .. "," .. KSR.rr.next_hop_route()
    if rc == 1 then
      KSR.hdr.append("X-Rc: " .. info .. "\\r\\n")
      KSR.tm.t_relay()
      return
    end
    if user == "pre" then
      KSR.hdr.append("X-Rc: " .. info .. "\\r\\n")
      KSR.setdsturi("sip:127.0.0.1:${String(p.uas)}")
      KSR.tm.t_relay()
      return
    end
    KSR.hdr.append_to_reply("X-Rc: " .. info .. "\\r\\n")
    KSR.sl.sl_send_reply(404, "Not here")
    return
  end
  local rc = ""
  if user == "params" then
    rc = KSR.rr.add_rr_param(";a=1") .. "," .. KSR.rr.record_route_params(";p=2") .. "," .. KSR.rr.add_rr_param(";c=3")
    KSR.tm.t_on_branch("BRANCH")
  elseif user == "preset" then
    rc = KSR.rr.record_route_preset_one("proxy.example:5070;x=y") .. "," .. KSR.rr.add_rr_param(";c=3")
  elseif user == "adv" then
    rc = KSR.rr.record_route_advertised_address("adv.example") .. "," .. KSR.rr.add_rr_param(";c=3")
  else
    rc = KSR.rr.record_route() .. "," .. KSR.rr.record_route()
  end
  KSR.hdr.append("X-Rc: " .. rc .. "\\r\\n")
  KSR.setdsturi("sip:127.0.0.1:${String(p.uas)}")
  KSR.tm.t_relay()
end

function BRANCH()
  if KSR.tmx.t_is_branch_route() > 0 then KSR.rr.add_rr_param(";nat=yes") end
end
`;

const js = (p: Readonly<Record<string, number>>): string => `
function ksr_request_route() {
  var user = KSR.pv.get("$rU");
  if (KSR.siputils.has_totag() > 0 || user == "pre") {
    var lr = KSR.rr.loose_route();
    var info = lr + "," + KSR.pv.get("$du") + "," + KSR.rr.check_route_param("nat=yes") + "," + KSR.rr.is_direction("downstream") + "," + KSR.rr.next_hop_route();
    if (lr == 1) {
      KSR.hdr.append("X-Rc: " + info + "\\r\\n");
      KSR.tm.t_relay();
      return;
    }
    if (user == "pre") {
      KSR.hdr.append("X-Rc: " + info + "\\r\\n");
      KSR.setdsturi("sip:127.0.0.1:${String(p.uas)}");
      KSR.tm.t_relay();
      return;
    }
    KSR.hdr.append_to_reply("X-Rc: " + info + "\\r\\n");
    KSR.sl.sl_send_reply(404, "Not here");
    return;
  }
  var rc = "";
  if (user == "params") {
    rc = KSR.rr.add_rr_param(";a=1") + "," + KSR.rr.record_route_params(";p=2") + "," + KSR.rr.add_rr_param(";c=3");
    KSR.tm.t_on_branch("BRANCH");
  } else if (user == "preset") {
    rc = KSR.rr.record_route_preset_one("proxy.example:5070;x=y") + "," + KSR.rr.add_rr_param(";c=3");
  } else if (user == "adv") {
    rc = KSR.rr.record_route_advertised_address("adv.example") + "," + KSR.rr.add_rr_param(";c=3");
  } else {
    rc = KSR.rr.record_route() + "," + KSR.rr.record_route();
  }
  KSR.hdr.append("X-Rc: " + rc + "\\r\\n");
  KSR.setdsturi("sip:127.0.0.1:${String(p.uas)}");
  KSR.tm.t_relay();
}

function BRANCH() {
  if (KSR.tmx.t_is_branch_route() > 0) KSR.rr.add_rr_param(";nat=yes");
}
`;

/** The request at the UAS: R-URI, our Record-Route and what is left of the Route set, the script's X-Rc, where Record-Route goes. */
const AT_UAS: View = { headers: ['record-route', 'route', 'x-rc'], order: ['record-route', 'via', 'x-rc'], masks: STANDARD_MASKS };
/** What comes back: the final reply with the Record-Route the UAS copied into it. */
const AT_UAC: View = { headers: ['record-route', 'x-rc'], masks: STANDARD_MASKS, only: (m) => !m.isRequest && m.status >= 200 };

type Run = FlowRun<'uac' | 'uas'>;

/** An INVITE for `user`, answered 200 by the UAS with the Record-Route copied (RFC 3261 §12.1.1). */
async function recordRouted({ peers: { uac, uas } }: Run, user: string): Promise<void> {
  uac.request({ method: 'INVITE', ruri: `sip:${user}@127.0.0.1` });
  const req = await uas.waitFor(isRequest('INVITE'), 'INVITE');
  uas.reply(req, 200, 'OK', { headers: req.getHeaders('record-route').map((v) => `Record-Route: ${v}`) });
  await uac.waitFor(isReply(200, 'INVITE'), '200 to the INVITE');
}

/**
 * An in-dialog BYE with this Route set and R-URI ({server}: the server's port), from the caller
 * unless `fromTag` says otherwise; the UAS answers it.
 */
async function bye(run: Run, route: string, ruri: string, fromTag = 'peer-from'): Promise<void> {
  const { uac, uas } = run.peers;
  const at = String(run.server.port);
  uac.request({ method: 'BYE', ruri: ruri.replaceAll('{server}', at), toTag: 'peer-uas', fromTag, headers: [`Route: ${route.replaceAll('{server}', at)}`] });
  uas.reply(await uas.waitFor(isRequest('BYE'), 'BYE'), 200, 'OK');
  await uac.waitFor(isReply(200, 'BYE'), '200 to the BYE');
}

const UNREACHABLE = 'sip:bob@198.51.100.9:5999';

compatSuite({
  title: 'rr: Record-Route and loose routing',
  peers: ['uac', 'uas'],
  modules: { tm: {}, tmx: {}, sl: {}, rr: { append_fromtag: 1 }, siputils: {} },
  script: (p) => ({ lua: lua(p), js: js(p) }),
  cases: [
    {
      name: 'record_route on a relayed INVITE: above our Via at the UAS, back in the 200; a second call is -1',
      flow: (run) => recordRouted(run, 'rr'),
      compare: { uas: AT_UAS, uac: AT_UAC },
    },
    {
      name: 'add_rr_param before and after record_route_params, and in the branch route',
      flow: (run) => recordRouted(run, 'params'),
      compare: { uas: AT_UAS, uac: AT_UAC },
    },
    {
      name: 'record_route_preset_one, then add_rr_param (-1 with one header while double routing is on)',
      flow: (run) => recordRouted(run, 'preset'),
      compare: { uas: AT_UAS, uac: AT_UAC },
    },
    {
      name: 'record_route_advertised_address, then add_rr_param',
      flow: (run) => recordRouted(run, 'adv'),
      compare: { uas: AT_UAS, uac: AT_UAC },
    },
    {
      name: 'loose_route on an in-dialog BYE: our Route consumed, relayed to the R-URI',
      flow: (run) => bye(run, '<sip:127.0.0.1:{server};lr;ftag=peer-from;nat=yes>', `sip:uas@127.0.0.1:${String(run.peers.uas.port)}`),
      compare: { uas: AT_UAS, uac: AT_UAC },
    },
    {
      name: 'loose_route: the Route after ours is the next hop ($du); from the callee: upstream',
      flow: (run) => bye(run, `<sip:127.0.0.1:{server};lr;ftag=peer-from>, <sip:127.0.0.1:${String(run.peers.uas.port)};lr;x=1>`, UNREACHABLE, 'peer-callee'),
      compare: { uas: AT_UAS, uac: AT_UAC },
    },
    {
      name: 'after a strict router (our URI in the R-URI): the last Route becomes the R-URI',
      flow: (run) => bye(run, `<sip:127.0.0.1:${String(run.peers.uas.port)};lr>, <${UNREACHABLE}>`, 'sip:127.0.0.1:{server};lr;ftag=peer-from;nat=yes'),
      compare: { uas: AT_UAS, uac: AT_UAC },
    },
    {
      name: 'a strict router next: it becomes the R-URI, the R-URI goes to the end of the Route set',
      flow: (run) => bye(run, `<sip:127.0.0.1:{server};lr>, <sip:127.0.0.1:${String(run.peers.uas.port)}>, <sip:far.example;lr>`, UNREACHABLE),
      compare: { uas: AT_UAS, uac: AT_UAC },
    },
    {
      name: 'a pre-loaded Route of ours alone in an INVITE: -3 and removed',
      async flow({ peers: { uac, uas }, server }) {
        uac.request({ method: 'INVITE', ruri: 'sip:pre@127.0.0.1', headers: [`Route: <sip:127.0.0.1:${String(server.port)};lr>`] });
        uas.reply(await uas.waitFor(isRequest('INVITE'), 'INVITE'), 200, 'OK');
        await uac.waitFor(isReply(200, 'INVITE'), '200 to the INVITE');
      },
      compare: { uas: AT_UAS, uac: AT_UAC },
    },
    {
      name: 'an in-dialog request without a Route: loose_route -1, answered 404 with what the calls returned',
      flow: async (run) => {
        const { uac } = run.peers;
        uac.request({ method: 'BYE', ruri: UNREACHABLE, toTag: 'peer-uas' });
        await uac.waitFor(isReply(404), '404');
      },
      compare: { uas: AT_UAS, uac: AT_UAC },
    },
  ],
});
