import { runBindingCases, type BindingCase } from '../helpers/binding-cases.js';

const cases: BindingCase[] = [
  {
    name: 'KSR.x.exit() ends the callback: nothing after it runs',
    lua: 'KSR.sl.sl_send_reply(200, "before exit")\nKSR.x.exit()\nKSR.sl.sl_send_reply(500, "after exit")',
    js: 'KSR.sl.sl_send_reply(200, "before exit");\nKSR.x.exit();\nKSR.sl.sl_send_reply(500, "after exit");',
    expect: { status: 200, reason: 'before exit', stats: { 'core:sent_replies': 1, 'script:errors': 0 } },
  },
  {
    name: 'KSR.x.drop() ends the callback and sends nothing (no 500 either)',
    lua: 'KSR.x.drop()\nKSR.sl.sl_send_reply(500, "after drop")',
    js: 'KSR.x.drop();\nKSR.sl.sl_send_reply(500, "after drop");',
    expect: { noReply: true, stats: { 'core:drop_requests': 1, 'script:errors': 0 } },
  },
  {
    name: 'a script cannot swallow KSR.x.exit() with its own pcall / try',
    lua: `local ok = pcall(function() KSR.x.exit() end)
      KSR.sl.sl_send_reply(500, "exit was swallowed")`,
    js: `try { KSR.x.exit(); } catch (e) { /* swallowed? */ }
      KSR.sl.sl_send_reply(500, "exit was swallowed");`,
    expect: { noReply: true, stats: { 'script:errors': 0 } },
  },
  {
    name: 'KSR.x.probe() is callable and returns nothing',
    lua: 'KSR.x.probe()\nKSR.sl.sl_send_reply(200, "probed")',
    js: 'KSR.x.probe();\nKSR.sl.sl_send_reply(200, "probed");',
    expect: { status: 200, reason: 'probed' },
  },
  {
    name: 'a route that ends without replying sends nothing (Kamailio drops silently)',
    lua: 'local x = 1',
    js: 'const x = 1;',
    expect: { noReply: true, stats: { 'script:errors': 0 } },
  },
  {
    name: 'a script error answers 500 and is counted',
    lua: 'local t = nil\nlocal y = t.field',
    js: 'const t = null;\nconst y = t.field;',
    expect: { status: 500, reason: 'Server Internal Error', stats: { 'script:errors': 1 } },
  },
  {
    name: 'a bad argument to a KSR function is a script error: 500',
    lua: 'KSR.sl.sl_send_reply("abc", "OK")',
    js: 'KSR.sl.sl_send_reply("abc", "OK");',
    expect: { status: 500, stats: { 'script:errors': 1 } },
  },
  {
    name: 'a bad argument can be caught by the script like any error',
    lua: `local ok, err = pcall(KSR.sl.sl_send_reply, nil, "OK")
      KSR.hdr.append_to_reply("X-Err: " .. tostring(err) .. "\\r\\n")
      KSR.sl.sl_send_reply(200, "caught")`,
    js: `let msg = "";
      try { KSR.sl.sl_send_reply(null, "OK"); } catch (e) { msg = e.message; }
      KSR.hdr.append_to_reply("X-Err: " + msg + "\\r\\n");
      KSR.sl.sl_send_reply(200, "caught");`,
    expect: { status: 200, reason: 'caught', headers: { 'X-Err': /bad argument #1 to 'KSR\.sl\.sl_send_reply' \(int expected, got (nil|null)\)/ } },
  },
  {
    name: 'a route that replied and then failed sends no second reply',
    lua: 'KSR.sl.sl_send_reply(202, "Accepted")\nerror("boom")',
    js: 'KSR.sl.sl_send_reply(202, "Accepted");\nthrow new Error("boom");',
    expect: { status: 202, stats: { 'script:errors': 1, 'core:sent_replies': 1 } },
  },
];

runBindingCases('KSR.x and script errors', cases);
