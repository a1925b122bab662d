/**
 * The routing script the dispatcher binding tests share, in Lua and JS: the request says what
 * to do (X-Test, X-Set, X-Alg…), the reply carries what the calls returned, and "relay" sends
 * the request on to the selected gateway with a failure route that moves to the next one.
 */
export const LUA = `
local function h(n) return KSR.pv.get("$hdr(" .. n .. ")") end
local function num(n, d) local v = h(n); if v == nil then return d end; return tonumber(v) end
local function add(n, v)
  if v == nil then v = "null" end
  KSR.hdr.append_to_reply(n .. ": " .. tostring(v) .. "\\r\\n")
end

function ksr_request_route()
  if KSR.is_ACK() then
    if KSR.tm.t_check_trans() > 0 then KSR.tm.t_relay() end
    return
  end
  local test = h("X-Test") or "relay"
  local set = num("X-Set", 1)
  local alg = num("X-Alg", 4)
  if test == "relay" or test == "domain" then
    local rc
    if test == "domain" then rc = KSR.dispatcher.ds_select_domain(set, alg) else rc = KSR.dispatcher.ds_select_dst(set, alg) end
    if rc < 0 then
      KSR.sl.sl_send_reply(404, "No destination")
      return
    end
    KSR.tm.t_on_failure("ksr_dispatch_failure")
    KSR.tm.t_relay()
    return
  elseif test == "select" then
    local n = num("X-N", 1)
    local lim = num("X-Limit", 0)
    local dus = {}
    local rc = -1
    if h("X-Du") ~= nil then KSR.pv.sets("$du", h("X-Du")) end
    for i = 1, n do
      if h("X-Rules") ~= nil then
        rc = KSR.dispatcher.ds_select_routes_limit(h("X-Rules"), h("X-Mode") or "d", lim)
      elseif lim > 0 then rc = KSR.dispatcher.ds_select_dst_limit(set, alg, lim) else rc = KSR.dispatcher.ds_select_dst(set, alg) end
      if rc > 0 then dus[#dus + 1] = KSR.pv.get("$du") end
    end
    add("X-Rc", rc)
    add("X-Dus", table.concat(dus, ","))
    add("X-Cnt", KSR.pv.get("$xavp(_dsctx_=>cnt)"))
    add("X-Attrs", KSR.pv.get("$xavp(_dsdst_=>attrs)"))
    add("X-Grp", KSR.pv.get("$xavp(_dsdst_=>grp)"))
    local order = {}
    if rc > 0 then
      order[1] = KSR.pv.get("$du")
      while KSR.dispatcher.ds_next_dst() > 0 do order[#order + 1] = KSR.pv.get("$du") end
    end
    add("X-Order", table.concat(order, ","))
    add("X-Next-Rc", KSR.dispatcher.ds_next_dst())
  elseif test == "from" then
    add("X-L", KSR.dispatcher.ds_is_from_list(set))
    add("X-Lists", KSR.dispatcher.ds_is_from_lists())
    add("X-Setid", KSR.pv.get("$var(setid)"))
    add("X-Attrs", KSR.pv.get("$var(attrs)"))
    add("X-Mode", KSR.dispatcher.ds_is_from_list_mode(set, num("X-Mode", 0)))
    add("X-Uri-Rc", KSR.dispatcher.ds_is_from_list_uri(set, num("X-Mode", 0), h("X-Uri") or ""))
  elseif test == "state" then
    local u = h("X-Uri") or ""
    add("X-Exists", KSR.dispatcher.ds_list_exists(set))
    add("X-Active", KSR.dispatcher.ds_is_active(set))
    add("X-Active-Uri", KSR.dispatcher.ds_is_active_uri(set, u))
    local mark = h("X-Mark")
    if mark ~= nil then
      add("X-Sel", KSR.dispatcher.ds_select_dst(set, alg))
      if mark == "-" then add("X-Mark-Rc", KSR.dispatcher.ds_mark_dst()) else add("X-Mark-Rc", KSR.dispatcher.ds_mark_dst_state(mark)) end
      add("X-After", KSR.dispatcher.ds_select_dst(set, alg))
      add("X-Du", KSR.pv.get("$du"))
      add("X-Active-After", KSR.dispatcher.ds_is_active_uri(set, u))
    end
  elseif test == "load" then
    if h("X-Unset") ~= nil then add("X-Unset", KSR.dispatcher.ds_load_unset()) else add("X-Update", KSR.dispatcher.ds_load_update()) end
  elseif test == "events" then
    add("X-Events", KSR.pv.get("$shv(events)"))
  elseif test == "reload" then
    add("X-Reload", KSR.dispatcher.ds_reload())
    add("X-Reload-Again", KSR.dispatcher.ds_reload())
  end
  KSR.sl.sl_send_reply(200, "OK")
end

function ksr_dispatch_failure()
  if KSR.tm.t_is_canceled() > 0 then return end
  local code = KSR.pv.get("$T_reply_code")
  if code >= 500 or code == 408 then
    if h("X-Mark-Failed") ~= nil then KSR.dispatcher.ds_mark_dst() end
    if KSR.dispatcher.ds_next_dst() > 0 then
      KSR.tm.t_on_failure("ksr_dispatch_failure")
      KSR.tm.t_relay()
    end
  end
end
`;

export const JS = `
function h(n) { return KSR.pv.get("$hdr(" + n + ")"); }
function num(n, d) { var v = h(n); return v === null ? d : Number(v); }
function add(n, v) { KSR.hdr.append_to_reply(n + ": " + String(v) + "\\r\\n"); }

function ksr_request_route() {
  if (KSR.is_ACK()) {
    if (KSR.tm.t_check_trans() > 0) KSR.tm.t_relay();
    return;
  }
  var test = h("X-Test") || "relay";
  var set = num("X-Set", 1);
  var alg = num("X-Alg", 4);
  var rc, u;
  if (test === "relay" || test === "domain") {
    rc = test === "domain" ? KSR.dispatcher.ds_select_domain(set, alg) : KSR.dispatcher.ds_select_dst(set, alg);
    if (rc < 0) {
      KSR.sl.sl_send_reply(404, "No destination");
      return;
    }
    KSR.tm.t_on_failure("ksr_dispatch_failure");
    KSR.tm.t_relay();
    return;
  } else if (test === "select") {
    var n = num("X-N", 1);
    var lim = num("X-Limit", 0);
    var dus = [];
    rc = -1;
    if (h("X-Du") !== null) KSR.pv.sets("$du", h("X-Du"));
    for (var i = 0; i < n; i++) {
      if (h("X-Rules") !== null) rc = KSR.dispatcher.ds_select_routes_limit(h("X-Rules"), h("X-Mode") || "d", lim);
      else rc = lim > 0 ? KSR.dispatcher.ds_select_dst_limit(set, alg, lim) : KSR.dispatcher.ds_select_dst(set, alg);
      if (rc > 0) dus.push(KSR.pv.get("$du"));
    }
    add("X-Rc", rc);
    add("X-Dus", dus.join(","));
    add("X-Cnt", KSR.pv.get("$xavp(_dsctx_=>cnt)"));
    add("X-Attrs", KSR.pv.get("$xavp(_dsdst_=>attrs)"));
    add("X-Grp", KSR.pv.get("$xavp(_dsdst_=>grp)"));
    var order = [];
    if (rc > 0) {
      order.push(KSR.pv.get("$du"));
      while (KSR.dispatcher.ds_next_dst() > 0) order.push(KSR.pv.get("$du"));
    }
    add("X-Order", order.join(","));
    add("X-Next-Rc", KSR.dispatcher.ds_next_dst());
  } else if (test === "from") {
    add("X-L", KSR.dispatcher.ds_is_from_list(set));
    add("X-Lists", KSR.dispatcher.ds_is_from_lists());
    add("X-Setid", KSR.pv.get("$var(setid)"));
    add("X-Attrs", KSR.pv.get("$var(attrs)"));
    add("X-Mode", KSR.dispatcher.ds_is_from_list_mode(set, num("X-Mode", 0)));
    add("X-Uri-Rc", KSR.dispatcher.ds_is_from_list_uri(set, num("X-Mode", 0), h("X-Uri") || ""));
  } else if (test === "state") {
    u = h("X-Uri") || "";
    add("X-Exists", KSR.dispatcher.ds_list_exists(set));
    add("X-Active", KSR.dispatcher.ds_is_active(set));
    add("X-Active-Uri", KSR.dispatcher.ds_is_active_uri(set, u));
    var mark = h("X-Mark");
    if (mark !== null) {
      add("X-Sel", KSR.dispatcher.ds_select_dst(set, alg));
      add("X-Mark-Rc", mark === "-" ? KSR.dispatcher.ds_mark_dst() : KSR.dispatcher.ds_mark_dst_state(mark));
      add("X-After", KSR.dispatcher.ds_select_dst(set, alg));
      add("X-Du", KSR.pv.get("$du"));
      add("X-Active-After", KSR.dispatcher.ds_is_active_uri(set, u));
    }
  } else if (test === "load") {
    if (h("X-Unset") !== null) add("X-Unset", KSR.dispatcher.ds_load_unset()); else add("X-Update", KSR.dispatcher.ds_load_update());
  } else if (test === "events") {
    add("X-Events", KSR.pv.get("$shv(events)"));
  } else if (test === "reload") {
    add("X-Reload", KSR.dispatcher.ds_reload());
    add("X-Reload-Again", KSR.dispatcher.ds_reload());
  }
  KSR.sl.sl_send_reply(200, "OK");
}

function ksr_dispatch_failure() {
  if (KSR.tm.t_is_canceled() > 0) return;
  var code = KSR.pv.get("$T_reply_code");
  if (code >= 500 || code === 408) {
    if (h("X-Mark-Failed") !== null) KSR.dispatcher.ds_mark_dst();
    if (KSR.dispatcher.ds_next_dst() > 0) {
      KSR.tm.t_on_failure("ksr_dispatch_failure");
      KSR.tm.t_relay();
    }
  }
}
`;
