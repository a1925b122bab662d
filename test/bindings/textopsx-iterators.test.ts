/**
 * textopsx's header and body-line iterators (bindings/textopsx-iterators.ts), both engines: a
 * real UAC, and a next hop that shows what the edits made of the request.
 */
import assert from 'node:assert/strict';
import { runBindingCases, type BindingCase } from '../helpers/binding-cases.js';

const X = 'KSR.textopsx';
const FORWARD = { method: 'MESSAGE', ruri: 'sip:bob@127.0.0.1:{next}', headers: ['X-A: 1', 'X-B:  two  ', 'Content-Type: text/plain'], body: 'v=0\r\no=x\r\ns=-\r\n' };

const cases: BindingCase[] = [
  {
    name: 'walk every header: names in order, values as Kamailio keeps them (leading blanks skipped, trailing kept); $hfitname / $hfitbody',
    lua: `local names, b = {}, ""
${X}.hf_iterator_start("i1")
while ${X}.hf_iterator_next("i1") > 0 do
  names[#names + 1] = ${X}.hf_iterator_hname("i1")
  if KSR.pv.get("$hfitname(i1)") == "X-B" then b = "[" .. KSR.pv.get("$hfitbody(i1)") .. "][" .. ${X}.hf_iterator_hbody("i1") .. "]" end
end
KSR.hdr.append_to_reply("X-Names: " .. table.concat(names, ",") .. "\\r\\n")
KSR.hdr.append_to_reply("X-Body: " .. b .. "\\r\\n")
KSR.hdr.append_to_reply("X-After: " .. tostring(${X}.hf_iterator_next("i1")) .. "," .. tostring(${X}.hf_iterator_hname("i1")) .. "," .. ${X}.hf_iterator_end("i1") .. "\\r\\n")
KSR.sl.sl_send_reply(200, "OK")`,
    js: `var names = [], b = "";
${X}.hf_iterator_start("i1");
while (${X}.hf_iterator_next("i1") > 0) {
  names.push(${X}.hf_iterator_hname("i1"));
  if (KSR.pv.get("$hfitname(i1)") == "X-B") b = "[" + KSR.pv.get("$hfitbody(i1)") + "][" + ${X}.hf_iterator_hbody("i1") + "]";
}
KSR.hdr.append_to_reply("X-Names: " + names.join(",") + "\\r\\n");
KSR.hdr.append_to_reply("X-Body: " + b + "\\r\\n");
KSR.hdr.append_to_reply("X-After: " + ${X}.hf_iterator_next("i1") + "," + ${X}.hf_iterator_hname("i1") + "," + ${X}.hf_iterator_end("i1") + "\\r\\n");
KSR.sl.sl_send_reply(200, "OK");`,
    request: { method: 'OPTIONS', ruri: 'sip:127.0.0.1:{udp}', headers: ['X-A: 1', 'X-B:  two  '] },
    expect: { status: 200, headers: { 'X-Names': /^Via,.*,Call-ID,.*X-A,X-B,Content-Length$/, 'X-Body': '[two  ][two  ]', 'X-After': /^-1,(null|nil),1$/ } },
  },
  {
    name: 'prev from the first header goes back to the start; past the last, next and prev answer -1 until started again',
    lua: `${X}.hf_iterator_start("p")
local r = {}
r[#r + 1] = ${X}.hf_iterator_next("p") .. ${X}.hf_iterator_hname("p")
r[#r + 1] = ${X}.hf_iterator_next("p") .. ${X}.hf_iterator_hname("p")
r[#r + 1] = ${X}.hf_iterator_prev("p") .. ${X}.hf_iterator_hname("p")
r[#r + 1] = ${X}.hf_iterator_prev("p") .. tostring(${X}.hf_iterator_hname("p"))
r[#r + 1] = ${X}.hf_iterator_next("p") .. ${X}.hf_iterator_hname("p")
while ${X}.hf_iterator_next("p") > 0 do end
r[#r + 1] = ${X}.hf_iterator_next("p") .. ${X}.hf_iterator_prev("p")
r[#r + 1] = ${X}.hf_iterator_start("p") .. ${X}.hf_iterator_next("p")
KSR.hdr.append_to_reply("X-R: " .. table.concat(r, ",") .. "\\r\\n")
KSR.sl.sl_send_reply(200, "OK")`,
    js: `${X}.hf_iterator_start("p");
var r = [];
r.push(${X}.hf_iterator_next("p") + ${X}.hf_iterator_hname("p"));
r.push(${X}.hf_iterator_next("p") + ${X}.hf_iterator_hname("p"));
r.push(${X}.hf_iterator_prev("p") + ${X}.hf_iterator_hname("p"));
r.push(${X}.hf_iterator_prev("p") + String(${X}.hf_iterator_hname("p")));
r.push(${X}.hf_iterator_next("p") + ${X}.hf_iterator_hname("p"));
while (${X}.hf_iterator_next("p") > 0) {}
r.push("" + ${X}.hf_iterator_next("p") + ${X}.hf_iterator_prev("p"));
r.push("" + ${X}.hf_iterator_start("p") + ${X}.hf_iterator_next("p"));
KSR.hdr.append_to_reply("X-R: " + r.join(",") + "\\r\\n");
KSR.sl.sl_send_reply(200, "OK");`,
    request: { method: 'OPTIONS', ruri: 'sip:127.0.0.1:{udp}' },
    expect: { status: 200, headers: { 'X-R': /^1Via,1Max-Forwards,1Via,1(null|nil),1Via,-1-1,11$/ } },
  },
  {
    name: 'at most four iterator names per message; unknown names and names of 32 characters answer -1',
    ...(() => {
      const calls = ['hf_iterator_start("a")', 'hf_iterator_start("b")', 'hf_iterator_start("c")', 'hf_iterator_start("d")', 'hf_iterator_start("e")', 'hf_iterator_start("a")',
        'hf_iterator_next("zz")', 'hf_iterator_end("zz")', 'hf_iterator_rm("zz")', `bl_iterator_start("${'n'.repeat(32)}")`, 'bl_iterator_next("zz")', 'hf_iterator_rm("a")'];
      return {
        lua: `KSR.hdr.append_to_reply("X-R: " .. ${calls.map((c) => `${X}.${c}`).join(' .. "," .. ')} .. "\\r\\n")\nKSR.sl.sl_send_reply(200, "OK")`,
        js: `KSR.hdr.append_to_reply("X-R: " + [${calls.map((c) => `${X}.${c}`).join(', ')}].join(",") + "\\r\\n");\nKSR.sl.sl_send_reply(200, "OK");`,
      };
    })(),
    request: { method: 'OPTIONS', ruri: 'sip:127.0.0.1:{udp}' },
    expect: { status: 200, headers: { 'X-R': '1,1,1,1,-1,1,-1,-1,-1,-1,-1,-1' } },
  },
  {
    name: 'remove the current header, add after and before it: what the next hop receives',
    lua: `${X}.hf_iterator_start("i")
while ${X}.hf_iterator_next("i") > 0 do
  local n = ${X}.hf_iterator_hname("i")
  if n == "X-A" then ${X}.hf_iterator_rm("i") end
  if n == "X-B" then
    ${X}.hf_iterator_insert("i", "X-Before-B: 1\\r\\n")
    ${X}.hf_iterator_append("i", "X-After-B: 2\\r\\n")
  end
end
KSR.forward()`,
    js: `${X}.hf_iterator_start("i");
while (${X}.hf_iterator_next("i") > 0) {
  var n = ${X}.hf_iterator_hname("i");
  if (n == "X-A") ${X}.hf_iterator_rm("i");
  if (n == "X-B") {
    ${X}.hf_iterator_insert("i", "X-Before-B: 1\\r\\n");
    ${X}.hf_iterator_append("i", "X-After-B: 2\\r\\n");
  }
}
KSR.forward();`,
    request: FORWARD, next: { transport: 'udp' },
    expect: {
      status: 200,
      forwarded: {
        headers: { 'X-A': null, 'X-B': 'two' },
        check: (req) => {
          const names = req.raw.toString('latin1').split('\r\n\r\n')[0]?.split('\r\n').slice(1).map((l) => l.slice(0, l.indexOf(':'))) ?? [];
          const b = names.indexOf('X-B');
          assert.deepEqual(names.slice(b - 1, b + 2), ['X-Before-B', 'X-B', 'X-After-B'], names.join(' '));
        },
      },
    },
  },
  {
    name: 'walk the body lines: remove one, add after another, $blitval with its line end; Content-Length follows',
    lua: `local seen = {}
${X}.bl_iterator_start("b")
while ${X}.bl_iterator_next("b") > 0 do
  local l = ${X}.bl_iterator_value("b")
  seen[#seen + 1] = #KSR.pv.get("$blitval(b)")
  if string.sub(l, 1, 2) == "o=" then ${X}.bl_iterator_rm("b") end
  if string.sub(l, 1, 2) == "s=" then ${X}.bl_iterator_append("b", "a=x\\r\\n") end
  if string.sub(l, 1, 2) == "v=" then ${X}.bl_iterator_insert("b", "; first\\r\\n") end
end
KSR.hdr.append("X-Lens: " .. table.concat(seen, ",") .. "\\r\\n")
KSR.forward()`,
    js: `var seen = [];
${X}.bl_iterator_start("b");
while (${X}.bl_iterator_next("b") > 0) {
  var l = ${X}.bl_iterator_value("b");
  seen.push(KSR.pv.get("$blitval(b)").length);
  if (l.substring(0, 2) == "o=") ${X}.bl_iterator_rm("b");
  if (l.substring(0, 2) == "s=") ${X}.bl_iterator_append("b", "a=x\\r\\n");
  if (l.substring(0, 2) == "v=") ${X}.bl_iterator_insert("b", "; first\\r\\n");
}
KSR.hdr.append("X-Lens: " + seen.join(",") + "\\r\\n");
KSR.forward();`,
    request: FORWARD, next: { transport: 'udp' },
    expect: {
      status: 200,
      forwarded: {
        headers: { 'X-Lens': '5,5,5' },
        check: (req) => {
          assert.equal(req.body.toString(), '; first\r\nv=0\r\ns=-\r\na=x\r\n');
          assert.equal(req.getHeader('Content-Length'), String(req.body.length));
        },
      },
    },
  },
  {
    name: 'no body: bl_iterator_start answers -1 and the value is null',
    lua: `KSR.hdr.append_to_reply("X-R: " .. ${X}.bl_iterator_start("b") .. "," .. ${X}.bl_iterator_next("b") .. "," .. tostring(${X}.bl_iterator_value("b")) .. "\\r\\n")\nKSR.sl.sl_send_reply(200, "OK")`,
    js: `KSR.hdr.append_to_reply("X-R: " + [${X}.bl_iterator_start("b"), ${X}.bl_iterator_next("b"), ${X}.bl_iterator_value("b")].join(",") + "\\r\\n");\nKSR.sl.sl_send_reply(200, "OK");`,
    request: { method: 'OPTIONS', ruri: 'sip:127.0.0.1:{udp}' },
    expect: { status: 200, headers: { 'X-R': /^-1,-1,(nil|null|)$/ } },
  },
];

runBindingCases('textopsx header and body-line iterators', cases);
