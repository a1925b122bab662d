/**
 * Whole calls through kemihost and a real rtpengine, with sipp's built-in UAC and UAS (INVITE
 * with SDP, 180, 200 with SDP, ACK, BYE, 200): rtpengine_manage on the INVITE, the 200 and the
 * BYE, Kamailio-example style rtpproxy_manage("co") against rtpengine's rtpproxy listener.
 * Every call must complete, every session be created and deleted (rtpengine's own counters,
 * read over NG, say how many calls it holds afterwards: none), on both engines.
 */
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import { after, before, describe, test } from 'node:test';
import { ENGINES, startServer, type EngineName } from '../helpers/runtime.js';
import { freePort, runSipp, startSipp } from '../helpers/sipp.js';
import { startRtpengine, type RtpengineProcess } from '../helpers/rtpengine.js';

const CALLS = 20;

function script(engine: EngineName, module: 'rtpengine' | 'rtpproxy', uas: number): string {
  const call = module === 'rtpengine' ? 'KSR.rtpengine.rtpengine_manage("")' : 'KSR.rtpproxy.rtpproxy_manage("co")';
  return engine === 'lua'
    ? `function ksr_request_route()
  if KSR.is_INVITE() or KSR.is_BYE() then ${call} end
  if KSR.is_INVITE() then KSR.tm.t_on_reply("ONREPLY") end
  KSR.pv.sets("$du", "sip:127.0.0.1:${String(uas)}")
  KSR.tm.t_relay()
end
function ONREPLY()
  if KSR.pv.get("$rs") == 200 then ${call} end
end
`
    : `function ksr_request_route() {
  if (KSR.is_INVITE() || KSR.is_BYE()) ${call};
  if (KSR.is_INVITE()) KSR.tm.t_on_reply("ONREPLY");
  KSR.pv.sets("$du", "sip:127.0.0.1:${String(uas)}");
  KSR.tm.t_relay();
}
function ONREPLY() {
  if (KSR.pv.get("$rs") == 200) ${call};
}
`;
}

/** rtpengine's "list" command over NG: the calls it holds now */
async function callsHeld(ngPort: number): Promise<number> {
  const s = dgram.createSocket('udp4');
  try {
    const answer = await new Promise<string>((resolve, reject) => {
      s.on('message', (m) => { resolve(m.toString('latin1')); });
      setTimeout(() => { reject(new Error('rtpengine did not answer "list"')); }, 2000);
      s.send('list_1 d7:command4:liste', ngPort, '127.0.0.1');
    });
    const list = /5:callsl(.*)e6:result2:oke$/.exec(answer)?.[1] ?? '';
    return [...list.matchAll(/\d+:/g)].length;
  } finally {
    s.close();
  }
}

let rtpe: RtpengineProcess | null = null;
before(async () => { rtpe = await startRtpengine(null, { legacy: true }); });
after(async () => { await rtpe?.stop(); });

for (const engine of ENGINES) {
  describe(`calls through rtpengine with sipp [${engine}]`, () => {
    for (const module of ['rtpengine', 'rtpproxy'] as const) {
      test(`${String(CALLS)} calls with ${module}_manage: all complete, every session deleted`, async (t) => {
        const r = rtpe;
        if (r === null) return t.skip('rtpengine not installed');
        const uasPort = await freePort();
        const config = module === 'rtpengine'
          ? { rtpengine: { rtpengine_sock: `udp:127.0.0.1:${String(r.ngPort)}` } }
          : { rtpproxy: { rtpproxy_sock: `udp:127.0.0.1:${String(r.udpPort)}` } };
        const server = await startServer(engine, script(engine, module, uasPort), { config: { modules: config } });
        const uas = startSipp(['-sn', 'uas', '-i', '127.0.0.1', '-p', String(uasPort), '-m', String(CALLS)]);
        try {
          const before = await callsHeld(r.ngPort);
          const uac = await runSipp([`127.0.0.1:${String(server.udpPort)}`, '-sn', 'uac', '-s', 'bob', '-i', '127.0.0.1', '-p', String(await freePort()),
            '-d', '0', '-m', String(CALLS), '-r', '20', '-timeout', '20', '-timeout_error'], 30_000);
          assert.equal(uac.code, 0, `sipp: every call completed\n${uac.output.slice(-1500)}`);
          assert.equal(await callsHeld(r.ngPort), before, 'every session deleted');
          const stats = server.rt.stats;
          if (module === 'rtpengine') assert.equal(stats.get('rtpengine:answers'), 3 * CALLS, 'offer, answer and delete for each call');
          else assert.equal(stats.get('rtpproxy:requests'), 4 + 3 * CALLS, 'the checks at start, then U, L and D for each call');
          assert.equal(stats.get(`${module}:failures`), 0);
        } finally {
          uas.stop();
          await uas.done;
          await server.close();
        }
      });
    }
  });
}
