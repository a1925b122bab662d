/**
 * KSR.async on a real server, both engines: a request suspended, resumed in a named function
 * with the same Context, chained, refused when the arguments are out of range; task routes and
 * task data; the statistics.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { runBindingCases, type BindingCase } from '../helpers/binding-cases.js';
import { ENGINES, routeScript, startServer } from '../helpers/runtime.js';
import { UdpPeer } from '../helpers/sip-client.js';

const cases: BindingCase[] = [
  {
    name: 'ms_route suspends and resumes in the named function with the same $var, $avp and flags',
    lua: `KSR.pv.sets("$var(v)", "kept")
      KSR.pv.sets("$avp(a)", "avp")
      KSR.setflag(5)
      local rc = KSR.async.ms_route("RESUME", 50)
      KSR.pv.sets("$var(rc)", rc)
      KSR.x.exit()
    end
    function RESUME()
      KSR.hdr.append_to_reply("X-Got: " .. KSR.pv.get("$var(v)") .. "," .. KSR.pv.get("$avp(a)") .. "," .. tostring(KSR.isflagset(5)) .. "," .. KSR.pv.get("$var(rc)") .. "\\r\\n")
      KSR.tm.t_reply(200, "Resumed")`,
    js: `KSR.pv.sets("$var(v)", "kept");
      KSR.pv.sets("$avp(a)", "avp");
      KSR.setflag(5);
      const rc = KSR.async.ms_route("RESUME", 50);
      KSR.pv.sets("$var(rc)", String(rc));
      KSR.x.exit();
    }
    function RESUME() {
      KSR.hdr.append_to_reply("X-Got: " + KSR.pv.get("$var(v)") + "," + KSR.pv.get("$avp(a)") + "," + KSR.isflagset(5) + "," + KSR.pv.get("$var(rc)") + "\\r\\n");
      KSR.tm.t_reply(200, "Resumed");`,
    request: { method: 'MESSAGE' },
    expect: {
      status: 200,
      reason: 'Resumed',
      headers: { 'X-Got': 'kept,avp,true,0' },
      stats: { 'async:suspended': 1, 'async:resumed': 1, 'tm:created': 1, 'tm:suspended': 0 },
    },
  },
  {
    name: 'chained: a resumed route suspends again, and the second resume answers',
    lua: `KSR.pv.sets("$var(path)", "req")
      KSR.async.ms_route("ONE", 30)
    end
    function ONE()
      KSR.pv.sets("$var(path)", KSR.pv.get("$var(path)") .. ",one")
      KSR.async.ms_route("TWO", 30)
    end
    function TWO()
      KSR.hdr.append_to_reply("X-Path: " .. KSR.pv.get("$var(path)") .. ",two\\r\\n")
      KSR.tm.t_reply(200, "OK")`,
    js: `KSR.pv.sets("$var(path)", "req");
      KSR.async.ms_route("ONE", 30);
    }
    function ONE() {
      KSR.pv.sets("$var(path)", KSR.pv.get("$var(path)") + ",one");
      KSR.async.ms_route("TWO", 30);
    }
    function TWO() {
      KSR.hdr.append_to_reply("X-Path: " + KSR.pv.get("$var(path)") + ",two\\r\\n");
      KSR.tm.t_reply(200, "OK");`,
    request: { method: 'MESSAGE' },
    expect: { status: 200, headers: { 'X-Path': 'req,one,two' }, stats: { 'async:suspended': 2, 'async:resumed': 2, 'tm:created': 1 } },
  },
  {
    name: 'out-of-range delays (sleep and ms_sleep too), unknown functions return -1 and suspend nothing',
    lua: `local r = {
        KSR.async.route("R", 101), KSR.async.route("R", -1), KSR.async.ms_route("R", 30001),
        KSR.async.ms_route("NO_SUCH_FUNCTION", 10), KSR.async.sleep(101), KSR.async.ms_sleep(30001),
        KSR.async.task_group_route("R", "nogroup") }
      KSR.hdr.append_to_reply("X-Rc: " .. table.concat(r, ",") .. "\\r\\n")
      KSR.sl.sl_send_reply(200, "OK")
    end
    function R()`,
    js: `const r = [
        KSR.async.route("R", 101), KSR.async.route("R", -1), KSR.async.ms_route("R", 30001),
        KSR.async.ms_route("NO_SUCH_FUNCTION", 10), KSR.async.sleep(101), KSR.async.ms_sleep(30001),
        KSR.async.task_group_route("R", "nogroup")];
      KSR.hdr.append_to_reply("X-Rc: " + r.join(",") + "\\r\\n");
      KSR.sl.sl_send_reply(200, "OK");
    }
    function R() {`,
    expect: { status: 200, headers: { 'X-Rc': '-1,-1,-1,-1,-1,-1,-1' }, stats: { 'async:failures': 7, 'async:suspended': 0, 'tm:created': 0 } },
  },
  {
    name: 'the return parameter is what a suspending call returns',
    lua: `KSR.pv.sets("$var(rc)", KSR.async.ms_route("R", 10))
    end
    function R()
      KSR.hdr.append_to_reply("X-Rc: " .. KSR.pv.get("$var(rc)") .. "\\r\\n")
      KSR.tm.t_reply(200, "OK")`,
    js: `KSR.pv.sets("$var(rc)", String(KSR.async.ms_route("R", 10)));
    }
    function R() {
      KSR.hdr.append_to_reply("X-Rc: " + KSR.pv.get("$var(rc)") + "\\r\\n");
      KSR.tm.t_reply(200, "OK");`,
    config: { modules: { async: { return: 1 } } },
    expect: { status: 200, headers: { 'X-Rc': '1' } },
  },
  {
    name: 'task_route resumes at once; $async(gname) and get_gname() name the first group',
    lua: `KSR.async.task_route("T")
    end
    function T()
      KSR.hdr.append_to_reply("X-G: " .. KSR.pv.get("$async(gname)") .. "," .. KSR.async.get_gname() .. "," .. tostring(KSR.async.get_data()) .. "\\r\\n")
      KSR.tm.t_reply(200, "OK")`,
    js: `KSR.async.task_route("T");
    }
    function T() {
      KSR.hdr.append_to_reply("X-G: " + KSR.pv.get("$async(gname)") + "," + KSR.async.get_gname() + "," + String(KSR.async.get_data()) + "\\r\\n");
      KSR.tm.t_reply(200, "OK");`,
    expect: { status: 200, check: (r) => { assert.match(r.getHeader('X-G') ?? '', /^default,default,(nil|null)$/); } },
  },
  {
    name: 'task_group_route runs in a group declared in Kamailio\'s form',
    lua: `KSR.async.task_group_route("T", "abc")
    end
    function T()
      KSR.hdr.append_to_reply("X-G: " .. KSR.pv.get("$async(gname)") .. "\\r\\n")
      KSR.tm.t_reply(200, "OK")`,
    js: `KSR.async.task_group_route("T", "abc");
    }
    function T() {
      KSR.hdr.append_to_reply("X-G: " + KSR.pv.get("$async(gname)") + "\\r\\n");
      KSR.tm.t_reply(200, "OK");`,
    config: { modules: { async: { groups: ['name=first;workers=2', 'name=abc;workers=4;nonblock=0;usleep=0'] } } },
    expect: { status: 200, headers: { 'X-G': 'abc' } },
  },
  {
    name: 'task_data runs a function without a message, with $async(data); the request goes on',
    lua: `local rc = KSR.async.task_data("T", "caller " .. KSR.pv.get("$fU"))
      KSR.pv.sets("$var(rc)", rc)
      KSR.async.ms_route("R", 50)
    end
    function T()
      KSR.pv.sets("$shv(seen)", KSR.pv.get("$async(data)") .. "/" .. tostring(KSR.pv.get("$fU")))
    end
    function R()
      KSR.hdr.append_to_reply("X-Seen: " .. KSR.pv.get("$shv(seen)") .. "," .. KSR.pv.get("$var(rc)") .. "\\r\\n")
      KSR.tm.t_reply(200, "OK")`,
    js: `const rc = KSR.async.task_data("T", "caller " + KSR.pv.get("$fU"));
      KSR.pv.sets("$var(rc)", String(rc));
      KSR.async.ms_route("R", 50);
    }
    function T() {
      KSR.pv.sets("$shv(seen)", KSR.pv.get("$async(data)") + "/" + String(KSR.pv.get("$fU")));
    }
    function R() {
      KSR.hdr.append_to_reply("X-Seen: " + KSR.pv.get("$shv(seen)") + "," + KSR.pv.get("$var(rc)") + "\\r\\n");
      KSR.tm.t_reply(200, "OK");`,
    expect: { status: 200, check: (r) => { assert.match(r.getHeader('X-Seen') ?? '', /^caller alice\/(nil|null),1$/); }, stats: { 'async:tasks': 1 } },
  },
  {
    name: 'a suspended INVITE gets 100 Trying at once; the resumed route relays nothing and answers',
    lua: `KSR.async.ms_route("R", 20)
    end
    function R()
      KSR.tm.t_reply(486, "Busy Here")`,
    js: `KSR.async.ms_route("R", 20);
    }
    function R() {
      KSR.tm.t_reply(486, "Busy Here");`,
    request: { method: 'INVITE' },
    expect: { status: 100, stats: { 'tm:created': 1 } },
  },
  {
    name: 'an ACK cannot be suspended: -1, nothing held',
    lua: 'KSR.async.ms_route("R", 10)\nend\nfunction R()',
    js: 'KSR.async.ms_route("R", 10);\n}\nfunction R() {',
    request: { method: 'ACK' },
    expect: { noReply: true, stats: { 'async:failures': 1, 'async:suspended': 0, 'tm:created': 0 } },
  },
  {
    name: 'a suspended request nobody resumes in time is ended by fr_timer with 408',
    lua: `KSR.async.ms_route("R", 400)
    end
    function R()
      KSR.tm.t_reply(200, "Too Late")`,
    js: `KSR.async.ms_route("R", 400);
    }
    function R() {
      KSR.tm.t_reply(200, "Too Late");`,
    config: { modules: { tm: { fr_timer: 100 } } },
    expect: { status: 408, stats: { 'tm:expired_suspended': 1, 'tm:suspended': 0 } },
  },
];

runBindingCases('KSR.async', cases);

for (const engine of ENGINES) {
  describe(`KSR.async timing [${engine}]`, () => {
    test('route() counts seconds, ms_route() milliseconds', async () => {
      const body = engine === 'lua'
        ? 'if KSR.is_method("MESSAGE") then KSR.async.route("R", 1) else KSR.async.ms_route("R", 100) end'
        : 'if (KSR.is_method("MESSAGE")) KSR.async.route("R", 1); else KSR.async.ms_route("R", 100);';
      const extra = engine === 'lua' ? 'function R()\n KSR.tm.t_reply(200, "OK")\nend\n' : 'function R() { KSR.tm.t_reply(200, "OK"); }\n';
      const server = await startServer(engine, routeScript(engine, body, extra), { config: { modules: { tm: { wt_timer: 0 } } } });
      const peer = await UdpPeer.open();
      try {
        let t0 = performance.now();
        peer.request({ method: 'MESSAGE' }, server.udpPort);
        const slow = await peer.next(3000);
        const slowMs = performance.now() - t0;
        t0 = performance.now();
        peer.request({ method: 'OPTIONS' }, server.udpPort);
        const fast = await peer.next(3000);
        const fastMs = performance.now() - t0;
        assert.equal(slow?.status, 200);
        assert.equal(fast?.status, 200);
        assert.ok(slowMs >= 950 && slowMs < 2500, `route(R, 1) answered after ${slowMs.toFixed(0)} ms`);
        assert.ok(fastMs >= 95 && fastMs < 900, `ms_route(R, 100) answered after ${fastMs.toFixed(0)} ms`);
        assert.equal(server.rt.stats.get('async:resumed'), 2);
      } finally {
        peer.close();
        await server.close();
      }
    });

    test('the late resume of a timed-out request sends nothing and counts async:gone', async () => {
      const body = engine === 'lua' ? 'KSR.async.ms_route("R", 300)' : 'KSR.async.ms_route("R", 300);';
      const extra = engine === 'lua' ? 'function R()\n KSR.tm.t_reply(200, "Too Late")\nend\n' : 'function R() { KSR.tm.t_reply(200, "Too Late"); }\n';
      const server = await startServer(engine, routeScript(engine, body, extra), { config: { modules: { tm: { fr_timer: 100 } } } });
      const peer = await UdpPeer.open();
      try {
        peer.request({ method: 'MESSAGE' }, server.udpPort);
        assert.equal((await peer.next(2000))?.status, 408);
        assert.equal(await peer.next(600), null, 'nothing after the 408');
        assert.equal(server.rt.stats.get('async:gone'), 1);
        assert.equal(server.rt.stats.get('async:resumed'), 0);
      } finally {
        peer.close();
        await server.close();
      }
    });
  });
}
