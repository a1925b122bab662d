/**
 * More core functions under Kamailio 5.6 and kemihost, the same script: script flags (cleared
 * for every route), branch flags by index, setuser/sethost, is_myself_*uri, is_proto,
 * is_src_port, to_*, hdr.match_content and pv.geti echoed in a reply; hdr.append_after and
 * insert_before placed in a relayed MESSAGE (compared with the header order the UAS received).
 */
import { isReply, isRequest } from './harness/peer.js';
import { compatSuite } from './harness/suite.js';
import { STANDARD_MASKS, VIA_PARAM_ORDER, type View } from './harness/view.js';

/** [reply header, expression]: every expression reads the same in Lua and JS */
const READS = [
  ['X-Sflag-Start', 'KSR.issflagset(5)'], ['X-Sflag-Set', 'KSR.setsflag(5)'], ['X-Sflag-After', 'KSR.issflagset(5)'],
  ['X-Sflag-Bad', 'KSR.setsflag(32)'],
  ['X-Bflag-0', 'KSR.setbiflag(4, 0)'], ['X-Bflag-0-Is', 'KSR.isbflagset(4)'], ['X-Branch', 'KSR.corex.append_branch_uri("sip:carol@127.0.0.1")'],
  ['X-Bflag-1', 'KSR.setbiflag(2, 1)'], ['X-Bflag-1-Is', 'KSR.isbiflagset(2, 1)'], ['X-Bflag-0-Not', 'KSR.isbiflagset(2, 0)'],
  ['X-Bflag-None', 'KSR.setbiflag(3, 5)'], ['X-Bflag-None-Is', 'KSR.isbiflagset(3, 5)'],
  ['X-Myself-Duri', 'KSR.is_myself_duri()'], ['X-Myself-Nhuri', 'KSR.is_myself_nhuri()'], ['X-Myself-Suri', 'KSR.is_myself_suri()'],
  ['X-Proto-U', 'KSR.is_proto("u")'], ['X-Proto-T', 'KSR.is_proto("t")'], ['X-Proto-Many', 'KSR.is_proto("eTU")'],
  ['X-Src-Port', 'KSR.is_src_port(KSR.pv.get("$sp"))'], ['X-Src-Port-Not', 'KSR.is_src_port(1)'],
  ['X-To-Udp', 'KSR.to_UDP()'], ['X-To-V4', 'KSR.to_IPv4()'], ['X-To-V6', 'KSR.to_IPv6()'],
  ['X-Setuser', 'KSR.setuser("carol")'], ['X-Sethost', 'KSR.sethost("127.0.0.2")'], ['X-Ru', 'KSR.pv.get("$ru")'],
  ['X-Setuser-Empty', 'KSR.setuser("")'], ['X-Ru-Nouser', 'KSR.pv.get("$ru")'],
  ['X-Du', 'KSR.setdsturi("sip:[::1]:5060;transport=TCP")'], ['X-To-Tcp', 'KSR.to_TCP()'], ['X-To-V6-Du', 'KSR.to_IPv6()'],
  ['X-Match-First', 'KSR.hdr.match_content("X-T", "eq", "alpha", "f")'], ['X-Match-Last', 'KSR.hdr.match_content("X-T", "EQ", "BETA", "l")'],
  ['X-Match-All', 'KSR.hdr.match_content("X-T", "sw", "al", "a")'], ['X-Match-One', 'KSR.hdr.match_content("X-T", "in", "et", "o")'],
  ['X-Match-Ne', 'KSR.hdr.match_content("X-T", "ne", "gamma", "a")'], ['X-Match-Re', 'KSR.hdr.match_content("X-T", "re", "a.*", "o")'],
  ['X-Match-Absent', 'KSR.hdr.match_content("X-None", "eq", "x", "a")'],
  ['X-Geti-Int', 'KSR.pv.geti("$var(i)")'], ['X-Geti-Lead', 'KSR.pv.geti("$var(s)")'], ['X-Geti-Neg', 'KSR.pv.geti("$var(n)")'],
  ['X-Geti-Str', 'KSR.pv.geti("$var(x)")'], ['X-Geti-Cseq', 'KSR.pv.geti("$cs")'],
] as const;

const lua = (uas: number): string => `
local function add(name, v)
  KSR.hdr.append_to_reply(name .. ": " .. tostring(v) .. "\\r\\n")
end

function ksr_request_route()
  if KSR.pv.get("$rU") == "place" then
    KSR.hdr.append_after("X-After-Via: 1\\r\\n", "Via")
    KSR.hdr.insert_before("X-Before-CallID: 2\\r\\n", "Call-ID")
    KSR.hdr.append_after("X-After-Token: 3\\r\\n", "X-Token")
    KSR.pv.sets("$du", "sip:127.0.0.1:${String(uas)}")
    KSR.tm.t_relay()
    KSR.x.exit()
  end
  KSR.pv.seti("$var(i)", 42)
  KSR.pv.sets("$var(s)", "12ab")
  KSR.pv.sets("$var(n)", "-7")
  KSR.pv.sets("$var(x)", "ab")
${READS.map(([h, e]) => `  add("${h}", ${e})`).join('\n')}
  KSR.sl.sl_send_reply(200, "Read")
end
`;

const js = (uas: number): string => `
function add(name, v) {
  KSR.hdr.append_to_reply(name + ": " + v + "\\r\\n");
}

function ksr_request_route() {
  if (KSR.pv.get("$rU") == "place") {
    KSR.hdr.append_after("X-After-Via: 1\\r\\n", "Via");
    KSR.hdr.insert_before("X-Before-CallID: 2\\r\\n", "Call-ID");
    KSR.hdr.append_after("X-After-Token: 3\\r\\n", "X-Token");
    KSR.pv.sets("$du", "sip:127.0.0.1:${String(uas)}");
    KSR.tm.t_relay();
    KSR.x.exit();
  }
  KSR.pv.seti("$var(i)", 42);
  KSR.pv.sets("$var(s)", "12ab");
  KSR.pv.sets("$var(n)", "-7");
  KSR.pv.sets("$var(x)", "ab");
${READS.map(([h, e]) => `  add("${h}", ${e});`).join('\n')}
  KSR.sl.sl_send_reply(200, "Read");
}
`;

/** The relayed MESSAGE: the placed headers and where they are among the received ones. */
const PLACED: View = {
  headers: ['x-after-via', 'x-before-callid', 'x-after-token'],
  order: ['via', 'x-after-via', 'max-forwards', 'x-token', 'x-after-token', 'x-before-callid', 'call-id', 'cseq'],
  masks: [...STANDARD_MASKS, VIA_PARAM_ORDER],
};

compatSuite({
  title: 'more core functions: flags, R-URI parts, myself, transports; hdr placing and matching; pv.geti',
  peers: ['uac', 'uas'],
  modules: { tm: {}, sl: {}, corex: {} },
  script: (p) => ({ lua: lua(p.uas!), js: js(p.uas!) }),
  cases: [
    {
      name: 'the functions\' answers, echoed in the reply',
      async flow({ peers: { uac } }) {
        uac.request({ method: 'OPTIONS', ruri: 'sip:bob@127.0.0.1:5999;x=1', headers: ['X-T:  Alpha ', 'X-T: beta'] });
        await uac.waitFor(isReply(200), '200');
      },
      compare: { uac: { headers: READS.map(([h]) => h), masks: STANDARD_MASKS } },
      // "alpha" and "gamma" have the same length: Kamailio 5.6's ne then never matches
      differs: { doc: 'hdr, corex, pv: hdr.match_content "ne" with a value of the same length', replace: [['X-Match-Ne: false', 'X-Match-Ne: true']] },
    },
    {
      name: 'append_after / insert_before: where the UAS finds the headers',
      async flow({ peers: { uac, uas } }) {
        uac.request({ method: 'MESSAGE', ruri: 'sip:place@127.0.0.1', headers: ['X-Token: t1', 'Content-Type: text/plain'], body: 'hello' });
        uas.reply(await uas.waitFor(isRequest('MESSAGE'), 'MESSAGE'), 200, 'OK');
        await uac.waitFor(isReply(200), '200');
      },
      compare: { uas: PLACED },
    },
  ],
});
