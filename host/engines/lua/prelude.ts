/**
 * Lua run before the user's script. It makes the stop sentinel (KSR.x.exit, KSR.x.drop, the
 * CPU limit) impossible to swallow with the script's own pcall/xpcall/coroutine.resume: in
 * Kamailio a Lua pcall catches KSR.x.exit(); here, once exit is called, the callback is over.
 */
export const LUA_PRELUDE = `
local stop = ...
local rawpcall, rawxpcall, error = pcall, xpcall, error
local function pass(ok, ...)
  if not ok and (...) == stop then error(stop, 0) end
  return ok, ...
end
pcall = function(f, ...) return pass(rawpcall(f, ...)) end
xpcall = function(f, h, ...)
  return pass(rawxpcall(f, function(e) if e == stop then return e end return h(e) end, ...))
end
if coroutine then
  local rawresume = coroutine.resume
  coroutine.resume = function(co, ...) return pass(rawresume(co, ...)) end
end
`;
