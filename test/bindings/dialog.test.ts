/**
 * KSR.dialog on a real server, both engines: a UAC calls a UAS through a record-routing proxy
 * script (dlg_manage on the INVITE, loose_route in-dialog); the cases read what the script
 * reported in X-* headers of the requests the UAS received (return codes, $dlg, $dlg_var,
 * profiles, flags), the BYEs both peers receive when the dialog times out, and dlg.list.
 */
import assert from 'node:assert/strict';
import { answer, call, dialogs, nextReply, nextRequest, serve, type DlgRow } from '../helpers/dialog-calls.js';
import { runFlowCases, type FlowCase } from '../helpers/flow-cases.js';
import { rpcResult } from '../helpers/rpc.js';
import type { UdpPeer } from '../helpers/sip-client.js';
import type { SipMessage } from '../../host/sip/message.js';
import { until } from '../helpers/until.js';

const CONFIG = {
  rpc: { listen: '127.0.0.1:0' },
  modules: { dialog: { profiles_with_value: 'caller', profiles_no_value: 'calls', dlg_flag: 4 } },
};

/** The proxy around a case's initial-INVITE part (Lua): in-dialog requests report and go on. */
function lua(initial: string, inDialog = ''): string {
  return `if KSR.siputils.has_totag() > 0 then
    if KSR.rr.loose_route() > 0 then
      ${inDialog}
      KSR.tm.t_relay()
    else
      KSR.sl.sl_send_reply(404, "Not here")
    end
    return
  end
  KSR.rr.record_route()
  ${initial}
  KSR.tm.t_relay()`;
}

function js(initial: string, inDialog = ''): string {
  return `if (KSR.siputils.has_totag() > 0) {
    if (KSR.rr.loose_route() > 0) {
      ${inDialog}
      KSR.tm.t_relay();
    } else {
      KSR.sl.sl_send_reply(404, "Not here");
    }
    return;
  }
  KSR.rr.record_route();
  ${initial}
  KSR.tm.t_relay();`;
}

/** X-Name: the values of these expressions, comma-separated (Lua syntax; `..` joins). */
function report(name: string, exprs: readonly string[]): { lua: string; js: string } {
  return {
    lua: `KSR.hdr.append("${name}: " .. ${exprs.map((e) => `tostring(${e})`).join(' .. "," .. ')} .. "\\r\\n")`,
    js: `KSR.hdr.append("${name}: " + [${exprs.join(', ')}].map(String).join(",") + "\\r\\n");`,
  };
}

function sides(lua: string, js: string): { lua: string; js: string } {
  return { lua, js };
}

const MANAGE = sides('local m = KSR.dialog.dlg_manage()', 'const m = KSR.dialog.dlg_manage();');

function joined(...parts: { lua: string; js: string }[]): { lua: string; js: string } {
  return { lua: parts.map((p) => p.lua).join('\n'), js: parts.map((p) => p.js).join('\n') };
}

const initialReport = report('X-Init', [
  'm', 'KSR.dialog.is_known_dlg()', 'KSR.pv.get("$dlg(state)")',
  'KSR.dialog.set_dlg_profile("caller", "alice")', 'KSR.dialog.set_dlg_profile_static("calls")', 'KSR.dialog.set_dlg_profile("nosuch", "")',
  'KSR.dialog.dlg_setflag(3)', 'KSR.dialog.dlg_isflagset(3)', 'KSR.dialog.dlg_isflagset(4)', 'KSR.dialog.dlg_setflag(40)',
  'KSR.dialog.var_sets("plan", "gold")', 'KSR.dialog.var_get("plan")', 'KSR.dialog.var_gete("none")', 'KSR.dialog.var_getw("none")',
]);
const byeReport = report('X-Bye', [
  'KSR.dialog.is_known_dlg()', 'KSR.pv.get("$dlg(state)")', 'KSR.pv.get("$dlg_var(plan)")', 'KSR.dialog.is_in_profile("caller", "alice")',
  'KSR.dialog.is_in_profile("caller", "bob")', 'KSR.dialog.is_in_profile_static("calls")', 'KSR.dialog.dlg_isflagset(3)', 'KSR.pv.get("$dlg_ctx(dir)")',
]);

const sizes = joined(
  sides('KSR.dialog.get_profile_size("caller", "alice", "$var(a)")\nKSR.dialog.get_profile_size_static("calls", "$var(c)")',
    'KSR.dialog.get_profile_size("caller", "alice", "$var(a)");\nKSR.dialog.get_profile_size_static("calls", "$var(c)");'),
  report('X-Size', ['KSR.pv.get("$var(a)")', 'KSR.pv.get("$var(c)")', 'KSR.dialog.get_profile_size("caller", "", "$si")', 'KSR.dialog.get_profile_size("nosuch", "", "$var(x)")']),
);

const cases: FlowCase[] = [
  {
    name: 'dlg_manage on the INVITE: profiles, flags, vars; the BYE is matched (is_known_dlg, $dlg, $dlg_var, profiles) and ends the dialog',
    lua: lua(joined(MANAGE, initialReport).lua, joined(sizes, byeReport).lua),
    js: js(joined(MANAGE, initialReport).js, joined(sizes, byeReport).js),
    config: CONFIG,
    uas: 1,
    flow: async (env) => {
      const c = await call(env);
      assert.equal(c.invite.getHeader('x-init'), '1,1,1,1,1,-1,1,1,-1,-1,1,gold,,<null>');
      assert.match(c.invite.getHeader('record-route') ?? '', /;did=[0-9a-f]+\.[0-9a-f]+>$/);
      const rows = await dialogs(env);
      assert.equal(rows.length, 1);
      const row = rows[0] as DlgRow;
      assert.equal(row.state, 4, 'confirmed after the ACK');
      assert.equal(row.callee.tag, 'callee');
      assert.equal(row.callee.contact, `sip:bob@127.0.0.1:${String(env.uas[0]?.port)}`);
      assert.deepEqual(row.variables, [{ plan: 'gold' }]);
      c.inDialog('BYE', 2);
      const bye = await serve(env, 'BYE');
      // $dlg(state) is 5 once the BYE ended it; $dlg_ctx(dir) 1: downstream
      // as Kamailio 5.6 (test/compat/dialog.test.ts): out of its profiles at once, vars and flags kept
      assert.equal(bye.getHeader('x-size'), '0,0,-1,-1');
      assert.equal(bye.getHeader('x-bye'), '1,5,gold,-1,-1,-1,1,1');
      assert.deepEqual(await dialogs(env), []);
      const size = (await rpcResult(env.server.rt, 'dlg.profile_get_size', ['calls'])) as { profile: { count: number } };
      assert.equal(size.profile.count, 0);
    },
  },
  {
    name: 'profiles counted while the call is up (dlg.profile_get_size), in-dialog state: 3 before the ACK, 4 after',
    lua: lua(joined(MANAGE, sides('KSR.dialog.set_dlg_profile("caller", "alice")', '')).lua),
    js: js(joined(MANAGE, sides('', 'KSR.dialog.set_dlg_profile("caller", "alice");')).js),
    config: CONFIG,
    uas: 1,
    flow: async (env) => {
      const c = await call(env, { ack: false });
      assert.equal((await dialogs(env))[0]?.state, 3);
      const size = (await rpcResult(env.server.rt, 'dlg.profile_get_size', ['caller', 'alice'])) as { profile: { count: number } };
      assert.equal(size.profile.count, 1);
      c.inDialog('ACK', 1);
      await nextRequest(env.uas[0] as UdpPeer, 'ACK');
      assert.equal((await dialogs(env))[0]?.state, 4);
    },
  },
  {
    name: 'dlg_flag set before t_relay makes the dialog; without it no dialog (is_known_dlg -1 in-dialog)',
    lua: lua('if KSR.hdr.is_present("X-Track") > 0 then KSR.setflag(4) end', report('X-Known', ['KSR.dialog.is_known_dlg()']).lua),
    js: js('if (KSR.hdr.is_present("X-Track") > 0) { KSR.setflag(4); }', report('X-Known', ['KSR.dialog.is_known_dlg()']).js),
    config: CONFIG,
    uas: 1,
    flow: async (env) => {
      const c = await call(env);
      assert.deepEqual(await dialogs(env), []);
      c.inDialog('BYE', 2);
      assert.equal((await serve(env, 'BYE')).getHeader('x-known'), '-1');
      const tracked = await call(env, { headers: ['X-Track: 1'] });
      assert.match(tracked.invite.getHeader('record-route') ?? '', /;did=/);
      assert.equal((await dialogs(env))[0]?.state, 4);
      tracked.inDialog('BYE', 2);
      assert.equal((await serve(env, 'BYE')).getHeader('x-known'), '1');
    },
  },
  {
    name: 'dlg_set_timeout(1) with timeout-bye: both sides get a BYE (R-URI their Contact, tags swapped for the caller, CSeq +1), the dialog is gone',
    lua: lua(joined(MANAGE, sides('KSR.dialog.dlg_set_timeout(1)\nKSR.dialog.dlg_set_property("timeout-bye")', '')).lua),
    js: js(joined(MANAGE, sides('', 'KSR.dialog.dlg_set_timeout(1);\nKSR.dialog.dlg_set_property("timeout-bye");')).js),
    config: CONFIG,
    uas: 1,
    flow: async (env) => {
      await call(env);
      const uas = env.uas[0] as UdpPeer;
      const [toCaller, toCallee] = await Promise.all([nextRequest(env.uac, 'BYE', 4000), nextRequest(uas, 'BYE', 4000)]);
      assert.equal(toCaller.ruri, `sip:alice@127.0.0.1:${String(env.uac.port)}`);
      assert.equal(toCaller.from.tag, 'callee');
      assert.equal(toCaller.to.tag, 'caller');
      assert.equal(toCaller.cseq.seq, 1);
      assert.equal(toCallee.ruri, `sip:bob@127.0.0.1:${String(uas.port)}`);
      assert.equal(toCallee.from.tag, 'caller');
      assert.equal(toCallee.to.tag, 'callee');
      assert.equal(toCallee.cseq.seq, 2);
      assert.equal(toCallee.getHeader('route'), undefined, 'no Route: the proxy is the only record-router');
      assert.deepEqual(await dialogs(env), []);
    },
  },
  {
    name: 'dlg.terminate_dlg: BYE to both sides; an unknown dialog is 404, bad params -32602',
    lua: lua(MANAGE.lua),
    js: js(MANAGE.js),
    config: CONFIG,
    uas: 1,
    flow: async (env) => {
      const c = await call(env);
      const byes = Promise.all([nextRequest(env.uac, 'BYE'), nextRequest(env.uas[0] as UdpPeer, 'BYE')]);
      assert.equal(await rpcResult(env.server.rt, 'dlg.terminate_dlg', [c.callId, 'caller', 'callee']), 'OK');
      const [a, b] = await byes;
      assert.equal(a.callId, c.callId);
      assert.equal(b.callId, c.callId);
      await assert.rejects(rpcResult(env.server.rt, 'dlg.terminate_dlg', [c.callId, 'caller']), /404/);
      await assert.rejects(rpcResult(env.server.rt, 'dlg.terminate_dlg', []), /-32602: callid expected/);
      await assert.rejects(rpcResult(env.server.rt, 'dlg.end_dlg', ['x', 1]), /-32602: h_entry expected/);
      await assert.rejects(rpcResult(env.server.rt, 'dlg.profile_get_size', ['nosuch']), /404: Profile not found/);
    },
  },
  {
    name: 'a failed INVITE (486) deletes the dialog',
    lua: lua(MANAGE.lua),
    js: js(MANAGE.js),
    config: CONFIG,
    uas: 1,
    flow: async (env) => {
      const uas = env.uas[0] as UdpPeer;
      env.uac.request({ method: 'INVITE', ruri: `sip:bob@127.0.0.1:${String(uas.port)}`, fromTag: 'caller', headers: [`Contact: <sip:a@127.0.0.1:${String(env.uac.port)}>`] }, env.server.udpPort);
      const inv = await nextRequest(uas, 'INVITE');
      assert.equal((await dialogs(env)).length, 1);
      uas.send(answer(inv, 200, uas).replace('200 OK', '486 Busy Here'), env.server.udpPort);
      const r = await nextReply(env.uac, (m) => m.status >= 200);
      assert.equal(r.status, 486);
      assert.deepEqual(await dialogs(env), []);
    },
  },
  {
    name: 'max_dialogs: past the limit dlg_manage answers -1 and the call goes on without a dialog (refused_dialogs counts it)',
    lua: lua(report('X-M', ['KSR.dialog.dlg_manage()']).lua),
    js: js(report('X-M', ['KSR.dialog.dlg_manage()']).js),
    config: { ...CONFIG, modules: { dialog: { max_dialogs: 1 } } },
    uas: 1,
    flow: async (env) => {
      assert.equal((await call(env)).invite.getHeader('x-m'), '1');
      const second = await call(env);
      assert.equal(second.invite.getHeader('x-m'), '-1');
      assert.doesNotMatch(second.invite.getHeader('record-route') ?? '', /did=/);
      assert.equal((await dialogs(env)).length, 1);
      assert.equal(env.server.rt.stats.get('dialog:refused_dialogs'), 1);
    },
  },
  {
    name: 'dlg_bye("callee") from an in-dialog INFO: the callee gets the BYE, its 200 ends the dialog; a bad side is -1',
    lua: lua(MANAGE.lua, `if KSR.is_INFO() then
        KSR.hdr.append_to_reply("X-Rc: " .. KSR.dialog.dlg_bye("nobody") .. "," .. KSR.dialog.dlg_bye("callee") .. "\\r\\n")
        KSR.sl.sl_send_reply(200, "OK")
        return
      end`),
    js: js(MANAGE.js, `if (KSR.is_INFO()) {
        KSR.hdr.append_to_reply("X-Rc: " + KSR.dialog.dlg_bye("nobody") + "," + KSR.dialog.dlg_bye("callee") + "\\r\\n");
        KSR.sl.sl_send_reply(200, "OK");
        return;
      }`),
    config: CONFIG,
    uas: 1,
    flow: async (env) => {
      const c = await call(env);
      c.inDialog('INFO', 2);
      const bye = await serve(env, 'BYE');
      assert.equal(bye.from.tag, 'caller');
      assert.equal(bye.cseq.seq, 3, 'after the INFO of the caller (CSeq 2)');
      const reply = await nextReply(env.uac, (m) => m.cseq.method === 'INFO');
      assert.equal(reply.getHeader('x-rc'), '-1,1');
      await until(async () => (await dialogs(env)).length === 0, 3000, 'the dialog to end');
    },
  },
  {
    name: 'functions without a dialog: -1 (dlg_bye, set_dlg_profile, is_in_profile), flags and vars kept for the message',
    lua: lua(report('X-None', ['KSR.dialog.dlg_bye("all")', 'KSR.dialog.set_dlg_profile_static("calls")', 'KSR.dialog.is_in_profile_static("calls")',
      'KSR.dialog.dlg_setflag(1)', 'KSR.dialog.dlg_isflagset(1)', 'KSR.dialog.var_sets("k", "v")', 'KSR.dialog.var_get("k")', 'KSR.dialog.is_known_dlg()',
      'KSR.dialog.dlg_set_property("nonsense")', 'KSR.dialog.dlg_set_timeout(0)', 'KSR.pv.get("$dlg_ctx(set)")']).lua),
    js: js(report('X-None', ['KSR.dialog.dlg_bye("all")', 'KSR.dialog.set_dlg_profile_static("calls")', 'KSR.dialog.is_in_profile_static("calls")',
      'KSR.dialog.dlg_setflag(1)', 'KSR.dialog.dlg_isflagset(1)', 'KSR.dialog.var_sets("k", "v")', 'KSR.dialog.var_get("k")', 'KSR.dialog.is_known_dlg()',
      'KSR.dialog.dlg_set_property("nonsense")', 'KSR.dialog.dlg_set_timeout(0)', 'KSR.pv.get("$dlg_ctx(set)")']).js),
    config: CONFIG,
    uas: 1,
    flow: async (env) => {
      const c = await call(env);
      assert.equal(c.invite.getHeader('x-none'), '-1,-1,-1,1,1,1,v,-1,-1,-1,0');
      assert.deepEqual(await dialogs(env), []);
    },
  },
  {
    name: 'event_callback: dialog:start at the 2xx, dialog:end at the BYE ($dlg and $dlg_var readable there), dialog:failed for a 486',
    full: true,
    lua: `function ksr_request_route()
  if KSR.pv.get("$rU") == "ev" then
    KSR.hdr.append_to_reply("X-Ev: " .. (KSR.pv.get("$shv(ev)") or "") .. "\\r\\n")
    KSR.sl.sl_send_reply(200, "OK")
    return
  end
  ${lua(joined(MANAGE, sides('KSR.dialog.var_sets("who", "alice")', '')).lua)}
end
function ksr_dialog_event(evname)
  KSR.pv.sets("$shv(ev)", (KSR.pv.get("$shv(ev)") or "") .. "|" .. evname .. ":" .. KSR.pv.get("$dlg(state)") .. ":" .. tostring(KSR.pv.get("$dlg_var(who)")))
end`,
    js: `function ksr_request_route() {
  if (KSR.pv.get("$rU") == "ev") {
    KSR.hdr.append_to_reply("X-Ev: " + (KSR.pv.get("$shv(ev)") || "") + "\\r\\n");
    KSR.sl.sl_send_reply(200, "OK");
    return;
  }
  ${js(joined(MANAGE, sides('', 'KSR.dialog.var_sets("who", "alice");')).js)}
}
function ksr_dialog_event(evname) {
  KSR.pv.sets("$shv(ev)", (KSR.pv.get("$shv(ev)") || "") + "|" + evname + ":" + KSR.pv.get("$dlg(state)") + ":" + KSR.pv.get("$dlg_var(who)"));
}`,
    config: { ...CONFIG, modules: { dialog: { event_callback: 'ksr_dialog_event' } } },
    uas: 1,
    flow: async (env) => {
      const events = async (): Promise<string> => {
        env.uac.request({ method: 'OPTIONS', ruri: 'sip:ev@127.0.0.1' }, env.server.udpPort);
        return (await nextReply(env.uac, (m) => m.cseq.method === 'OPTIONS')).getHeader('x-ev') ?? '';
      };
      const c = await call(env);
      // the event runs after the 2xx was relayed; the ACK may have confirmed the dialog by then (3 or 4)
      await until(async () => /^\|dialog:start:[34]:alice$/.test(await events()), 3000, 'dialog:start');
      c.inDialog('BYE', 2);
      await serve(env, 'BYE');
      await until(async () => /^\|dialog:start:[34]:alice\|dialog:end:5:alice$/.test(await events()), 3000, 'dialog:end');
      const uas = env.uas[0] as UdpPeer;
      env.uac.request({ method: 'INVITE', ruri: `sip:bob@127.0.0.1:${String(uas.port)}`, fromTag: 'caller', headers: [`Contact: <sip:a@127.0.0.1:${String(env.uac.port)}>`] }, env.server.udpPort);
      uas.send(answer(await nextRequest(uas, 'INVITE'), 200, uas).replace('200 OK', '486 Busy Here'), env.server.udpPort);
      await until(async () => (await events()).endsWith('|dialog:failed:5:alice'), 3000, 'dialog:failed');
    },
  },
  {
    name: 'an INVITE answered statelessly after dlg_manage leaves no dialog behind',
    lua: `KSR.rr.record_route()
  KSR.hdr.append_to_reply("X-M: " .. KSR.dialog.dlg_manage() .. "\\r\\n")
  KSR.sl.sl_send_reply(403, "Forbidden")`,
    js: `KSR.rr.record_route();
  KSR.hdr.append_to_reply("X-M: " + KSR.dialog.dlg_manage() + "\\r\\n");
  KSR.sl.sl_send_reply(403, "Forbidden");`,
    config: CONFIG,
    flow: async (env) => {
      const r = await env.send({ method: 'INVITE', ruri: 'sip:bob@127.0.0.1', headers: ['Contact: <sip:a@127.0.0.1:5999>'] });
      assert.equal(r.status, 403);
      assert.equal(r.getHeader('x-m'), '1');
      await until(async () => (await dialogs(env)).length === 0, 3000, 'no dialog');
      assert.equal(env.server.rt.stats.get('dialog:active_dialogs'), 0);
    },
  },
  {
    name: 'timeout_avp (1 s, read when the dialog is made) and $dlg_ctx(timeout_bye)=1 set before dlg_manage: both sides get a BYE',
    lua: lua('KSR.pv.seti("$avp(dlg_timeout)", 1)\n  KSR.pv.seti("$dlg_ctx(timeout_bye)", 1)\n  KSR.dialog.dlg_manage()'),
    js: js('KSR.pv.seti("$avp(dlg_timeout)", 1);\n  KSR.pv.seti("$dlg_ctx(timeout_bye)", 1);\n  KSR.dialog.dlg_manage();'),
    config: { ...CONFIG, modules: { dialog: { timeout_avp: '$avp(dlg_timeout)' } } },
    uas: 1,
    flow: async (env) => {
      const c = await call(env);
      const [a, b] = await Promise.all([nextRequest(env.uac, 'BYE', 4000), nextRequest(env.uas[0] as UdpPeer, 'BYE', 4000)]);
      assert.equal(a.callId, c.callId);
      assert.equal(b.callId, c.callId);
      assert.equal(env.server.rt.stats.get('dialog:expired_dialogs'), 1);
    },
  },
  {
    name: 'dlg.end_dlg by h_entry/h_id, and dlg_set_timeout_id from an in-dialog INFO: BYEs to both sides',
    lua: lua(MANAGE.lua, 'if KSR.is_INFO() then KSR.dialog.dlg_set_timeout_id(1, KSR.pv.get("$dlg(h_entry)"), KSR.pv.get("$dlg(h_id)")) end'),
    js: js(MANAGE.js, 'if (KSR.is_INFO()) { KSR.dialog.dlg_set_timeout_id(1, KSR.pv.get("$dlg(h_entry)"), KSR.pv.get("$dlg(h_id)")); }'),
    config: { ...CONFIG, modules: { dialog: { send_bye: 1 } } },
    uas: 1,
    flow: async (env) => {
      const uas = env.uas[0] as UdpPeer;
      const first = await call(env);
      const row = (await dialogs(env))[0] as DlgRow;
      assert.equal(await rpcResult(env.server.rt, 'dlg.end_dlg', [row.h_entry, row.h_id]), 'OK');
      for (const peer of [env.uac, uas]) {
        const bye = await nextRequest(peer, 'BYE');
        assert.equal(bye.callId, first.callId);
        peer.send(answer(bye, 200, uas), env.server.udpPort);
      }
      await assert.rejects(rpcResult(env.server.rt, 'dlg.end_dlg', [row.h_entry, row.h_id]), /404/);
      const second = await call(env);
      second.inDialog('INFO', 2);
      await serve(env, 'INFO');
      // (retransmissions of the first BYEs, sent before our 200s arrived, may come first)
      const byeOf = async (peer: UdpPeer): Promise<SipMessage> => {
        for (;;) {
          const m = await nextRequest(peer, 'BYE', 4000);
          if (m.callId === second.callId) return m;
        }
      };
      await Promise.all([byeOf(env.uac), byeOf(uas)]);
    },
  },
];

runFlowCases('KSR.dialog', cases);
