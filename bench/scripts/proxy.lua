-- The proxy the registrar benchmark measures (bench/proxy-call.ts): REGISTER saved, an initial
-- INVITE record-routed and relayed to the location lookup's contact, in-dialog requests by
-- loose_route. The same logic in proxy.js; Kamailio runs both unchanged.
function ksr_request_route()
  if KSR.is_REGISTER() then
    if KSR.registrar.save("location", 0) < 0 then KSR.sl.sl_reply_error() end
    KSR.x.exit()
  end
  if KSR.siputils.has_totag() > 0 then
    if KSR.rr.loose_route() > 0 then
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
  KSR.tm.t_relay()
end
