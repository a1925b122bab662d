-- The benchmark route (issue 2): 5 PV reads, 2 method tests, append_to_reply, sl_send_reply.
function ksr_request_route()
  local ru = KSR.pv.get("$ru")
  local fu = KSR.pv.get("$fu")
  local tu = KSR.pv.get("$tu")
  local ci = KSR.pv.get("$ci")
  local si = KSR.pv.get("$si")
  if KSR.is_OPTIONS() and KSR.is_method_in("OS") then
    KSR.hdr.append_to_reply("X-Bench: 1\r\n")
    KSR.sl.sl_send_reply(200, "OK")
  end
end
