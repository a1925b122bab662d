/**
 * The JS engine answers many KSR calls inside the isolate once a callback has run twice
 * (host/engines/js/call-plan.ts): pure and read calls from answers computed for each message,
 * reply headers and stateless replies queued and run later. Every case here sends the same
 * request several times to one server, so the later messages take that path; the Lua engine
 * runs the same cases as the reference. What the script sees and what the peer receives must
 * not change from the first message to the last.
 */
import assert from 'node:assert/strict';
import { runBindingCases, type BindingCase } from '../helpers/binding-cases.js';

/** enough for the plan to be learnt (second run) and used (third run on) */
const REPEAT = 5;

const cases: BindingCase[] = [
  {
    name: 'planned reads are answered afresh for every message',
    lua: `local sp = KSR.pv.get("$sp")
      local ci = KSR.pv.get("$ci")
      KSR.hdr.append_to_reply("X-Sp: " .. sp .. "\\r\\n")
      KSR.hdr.append_to_reply("X-Ci: " .. ci .. "\\r\\n")
      KSR.sl.sl_send_reply(200, "OK")`,
    js: `const sp = KSR.pv.get("$sp");
      const ci = KSR.pv.get("$ci");
      KSR.hdr.append_to_reply("X-Sp: " + sp + "\\r\\n");
      KSR.hdr.append_to_reply("X-Ci: " + ci + "\\r\\n");
      KSR.sl.sl_send_reply(200, "OK");`,
    request: { rport: true },
    repeat: REPEAT,
    expect: {
      status: 200,
      check: (r) => {
        // every message comes from a new port and has its own Call-ID
        assert.equal(r.getHeader('X-Sp'), r.topVia.rport);
        assert.equal(r.getHeader('X-Ci'), r.callId);
      },
    },
  },
  {
    name: 'a read after a call that changes something sees the change',
    lua: `local before = KSR.pv.get("$ru")
      KSR.hdr.append_to_reply("X-Before: " .. before .. "\\r\\n")
      KSR.pv.sets("$ru", "sip:changed@example.net")
      KSR.hdr.append_to_reply("X-After: " .. KSR.pv.get("$ru") .. "\\r\\n")
      KSR.hdr.append_to_reply("X-Kx: " .. KSR.kx.get_ruri() .. "\\r\\n")
      KSR.pv.sets("$var(n)", "v1")
      KSR.hdr.append_to_reply("X-Var: " .. KSR.pv.get("$var(n)") .. "\\r\\n")
      KSR.sl.sl_send_reply(200, "OK")`,
    js: `const before = KSR.pv.get("$ru");
      KSR.hdr.append_to_reply("X-Before: " + before + "\\r\\n");
      KSR.pv.sets("$ru", "sip:changed@example.net");
      KSR.hdr.append_to_reply("X-After: " + KSR.pv.get("$ru") + "\\r\\n");
      KSR.hdr.append_to_reply("X-Kx: " + KSR.kx.get_ruri() + "\\r\\n");
      KSR.pv.sets("$var(n)", "v1");
      KSR.hdr.append_to_reply("X-Var: " + KSR.pv.get("$var(n)") + "\\r\\n");
      KSR.sl.sl_send_reply(200, "OK");`,
    request: { ruri: 'sip:first@127.0.0.1' },
    repeat: REPEAT,
    expect: { status: 200, headers: { 'X-Before': 'sip:first@127.0.0.1', 'X-After': 'sip:changed@example.net', 'X-Kx': 'sip:changed@example.net', 'X-Var': 'v1' } },
  },
  {
    name: 'queued calls run, in order, before a call that cannot be queued',
    lua: `KSR.hdr.append_to_reply("X-A: 1\\r\\n")
      KSR.hdr.append_to_reply("X-B: 2\\r\\n")
      KSR.sl.send_reply(200, "OK")`,
    js: `KSR.hdr.append_to_reply("X-A: 1\\r\\n");
      KSR.hdr.append_to_reply("X-B: 2\\r\\n");
      KSR.sl.send_reply(200, "OK");`,
    repeat: REPEAT,
    expect: {
      status: 200,
      check: (r) => {
        const text = r.raw.toString('latin1');
        const a = text.indexOf('X-A: 1\r\n');
        const b = text.indexOf('X-B: 2\r\n');
        assert.ok(a > 0 && b > a, `X-A then X-B in the reply:\n${text}`);
      },
    },
  },
  {
    name: 'the script is given each queued call\'s own result',
    lua: `local r = {
        KSR.hdr.append_to_reply("no colon here"),
        KSR.hdr.append_to_reply("X-Ok: 1\\r\\n"),
        KSR.hdr.remove("X-None"),
        KSR.hdr.remove("X-Custom"),
        KSR.hdr.append("X-Fwd: 1\\r\\n"),
        KSR.sl.sl_send_reply(99, "Too Low"),
      }
      KSR.hdr.append_to_reply("X-R: " .. table.concat(r, ",") .. "\\r\\n")
      KSR.sl.sl_send_reply(200, "OK")`,
    js: `const r = [
        KSR.hdr.append_to_reply("no colon here"),
        KSR.hdr.append_to_reply("X-Ok: 1\\r\\n"),
        KSR.hdr.remove("X-None"),
        KSR.hdr.remove("X-Custom"),
        KSR.hdr.append("X-Fwd: 1\\r\\n"),
        KSR.sl.sl_send_reply(99, "Too Low"),
      ];
      KSR.hdr.append_to_reply("X-R: " + r.join(",") + "\\r\\n");
      KSR.sl.sl_send_reply(200, "OK");`,
    request: { headers: ['X-Custom: abc'] },
    repeat: REPEAT,
    expect: { status: 200, headers: { 'X-R': '-1,1,-1,1,1,-1', 'X-Ok': '1' }, stats: { 'sl:sent_replies': REPEAT, 'sl:failures': REPEAT, 'script:deferred_mismatch': 0 } },
  },
  {
    name: 'a reply sent before the script fails is sent, and no 500 follows',
    lua: 'KSR.hdr.append_to_reply("X-Then: error\\r\\n")\nKSR.sl.sl_send_reply(200, "OK")\nerror("after the reply")',
    js: 'KSR.hdr.append_to_reply("X-Then: error\\r\\n");\nKSR.sl.sl_send_reply(200, "OK");\nthrow new Error("after the reply");',
    repeat: REPEAT,
    expect: { status: 200, headers: { 'X-Then': 'error' }, stats: { 'script:errors': REPEAT, 'sl:sent_replies': REPEAT } },
  },
  {
    name: 'a reply sent before KSR.x.exit() is sent',
    lua: 'KSR.hdr.append_to_reply("X-Then: exit\\r\\n")\nKSR.sl.sl_send_reply(202, "Accepted")\nKSR.x.exit()\nKSR.sl.sl_send_reply(500, "Not Reached")',
    js: 'KSR.hdr.append_to_reply("X-Then: exit\\r\\n");\nKSR.sl.sl_send_reply(202, "Accepted");\nKSR.x.exit();\nKSR.sl.sl_send_reply(500, "Not Reached");',
    repeat: REPEAT,
    expect: { status: 202, headers: { 'X-Then': 'exit' }, stats: { 'sl:sent_replies': REPEAT } },
  },
  {
    name: 'a reply sent before the CPU limit stops the script is sent',
    lua: 'KSR.hdr.append_to_reply("X-Then: loop\\r\\n")\nKSR.sl.sl_send_reply(200, "OK")\nwhile true do end',
    js: 'KSR.hdr.append_to_reply("X-Then: loop\\r\\n");\nKSR.sl.sl_send_reply(200, "OK");\nwhile (true) {}',
    config: { limits: { cpu_ms: 30 } },
    repeat: 3,
    expect: { status: 200, headers: { 'X-Then': 'loop' }, stats: { 'script:cpu_limit': 3, 'sl:sent_replies': 3 } },
  },
  {
    name: 'an ACK is never answered: the queued reply returns -1 as the real one does',
    lua: 'if KSR.sl.sl_send_reply(200, "OK") < 0 then KSR.pv.sets("$var(x)", "refused") end',
    js: 'if (KSR.sl.sl_send_reply(200, "OK") < 0) KSR.pv.sets("$var(x)", "refused");',
    request: { method: 'ACK', toTag: 'theirs' },
    repeat: REPEAT,
    expect: { noReply: true, stats: { 'sl:failures': REPEAT, 'sl:sent_replies': 0, 'script:deferred_mismatch': 0 } },
  },
];

runBindingCases('call plans: repeated messages', cases);
