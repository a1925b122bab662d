/**
 * htable counters and values: sht_inc/sht_dec, sht_seti/sht_sets, sht_rm, sht_get, sht_is_null,
 * $sht() and a table with initval, each request one operation named in its headers, the result
 * and what reads see afterwards echoed in the reply. The tables live as long as the server, so
 * every case uses its own keys; both servers get the same requests in the same order.
 */
import { isReply } from './harness/peer.js';
import { compatSuite, type CompatCase } from './harness/suite.js';
import { STANDARD_MASKS, type View } from './harness/view.js';

const LUA = `
local function add(name, v)
  if v == nil then v = "<null>" end
  KSR.hdr.append_to_reply(name .. ": " .. tostring(v) .. "\\r\\n")
end

function ksr_request_route()
  local op = KSR.pv.get("$hdr(X-Op)")
  local t = KSR.pv.get("$hdr(X-Table)")
  local key = KSR.pv.get("$rU")
  local val = KSR.pv.get("$hdr(X-Val)")
  local r
  if op == "inc" then r = KSR.htable.sht_inc(t, key)
  elseif op == "dec" then r = KSR.htable.sht_dec(t, key)
  elseif op == "seti" then r = KSR.htable.sht_seti(t, key, tonumber(val))
  elseif op == "sets" then r = KSR.htable.sht_sets(t, key, val)
  elseif op == "rm" then r = KSR.htable.sht_rm(t, key)
  end
  add("X-Result", r)
  add("X-Get", KSR.htable.sht_get(t, key))
  add("X-Is-Null", KSR.htable.sht_is_null(t, key))
  add("X-Sht", KSR.pv.get("$sht(" .. t .. "=>" .. key .. ")"))
  KSR.sl.sl_send_reply(200, "OK")
end
`;

const JS = `
function add(name, v) {
  if (v === null || v === undefined) v = "<null>";
  KSR.hdr.append_to_reply(name + ": " + v + "\\r\\n");
}

function ksr_request_route() {
  var op = KSR.pv.get("$hdr(X-Op)");
  var t = KSR.pv.get("$hdr(X-Table)");
  var key = KSR.pv.get("$rU");
  var val = KSR.pv.get("$hdr(X-Val)");
  var r = null;
  if (op == "inc") r = KSR.htable.sht_inc(t, key);
  else if (op == "dec") r = KSR.htable.sht_dec(t, key);
  else if (op == "seti") r = KSR.htable.sht_seti(t, key, parseInt(val, 10));
  else if (op == "sets") r = KSR.htable.sht_sets(t, key, val);
  else if (op == "rm") r = KSR.htable.sht_rm(t, key);
  add("X-Result", r);
  add("X-Get", KSR.htable.sht_get(t, key));
  add("X-Is-Null", KSR.htable.sht_is_null(t, key));
  add("X-Sht", KSR.pv.get("$sht(" + t + "=>" + key + ")"));
  KSR.sl.sl_send_reply(200, "OK");
}
`;

/** Each reply: the operation's result and the three reads. */
const RESULT: View = { headers: ['x-result', 'x-get', 'x-is-null', 'x-sht'], masks: STANDARD_MASKS };

type Op = readonly [op: string, table: string, key: string, val?: string];

/** One OPTIONS per operation, in order, each waiting for its reply. */
function ops(name: string, list: readonly Op[]): CompatCase<'uac'> {
  return {
    name,
    async flow({ peers: { uac } }) {
      for (const [op, table, key, val] of list) {
        uac.request({ ruri: `sip:${key}@127.0.0.1`, headers: [`X-Op: ${op}`, `X-Table: ${table}`, ...(val === undefined ? [] : [`X-Val: ${val}`])] });
        await uac.waitFor(isReply(200), `the reply to ${op}`);
      }
    },
    compare: { uac: RESULT },
  };
}

compatSuite({
  title: 'htable counters and values',
  peers: ['uac'],
  modules: { sl: {}, htable: { tables: { calls: { size: 4 }, seeded: { size: 4, initval: 5 } } } },
  script: () => ({ lua: LUA, js: JS }),
  cases: [
    ops('sht_inc counts from nothing; sht_dec counts down past zero', [
      ['get', 'calls', 'alice'], ['inc', 'calls', 'alice'], ['inc', 'calls', 'alice'], ['inc', 'calls', 'alice'],
      ['dec', 'calls', 'bob'], ['dec', 'calls', 'bob'],
    ]),
    ops('a table with initval: reads of an unset key and the counters start from it', [
      ['get', 'seeded', 'carol'], ['inc', 'seeded', 'carol'], ['dec', 'seeded', 'dave'],
    ]),
    ops('sht_seti, sht_sets, sht_rm; sht_inc on a string value', [
      ['seti', 'calls', 'erin', '41'], ['inc', 'calls', 'erin'], ['sets', 'calls', 'frank', 'busy'], ['inc', 'calls', 'frank'],
      ['rm', 'calls', 'erin'], ['get', 'calls', 'erin'],
    ]),
  ],
});
