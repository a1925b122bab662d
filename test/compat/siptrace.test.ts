/**
 * siptrace under Kamailio 5.6 and kemihost: the same script traces the request (HEPv3 to a
 * capture socket opened by this file) with the function the R-URI user names, sends an hlog
 * marker, and answers "rc <result>". What is compared: the UAC's answer (the return code) and
 * every HEP packet the capture received during the run, decoded into one line per chunk
 * (test/helpers/hep-capture.ts) plus the payload. Masked: the server's port (it is the
 * destination of the traced request and the source of hlog records) and the timestamp's value
 * ("now" when it is within a minute of the capture's clock).
 */
import { after } from 'node:test';
import type { SipMessage } from '../../host/sip/message.js';
import { HepCapture } from '../helpers/hep-capture.js';
import { until } from '../helpers/until.js';
import { isReply, isRequest, type Peer } from './harness/peer.js';
import { compatSuite } from './harness/suite.js';
import { mask, STANDARD_MASKS, VIA_PARAM_ORDER, type Mask, type View } from './harness/view.js';

const capture = await HepCapture.open();
after(() => { capture.close(); });

const CALLS: Readonly<Record<string, string>> = {
  plain: 'KSR.siptrace.sip_trace()',
  cid: 'KSR.siptrace.sip_trace_dst_cid("", "abc-123")',
  dst: `KSR.siptrace.sip_trace_dst("sip:127.0.0.1:${String(capture.port)}")`,
  mtype: 'KSR.siptrace.sip_trace_dst_cid_type("", "c1", "m")',
  dlg: 'KSR.siptrace.sip_trace_dst_cid_type("", "", "d")',
  tmode: 'KSR.siptrace.sip_trace_mode("t")',
  mode: 'KSR.siptrace.sip_trace_mode("m")',
  v6: 'KSR.siptrace.sip_trace_dst("sip:[::1]:9")',
  hlog: 'KSR.siptrace.hlog_cid("cid-9", "routing decided")',
};

const lua = (uas: number): string => `
function ksr_request_route()
  local user = KSR.pv.get("$rU")
  local rc = -100
  if user == "relay" then
    KSR.siptrace.sip_trace_dst_cid_type("", "tx-1", "t")
    KSR.pv.sets("$du", "sip:127.0.0.1:${String(uas)}")
    KSR.tm.t_relay()
    KSR.x.exit()
  end
${Object.entries(CALLS).map(([u, c]) => `  if user == "${u}" then rc = ${c} end`).join('\n')}
  KSR.siptrace.hlog("end")
  KSR.sl.sl_send_reply(200, "rc " .. rc)
end
`;

const js = (uas: number): string => `
function ksr_request_route() {
  var user = KSR.pv.get("$rU");
  var rc = -100;
  if (user == "relay") {
    KSR.siptrace.sip_trace_dst_cid_type("", "tx-1", "t");
    KSR.pv.sets("$du", "sip:127.0.0.1:${String(uas)}");
    KSR.tm.t_relay();
    KSR.x.exit();
  }
${Object.entries(CALLS).map(([u, c]) => `  if (user == "${u}") { rc = ${c}; }`).join('\n')}
  KSR.siptrace.hlog("end");
  KSR.sl.sl_send_reply(200, "rc " + rc);
}
`;

/** VIA_PARAM_ORDER inside a traced message (the body line): where received= goes differs, docs/compatibility.md "core" */
const BODY_VIA_ORDER: Mask = (l, run) => l.startsWith('body: ') ? l.split('\r\n').map((x) => VIA_PARAM_ORDER(x, run)).join('\r\n') : l;

const HEP_VIEW: View = {
  headers: ['x-hep-chunks', 'x-hep-family', 'x-hep-proto', 'x-hep-src', 'x-hep-dst', 'x-hep-time', 'x-hep-type', 'x-hep-capture-id', 'x-hep-cid', 'x-hep-auth'],
  body: true,
  // each server names itself in the replies it builds (docs/compatibility.md "core": Server header)
  masks: [...STANDARD_MASKS, BODY_VIA_ORDER, mask(/\r\nServer: [^\r]*/g, '\r\nServer: <server>')],
};
const RC_VIEW: View = { headers: [], masks: STANDARD_MASKS };

function traced(user: string) {
  return {
    name: `${user}: ${CALLS[user] ?? ''}`,
    async flow({ peers: { uac }, keep }: { peers: { uac: Peer }; keep: (n: string, l: readonly SipMessage[]) => void }) {
      const run = capture.begin();
      keep('capture', run);
      uac.request({ method: 'OPTIONS', ruri: `sip:${user}@127.0.0.1` });
      await uac.waitFor(isReply(200), 'the answer');
      const isEnd = (m: SipMessage): boolean => m.body.toString() === 'end';
      await until(() => run.some(isEnd), 3000, 'the hlog marker at the capture');
    },
    compare: { uac: RC_VIEW, capture: HEP_VIEW },
  };
}

compatSuite({
  title: 'siptrace: HEPv3 to a capture server',
  peers: ['uac', 'uas'],
  modules: {
    // kemihost always has tm and dialog: Kamailio needs them loaded to check "t" and "d" as kemihost does
    tm: {},
    sl: {},
    rr: {},
    dialog: {},
    siptrace: { duplicate_uri: `sip:127.0.0.1:${String(capture.port)}`, hep_mode_on: 1, hep_version: 3, hep_capture_id: 2001, trace_on: 1, trace_to_database: 0, auth_key: 'k3y' },
  },
  script: (p) => ({ lua: lua(p.uas ?? 0), js: js(p.uas ?? 0) }),
  cases: [...Object.keys(CALLS).map(traced), {
    name: 'relay: type "t" then t_relay — the request in, the relayed request, the reply in, the reply relayed',
    async flow({ peers: { uac, uas }, keep }) {
      const run = capture.begin();
      keep('capture', run);
      uac.request({ method: 'MESSAGE', ruri: 'sip:relay@127.0.0.1', body: 'hi', headers: ['Content-Type: text/plain'] });
      uas.reply(await uas.waitFor(isRequest('MESSAGE'), 'the relayed MESSAGE'), 202, 'Accepted');
      await uac.waitFor(isReply(202), 'the relayed 202');
      await until(() => run.length >= 4, 3000, 'four traces');
    },
    compare: { uac: RC_VIEW, capture: HEP_VIEW },
  }],
});

/** hep_mode_on=0: the traced request arrives as itself, byte for byte; hlog stays HEP in both servers. */
const PLAIN_VIEW: View = { headers: ['via', 'from', 'to', 'call-id', 'cseq', 'x-hep-type', 'x-hep-cid'], body: true, masks: STANDARD_MASKS };

compatSuite({
  title: 'siptrace: the plain SIP duplicate (hep_mode_on=0)',
  peers: ['uac'],
  modules: {
    sl: {},
    siptrace: { duplicate_uri: `sip:127.0.0.1:${String(capture.port)}`, hep_mode_on: 0, hep_version: 3, trace_on: 1, trace_to_database: 0 },
  },
  script: () => ({ lua: lua(0), js: js(0) }),
  cases: ['plain', 'dst'].map((user) => ({ ...traced(user), compare: { uac: RC_VIEW, capture: PLAIN_VIEW } })),
});
