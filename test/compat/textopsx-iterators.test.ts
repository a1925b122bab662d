/**
 * textopsx's iterators under Kamailio 5.6 and kemihost, the same script: the header names and
 * values a walk reads (echoed in the reply), and what a relayed MESSAGE looks like at the UAS
 * after headers and body lines were removed and added around the iterators' positions.
 */
import { isReply, isRequest } from './harness/peer.js';
import { compatSuite } from './harness/suite.js';
import { STANDARD_MASKS, VIA_PARAM_ORDER, type View } from './harness/view.js';

const X = 'KSR.textopsx';

const lua = (uas: number): string => `
function ksr_request_route()
  if KSR.pv.get("$rU") == "walk" then
    local names = {}
    ${X}.hf_iterator_start("i1")
    while ${X}.hf_iterator_next("i1") > 0 do
      names[#names + 1] = ${X}.hf_iterator_hname("i1") .. "=" .. ${X}.hf_iterator_hbody("i1")
    end
    ${X}.hf_iterator_end("i1")
    KSR.hdr.append_to_reply("X-Walk: " .. table.concat(names, "|") .. "\\r\\n")
    ${X}.hf_iterator_start("p")
    ${X}.hf_iterator_next("p")
    ${X}.hf_iterator_next("p")
    ${X}.hf_iterator_prev("p")
    KSR.hdr.append_to_reply("X-Prev: " .. ${X}.hf_iterator_hname("p") .. "\\r\\n")
    KSR.sl.sl_send_reply(200, "Walked")
    KSR.x.exit()
  end
  ${X}.hf_iterator_start("i")
  while ${X}.hf_iterator_next("i") > 0 do
    local n = ${X}.hf_iterator_hname("i")
    if n == "X-A" then ${X}.hf_iterator_rm("i") end
    if n == "X-B" then
      ${X}.hf_iterator_insert("i", "X-Before-B: 1\\r\\n")
      ${X}.hf_iterator_append("i", "X-After-B: 2\\r\\n")
    end
  end
  ${X}.bl_iterator_start("b")
  while ${X}.bl_iterator_next("b") > 0 do
    local l = ${X}.bl_iterator_value("b")
    if string.sub(l, 1, 2) == "o=" then ${X}.bl_iterator_rm("b") end
    if string.sub(l, 1, 2) == "s=" then ${X}.bl_iterator_append("b", "a=x\\r\\n") end
  end
  KSR.pv.sets("$du", "sip:127.0.0.1:${String(uas)}")
  KSR.tm.t_relay()
end
`;

const js = (uas: number): string => `
function ksr_request_route() {
  if (KSR.pv.get("$rU") == "walk") {
    var names = [];
    ${X}.hf_iterator_start("i1");
    while (${X}.hf_iterator_next("i1") > 0) {
      names.push(${X}.hf_iterator_hname("i1") + "=" + ${X}.hf_iterator_hbody("i1"));
    }
    ${X}.hf_iterator_end("i1");
    KSR.hdr.append_to_reply("X-Walk: " + names.join("|") + "\\r\\n");
    ${X}.hf_iterator_start("p");
    ${X}.hf_iterator_next("p");
    ${X}.hf_iterator_next("p");
    ${X}.hf_iterator_prev("p");
    KSR.hdr.append_to_reply("X-Prev: " + ${X}.hf_iterator_hname("p") + "\\r\\n");
    KSR.sl.sl_send_reply(200, "Walked");
    KSR.x.exit();
  }
  ${X}.hf_iterator_start("i");
  while (${X}.hf_iterator_next("i") > 0) {
    var n = ${X}.hf_iterator_hname("i");
    if (n == "X-A") ${X}.hf_iterator_rm("i");
    if (n == "X-B") {
      ${X}.hf_iterator_insert("i", "X-Before-B: 1\\r\\n");
      ${X}.hf_iterator_append("i", "X-After-B: 2\\r\\n");
    }
  }
  ${X}.bl_iterator_start("b");
  while (${X}.bl_iterator_next("b") > 0) {
    var l = ${X}.bl_iterator_value("b");
    if (l.substring(0, 2) == "o=") ${X}.bl_iterator_rm("b");
    if (l.substring(0, 2) == "s=") ${X}.bl_iterator_append("b", "a=x\\r\\n");
  }
  KSR.pv.sets("$du", "sip:127.0.0.1:${String(uas)}");
  KSR.tm.t_relay();
}
`;

/** the walk's names and values: the peers' Via branch and tags are masked by the standard masks */
const WALKED: View = { headers: ['x-walk', 'x-prev'], masks: STANDARD_MASKS };

const RELAYED: View = {
  headers: ['x-a', 'x-b', 'x-before-b', 'x-after-b', 'content-length'],
  order: ['x-token', 'x-before-b', 'x-b', 'x-after-b', 'content-type'],
  body: true,
  masks: [...STANDARD_MASKS, VIA_PARAM_ORDER],
};

compatSuite({
  title: 'textopsx header and body-line iterators',
  peers: ['uac', 'uas'],
  modules: { tm: {}, sl: {}, textopsx: {} },
  script: (p) => ({ lua: lua(p.uas!), js: js(p.uas!) }),
  cases: [
    {
      name: 'a walk over the headers: names as written and values; prev after two steps',
      async flow({ peers: { uac } }) {
        uac.request({ method: 'OPTIONS', ruri: 'sip:walk@127.0.0.1', headers: ['X-A: 1', 'x-b:  two  '] });
        await uac.waitFor(isReply(200), '200');
      },
      compare: { uac: WALKED },
    },
    {
      name: 'headers and body lines removed and added around the iterators: what the UAS receives',
      async flow({ peers: { uac, uas } }) {
        uac.request({ method: 'MESSAGE', ruri: 'sip:edit@127.0.0.1', headers: ['X-Token: t', 'X-A: 1', 'X-B: two', 'Content-Type: text/plain'], body: 'v=0\r\no=x\r\ns=-\r\n' });
        uas.reply(await uas.waitFor(isRequest('MESSAGE'), 'MESSAGE'), 200, 'OK');
        await uac.waitFor(isReply(200), '200');
      },
      compare: { uas: RELAYED },
    },
  ],
});
