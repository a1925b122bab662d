/**
 * textops/textopsx header editing and sdpops codec removal, the same script under Kamailio 5.6
 * and kemihost: the UAS compares the relayed request (the edited headers, the SDP body) and the
 * return codes the script put into X-Rc. The script routes by R-URI user.
 */
import { isReply, isRequest } from './harness/peer.js';
import { compatSuite } from './harness/suite.js';
import { STANDARD_MASKS, VIA_PARAM_ORDER, type View } from './harness/view.js';

const SDP = [
  'v=0', 'o=- 1 1 IN IP4 127.0.0.1', 's=-', 'c=IN IP4 127.0.0.1', 't=0 0',
  'm=audio 4000 RTP/AVP 0 8 18 101', 'a=rtpmap:0 PCMU/8000', 'a=rtpmap:8 PCMA/8000', 'a=rtpmap:18 G729/8000', 'a=fmtp:18 annexb=no',
  'a=rtpmap:101 telephone-event/8000', 'a=fmtp:101 0-16', 'a=X-vendor:1', 'a=sendrecv',
  'm=video 0 RTP/AVP 96', 'a=rtpmap:96 H264/90000', '',
].join('\r\n');

/** Lua calls (each a KSR call with string arguments: valid Lua 5.1 and ES5 alike) whose results go into X-Rc. */
const HDR_CALLS = [
  'KSR.textops.remove_hf("X-Secret")', 'KSR.textops.remove_hf_re("^X-Drop")', 'KSR.textops.replace("X-A: one", "X-A: uno")',
  'KSR.textops.subst_hf("Subject", "/foo/bar/g", "a")', 'KSR.textops.search("X-A: uno")', 'KSR.textops.is_present_hf("X-Secret")',
  'KSR.textops.search_hf("Subject", "foo", "")', 'KSR.textops.search_body("hello")', 'KSR.textops.has_body_type("text/plain")',
  'KSR.textops.search("(")', 'KSR.textops.cmp_str("a", "b")', 'KSR.textops.str_find("abc", "c")', 'KSR.textops.in_list("b", "a,b", ",")',
  'KSR.textops.replace_body_all("l", "L")',
];
const SDP_CALLS = [
  'KSR.sdpops.remove_codecs_by_name("PCMA,G729", "")', 'KSR.sdpops.remove_line_by_prefix("a=X-", "")', 'KSR.sdpops.sdp_with_media("video")',
  'KSR.sdpops.sdp_with_media("image")', 'KSR.sdpops.sdp_with_codecs_by_name("PCMU,GSM")', 'KSR.sdpops.sdp_with_transport("RTP/AVP")',
  'KSR.sdpops.sdp_with_active_media("video")', 'KSR.sdpops.sdp_content()', 'KSR.sdpops.sdp_with_ice()',
];
/** two edits of the same m= line */
const SDP_TWICE = ['KSR.sdpops.remove_codecs_by_name("PCMA", "")', 'KSR.sdpops.remove_codecs_by_name("G729", "")'];
/** two edits of the same header text */
const OVERLAP = ['KSR.textops.replace("X-A: one", "X-A: uno")', 'KSR.textops.replace("X-A: one", "X-A: eins")'];
/** msg_apply_changes, then the script reads its edit; keep_hf_re */
const APPLY = ['KSR.textops.is_present_hf("X-New")', 'KSR.textopsx.msg_apply_changes()', 'KSR.textops.is_present_hf("X-New")', 'KSR.textopsx.keep_hf_re("^(X-New|X-A)$")'];

function rcLua(calls: readonly string[]): string {
  return calls.map((c, i) => `  local r${String(i)} = ${c}`).join('\n')
    + `\n  KSR.hdr.append("X-Rc: " .. ${calls.map((_c, i) => `tostring(r${String(i)})`).join(' .. "," .. ')} .. "\\r\\n")`;
}

function rcJs(calls: readonly string[]): string {
  return calls.map((c, i) => `  var r${String(i)} = ${c};`).join('\n')
    + `\n  KSR.hdr.append("X-Rc: " + [${calls.map((_c, i) => `r${String(i)}`).join(', ')}].join(",") + "\\r\\n");`;
}

const lua = (p: Readonly<Record<string, number>>): string => `
function ksr_request_route()
  local user = KSR.pv.get("$rU")
  if user == "hdr" then
${rcLua(HDR_CALLS)}
  elseif user == "sdp" then
${rcLua(SDP_CALLS)}
  elseif user == "sdp2" then
${rcLua(SDP_TWICE)}
  elseif user == "dup" then
${rcLua(OVERLAP)}
  elseif user == "reply" then
    KSR.textops.replace("X-A: one", "X-A: uno")
    KSR.tm.t_on_reply("ONREPLY")
  elseif user == "apply" then
    KSR.hdr.append("X-New: 1\\r\\n")
${rcLua(APPLY)}
  end
  KSR.pv.sets("$du", "sip:127.0.0.1:${String(p.uas)}")
  if KSR.tm.t_relay() < 0 then KSR.sl.sl_reply_error() end
end
function ONREPLY()
  if KSR.pv.get("$rs") == 486 then
    local a = KSR.textopsx.change_reply_status(404, "Not Here")
    local b = KSR.textops.replace("X-R: a", "X-R: b")
    KSR.hdr.append("X-Rc: " .. tostring(a) .. "," .. tostring(b) .. "," .. tostring(KSR.textops.search("X-A: one")) .. "\\r\\n")
  end
end
`;

const js = (p: Readonly<Record<string, number>>): string => `
function ksr_request_route() {
  var user = KSR.pv.get("$rU");
  if (user == "hdr") {
${rcJs(HDR_CALLS)}
  } else if (user == "sdp") {
${rcJs(SDP_CALLS)}
  } else if (user == "sdp2") {
${rcJs(SDP_TWICE)}
  } else if (user == "dup") {
${rcJs(OVERLAP)}
  } else if (user == "reply") {
    KSR.textops.replace("X-A: one", "X-A: uno");
    KSR.tm.t_on_reply("ONREPLY");
  } else if (user == "apply") {
    KSR.hdr.append("X-New: 1\\r\\n");
${rcJs(APPLY)}
  }
  KSR.pv.sets("$du", "sip:127.0.0.1:${String(p.uas)}");
  if (KSR.tm.t_relay() < 0) KSR.sl.sl_reply_error();
}
function ONREPLY() {
  if (KSR.pv.get("$rs") == 486) {
    var a = KSR.textopsx.change_reply_status(404, "Not Here");
    var b = KSR.textops.replace("X-R: a", "X-R: b");
    KSR.hdr.append("X-Rc: " + a + "," + b + "," + KSR.textops.search("X-A: one") + "\\r\\n");
  }
}
`;

const AT_UAS: View = {
  headers: ['via', 'x-a', 'x-b', 'x-secret', 'x-drop-1', 'x-drop-2', 'subject', 'content-type', 'content-length', 'x-rc'],
  body: true,
  masks: [...STANDARD_MASKS, VIA_PARAM_ORDER],
};
const AT_UAC: View = { headers: [], masks: STANDARD_MASKS };

compatSuite({
  title: 'textops / sdpops: header editing and SDP codec removal',
  peers: ['uac', 'uas'],
  modules: { tm: {}, sl: {}, textops: {}, textopsx: {}, sdpops: {} },
  script: (p) => ({ lua: lua(p), js: js(p) }),
  cases: [
    {
      name: 'headers removed, replaced and substituted; the body edited; return codes',
      async flow({ peers: { uac, uas } }) {
        uac.request({
          method: 'MESSAGE', ruri: 'sip:hdr@127.0.0.1', body: 'hello world',
          headers: ['X-A: one', 'X-B: two', 'X-Secret: s3cr3t', 'X-Drop-1: a', 'X-Drop-2: b', 'Subject: foo and foo', 'Content-Type: text/plain'],
        });
        uas.reply(await uas.waitFor(isRequest('MESSAGE'), 'MESSAGE'), 200, 'OK');
        await uac.waitFor(isReply(200), '200');
      },
      compare: { uas: AT_UAS, uac: AT_UAC },
    },
    {
      name: 'codecs removed from the SDP with their attribute lines; sdp tests',
      async flow({ peers: { uac, uas } }) {
        uac.request({ method: 'MESSAGE', ruri: 'sip:sdp@127.0.0.1', body: SDP, headers: ['Content-Type: application/sdp'] });
        uas.reply(await uas.waitFor(isRequest('MESSAGE'), 'MESSAGE'), 200, 'OK');
        await uac.waitFor(isReply(200), '200');
      },
      compare: { uas: AT_UAS, uac: AT_UAC },
    },
    {
      name: 'two removals on the same m= line',
      async flow({ peers: { uac, uas } }) {
        uac.request({ method: 'MESSAGE', ruri: 'sip:sdp2@127.0.0.1', body: SDP, headers: ['Content-Type: application/sdp'] });
        uas.reply(await uas.waitFor(isRequest('MESSAGE'), 'MESSAGE'), 200, 'OK');
        await uac.waitFor(isReply(200), '200');
      },
      compare: { uas: AT_UAS, uac: AT_UAC },
    },
    {
      name: 'two replacements of the same text',
      differs: { doc: 'textops, textopsx, sdpops: two edits of the same bytes', replace: [['x-a: unoX-A: eins', 'x-a: uno'], ['x-rc: 1,1', 'x-rc: 1,-1']] },
      async flow({ peers: { uac, uas } }) {
        uac.request({ method: 'MESSAGE', ruri: 'sip:dup@127.0.0.1', headers: ['X-A: one', 'X-B: two'] });
        uas.reply(await uas.waitFor(isRequest('MESSAGE'), 'MESSAGE'), 200, 'OK');
        await uac.waitFor(isReply(200), '200');
      },
      compare: { uas: AT_UAS, uac: AT_UAC },
    },
    {
      name: 'msg_apply_changes makes an added header readable; keep_hf_re removes the others',
      async flow({ peers: { uac, uas } }) {
        uac.request({ method: 'MESSAGE', ruri: 'sip:apply@127.0.0.1', headers: ['X-A: one', 'X-B: two', 'Subject: s'] });
        uas.reply(await uas.waitFor(isRequest('MESSAGE'), 'MESSAGE'), 200, 'OK');
        await uac.waitFor(isReply(200), '200');
      },
      compare: { uas: { ...AT_UAS, headers: [...AT_UAS.headers, 'x-new', 'user-agent'] }, uac: AT_UAC },
    },
    {
      name: 'a tm reply route changes the status and edits the reply; the request kept its own edits',
      async flow({ peers: { uac, uas } }) {
        uac.request({ method: 'MESSAGE', ruri: 'sip:reply@127.0.0.1', headers: ['X-A: one'] });
        uas.reply(await uas.waitFor(isRequest('MESSAGE'), 'MESSAGE'), 486, 'Busy Here', { headers: ['X-R: a'] });
        await uac.waitFor(isReply(404), '404');
      },
      compare: { uas: AT_UAS, uac: { headers: ['x-r', 'x-rc'], masks: STANDARD_MASKS } },
    },
  ],
});
