// The media proxy bench/media-call.ts measures: the same logic as media.lua.
function ksr_request_route() {
  if (KSR.is_REGISTER()) {
    if (KSR.registrar.save("location", 0) < 0) KSR.sl.sl_reply_error();
    KSR.x.exit();
  }
  if (KSR.siputils.has_totag() > 0) {
    if (KSR.rr.loose_route() > 0) {
      if (KSR.is_BYE()) KSR.rtpproxy.rtpproxy_manage("co");
      KSR.tm.t_relay();
      KSR.x.exit();
    }
    if (KSR.is_ACK()) {
      if (KSR.tm.t_check_trans() > 0) KSR.tm.t_relay();
      KSR.x.exit();
    }
    KSR.sl.sl_send_reply(404, "Not here");
    KSR.x.exit();
  }
  if (KSR.is_INVITE()) KSR.rr.record_route();
  if (KSR.registrar.lookup("location") < 0) {
    KSR.sl.send_reply(404, "Not Found");
    KSR.x.exit();
  }
  if (KSR.is_INVITE()) {
    KSR.tm.t_on_branch("ksr_branch_manage");
    KSR.tm.t_on_reply("ksr_onreply_manage");
  }
  KSR.tm.t_relay();
}

function ksr_branch_manage() {
  KSR.rtpproxy.rtpproxy_manage("co");
}

function ksr_onreply_manage() {
  var scode = KSR.kx.get_status();
  if (scode > 100 && scode < 299) KSR.rtpproxy.rtpproxy_manage("co");
}
