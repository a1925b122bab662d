-- The media proxy bench/media-call.ts measures: proxy.lua (registrar lookup, record_route,
-- loose_route) with the kamailio-basic example's media handling — rtpproxy_manage("co") in the
-- INVITE's branch route, on the 2xx in the reply route and on the BYE (offer, answer, delete).
-- The same logic in media.js; Kamailio runs both unchanged.
function ksr_request_route()
  if KSR.is_REGISTER() then
    if KSR.registrar.save("location", 0) < 0 then KSR.sl.sl_reply_error() end
    KSR.x.exit()
  end
  if KSR.siputils.has_totag() > 0 then
    if KSR.rr.loose_route() > 0 then
      if KSR.is_BYE() then KSR.rtpproxy.rtpproxy_manage("co") end
      KSR.tm.t_relay()
      KSR.x.exit()
    end
    if KSR.is_ACK() then
      if KSR.tm.t_check_trans() > 0 then KSR.tm.t_relay() end
      KSR.x.exit()
    end
    KSR.sl.sl_send_reply(404, "Not here")
    KSR.x.exit()
  end
  if KSR.is_INVITE() then KSR.rr.record_route() end
  if KSR.registrar.lookup("location") < 0 then
    KSR.sl.send_reply(404, "Not Found")
    KSR.x.exit()
  end
  if KSR.is_INVITE() then
    KSR.tm.t_on_branch("ksr_branch_manage")
    KSR.tm.t_on_reply("ksr_onreply_manage")
  end
  KSR.tm.t_relay()
end

function ksr_branch_manage()
  KSR.rtpproxy.rtpproxy_manage("co")
end

function ksr_onreply_manage()
  local scode = KSR.kx.get_status()
  if scode > 100 and scode < 299 then KSR.rtpproxy.rtpproxy_manage("co") end
end
