// The benchmark route (issue 2) in JS: 5 PV reads, 2 method tests, append_to_reply, sl_send_reply.
function ksr_request_route() {
  const ru = KSR.pv.get("$ru");
  const fu = KSR.pv.get("$fu");
  const tu = KSR.pv.get("$tu");
  const ci = KSR.pv.get("$ci");
  const si = KSR.pv.get("$si");
  if (KSR.is_OPTIONS() && KSR.is_method_in("OS")) {
    KSR.hdr.append_to_reply("X-Bench: 1\r\n");
    KSR.sl.sl_send_reply(200, "OK");
  }
}
