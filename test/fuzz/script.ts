/**
 * The routing script a fuzz campaign runs: it reads what a message carries through as many
 * bindings as it can (PVs, sanity, maxfwd, header tests), relays some requests statefully and
 * some statelessly, calls a JSON-RPC server, and answers HTTP, so that a parser or a binding
 * that mishandles damaged input is reached. The same logic in Lua and in JS.
 */
import type { EngineName } from '../helpers/runtime.js';

const PVS = ['$ru', '$rU', '$rd', '$rp', '$ou', '$fu', '$fU', '$fd', '$fn', '$ft', '$tu', '$tU', '$td', '$tn', '$tt', '$ci', '$cs',
  '$rm', '$rs', '$rr', '$ua', '$hdr(Via)', '$hdr(Contact)', '$hdr(Route)', '$hdrc(Via)', '$rb', '$bs', '$ml', '$hu', '$(hu{url.path})'];
const LIST = PVS.map((p) => `"${p}"`).join(', ');

const LUA = `
local pvs = { ${LIST} }
function ksr_request_route()
  for _, p in ipairs(pvs) do KSR.pv.get(p) end
  if KSR.hdr.is_present("X-Probe") > 0 then KSR.sl.sl_send_reply(200, "probe"); KSR.x.exit() end
  if KSR.sanity.sanity_check(17895, 7) < 0 then KSR.x.exit() end
  if KSR.maxfwd.process_maxfwd(10) < 0 then KSR.sl.sl_send_reply(483, "Too Many Hops"); KSR.x.exit() end
  KSR.siputils.has_totag()
  KSR.hdr.append("X-Fuzz: 1\\r\\n")
  if KSR.hdr.is_present("X-Rpc") > 0 then
    KSR.jsonrpc.request("fuzz", "[1]", "RPC_DONE", "RPC_DONE", "$var(r)")
    KSR.x.exit()
  end
  if KSR.is_INVITE() or KSR.is_BYE() then
    KSR.tm.t_on_failure("FAIL")
    KSR.tm.t_relay()
    KSR.x.exit()
  end
  if KSR.is_REGISTER() then KSR.sl.sl_send_reply(200, "OK"); KSR.x.exit() end
  if KSR.is_myself_ruri() then KSR.sl.sl_send_reply(404, "Not Here"); KSR.x.exit() end
  KSR.forward()
end
function RPC_DONE()
  KSR.pv.get("$var(r)")
  KSR.tm.t_reply(200, "rpc")
end
function FAIL()
  KSR.pv.get("$T_reply_code")
end
function ksr_reply_route()
  for _, p in ipairs(pvs) do KSR.pv.get(p) end
end
function ksr_xhttp_event(ev)
  KSR.pv.get("$hu"); KSR.pv.get("$rb"); KSR.pv.get("$hdr(Content-Type)")
  KSR.xhttp.xhttp_reply(200, "OK", "text/plain", "ok")
end
`;

const JS = `
var pvs = [ ${LIST} ];
function ksr_request_route() {
  for (var i = 0; i < pvs.length; i++) KSR.pv.get(pvs[i]);
  if (KSR.hdr.is_present("X-Probe") > 0) { KSR.sl.sl_send_reply(200, "probe"); KSR.x.exit(); }
  if (KSR.sanity.sanity_check(17895, 7) < 0) KSR.x.exit();
  if (KSR.maxfwd.process_maxfwd(10) < 0) { KSR.sl.sl_send_reply(483, "Too Many Hops"); KSR.x.exit(); }
  KSR.siputils.has_totag();
  KSR.hdr.append("X-Fuzz: 1\\r\\n");
  if (KSR.hdr.is_present("X-Rpc") > 0) {
    KSR.jsonrpc.request("fuzz", "[1]", "RPC_DONE", "RPC_DONE", "$var(r)");
    KSR.x.exit();
  }
  if (KSR.is_INVITE() || KSR.is_BYE()) { KSR.tm.t_on_failure("FAIL"); KSR.tm.t_relay(); KSR.x.exit(); }
  if (KSR.is_REGISTER()) { KSR.sl.sl_send_reply(200, "OK"); KSR.x.exit(); }
  if (KSR.is_myself_ruri()) { KSR.sl.sl_send_reply(404, "Not Here"); KSR.x.exit(); }
  KSR.forward();
}
function RPC_DONE() { KSR.pv.get("$var(r)"); KSR.tm.t_reply(200, "rpc"); }
function FAIL() { KSR.pv.get("$T_reply_code"); }
function ksr_reply_route() { for (var i = 0; i < pvs.length; i++) KSR.pv.get(pvs[i]); }
function ksr_xhttp_event(ev) {
  KSR.pv.get("$hu"); KSR.pv.get("$rb"); KSR.pv.get("$hdr(Content-Type)");
  KSR.xhttp.xhttp_reply(200, "OK", "text/plain", "ok");
}
`;

export const FUZZ_SCRIPT: Record<EngineName, string> = { lua: LUA, js: JS };
