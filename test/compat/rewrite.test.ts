/**
 * What a script changes in a relayed request and what it reads from one: $ru/$rU/$rd/$du
 * rewriting, hdr append/insert/remove with $hdr/$hdrc read before and after, Max-Forwards under
 * maxfwd's max_limit, and the kx getters, message pseudo-variables and siputils/corex/core tests
 * echoed in a reply. The script routes by R-URI user; a MESSAGE is relayed statefully to one UAS.
 */
import { isReply, isRequest } from './harness/peer.js';
import { compatSuite, type CompatCase } from './harness/suite.js';
import { STANDARD_MASKS, VIA_PARAM_ORDER, type View } from './harness/view.js';

const READS = [
  ['X-Kx-Ruri', 'KSR.kx.get_ruri()'], ['X-Kx-Ouri', 'KSR.kx.get_ouri()'], ['X-Kx-Nhuri', 'KSR.kx.get_nhuri()'],
  ['X-Kx-Furi', 'KSR.kx.get_furi()'], ['X-Kx-Turi', 'KSR.kx.get_turi()'], ['X-Kx-Method', 'KSR.kx.get_method()'],
  ['X-Kx-Callid', 'KSR.kx.get_callid()'], ['X-Kx-Srcip', 'KSR.kx.get_srcip()'], ['X-Kx-Srcport', 'KSR.kx.get_srcport()'],
  ['X-Kx-Rcvip', 'KSR.kx.get_rcvip()'], ['X-Kx-Rcvport', 'KSR.kx.get_rcvport()'], ['X-Kx-Proto', 'KSR.kx.get_proto()'],
  ['X-Kx-Protoid', 'KSR.kx.get_protoid()'], ['X-Kx-Bodylen', 'KSR.kx.get_bodylen()'], ['X-Kx-Msglen', 'KSR.kx.get_msglen()'],
  ['X-Kx-Msgtype', 'KSR.kx.get_msgtype()'],
  ['X-Pv-Rm', 'KSR.pv.get("$rm")'], ['X-Pv-Ru', 'KSR.pv.get("$ru")'], ['X-Pv-Ruser', 'KSR.pv.get("$rU")'], ['X-Pv-Rd', 'KSR.pv.get("$rd")'],
  ['X-Pv-Rp', 'KSR.pv.get("$rp")'], ['X-Pv-Ou', 'KSR.pv.get("$ou")'], ['X-Pv-Du', 'KSR.pv.get("$du")'], ['X-Pv-Ci', 'KSR.pv.get("$ci")'],
  ['X-Pv-Cs', 'KSR.pv.get("$cs")'], ['X-Pv-Si', 'KSR.pv.get("$si")'], ['X-Pv-Sp', 'KSR.pv.get("$sp")'], ['X-Pv-Ri', 'KSR.pv.get("$Ri")'],
  ['X-Pv-Rp-Local', 'KSR.pv.get("$Rp")'], ['X-Pv-Pr', 'KSR.pv.get("$pr")'], ['X-Pv-Ua', 'KSR.pv.get("$ua")'],
  ['X-Pv-Hdr', 'KSR.pv.get("$hdr(X-Token)")'], ['X-Pv-Hdrc', 'KSR.pv.get("$hdrc(Via)")'], ['X-Pv-Missing', 'KSR.pv.get("$hdr(X-None)")'],
  ['X-Pv-Bs', 'KSR.pv.get("$bs")'], ['X-Pv-Rb', 'KSR.pv.get("$rb")'],
  ['X-Corex-Ruri-User', 'KSR.corex.has_ruri_user()'], ['X-Corex-Ua', 'KSR.corex.has_user_agent()'],
  ['X-Su-Request', 'KSR.siputils.is_request()'], ['X-Su-Reply', 'KSR.siputils.is_reply()'], ['X-Su-Totag', 'KSR.siputils.has_totag()'],
  ['X-Su-First-Hop', 'KSR.siputils.is_first_hop()'], ['X-Su-Uri-Param', 'KSR.siputils.uri_param("transport")'],
  ['X-Su-Uri-Param-Value', 'KSR.siputils.uri_param_value("transport", "udp")'], ['X-Su-Uri-Param-Other', 'KSR.siputils.uri_param("lr")'],
  ['X-Su-Numeric', 'KSR.siputils.is_numeric("12345")'], ['X-Su-Not-Numeric', 'KSR.siputils.is_numeric("12a")'],
  ['X-Su-Alphanum', 'KSR.siputils.is_alphanum("ab12")'], ['X-Su-Tel', 'KSR.siputils.is_tel_number("+15551234567")'],
  ['X-Su-Is-Uri', 'KSR.siputils.is_uri("sip:a@example.com")'], ['X-Su-Not-Uri', 'KSR.siputils.is_uri("nope")'],
  ['X-Core-Method-In', 'KSR.is_method_in("IO")'], ['X-Core-Method', 'KSR.is_method("OPTIONS")'],
  ['X-Core-Myself-Srcip', 'KSR.is_myself_srcip()'], ['X-Core-Myself-Furi', 'KSR.is_myself_furi()'],
] as const;

const lua = (uas: number): string => `
local function add(name, v)
  if v == nil then v = "<null>" end
  KSR.hdr.append_to_reply(name .. ": " .. tostring(v) .. "\\r\\n")
end

function ksr_request_route()
  if KSR.maxfwd.process_maxfwd(10) < 0 then
    KSR.sl.sl_send_reply(483, "Too Many Hops")
    KSR.x.exit()
  end
  local user = KSR.pv.get("$rU")
  if user == "kx" then
    KSR.pv.sets("$rU", "changed")
    KSR.pv.sets("$du", "sip:127.0.0.1:9;transport=tcp")
${READS.map(([h, e]) => `    add("${h}", ${e})`).join('\n')}
    KSR.sl.sl_send_reply(200, "Read")
    KSR.x.exit()
  end
  if user == "rewrite" then
    KSR.hdr.append("X-Was-Secret: " .. KSR.pv.get("$hdr(X-Secret)") .. "\\r\\n")
    KSR.hdr.remove("X-Secret")
    KSR.hdr.append("X-Still-Present: " .. KSR.hdr.is_present("X-Secret") .. "\\r\\n")
    KSR.hdr.append("X-Rm-Absent: " .. KSR.hdr.remove("X-Absent") .. "\\r\\n")
    KSR.hdr.insert("X-First: 1\\r\\n")
    KSR.hdr.append("X-Vias: " .. KSR.pv.get("$hdrc(Via)") .. "\\r\\n")
    KSR.pv.sets("$rU", "bob")
    KSR.pv.sets("$rd", "example.net")
  elseif user == "ruri" then
    KSR.pv.sets("$ru", "sip:carol@example.org;user=phone")
  end
  KSR.pv.sets("$du", "sip:127.0.0.1:${String(uas)};transport=udp")
  if KSR.tm.t_relay() < 0 then KSR.sl.sl_reply_error() end
end
`;

const js = (uas: number): string => `
function add(name, v) {
  if (v === null || v === undefined) v = "<null>";
  KSR.hdr.append_to_reply(name + ": " + v + "\\r\\n");
}

function ksr_request_route() {
  if (KSR.maxfwd.process_maxfwd(10) < 0) {
    KSR.sl.sl_send_reply(483, "Too Many Hops");
    KSR.x.exit();
  }
  var user = KSR.pv.get("$rU");
  if (user == "kx") {
    KSR.pv.sets("$rU", "changed");
    KSR.pv.sets("$du", "sip:127.0.0.1:9;transport=tcp");
${READS.map(([h, e]) => `    add("${h}", ${e});`).join('\n')}
    KSR.sl.sl_send_reply(200, "Read");
    KSR.x.exit();
  }
  if (user == "rewrite") {
    KSR.hdr.append("X-Was-Secret: " + KSR.pv.get("$hdr(X-Secret)") + "\\r\\n");
    KSR.hdr.remove("X-Secret");
    KSR.hdr.append("X-Still-Present: " + KSR.hdr.is_present("X-Secret") + "\\r\\n");
    KSR.hdr.append("X-Rm-Absent: " + KSR.hdr.remove("X-Absent") + "\\r\\n");
    KSR.hdr.insert("X-First: 1\\r\\n");
    KSR.hdr.append("X-Vias: " + KSR.pv.get("$hdrc(Via)") + "\\r\\n");
    KSR.pv.sets("$rU", "bob");
    KSR.pv.sets("$rd", "example.net");
  } else if (user == "ruri") {
    KSR.pv.sets("$ru", "sip:carol@example.org;user=phone");
  }
  KSR.pv.sets("$du", "sip:127.0.0.1:${String(uas)};transport=udp");
  if (KSR.tm.t_relay() < 0) KSR.sl.sl_reply_error();
}
`;

/** The relayed MESSAGE: where it went, Max-Forwards, what the script added or removed, and where the added ones are. */
const RELAYED: View = {
  headers: ['via', 'max-forwards', 'x-secret', 'x-token', 'x-was-secret', 'x-still-present', 'x-rm-absent', 'x-first', 'x-vias', 'content-length'],
  order: ['via', 'x-first', 'max-forwards', 'from', 'x-token', 'x-was-secret', 'x-still-present', 'x-rm-absent', 'x-vias'],
  body: true,
  masks: [...STANDARD_MASKS, VIA_PARAM_ORDER],
};

/** The reply to the caller: the start line is enough here. */
const ANSWER: View = { headers: [], masks: STANDARD_MASKS };

/** A MESSAGE to `ruri`, relayed to the UAS and answered 200 there. */
function relayed(name: string, ruri: string, headers: string[], maxForwards?: number | null): CompatCase<'uac' | 'uas'> {
  return {
    name,
    async flow({ peers: { uac, uas } }) {
      uac.request({ method: 'MESSAGE', ruri, headers: [...headers, 'Content-Type: text/plain'], body: 'hello', ...(maxForwards === undefined ? {} : { maxForwards }) });
      uas.reply(await uas.waitFor(isRequest('MESSAGE'), 'MESSAGE'), 200, 'OK');
      await uac.waitFor(isReply(200), '200');
    },
    compare: { uas: RELAYED, uac: ANSWER },
  };
}

compatSuite({
  title: 'rewriting and reading a request (pv, hdr, kx, maxfwd)',
  peers: ['uac', 'uas'],
  modules: { tm: {}, sl: {}, kx: {}, corex: {}, siputils: {}, maxfwd: { max_limit: 16 } },
  script: (p) => ({ lua: lua(p.uas!), js: js(p.uas!) }),
  cases: [
    relayed('$rU and $rd rewritten; hdr append, insert, remove; $hdr and is_present read around the removal', 'sip:rewrite@127.0.0.1',
      ['X-Secret: s3cret', 'X-Token: t1']),
    relayed('no Max-Forwards, and a header inserted: where each goes', 'sip:rewrite@127.0.0.1', ['X-Secret: s3cret', 'X-Token: t1'], null),
    relayed('$ru replaced whole; $du with a transport parameter', 'sip:ruri@127.0.0.1', ['X-Token: t2']),
    relayed('Max-Forwards above max_limit is lowered to it', 'sip:plain@127.0.0.1', [], 70),
    relayed('Max-Forwards below max_limit is decremented', 'sip:plain@127.0.0.1', [], 5),
    relayed('no Max-Forwards: process_maxfwd adds its default', 'sip:plain@127.0.0.1', [], null),
    {
      name: 'kx getters and message pseudo-variables, after $rU and $du were set, echoed in the reply',
      async flow({ peers: { uac } }) {
        uac.request({ method: 'OPTIONS', ruri: 'sip:kx@127.0.0.1:5099;transport=udp', headers: ['X-Token: t3', 'Content-Type: text/plain'], body: 'hello' });
        await uac.waitFor(isReply(200), '200');
      },
      compare: { uac: { headers: READS.map(([h]) => h), masks: STANDARD_MASKS } },
    },
  ],
});
