/**
 * Waiting in place (host/waits.ts), both engines from one table: a Lua callback calls
 * KSR.async.ms_sleep like any function; a JS callback is an `async function` and awaits it.
 * The callback keeps its locals and its transaction across the wait, waits again, waits inside
 * pcall/try, stops after a wait; a wait past limits.wait_ms returns -1; a callback that cannot
 * wait gets -1 at once and nothing is held. Real SIP over UDP: what the UAC receives, and the
 * statistics.
 */
import { runBindingCases, type BindingCase } from '../helpers/binding-cases.js';

/** ksr_request_route as an async function in JS (Lua callbacks need nothing) */
function jsAsync(body: string, extra = ''): string {
  return `async function ksr_request_route() {\n${body}\n}\n${extra}`;
}

const cases: BindingCase[] = [
  {
    name: 'ms_sleep keeps the locals and the transaction, and returns 1',
    full: true,
    lua: `function ksr_request_route()
      local v = "kept"
      KSR.pv.sets("$var(x)", "pv")
      local rc = KSR.async.ms_sleep(40)
      KSR.hdr.append_to_reply("X-Got: " .. v .. "," .. rc .. "," .. KSR.pv.get("$var(x)") .. "\\r\\n")
      KSR.tm.t_reply(200, "Slept")
    end`,
    js: jsAsync(`const v = "kept";
      KSR.pv.sets("$var(x)", "pv");
      const rc = await KSR.async.ms_sleep(40);
      KSR.hdr.append_to_reply("X-Got: " + v + "," + rc + "," + KSR.pv.get("$var(x)") + "\\r\\n");
      KSR.tm.t_reply(200, "Slept");`),
    request: { method: 'MESSAGE' },
    expect: {
      status: 200,
      reason: 'Slept',
      headers: { 'X-Got': 'kept,1,pv' },
      stats: { 'wait:started': 1, 'wait:resumed': 1, 'wait:waiting': 0, 'tm:created': 1, 'tm:suspended': 0, 'script:errors': 0 },
    },
  },
  {
    name: 'nested waits in one callback, in a helper function and a loop',
    full: true,
    lua: `local function step(path, n)
      KSR.async.ms_sleep(10)
      return path .. "," .. n
    end
    function ksr_request_route()
      local path = "start"
      for i = 1, 3 do path = step(path, i) end
      KSR.hdr.append_to_reply("X-Path: " .. path .. "\\r\\n")
      KSR.tm.t_reply(200, "OK")
    end`,
    js: `async function step(path, n) {
      await KSR.async.ms_sleep(10);
      return path + "," + n;
    }
    ${jsAsync(`let path = "start";
      for (let i = 1; i <= 3; i++) path = await step(path, i);
      KSR.hdr.append_to_reply("X-Path: " + path + "\\r\\n");
      KSR.tm.t_reply(200, "OK");`)}`,
    request: { method: 'MESSAGE' },
    expect: { status: 200, headers: { 'X-Path': 'start,1,2,3' }, stats: { 'wait:started': 3, 'wait:resumed': 3, 'tm:created': 1 } },
  },
  {
    name: 'a wait inside pcall / try, and an error after it is caught there',
    full: true,
    lua: `function ksr_request_route()
      local ok, err = pcall(function()
        KSR.async.ms_sleep(10)
        error("after the wait")
      end)
      KSR.hdr.append_to_reply("X-Caught: " .. tostring(ok) .. "," .. tostring(string.find(err, "after the wait") ~= nil) .. "\\r\\n")
      KSR.tm.t_reply(200, "OK")
    end`,
    js: jsAsync(`let caught = "no";
      try {
        await KSR.async.ms_sleep(10);
        throw new Error("after the wait");
      } catch (e) {
        caught = String(e.message === "after the wait");
      }
      KSR.hdr.append_to_reply("X-Caught: false," + caught + "\\r\\n");
      KSR.tm.t_reply(200, "OK");`),
    request: { method: 'MESSAGE' },
    expect: { status: 200, headers: { 'X-Caught': 'false,true' }, stats: { 'wait:resumed': 1, 'script:errors': 0 } },
  },
  {
    name: 'KSR.x.exit() after a wait ends the callback, also inside pcall / try',
    full: true,
    lua: `function ksr_request_route()
      KSR.async.ms_sleep(10)
      KSR.tm.t_reply(200, "Before Exit")
      pcall(function() KSR.x.exit() end)
      KSR.tm.t_reply(500, "After Exit")
    end`,
    js: jsAsync(`await KSR.async.ms_sleep(10);
      KSR.tm.t_reply(200, "Before Exit");
      try { KSR.x.exit(); } catch (e) { /* swallowed: the stop still holds */ }
      KSR.tm.t_reply(500, "After Exit");`),
    request: { method: 'MESSAGE' },
    expect: { status: 200, reason: 'Before Exit', stats: { 'wait:resumed': 1 } },
  },
  {
    name: 'a script error after a wait answers 500 and is counted',
    full: true,
    lua: `function ksr_request_route()
      KSR.async.ms_sleep(10)
      local t = nil
      t.field = 1
    end`,
    js: jsAsync(`await KSR.async.ms_sleep(10);
      const t = null;
      t.field = 1;`),
    request: { method: 'MESSAGE' },
    expect: { status: 500, stats: { 'wait:resumed': 1, 'script:errors': 1 } },
  },
  {
    name: 'a wait longer than limits.wait_ms returns -1 and the callback goes on',
    full: true,
    lua: `function ksr_request_route()
      local rc = KSR.async.ms_sleep(5000)
      KSR.tm.t_reply(200, "rc " .. rc)
    end`,
    js: jsAsync(`const rc = await KSR.async.ms_sleep(5000);
      KSR.tm.t_reply(200, "rc " + rc);`),
    config: { limits: { wait_ms: 60 } },
    request: { method: 'MESSAGE' },
    expect: { status: 200, reason: 'rc -1', stats: { 'wait:timeouts': 1, 'wait:resumed': 1, 'wait:waiting': 0 } },
  },
  {
    name: 'a callback that cannot wait gets -1 at once and holds nothing (a JS plain function; a coroutine of the Lua script)',
    full: true,
    lua: `function ksr_request_route()
      local co = coroutine.wrap(function() return KSR.async.ms_sleep(10) end)
      local rc = co()
      KSR.sl.sl_send_reply(200, "rc " .. rc)
    end`,
    js: `function ksr_request_route() {
      const rc = KSR.async.ms_sleep(10);
      KSR.sl.sl_send_reply(200, "rc " + rc);
    }`,
    request: { method: 'MESSAGE' },
    expect: { status: 200, reason: 'rc -1', stats: { 'wait:refused': 1, 'wait:started': 0, 'tm:created': 0 } },
  },
  {
    name: 'an ACK cannot be held: the wait is refused with -1 and the callback goes on',
    full: true,
    lua: `function ksr_request_route()
      if KSR.is_ACK() then
        local rc = KSR.async.ms_sleep(10)
        KSR.pv.sets("$var(rc)", rc)
        return
      end
      KSR.sl.sl_send_reply(200, "OK")
    end`,
    js: jsAsync(`if (KSR.is_ACK()) {
        const rc = await KSR.async.ms_sleep(10);
        KSR.pv.sets("$var(rc)", String(rc));
        return;
      }
      KSR.sl.sl_send_reply(200, "OK");`),
    request: { method: 'ACK' },
    expect: { noReply: true, stats: { 'wait:refused': 1, 'wait:started': 0, 'script:errors': 0 } },
  },
  {
    name: 'one wait at a time: a second call while one waits gets -1 (JS: Promise.all; Lua: from a table.sort comparator, which cannot yield)',
    full: true,
    lua: `function ksr_request_route()
      local rcs = {}
      table.sort({ 2, 1 }, function(a, b) rcs[#rcs + 1] = KSR.async.ms_sleep(10); return a < b end)
      local first = KSR.async.ms_sleep(10)
      KSR.tm.t_reply(200, first .. " " .. rcs[1])
    end`,
    js: jsAsync(`const [first, second] = await Promise.all([KSR.async.ms_sleep(10), KSR.async.ms_sleep(10)]);
      KSR.tm.t_reply(200, first + " " + second);`),
    request: { method: 'MESSAGE' },
    expect: { status: 200, reason: '1 -1', stats: { 'wait:refused': 1, 'wait:started': 1, 'wait:resumed': 1 } },
  },
  {
    name: 'a callback that suspends on something no KSR call settles fails with 500 (JS: a promise never resolved; Lua: coroutine.yield())',
    full: true,
    lua: `function ksr_request_route()
      coroutine.yield()
      KSR.sl.sl_send_reply(200, "never")
    end`,
    js: jsAsync(`await new Promise(() => {});
      KSR.sl.sl_send_reply(200, "never");`),
    request: { method: 'MESSAGE' },
    expect: { status: 500, stats: { 'script:errors': 1, 'wait:started': 0 } },
  },
  {
    name: 'an async callback that awaits no KSR call goes on in the same turn (JS: await null)',
    full: true,
    lua: `function ksr_request_route()
      local v = "same"
      KSR.sl.sl_send_reply(200, v)
    end`,
    js: jsAsync(`const v = await Promise.resolve("same");
      KSR.sl.sl_send_reply(200, v);`),
    request: { method: 'MESSAGE' },
    expect: { status: 200, reason: 'same', stats: { 'wait:started': 0, 'script:errors': 0 } },
  },
];

runBindingCases('waiting in place', cases);
