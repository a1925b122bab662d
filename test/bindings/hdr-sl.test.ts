import assert from 'node:assert/strict';
import { runBindingCases, type BindingCase } from '../helpers/binding-cases.js';

const cases: BindingCase[] = [
  {
    name: 'sl_send_reply builds an RFC 3261 reply: Via, From, Call-ID, CSeq copied, To-tag added',
    lua: 'KSR.sl.sl_send_reply(404, "Not Here")',
    js: 'KSR.sl.sl_send_reply(404, "Not Here");',
    request: { callId: 'cid-9@test', fromTag: 'ft9', cseq: 9, branch: 'z9hG4bKbranch9' },
    expect: {
      status: 404,
      reason: 'Not Here',
      headers: { 'Call-ID': 'cid-9@test', CSeq: '9 OPTIONS', From: '"Alice" <sip:alice@example.com>;tag=ft9', 'Content-Length': '0', Server: 'kemihost' },
      check: (r) => {
        assert.match(r.to.tag, /^[0-9a-f]{8}-[0-9a-f]{8}$/);
        assert.equal(r.topVia.branch, 'z9hG4bKbranch9');
        assert.equal(r.topVia.received, '', 'sent-by equals the source address: no received');
      },
    },
  },
  {
    name: 'rport in the Via is filled with the source port; the To-tag is stable per request',
    lua: 'KSR.hdr.append_to_reply("X-Tag: " .. KSR.sl.get_reply_totag() .. "\\r\\n")\nKSR.sl.send_reply(200, "OK")',
    js: 'KSR.hdr.append_to_reply("X-Tag: " + KSR.sl.get_reply_totag() + "\\r\\n");\nKSR.sl.send_reply(200, "OK");',
    request: { rport: true },
    expect: {
      status: 200,
      check: (r) => {
        assert.match(r.topVia.rport ?? '', /^\d+$/);
        assert.equal(r.topVia.received, '127.0.0.1');
        assert.equal(r.getHeader('X-Tag'), r.to.tag);
      },
    },
  },
  {
    name: 'a request that already has a To-tag keeps it',
    lua: 'KSR.sl.sl_send_reply(481, "Call/Transaction Does Not Exist")',
    js: 'KSR.sl.sl_send_reply(481, "Call/Transaction Does Not Exist");',
    request: { method: 'BYE', toTag: 'theirs' },
    expect: { status: 481, check: (r) => { assert.equal(r.to.tag, 'theirs'); } },
  },
  {
    name: 'append_to_reply adds headers to the reply, CRLF added when missing',
    lua: 'KSR.hdr.append_to_reply("X-A: 1\\r\\n")\nKSR.hdr.append_to_reply("X-B: 2")\nKSR.sl.sl_send_reply(200, "OK")',
    js: 'KSR.hdr.append_to_reply("X-A: 1\\r\\n");\nKSR.hdr.append_to_reply("X-B: 2");\nKSR.sl.sl_send_reply(200, "OK");',
    expect: { status: 200, headers: { 'X-A': '1', 'X-B': '2' } },
  },
  {
    name: 'hdr.is_present / hdr.get read the received message; append does not change them',
    lua: `KSR.hdr.append("X-New: 1\\r\\n")
      KSR.hdr.append_to_reply("X-P: " .. KSR.hdr.is_present("X-Custom") .. "," .. KSR.hdr.is_present("X-New") .. "\\r\\n")
      KSR.hdr.append_to_reply("X-G: " .. tostring(KSR.hdr.get("x-custom")) .. "\\r\\n")
      KSR.sl.sl_send_reply(200, "OK")`,
    js: `KSR.hdr.append("X-New: 1\\r\\n");
      KSR.hdr.append_to_reply("X-P: " + KSR.hdr.is_present("X-Custom") + "," + KSR.hdr.is_present("X-New") + "\\r\\n");
      KSR.hdr.append_to_reply("X-G: " + String(KSR.hdr.get("x-custom")) + "\\r\\n");
      KSR.sl.sl_send_reply(200, "OK");`,
    request: { headers: ['X-Custom: abc'] },
    expect: { status: 200, headers: { 'X-P': '1,-1', 'X-G': 'abc' } },
  },
  {
    name: 'replies over TCP go back on the same connection',
    lua: 'KSR.sl.sl_send_reply(200, "TCP OK")',
    js: 'KSR.sl.sl_send_reply(200, "TCP OK");',
    transport: 'tcp',
    expect: { status: 200, reason: 'TCP OK', headers: { 'X-Proto': null }, check: (r) => { assert.equal(r.topVia.transport, 'TCP'); } },
  },
  {
    name: 'an out-of-range reply code is refused with -1, nothing is sent',
    lua: 'local rc = KSR.sl.sl_send_reply(99, "Bad")\nKSR.hdr.append_to_reply("X-Rc: " .. rc .. "\\r\\n")\nKSR.sl.sl_send_reply(200, "OK")',
    js: 'const rc = KSR.sl.sl_send_reply(99, "Bad");\nKSR.hdr.append_to_reply("X-Rc: " + rc + "\\r\\n");\nKSR.sl.sl_send_reply(200, "OK");',
    expect: { status: 200, headers: { 'X-Rc': '-1' } },
  },
];

runBindingCases('KSR.hdr and KSR.sl', cases);
