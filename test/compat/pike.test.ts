/**
 * pike under Kamailio 5.6 and kemihost: the return code of every pike_check_ip() of a sequence
 * (a fresh address, one sharing its prefix, addresses Kamailio's IPv4 parser refuses), and a
 * flood from sipp at a bounded rate with the script dropping what pike_check_req() blocks,
 * counting what was answered. The sampling unit is longer than the file runs, so no swap of the
 * counters falls inside a sequence on either server and the counts are exact.
 */
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import type { SipMessage } from '../../host/sip/message.js';
import { runSippTraced } from './harness/sipp-trace.js';
import { compatSuite, type CompatCase } from './harness/suite.js';
import { STANDARD_MASKS, type View } from './harness/view.js';

const SCENARIOS = fileURLToPath(new URL('scenarios/', import.meta.url));

const LUA = `
function ksr_request_route()
  local ip = KSR.pv.get("$hdr(X-Ip)")
  if ip ~= nil then
    local n = tonumber(KSR.pv.get("$hdr(X-N)"))
    local seq = {}
    for i = 1, n do seq[i] = KSR.pike.pike_check_ip(ip) end
    KSR.hdr.append_to_reply("X-Seq: " .. table.concat(seq, ",") .. "\\r\\n")
    KSR.sl.sl_send_reply(200, "OK")
    return
  end
  -- the example script's antiflood shape, without the ban table
  if KSR.pike.pike_check_req() < 0 then
    KSR.x.exit()
  end
  KSR.sl.sl_send_reply(200, "OK")
end
`;

const JS = `
function ksr_request_route() {
  var ip = KSR.pv.get("$hdr(X-Ip)");
  if (ip !== null) {
    var n = parseInt(KSR.pv.get("$hdr(X-N)"), 10);
    var seq = [];
    for (var i = 0; i < n; i++) seq.push(KSR.pike.pike_check_ip(ip));
    KSR.hdr.append_to_reply("X-Seq: " + seq.join(",") + "\\r\\n");
    KSR.sl.sl_send_reply(200, "OK");
    return;
  }
  if (KSR.pike.pike_check_req() < 0) {
    KSR.x.exit();
  }
  KSR.sl.sl_send_reply(200, "OK");
}
`;

const SEQ: View = { headers: ['x-seq'], masks: STANDARD_MASKS };
const STATUS: View = { headers: [], masks: STANDARD_MASKS };
const final = (m: SipMessage): boolean => !m.isRequest && m.status >= 200;

function sequence(name: string, list: readonly (readonly [ip: string, n: number])[]): CompatCase<'uac'> {
  return {
    name,
    async flow({ peers: { uac } }) {
      for (const [ip, n] of list) {
        uac.request({ ruri: 'sip:pike@127.0.0.1', headers: [`X-Ip: ${ip}`, `X-N: ${String(n)}`] });
        await uac.waitFor(final, `the reply for ${ip}`);
      }
    },
    compare: { uac: SEQ },
  };
}

const FLOOD = 60;

compatSuite({
  title: 'pike: flood detection',
  peers: ['uac'],
  ports: ['sipp'],
  modules: { sl: {}, pike: { sampling_time_unit: 600, reqs_density_per_unit: 16, remove_latency: 600 } },
  script: () => ({ lua: LUA, js: JS }),
  cases: [
    sequence('a fresh IPv4 address: allowed, then -2 once, then -1', [['10.1.1.1', 40]]),
    sequence('an address sharing its prefix is blocked sooner; other addresses are not touched', [['10.1.1.2', 25], ['10.1.2.1', 25], ['192.0.2.1', 3]]),
    sequence('what Kamailio\'s IPv4 parser refuses is -1; what it wraps is counted', [['::1', 2], ['2001:db8::1', 2], ['1.2.3', 2], ['1.2.3.300', 30], ['1.2.3.44', 2]]),
    {
      name: `a flood of ${String(FLOOD)} OPTIONS from sipp (200/s): the same number answered before pike blocks the source`,
      async flow({ server, ports, keep }) {
        const r = await runSippTraced([
          `127.0.0.1:${String(server.port)}`, '-sf', `${SCENARIOS}options-flood-uac.xml`, '-i', '127.0.0.1', '-p', String(ports.sipp),
          '-m', String(FLOOD), '-r', '200', '-nr', '-cid_str', 'peer-flood-%u@compat', '-timeout', '20', '-timeout_error',
        ]);
        // sipp exits 1 when calls went unanswered: what blocking means here
        assert.ok(r.code === 0 || r.code === 1, `sipp: ${r.output}`);
        assert.match(r.output, new RegExp(`OPTIONS ---------->\\s+${String(FLOOD)}\\s`), 'every OPTIONS was sent');
        keep('sipp', r.received);
      },
      compare: { sipp: STATUS },
    },
  ],
});
