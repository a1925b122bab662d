-- The auth benchmark route: the example script's ksr_route_auth for a REGISTER (auth_check of
-- the From host against the subscriber table, flag 1; a challenge without qop when it fails),
-- then 200 OK in place of the registrar.
function ksr_request_route()
  if KSR.auth_db.auth_check(KSR.kx.gete_fhost(), "subscriber", 1) < 0 then
    KSR.auth.auth_challenge(KSR.kx.gete_fhost(), 0)
    KSR.x.exit()
  end
  KSR.sl.sl_send_reply(200, "OK")
end
