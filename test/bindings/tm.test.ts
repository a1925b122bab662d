/**
 * KSR.tm / KSR.tmx on a real server, one request per case, both engines: return values (sent
 * back in X- headers), what the UAC receives, and the tm statistics.
 */
import assert from 'node:assert/strict';
import { runBindingCases, type BindingCase } from '../helpers/binding-cases.js';

/** wt_timer 0: a completed non-INVITE transaction is freed at once, so tm:active reads 0 */
const NO_WAIT = { modules: { tm: { wt_timer: 0 } } };

const cases: BindingCase[] = [
  {
    name: 't_reply without a transaction returns -1 and sends nothing; t_newtran then t_reply answers',
    lua: `local a = KSR.tm.t_reply(404, "Nope")
      local b = KSR.tm.t_newtran()
      local c = KSR.tm.t_newtran()
      KSR.hdr.append_to_reply("X-Rc: " .. a .. "," .. b .. "," .. c .. "\\r\\n")
      KSR.tm.t_reply(404, "Not Here")`,
    js: `const a = KSR.tm.t_reply(404, "Nope");
      const b = KSR.tm.t_newtran();
      const c = KSR.tm.t_newtran();
      KSR.hdr.append_to_reply("X-Rc: " + a + "," + b + "," + c + "\\r\\n");
      KSR.tm.t_reply(404, "Not Here");`,
    config: NO_WAIT,
    expect: {
      status: 404,
      reason: 'Not Here',
      headers: { 'X-Rc': '-1,1,-1' },
      stats: { 'tm:created': 1, 'tm:local_replies': 1, 'tm:active': 0, 'tm:freed': 1, 'core:sent_replies': 0 },
    },
  },
  {
    name: 't_send_reply creates the transaction itself',
    lua: 'KSR.tm.t_send_reply(202, "Accepted")',
    js: 'KSR.tm.t_send_reply(202, "Accepted");',
    config: NO_WAIT,
    expect: { status: 202, stats: { 'tm:created': 1, 'tm:local_replies': 1 } },
  },
  {
    name: 'an INVITE transaction answers 100 Trying at once (auto_inv_100, its reason configurable)',
    lua: 'KSR.tm.t_newtran()\nKSR.tm.t_reply(486, "Busy Here")',
    js: 'KSR.tm.t_newtran();\nKSR.tm.t_reply(486, "Busy Here");',
    request: { method: 'INVITE' },
    config: { modules: { tm: { auto_inv_100_reason: 'Wait' } } },
    expect: { status: 100, reason: 'Wait', check: (r) => { assert.equal(r.to.tag, '', 'a 100 has no To-tag'); } },
  },
  {
    name: 'auto_inv_100 0: the first reply to an INVITE is the script\'s',
    lua: 'KSR.tm.t_newtran()\nKSR.tm.t_reply(486, "Busy Here")',
    js: 'KSR.tm.t_newtran();\nKSR.tm.t_reply(486, "Busy Here");',
    request: { method: 'INVITE' },
    config: { modules: { tm: { auto_inv_100: 0 } } },
    expect: { status: 486, check: (r) => { assert.match(r.to.tag, /^[0-9a-f]{8}-[0-9a-f]{8}$/); } },
  },
  {
    name: 'sl.send_reply goes through the transaction when there is one (stateful)',
    lua: 'KSR.tm.t_newtran()\nKSR.sl.send_reply(200, "OK")',
    js: 'KSR.tm.t_newtran();\nKSR.sl.send_reply(200, "OK");',
    config: NO_WAIT,
    expect: { status: 200, stats: { 'tm:local_replies': 1, 'core:sent_replies': 0, 'sl:sent_replies': 1 } },
  },
  {
    name: 'sl.sl_send_reply stays stateless; the transaction it bypassed is released, not timed out',
    lua: 'KSR.tm.t_newtran()\nKSR.sl.sl_send_reply(200, "OK")',
    js: 'KSR.tm.t_newtran();\nKSR.sl.sl_send_reply(200, "OK");',
    expect: { status: 200, stats: { 'tm:local_replies': 0, 'core:sent_replies': 1, 'tm:active': 0, 'tm:freed': 1, 'tm:timeouts': 0 } },
  },
  {
    name: 't_is_set, t_check_trans, t_is_canceled, t_is_expired before and after',
    lua: `local a = KSR.tm.t_is_set("failure_route")
      local b = KSR.tm.t_check_trans()
      local c = KSR.tm.t_on_failure("FAIL")
      local d = KSR.tm.t_is_set("failure_route")
      local e = KSR.tm.t_is_set("branch_route")
      local f = KSR.tm.t_on_failure("NO_SUCH_FUNCTION")
      KSR.tm.t_newtran()
      local g = KSR.tm.t_check_trans()
      local h = KSR.tm.t_is_set("failure_route")
      KSR.hdr.append_to_reply("X-Rc: " .. a .. "," .. b .. "," .. c .. "," .. d .. "," .. e .. "," .. f .. "," .. g .. "," .. h .. "," .. KSR.tm.t_is_canceled() .. "," .. KSR.tm.t_is_expired() .. "," .. KSR.tm.t_is_set("nonsense") .. "\\r\\n")
      KSR.tm.t_reply(200, "OK")
    end
    function FAIL()`,
    js: `const a = KSR.tm.t_is_set("failure_route");
      const b = KSR.tm.t_check_trans();
      const c = KSR.tm.t_on_failure("FAIL");
      const d = KSR.tm.t_is_set("failure_route");
      const e = KSR.tm.t_is_set("branch_route");
      const f = KSR.tm.t_on_failure("NO_SUCH_FUNCTION");
      KSR.tm.t_newtran();
      const g = KSR.tm.t_check_trans();
      const h = KSR.tm.t_is_set("failure_route");
      KSR.hdr.append_to_reply("X-Rc: " + [a, b, c, d, e, f, g, h, KSR.tm.t_is_canceled(), KSR.tm.t_is_expired(), KSR.tm.t_is_set("nonsense")].join(",") + "\\r\\n");
      KSR.tm.t_reply(200, "OK");
    }
    function FAIL() {`,
    expect: { status: 200, headers: { 'X-Rc': '-1,-1,1,1,-1,-1,1,1,-1,-1,-1' } },
  },
  {
    name: '$T(id_label), $T(id_index), $T_reply_code, $T_reply_reason, $T_branch_idx: $null / 0 without a transaction',
    lua: `local before = tostring(KSR.pv.get("$T(id_label)")) .. "/" .. KSR.pv.get("$T_reply_code") .. "/" .. tostring(KSR.pv.get("$T_reply_reason"))
      KSR.tm.t_newtran()
      KSR.hdr.append_to_reply("X-T: " .. before .. "|" .. KSR.pv.get("$T(id_label)") .. "/" .. KSR.pv.get("$T_reply_code") .. "/" .. KSR.pv.get("$T_branch_idx") .. "/" .. tostring(KSR.pv.get("$T(nonsense)")) .. "\\r\\n")
      KSR.hdr.append_to_reply("X-Index: " .. KSR.pv.get("$T(id_index)") .. "\\r\\n")
      KSR.tm.t_reply(200, "OK")`,
    js: `const before = String(KSR.pv.get("$T(id_label)")) + "/" + KSR.pv.get("$T_reply_code") + "/" + String(KSR.pv.get("$T_reply_reason"));
      KSR.tm.t_newtran();
      KSR.hdr.append_to_reply("X-T: " + before + "|" + KSR.pv.get("$T(id_label)") + "/" + KSR.pv.get("$T_reply_code") + "/" + KSR.pv.get("$T_branch_idx") + "/" + String(KSR.pv.get("$T(nonsense)")) + "\\r\\n");
      KSR.hdr.append_to_reply("X-Index: " + KSR.pv.get("$T(id_index)") + "\\r\\n");
      KSR.tm.t_reply(200, "OK");`,
    request: { method: 'MESSAGE' },
    expect: {
      status: 200,
      check: (r) => {
        const [before, after] = (r.getHeader('X-T') ?? '').split('|');
        assert.match(before ?? '', /^(nil|null)\/0\/(nil|null)$/);
        assert.equal(after, '1/0/0/' + (/nil/.test(before ?? '') ? 'nil' : 'null'), 'the first transaction of this runtime has label 1');
        const index = Number(r.getHeader('X-Index'));
        assert.ok(Number.isInteger(index) && index >= 0 && index <= 0xffff, `id_index ${String(index)}`);
      },
    },
  },
  {
    name: 'a script error after t_newtran is answered 500 through the transaction',
    lua: 'KSR.tm.t_newtran()\nerror("boom")',
    js: 'KSR.tm.t_newtran();\nthrow new Error("boom");',
    config: NO_WAIT,
    expect: { status: 500, stats: { 'tm:local_replies': 1, 'core:sent_replies': 0, 'script:errors': 1 } },
  },
  {
    name: 'a transaction nobody answers ends with 408 after fr_timer',
    lua: 'KSR.tm.t_newtran()',
    js: 'KSR.tm.t_newtran();',
    config: { modules: { tm: { fr_timer: 200, wt_timer: 0 } } },
    expect: { status: 408, reason: 'Request Timeout', stats: { 'tm:timeouts': 1, 'tm:active': 0 } },
  },
  {
    name: 'on that timeout the failure route runs with the same Context and $T_reply_code 408',
    lua: `KSR.pv.sets("$var(who)", "request-route")
      KSR.setflag(3)
      KSR.tm.t_on_failure("FAIL")
      KSR.tm.t_newtran()
    end
    function FAIL()
      KSR.hdr.append_to_reply("X-Fail: " .. KSR.pv.get("$T_reply_code") .. " " .. KSR.pv.get("$var(who)") .. " " .. tostring(KSR.isflagset(3)) .. " " .. KSR.tm.t_is_expired() .. "\\r\\n")
      KSR.tm.t_reply(480, "Later")`,
    js: `KSR.pv.sets("$var(who)", "request-route");
      KSR.setflag(3);
      KSR.tm.t_on_failure("FAIL");
      KSR.tm.t_newtran();
    }
    function FAIL() {
      KSR.hdr.append_to_reply("X-Fail: " + KSR.pv.get("$T_reply_code") + " " + KSR.pv.get("$var(who)") + " " + KSR.isflagset(3) + " " + KSR.tm.t_is_expired() + "\\r\\n");
      KSR.tm.t_reply(480, "Later");`,
    config: { modules: { tm: { fr_timer: 200 } } },
    expect: { status: 480, headers: { 'X-Fail': '408 request-route true 1' }, stats: { 'tm:timeouts': 1 } },
  },
  {
    name: 't_set_fr shortens the timer for this transaction; negative values are refused',
    lua: `local a = KSR.tm.t_set_fr(-1, 0)
      local b = KSR.tm.t_set_fr(0, 150)
      KSR.pv.sets("$var(rc)", a .. "," .. b)
      KSR.tm.t_on_failure("FAIL")
      KSR.tm.t_newtran()
    end
    function FAIL()
      KSR.hdr.append_to_reply("X-Rc: " .. KSR.pv.get("$var(rc)") .. "\\r\\n")
      KSR.tm.t_reply(480, "Later")`,
    js: `const a = KSR.tm.t_set_fr(-1, 0);
      const b = KSR.tm.t_set_fr(0, 150);
      KSR.pv.sets("$var(rc)", a + "," + b);
      KSR.tm.t_on_failure("FAIL");
      KSR.tm.t_newtran();
    }
    function FAIL() {
      KSR.hdr.append_to_reply("X-Rc: " + KSR.pv.get("$var(rc)") + "\\r\\n");
      KSR.tm.t_reply(480, "Later");`,
    // the default fr_timer would outlast the 3 s the case waits for the reply
    config: { modules: { tm: { fr_timer: 60_000 } } },
    expect: { status: 480, headers: { 'X-Rc': '-1,1' } },
  },
  {
    name: 't_release forgets the transaction: t_reply then fails, a stateless reply still works',
    lua: 'KSR.tm.t_newtran()\nlocal a = KSR.tm.t_release()\nlocal b = KSR.tm.t_reply(200, "OK")\nlocal c = KSR.tm.t_release()\nKSR.hdr.append_to_reply("X-Rc: " .. a .. "," .. b .. "," .. c .. "\\r\\n")\nKSR.sl.sl_send_reply(200, "Stateless")',
    js: 'KSR.tm.t_newtran();\nconst a = KSR.tm.t_release();\nconst b = KSR.tm.t_reply(200, "OK");\nconst c = KSR.tm.t_release();\nKSR.hdr.append_to_reply("X-Rc: " + a + "," + b + "," + c + "\\r\\n");\nKSR.sl.sl_send_reply(200, "Stateless");',
    expect: { status: 200, reason: 'Stateless', headers: { 'X-Rc': '1,-1,-1' }, stats: { 'tm:active': 0, 'tm:local_replies': 0 } },
  },
  {
    name: 'KSR.x.drop after t_newtran: no reply, the transaction is released',
    lua: 'KSR.tm.t_newtran()\nKSR.x.drop()',
    js: 'KSR.tm.t_newtran();\nKSR.x.drop();',
    expect: { noReply: true, stats: { 'tm:active': 0, 'tm:freed': 1 } },
  },
  {
    name: 't_relay_to_proto_addr refuses other transports; t_precheck_trans finds nothing for a new request',
    lua: 'local a = KSR.tm.t_relay_to_proto_addr("tls", "127.0.0.1", 5061)\nlocal b = KSR.tmx.t_precheck_trans()\nKSR.hdr.append_to_reply("X-Rc: " .. a .. "," .. b .. "\\r\\n")\nKSR.sl.sl_send_reply(200, "OK")',
    js: 'const a = KSR.tm.t_relay_to_proto_addr("tls", "127.0.0.1", 5061);\nconst b = KSR.tmx.t_precheck_trans();\nKSR.hdr.append_to_reply("X-Rc: " + a + "," + b + "\\r\\n");\nKSR.sl.sl_send_reply(200, "OK");',
    expect: { status: 200, headers: { 'X-Rc': '-1,-1' }, stats: { 'tm:created': 0 } },
  },
  {
    name: 'over TCP the reply goes back on the connection and the transaction ends at once (Timer J = 0)',
    lua: 'KSR.tm.t_newtran()\nKSR.tm.t_reply(200, "TCP")',
    js: 'KSR.tm.t_newtran();\nKSR.tm.t_reply(200, "TCP");',
    transport: 'tcp',
    expect: { status: 200, reason: 'TCP', stats: { 'tm:active': 0, 'tm:freed': 1 } },
  },
];

runBindingCases('KSR.tm and KSR.tmx', cases);
