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
import { runXhttpCases, type XhttpCase, type XhttpRequest } from '../helpers/xhttp-cases.js';

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
    expect: { status: 200, headers: { 'X-R': '-1,1,1,1,1,-1', 'X-Ok': '1' }, stats: { 'sl:sent_replies': REPEAT, 'sl:failures': REPEAT, 'script:deferred_mismatch': 0 } },
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

/** A GET of `path` that must be answered with `expect`. */
function get(path: string, expect: XhttpRequest['expect']): XhttpRequest {
  return { method: 'GET', path, expect };
}

const xhttpCases: XhttpCase[] = [
  {
    name: 'a queued xhttp_reply answers every request; a second one returns -1 and sends nothing',
    lua: `if KSR.pv.get("$hu") == "/show" then
        KSR.xhttp.xhttp_reply(200, "OK", "text/plain", KSR.pv.get("$shv(last)"))
      else
        local a = KSR.xhttp.xhttp_reply(200, "OK", "text/plain", "first")
        local b = KSR.xhttp.xhttp_reply(500, "Again", "text/plain", "second")
        KSR.pv.sets("$shv(last)", a .. "," .. b)
      end`,
    js: `if (KSR.pv.get("$hu") === "/show") {
        KSR.xhttp.xhttp_reply(200, "OK", "text/plain", KSR.pv.get("$shv(last)"));
      } else {
        const a = KSR.xhttp.xhttp_reply(200, "OK", "text/plain", "first");
        const b = KSR.xhttp.xhttp_reply(500, "Again", "text/plain", "second");
        KSR.pv.sets("$shv(last)", a + "," + b);
      }`,
    requests: [...Array.from({ length: REPEAT }, () => get('/pair', { status: 200, body: 'first' })), get('/show', { status: 200, body: '1,-1' })],
    stats: { 'xhttp:replies': REPEAT + 1, 'script:deferred_mismatch': 0 },
  },
  {
    name: 'a header added before a queued xhttp_reply goes with it',
    lua: 'KSR.hdr.append_to_reply("X-A: 1\\r\\n")\nKSR.xhttp.xhttp_reply(200, "OK", "text/plain", "with header")',
    js: 'KSR.hdr.append_to_reply("X-A: 1\\r\\n");\nKSR.xhttp.xhttp_reply(200, "OK", "text/plain", "with header");',
    requests: Array.from({ length: REPEAT }, () => get('/h', { status: 200, body: 'with header', headers: { 'x-a': '1' } })),
    stats: { 'xhttp:replies': REPEAT, 'script:deferred_mismatch': 0 },
  },
  {
    name: 'a header node refuses, added first: xhttp_reply sees it and returns -1 (then the default 500)',
    lua: `local hu = KSR.pv.get("$hu")
      if hu == "/show" then
        KSR.xhttp.xhttp_reply(200, "OK", "text/plain", KSR.pv.get("$shv(r)"))
      else
        if hu == "/bad" then KSR.hdr.append_to_reply("Bad Name: x\\r\\n") end
        KSR.pv.sets("$shv(r)", KSR.xhttp.xhttp_reply(200, "OK", "text/plain", "x"))
      end`,
    js: `const hu = KSR.pv.get("$hu");
      if (hu === "/show") {
        KSR.xhttp.xhttp_reply(200, "OK", "text/plain", KSR.pv.get("$shv(r)"));
      } else {
        if (hu === "/bad") KSR.hdr.append_to_reply("Bad Name: x\\r\\n");
        KSR.pv.sets("$shv(r)", KSR.xhttp.xhttp_reply(200, "OK", "text/plain", "x"));
      }`,
    // the reply is learnt (and then queued) where it comes first; after the header it must not be
    requests: [
      ...Array.from({ length: REPEAT }, () => get('/plain', { status: 200, body: 'x' })),
      get('/bad', { status: 500 }),
      get('/show', { status: 200, body: '-1' }),
    ],
    stats: { 'xhttp:replies': REPEAT + 1, 'xhttp:default_replies': 1, 'script:deferred_mismatch': 0 },
  },
  {
    name: 'a Content-Type node refuses: -1 and nothing sent, so the script can answer otherwise',
    lua: 'if KSR.xhttp.xhttp_reply(200, "OK", "text/plain\\r\\nX-Evil: 1", "x") < 0 then KSR.xhttp.xhttp_reply(400, "Bad Type", "", "") end',
    js: 'if (KSR.xhttp.xhttp_reply(200, "OK", "text/plain\\r\\nX-Evil: 1", "x") < 0) KSR.xhttp.xhttp_reply(400, "Bad Type", "", "");',
    requests: Array.from({ length: REPEAT }, () => get('/t', { status: 400, reason: 'Bad Type', headers: { 'x-evil': null } })),
    stats: { 'xhttp:replies': REPEAT, 'script:deferred_mismatch': 0 },
  },
];

runXhttpCases('call plans: repeated HTTP requests', xhttpCases);
