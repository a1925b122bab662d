/**
 * KSR.tm's reply-status functions on a real server, both engines: a UAC sends, a real next hop
 * answers (or keeps quiet), the failure route reads the status functions and sends their results
 * back in an X-Rc header of its own reply.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { runBindingCases, type BindingCase } from '../helpers/binding-cases.js';
import { NextHop } from '../helpers/next-hop.js';
import { ENGINES, routeScript, startServer } from '../helpers/runtime.js';
import { UdpPeer } from '../helpers/sip-client.js';

/** The failure route's calls, in the order of X-Rc's values. */
const PROBES = [
  't_check_status("503")', 't_check_status("^[45]")', 't_check_status("408")', 't_get_status_code()',
  't_branch_timeout()', 't_branch_replied()', 't_any_timeout()', 't_any_replied()', 't_grep_status(503)', 't_grep_status(486)',
];
const probeLua = PROBES.map((p) => `KSR.tm.${p}`).join(' .. "," .. ');
const probeJs = PROBES.map((p) => `KSR.tm.${p}`).join(' + "," + ');

const relayWithFailure = (lua: boolean): string => (lua
  ? `KSR.tm.t_on_failure("FAIL")
      KSR.tm.t_relay()
    end
    function FAIL()
      KSR.hdr.append_to_reply("X-Rc: " .. ${probeLua} .. "\\r\\n")
      KSR.tm.t_reply(480, "Later")`
  : `KSR.tm.t_on_failure("FAIL");
      KSR.tm.t_relay();
    }
    function FAIL() {
      KSR.hdr.append_to_reply("X-Rc: " + ${probeJs} + "\\r\\n");
      KSR.tm.t_reply(480, "Later");`);

const cases: BindingCase[] = [
  {
    name: 'a branch answered 503: the failure route sees 503, replied, no timeout',
    lua: relayWithFailure(true),
    js: relayWithFailure(false),
    request: { method: 'OPTIONS', ruri: 'sip:bob@127.0.0.1:{next}' },
    next: { answer: 503 },
    expect: { status: 480, headers: { 'X-Rc': '1,1,-1,503,-1,1,-1,1,1,-1' } },
  },
  {
    name: 'a branch nobody answered: 408 by its timer, t_branch_timeout and t_any_timeout 1, nothing replied',
    lua: relayWithFailure(true),
    js: relayWithFailure(false),
    request: { method: 'OPTIONS', ruri: 'sip:bob@127.0.0.1:{next}' },
    next: { answer: 0 },
    config: { modules: { tm: { fr_timer: 200 } } },
    expect: { status: 480, headers: { 'X-Rc': '-1,1,1,408,1,-1,1,-1,-1,-1' } },
  },
  {
    name: 'request route: no transaction → -1; after a provisional t_reply the last reply sent; a bad expression → -1',
    lua: `local a = KSR.tm.t_check_status("1[0-9][0-9]")
      local b = KSR.tm.t_get_status_code()
      KSR.tm.t_newtran()
      KSR.tm.t_reply(180, "Ringing")
      local c = KSR.tm.t_check_status("180")
      local d = KSR.tm.t_check_status("(")
      local e = KSR.tm.t_get_status_code()
      local f = KSR.tm.t_branch_timeout()
      local g = KSR.tm.t_set_disable_6xx(1) .. KSR.tm.t_set_fr_inv(-5) .. KSR.tm.t_set_fr_inv(500) .. KSR.tm.t_reset_fr()
      KSR.hdr.append_to_reply("X-Rc: " .. a .. "," .. b .. "," .. c .. "," .. d .. "," .. e .. "," .. f .. "," .. g .. "\\r\\n")
      KSR.tm.t_reply(486, "Busy Here")`,
    js: `const a = KSR.tm.t_check_status("1[0-9][0-9]");
      const b = KSR.tm.t_get_status_code();
      KSR.tm.t_newtran();
      KSR.tm.t_reply(180, "Ringing");
      const c = KSR.tm.t_check_status("180");
      const d = KSR.tm.t_check_status("(");
      const e = KSR.tm.t_get_status_code();
      const f = KSR.tm.t_branch_timeout();
      const g = "" + KSR.tm.t_set_disable_6xx(1) + KSR.tm.t_set_fr_inv(-5) + KSR.tm.t_set_fr_inv(500) + KSR.tm.t_reset_fr();
      KSR.hdr.append_to_reply("X-Rc: " + a + "," + b + "," + c + "," + d + "," + e + "," + f + "," + g + "\\r\\n");
      KSR.tm.t_reply(486, "Busy Here");`,
    request: { method: 'INVITE' },
    expect: { status: 486, headers: { 'X-Rc': '-1,-1,1,-1,180,-1,1-111' } },
  },
  {
    name: 't_lookup_request before and after t_newtran; t_lookup_cancel on a non-CANCEL; t_is_retr_async_reply when not suspended',
    lua: `local a = KSR.tm.t_lookup_request()
      KSR.tm.t_newtran()
      local b = KSR.tm.t_lookup_request()
      KSR.hdr.append_to_reply("X-Rc: " .. a .. "," .. b .. "," .. KSR.tm.t_lookup_cancel() .. "," .. KSR.tm.t_lookup_cancel_flags(1) .. "," .. KSR.tm.t_is_retr_async_reply() .. "\\r\\n")
      KSR.tm.t_reply(200, "OK")`,
    js: `const a = KSR.tm.t_lookup_request();
      KSR.tm.t_newtran();
      const b = KSR.tm.t_lookup_request();
      KSR.hdr.append_to_reply("X-Rc: " + a + "," + b + "," + KSR.tm.t_lookup_cancel() + "," + KSR.tm.t_lookup_cancel_flags(1) + "," + KSR.tm.t_is_retr_async_reply() + "\\r\\n");
      KSR.tm.t_reply(200, "OK");`,
    expect: { status: 200, headers: { 'X-Rc': '-1,1,-1,-1,-1' } },
  },
  {
    name: 'a CANCEL that matches nothing reaches the script: t_lookup_cancel -1',
    lua: 'KSR.sl.sl_send_reply(481, "rc " .. KSR.tm.t_lookup_cancel())',
    js: 'KSR.sl.sl_send_reply(481, "rc " + KSR.tm.t_lookup_cancel());',
    request: { method: 'CANCEL' },
    expect: { status: 481, reason: 'rc -1' },
  },
];

runBindingCases('KSR.tm reply status', cases);

/** Two branches, one answering 603 and one 486: RFC 3261 lets the 6xx win; t_set_disable_6xx(1) makes 486 the best. */
for (const engine of ENGINES) {
  describe(`KSR.tm.t_set_disable_6xx [${engine}]`, () => {
    for (const disable of [0, 1]) {
      test(`t_set_disable_6xx(${String(disable)}): the UAC gets ${disable === 1 ? '486' : '603'}`, async () => {
        const decline = await NextHop.start('udp', 603);
        const busy = await NextHop.start('udp', 486);
        const src = engine === 'lua'
          ? `KSR.tm.t_set_disable_6xx(${String(disable)})\nKSR.pv.sets("$ru", "sip:a@127.0.0.1:${String(decline.port)}")\nKSR.corex.append_branch_uri("sip:b@127.0.0.1:${String(busy.port)}")\nKSR.tm.t_relay()`
          : `KSR.tm.t_set_disable_6xx(${String(disable)});\nKSR.pv.sets("$ru", "sip:a@127.0.0.1:${String(decline.port)}");\nKSR.corex.append_branch_uri("sip:b@127.0.0.1:${String(busy.port)}");\nKSR.tm.t_relay();`;
        const server = await startServer(engine, routeScript(engine, src));
        const peer = await UdpPeer.open();
        try {
          peer.request({ method: 'INVITE' }, server.udpPort);
          let r = await peer.next(3000);
          while (r !== null && r.status < 200) r = await peer.next(3000);
          assert.equal(r?.status, disable === 1 ? 486 : 603);
          assert.equal(decline.received.filter((m) => m.method === 'INVITE').length, 1);
          assert.equal(busy.received.filter((m) => m.method === 'INVITE').length, 1);
        } finally {
          peer.close();
          await server.close();
          decline.close();
          busy.close();
        }
      });
    }
  });
}
