/**
 * dispatcher under Kamailio 5.6 and kemihost with the same list file and script: failover (the
 * first gateway answers 503 → failure route → ds_next_dst → the second gateway answers), and
 * what the selection functions leave — $du, the _dsctx_ count, the order ds_next_dst walks — for
 * the hash algorithms over the same Call-IDs, From, To and R-URIs, round robin, priority (equal
 * priorities: the last line first), limits; ds_is_from_list in its modes.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isReply, isRequest } from './harness/peer.js';
import { compatSuite } from './harness/suite.js';
import { STANDARD_MASKS, VIA_PARAM_ORDER, type View } from './harness/view.js';

const listFile = join(mkdtempSync(join(tmpdir(), 'kh-compat-ds-')), 'dispatcher.list');

/** The list names the peers, so it is written once their ports are known (before either server starts). */
function writeList(p: Readonly<Record<string, number>>): void {
  const g = (n: string): string => `sip:127.0.0.1:${String(p[n])}`;
  writeFileSync(listFile, [
    `1 ${g('gw1')} 0 20 duid=one;weight=50`,
    `1 ${g('gw2')} 0 10 duid=two`,
    `2 ${g('gw1')}`,
    `2 ${g('gw2')}`,
    `2 ${g('gw3')}`,
    `3 ${g('gw1')} 0 30`,
    `3 ${g('gw2')} 0 20`,
    `3 ${g('gw3')} 0 10`,
    '7 sip:127.0.0.1 0 0 tag=local',
    '',
  ].join('\n'));
}

const LUA = `
local function h(n) return KSR.pv.get("$hdr(" .. n .. ")") end
local function add(n, v)
  if v == nil then v = "null" end
  KSR.hdr.append_to_reply(n .. ": " .. tostring(v) .. "\\r\\n")
end

function ksr_request_route()
  if KSR.is_ACK() then
    if KSR.tm.t_check_trans() > 0 then KSR.tm.t_relay() end
    KSR.x.exit()
  end
  local set = tonumber(h("X-Set") or "1")
  local alg = tonumber(h("X-Alg") or "8")
  local test = h("X-Test") or "relay"
  if test == "relay" then
    if KSR.dispatcher.ds_select_dst(set, alg) < 0 then
      KSR.sl.sl_send_reply(404, "No destination")
      KSR.x.exit()
    end
    KSR.hdr.append("X-Ds-Cnt: " .. tostring(KSR.pv.get("$xavp(_dsctx_=>cnt)")) .. "\\r\\n")
    KSR.tm.t_on_failure("ksr_failure_ds")
    KSR.tm.t_relay()
    KSR.x.exit()
  elseif test == "select" then
    local lim = tonumber(h("X-Limit") or "0")
    local rc
    if h("X-Rules") ~= nil then
      rc = KSR.dispatcher.ds_select_routes_limit(h("X-Rules"), "d", lim)
    elseif lim > 0 then rc = KSR.dispatcher.ds_select_dst_limit(set, alg, lim) else rc = KSR.dispatcher.ds_select_dst(set, alg) end
    add("X-Rc", rc)
    add("X-Cnt", KSR.pv.get("$xavp(_dsctx_=>cnt)"))
    add("X-Attrs", KSR.pv.get("$xavp(_dsdst_=>attrs)"))
    local order = ""
    if rc > 0 then
      order = KSR.pv.get("$du")
      while KSR.dispatcher.ds_next_dst() > 0 do order = order .. "," .. KSR.pv.get("$du") end
    end
    add("X-Order", order)
  elseif test == "from" then
    add("X-L", KSR.dispatcher.ds_is_from_list(set))
    add("X-Lists", KSR.dispatcher.ds_is_from_lists())
    add("X-Mode0", KSR.dispatcher.ds_is_from_list_mode(set, 0))
    add("X-Mode2", KSR.dispatcher.ds_is_from_list_mode(set, 2))
    add("X-Uri", KSR.dispatcher.ds_is_from_list_uri(set, tonumber(h("X-Mode") or "0"), h("X-Uri") or ""))
    add("X-All", KSR.dispatcher.ds_is_from_list_uri(-1, 2, h("X-Uri") or ""))
    add("X-Setid", KSR.pv.get("$var(setid)"))
    add("X-Active", KSR.dispatcher.ds_is_active(set))
    add("X-Exists", KSR.dispatcher.ds_list_exists(set))
  end
  KSR.sl.sl_send_reply(200, "OK")
end

function ksr_failure_ds()
  if KSR.tm.t_is_canceled() > 0 then return end
  if KSR.dispatcher.ds_next_dst() > 0 then
    KSR.hdr.append("X-Ds-Retry: " .. KSR.pv.get("$du") .. "\\r\\n")
    KSR.tm.t_on_failure("ksr_failure_ds")
    KSR.tm.t_relay()
  end
end
`;

const JS = `
function h(n) { return KSR.pv.get("$hdr(" + n + ")"); }
function add(n, v) { KSR.hdr.append_to_reply(n + ": " + String(v) + "\\r\\n"); }

function ksr_request_route() {
  if (KSR.is_ACK()) {
    if (KSR.tm.t_check_trans() > 0) KSR.tm.t_relay();
    KSR.x.exit();
  }
  var set = Number(h("X-Set") || "1");
  var alg = Number(h("X-Alg") || "8");
  var test = h("X-Test") || "relay";
  var rc;
  if (test == "relay") {
    if (KSR.dispatcher.ds_select_dst(set, alg) < 0) {
      KSR.sl.sl_send_reply(404, "No destination");
      KSR.x.exit();
    }
    KSR.hdr.append("X-Ds-Cnt: " + String(KSR.pv.get("$xavp(_dsctx_=>cnt)")) + "\\r\\n");
    KSR.tm.t_on_failure("ksr_failure_ds");
    KSR.tm.t_relay();
    KSR.x.exit();
  } else if (test == "select") {
    var lim = Number(h("X-Limit") || "0");
    if (h("X-Rules") !== null) rc = KSR.dispatcher.ds_select_routes_limit(h("X-Rules"), "d", lim);
    else rc = lim > 0 ? KSR.dispatcher.ds_select_dst_limit(set, alg, lim) : KSR.dispatcher.ds_select_dst(set, alg);
    add("X-Rc", rc);
    add("X-Cnt", KSR.pv.get("$xavp(_dsctx_=>cnt)"));
    add("X-Attrs", KSR.pv.get("$xavp(_dsdst_=>attrs)"));
    var order = "";
    if (rc > 0) {
      order = KSR.pv.get("$du");
      while (KSR.dispatcher.ds_next_dst() > 0) order = order + "," + KSR.pv.get("$du");
    }
    add("X-Order", order);
  } else if (test == "from") {
    add("X-L", KSR.dispatcher.ds_is_from_list(set));
    add("X-Lists", KSR.dispatcher.ds_is_from_lists());
    add("X-Mode0", KSR.dispatcher.ds_is_from_list_mode(set, 0));
    add("X-Mode2", KSR.dispatcher.ds_is_from_list_mode(set, 2));
    add("X-Uri", KSR.dispatcher.ds_is_from_list_uri(set, Number(h("X-Mode") || "0"), h("X-Uri") || ""));
    add("X-All", KSR.dispatcher.ds_is_from_list_uri(-1, 2, h("X-Uri") || ""));
    add("X-Setid", KSR.pv.get("$var(setid)"));
    add("X-Active", KSR.dispatcher.ds_is_active(set));
    add("X-Exists", KSR.dispatcher.ds_list_exists(set));
  }
  KSR.sl.sl_send_reply(200, "OK");
}

function ksr_failure_ds() {
  if (KSR.tm.t_is_canceled() > 0) return;
  if (KSR.dispatcher.ds_next_dst() > 0) {
    KSR.hdr.append("X-Ds-Retry: " + KSR.pv.get("$du") + "\\r\\n");
    KSR.tm.t_on_failure("ksr_failure_ds");
    KSR.tm.t_relay();
  }
}
`;

/** What a gateway received: where it was sent, the Vias (ours masked), what the script added. */
const AT_GW: View = {
  headers: ['via', 'max-forwards', 'from', 'to', 'call-id', 'cseq', 'x-ds-cnt', 'x-ds-retry', 'content-length'],
  masks: [...STANDARD_MASKS, VIA_PARAM_ORDER],
};
const AT_UAC: View = { headers: ['via', 'from', 'to', 'call-id', 'cseq'], masks: [...STANDARD_MASKS, VIA_PARAM_ORDER] };
/** The answers carrying what the dispatcher calls returned. */
const RESULTS: View = { headers: ['x-rc', 'x-cnt', 'x-attrs', 'x-order', 'x-l', 'x-lists', 'x-mode0', 'x-mode2', 'x-uri', 'x-all', 'x-setid', 'x-active', 'x-exists'], masks: STANDARD_MASKS };

const TRYING: readonly [string, string] = ['100 trying -- your call is important to us', '100 Trying'];

compatSuite({
  title: 'dispatcher: failover, selection algorithms, is_from_list',
  peers: ['uac', 'gw1', 'gw2', 'gw3'],
  modules: { tm: {}, tmx: {}, sl: {}, dispatcher: { list_file: listFile, flags: 2, setid_pvname: '$var(setid)' } },
  script: (p) => {
    writeList(p);
    return { lua: LUA, js: JS };
  },
  cases: [
    {
      name: 'failover: the first gateway answers 503, the failure route moves to the next, which answers 200',
      async flow({ peers: { uac, gw1, gw2 } }) {
        uac.request({ method: 'INVITE', ruri: 'sip:bob@127.0.0.1', headers: [`Contact: <sip:uac@127.0.0.1:${String(uac.port)}>`] });
        const first = await gw1.waitFor(isRequest('INVITE'), 'INVITE at the first gateway');
        gw1.reply(first, 503, 'Service Unavailable');
        await gw1.waitFor(isRequest('ACK'), 'the ACK of the 503');
        const second = await gw2.waitFor(isRequest('INVITE'), 'INVITE at the second gateway');
        gw2.reply(second, 200, 'OK');
        await uac.waitFor(isReply(200, 'INVITE'), '200');
      },
      compare: { uac: AT_UAC, gw1: AT_GW, gw2: AT_GW, gw3: AT_GW },
      differs: { doc: 'tm: automatic 100 reason phrase', replace: [TRYING] },
    },
    {
      name: 'every gateway fails: the last failure goes back to the caller',
      async flow({ peers: { uac, gw1, gw2 } }) {
        const invite = uac.request({ method: 'INVITE', ruri: 'sip:bob@127.0.0.1', headers: [`Contact: <sip:uac@127.0.0.1:${String(uac.port)}>`] });
        gw1.reply(await gw1.waitFor(isRequest('INVITE'), 'INVITE at the first gateway'), 503, 'Service Unavailable');
        gw2.reply(await gw2.waitFor(isRequest('INVITE'), 'INVITE at the second gateway'), 486, 'Busy Here');
        uac.ack(invite, await uac.waitFor(isReply(486, 'INVITE'), '486'));
      },
      compare: { uac: AT_UAC, gw1: AT_GW, gw2: AT_GW },
      differs: { doc: 'tm: automatic 100 reason phrase', replace: [TRYING] },
    },
    {
      name: 'selection: Call-ID, From, To and R-URI hashes, round robin, priority, equal priorities, a limit, ds_select_routes',
      async flow({ peers: { uac } }) {
        const asks: [string[], Record<string, string>][] = [];
        for (const cid of ['a84b4c76e66710@pc33', 'call-2@host', '843817637684230@998sdasdh09', 'x', 'a-much-longer-call-id-than-usual-0123456789@example.org']) {
          for (const set of ['1', '2']) asks.push([['X-Test: select', 'X-Alg: 0', `X-Set: ${set}`], { callId: cid }]);
        }
        for (const u of ['sip:carol@example.org:5070', 'sip:dave@example.net', 'sip:erin@192.0.2.9;transport=tcp', 'sip:192.0.2.10']) {
          asks.push([['X-Test: select', 'X-Alg: 1', 'X-Set: 2'], { fromUri: u }]);
          asks.push([['X-Test: select', 'X-Alg: 2', 'X-Set: 2'], { toUri: u }]);
          asks.push([['X-Test: select', 'X-Alg: 3', 'X-Set: 2'], { ruri: u }]);
        }
        for (let i = 0; i < 4; i++) asks.push([['X-Test: select', 'X-Alg: 4', 'X-Set: 3'], {}]);
        asks.push([['X-Test: select', 'X-Alg: 8', 'X-Set: 2'], {}], [['X-Test: select', 'X-Alg: 8', 'X-Set: 3', 'X-Limit: 2'], {}]);
        asks.push([['X-Test: select', 'X-Alg: 8', 'X-Set: 9'], {}]);
        asks.push([['X-Test: select', 'X-Rules: 2=0;3=8'], { callId: 'routes-1' }], [['X-Test: select', 'X-Rules: 9=4;1=8;3=4', 'X-Limit: 4'], {}]);
        for (const [headers, extra] of asks) {
          uac.request({ method: 'OPTIONS', ruri: 'sip:bob@127.0.0.1', headers, ...extra });
          await uac.waitFor(isReply(200), 'the answer');
        }
      },
      compare: { uac: RESULTS },
    },
    {
      name: 'ds_is_from_list: any port, transports, a URI instead of the source, the set found first over all sets',
      async flow({ peers: { uac, gw2, gw3 } }) {
        const asks: string[][] = [
          ['X-Test: from', 'X-Set: 7'],
          ['X-Test: from', 'X-Set: 1', `X-Uri: sip:127.0.0.1:${String(gw2.port)}`],
          ['X-Test: from', 'X-Set: 1', `X-Uri: sip:127.0.0.1:${String(gw2.port)};transport=udp`],
          ['X-Test: from', 'X-Set: 1', 'X-Mode: 3', 'X-Uri: sip:127.0.0.1:9;transport=tcp'],
          ['X-Test: from', 'X-Set: 5'],
          // in sets 2, 3 and 7: which one ds_is_from_list over all sets names follows Kamailio's AVL walk
          ['X-Test: from', 'X-Set: 1', `X-Uri: sip:127.0.0.1:${String(gw3.port)}`],
        ];
        for (const headers of asks) {
          uac.request({ method: 'OPTIONS', ruri: 'sip:bob@127.0.0.1', headers });
          await uac.waitFor(isReply(200), 'the answer');
        }
      },
      compare: { uac: RESULTS },
    },
  ],
});
