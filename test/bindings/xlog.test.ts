/**
 * KSR.xlog on both engines: a real UAC's request runs the route, the route logs with xlog and
 * replies with the return codes in the reason; the test reads the lines the runtime's logger
 * wrote. One table of cases, each written in Lua and in JS.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { recordingLog } from '../helpers/binding-harness.js';
import { ENGINES, routeScript, startServer } from '../helpers/runtime.js';
import { UdpPeer, type RequestSpec } from '../helpers/sip-client.js';

interface XlogCase {
  name: string;
  /** route body: log, then reply 200 with the return codes as the reason */
  lua: string;
  js: string;
  request?: RequestSpec;
  reason: string;
  /** the xlog lines written, in order: pino level and text (a pattern for texts with ports) */
  lines: { level: number; msg: string | RegExp }[];
}

const L = { debug: 20, info: 30, warn: 40, error: 50, fatal: 60 };

const cases: XlogCase[] = [
  {
    name: 'pseudo-variables in the text are printed for the message: $rm $ru $fu $tu $ci $si $var $hdr',
    lua: 'KSR.pv.sets("$var(who)", "carol")\nlocal rc = KSR.xlog.xinfo("$rm $ru from $fu to $tu ci=$ci src=$si var=$var(who) ua=$hdr(X-Agent)\\n")\nKSR.sl.sl_send_reply(200, "rc " .. rc)',
    js: 'KSR.pv.sets("$var(who)", "carol");\nconst rc = KSR.xlog.xinfo("$rm $ru from $fu to $tu ci=$ci src=$si var=$var(who) ua=$hdr(X-Agent)\\n");\nKSR.sl.sl_send_reply(200, "rc " + rc);',
    request: { method: 'OPTIONS', ruri: 'sip:bob@127.0.0.1', callId: 'xlog-call-1', headers: ['X-Agent: tester/2'] },
    reason: 'rc 1',
    lines: [{ level: L.info, msg: 'OPTIONS sip:bob@127.0.0.1 from sip:alice@example.com to sip:bob@example.com ci=xlog-call-1 src=127.0.0.1 var=carol ua=tester/2' }],
  },
  {
    name: 'each function logs at its level; xlog takes Kamailio\'s level names in any case, unknown ones at L_ERR',
    lua: 'local r = {KSR.xlog.xdbg("d"), KSR.xlog.xnotice("n"), KSR.xlog.xwarn("w"), KSR.xlog.xerr("e"), KSR.xlog.xcrit("c"), KSR.xlog.xalert("a"), KSR.xlog.xlog("l_warn", "lw"), KSR.xlog.xlog("L_DBG", "ld"), KSR.xlog.xlog("whatever", "lx")}\nKSR.sl.sl_send_reply(200, "rc " .. table.concat(r, ","))',
    js: 'const r = [KSR.xlog.xdbg("d"), KSR.xlog.xnotice("n"), KSR.xlog.xwarn("w"), KSR.xlog.xerr("e"), KSR.xlog.xcrit("c"), KSR.xlog.xalert("a"), KSR.xlog.xlog("l_warn", "lw"), KSR.xlog.xlog("L_DBG", "ld"), KSR.xlog.xlog("whatever", "lx")];\nKSR.sl.sl_send_reply(200, "rc " + r.join(","));',
    reason: 'rc 1,1,1,1,1,1,1,1,1',
    lines: [
      { level: L.debug, msg: 'd' }, { level: L.info, msg: 'n' }, { level: L.warn, msg: 'w' }, { level: L.error, msg: 'e' },
      { level: L.fatal, msg: 'c' }, { level: L.fatal, msg: 'a' }, { level: L.warn, msg: 'lw' }, { level: L.debug, msg: 'ld' }, { level: L.error, msg: 'lx' },
    ],
  },
  {
    name: 'a PV without a value prints <null>; $(hdr(Name)[N]) and $avp work; text without PVs is logged as is',
    lua: 'KSR.pv.sets("$avp(k)", "v1")\nlocal a = KSR.xlog.xinfo("none=$hdr(X-None) second=$(hdr(X-Two)[1]) avp=$avp(k)")\nlocal b = KSR.xlog.xinfo("100% plain (no pvs)")\nKSR.sl.sl_send_reply(200, "rc " .. a .. b)',
    js: 'KSR.pv.sets("$avp(k)", "v1");\nconst a = KSR.xlog.xinfo("none=$hdr(X-None) second=$(hdr(X-Two)[1]) avp=$avp(k)");\nconst b = KSR.xlog.xinfo("100% plain (no pvs)");\nKSR.sl.sl_send_reply(200, "rc " + a + b);',
    request: { method: 'OPTIONS', headers: ['X-Two: first', 'X-Two: second'] },
    reason: 'rc 11',
    lines: [{ level: L.info, msg: 'none=<null> second=second avp=v1' }, { level: L.info, msg: '100% plain (no pvs)' }],
  },
  {
    name: 'an unknown pseudo-variable: -1 and no line (as pv_parse_format refuses it); the script goes on',
    lua: 'local rc = KSR.xlog.xinfo("x=$nosuchpv y")\nKSR.sl.sl_send_reply(200, "rc " .. rc)',
    js: 'const rc = KSR.xlog.xinfo("x=$nosuchpv y");\nKSR.sl.sl_send_reply(200, "rc " + rc);',
    reason: 'rc -1',
    lines: [],
  },
];

for (const engine of ENGINES) {
  describe(`KSR.xlog [${engine}]`, () => {
    for (const c of cases) {
      test(c.name, async () => {
        const { log, records } = recordingLog();
        const server = await startServer(engine, routeScript(engine, engine === 'lua' ? c.lua : c.js), { log });
        const peer = await UdpPeer.open();
        try {
          peer.request({ method: 'OPTIONS', ...c.request }, server.udpPort);
          const reply = await peer.next(3000);
          assert.equal(reply?.status, 200);
          assert.equal(reply.reason, c.reason);
          const lines = records.filter((r) => r.module === 'xlog' && !('suppressed' in r)).map((r) => ({ level: r.level as number, msg: r.msg as string }));
          assert.equal(lines.length, c.lines.length, JSON.stringify(lines));
          c.lines.forEach((want, i) => {
            const got = lines[i];
            assert.equal(got?.level, want.level, `line ${String(i)} level`);
            if (typeof want.msg === 'string') assert.equal(got.msg, want.msg);
            else assert.match(got.msg, want.msg);
          });
          if (c.lines.length === 0) {
            const complaint = records.find((r) => typeof r.msg === 'string' && r.msg.includes('unknown pseudo-variable $nosuchpv'));
            assert.ok(complaint !== undefined, 'the unknown PV is named in a complaint');
          }
        } finally {
          peer.close();
          await server.close();
        }
      });
    }
  });
}
