// kemihost example routing script: a small stateless proxy, written the way a Kamailio KEMI
// JavaScript script is (ksr_request_route, the KSR object, Kamailio's return values).
// The same logic as scripts/default.lua.
//
//   OPTIONS to this server      -> 200 OK (keepalive / health check)
//   a request for another host  -> forwarded statelessly to its R-URI
//   anything else for us        -> 404 Not Found
//   HTTP GET /health            -> 200 "ok" (ksr_xhttp_event, wired by scripts/default.yaml)

function ksr_request_route() {
  if (KSR.maxfwd.process_maxfwd(10) < 0) {
    KSR.sl.sl_send_reply(483, "Too Many Hops");
    KSR.x.exit();
  }

  if (KSR.is_OPTIONS() && KSR.is_myself_ruri()) {
    KSR.hdr.append_to_reply("Allow: INVITE, ACK, CANCEL, BYE, OPTIONS\r\n");
    KSR.sl.sl_send_reply(200, "OK");
    KSR.x.exit();
  }

  if (!KSR.is_myself_ruri()) {
    KSR.dbg("forwarding " + KSR.pv.get("$rm") + " to " + KSR.pv.get("$ru") + "\n");
    if (KSR.forward() < 0) {
      KSR.sl.sl_send_reply(500, "Forward Failed");
    }
    KSR.x.exit();
  }

  if (KSR.is_ACK()) {
    KSR.x.exit();
  }
  KSR.sl.sl_send_reply(404, "Not Found");
}

function ksr_reply_route() {
  KSR.dbg("reply " + KSR.pv.get("$rs") + " " + KSR.pv.get("$rr") + " for " + KSR.pv.get("$ci") + "\n");
}

// HTTP requests on the xhttp listener (modules.xhttp.event_callback: ksr_xhttp_event)
function ksr_xhttp_event(evname) {
  if (KSR.pv.get("$rm") === "GET" && KSR.pv.get("$(hu{url.path})") === "/health") {
    KSR.xhttp.xhttp_reply(200, "OK", "text/plain", "ok\n");
    return;
  }
  KSR.xhttp.xhttp_reply(404, "Not Found", "text/plain", "not found\n");
}
