/**
 * async + tm call flows with sipp as the UAC (and as the UAS behind kemihost): INVITE suspended
 * with KSR.async.ms_route and resumed; chained; CANCELled while suspended; resumed into a
 * stateful relay whose failure route answers 503. sipp fails a call on any unexpected message,
 * so "nothing is sent after" is checked by the scenarios themselves.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { ENGINES, startServer, type EngineName, type TestServer } from '../helpers/runtime.js';
import { freePort, runSipp, SIPP_FIXTURES, startSipp } from '../helpers/sipp.js';

const CALLS = 10;

/** The R-URI user picks the flow: answer, chain, cancel, relay. Every request goes to uasPort when relayed. */
function script(engine: EngineName, uasPort: number): string {
  const uas = String(uasPort);
  return engine === 'lua'
    ? `function ksr_request_route()
  if KSR.is_ACK() or KSR.is_BYE() then
    KSR.tm.t_relay_to_proto_addr("udp", "127.0.0.1", ${uas})
    return
  end
  KSR.tm.t_newtran()
  KSR.pv.sets("$var(path)", "req")
  local mode = KSR.pv.get("$rU")
  if mode == "chain" then KSR.async.ms_route("CHAIN", 20)
  elseif mode == "cancel" then KSR.async.ms_route("ANSWER", 1000)
  elseif mode == "relay" then KSR.async.ms_route("RELAY", 20)
  else KSR.async.ms_route("ANSWER", 20) end
  KSR.x.exit()
end
function CHAIN()
  KSR.pv.sets("$var(path)", KSR.pv.get("$var(path)") .. ",one")
  KSR.async.ms_route("CHAIN2", 20)
end
function CHAIN2()
  KSR.pv.sets("$var(path)", KSR.pv.get("$var(path)") .. ",two")
  KSR.async.ms_route("ANSWER", 20)
end
function ANSWER()
  KSR.hdr.append_to_reply("X-Chain: " .. KSR.pv.get("$var(path)") .. "\\r\\n")
  KSR.tm.t_reply(200, "OK")
end
function RELAY()
  KSR.tm.t_on_failure("FAIL")
  KSR.tm.t_relay_to_proto_addr("udp", "127.0.0.1", ${uas})
end
function FAIL()
  if KSR.tm.t_is_canceled() > 0 then return end
  KSR.tm.t_reply(503, "Service Unavailable")
end
`
    : `function ksr_request_route() {
  if (KSR.is_ACK() || KSR.is_BYE()) {
    KSR.tm.t_relay_to_proto_addr("udp", "127.0.0.1", ${uas});
    return;
  }
  KSR.tm.t_newtran();
  KSR.pv.sets("$var(path)", "req");
  const mode = KSR.pv.get("$rU");
  if (mode === "chain") KSR.async.ms_route("CHAIN", 20);
  else if (mode === "cancel") KSR.async.ms_route("ANSWER", 1000);
  else if (mode === "relay") KSR.async.ms_route("RELAY", 20);
  else KSR.async.ms_route("ANSWER", 20);
  KSR.x.exit();
}
function CHAIN() {
  KSR.pv.sets("$var(path)", KSR.pv.get("$var(path)") + ",one");
  KSR.async.ms_route("CHAIN2", 20);
}
function CHAIN2() {
  KSR.pv.sets("$var(path)", KSR.pv.get("$var(path)") + ",two");
  KSR.async.ms_route("ANSWER", 20);
}
function ANSWER() {
  KSR.hdr.append_to_reply("X-Chain: " + KSR.pv.get("$var(path)") + "\\r\\n");
  KSR.tm.t_reply(200, "OK");
}
function RELAY() {
  KSR.tm.t_on_failure("FAIL");
  KSR.tm.t_relay_to_proto_addr("udp", "127.0.0.1", ${uas});
}
function FAIL() {
  if (KSR.tm.t_is_canceled() > 0) return;
  KSR.tm.t_reply(503, "Service Unavailable");
}
`;
}

async function uac(server: TestServer, scenario: string[], service: string): Promise<void> {
  const r = await runSipp([
    `127.0.0.1:${String(server.udpPort)}`, ...scenario, '-s', service, '-i', '127.0.0.1', '-p', String(await freePort()),
    '-m', String(CALLS), '-r', String(CALLS), '-timeout', '30', '-timeout_error',
  ]);
  assert.equal(r.code, 0, r.output);
}

/** A server with short tm timers, a sipp UAS scenario behind it (or a port nobody uses). */
async function withServer(engine: EngineName, uasArgs: string[] | null, fn: (s: TestServer) => Promise<void>): Promise<void> {
  const uasPort = await freePort();
  const uas = uasArgs === null ? null : startSipp([...uasArgs, '-i', '127.0.0.1', '-p', String(uasPort), '-m', String(CALLS), '-timeout', '30']);
  const server = await startServer(engine, script(engine, uasPort), {
    config: { modules: { tm: { fr_timer: 500, fr_inv_timer: 2000, wt_timer: 200 } } },
  });
  try {
    await fn(server);
    if (uas !== null) {
      const r = await uas.done;
      assert.equal(r.code, 0, r.output);
    }
  } finally {
    uas?.stop();
    await server.close();
  }
}

const sf = (name: string): string[] => ['-sf', join(SIPP_FIXTURES, name)];

for (const engine of ENGINES) {
  describe(`async + tm with sipp [${engine}]`, () => {
    test('INVITE → ms_route → resume → 200 → ACK (absorbed by dialog)', async () => {
      await withServer(engine, null, async (server) => {
        await uac(server, sf('async-invite-uac.xml'), 'answer');
        const st = server.rt.stats;
        assert.equal(st.get('async:resumed'), CALLS);
        assert.equal(st.get('tm:local_replies'), CALLS);
        assert.equal(st.get('tm:absorbed'), CALLS, 'every ACK matched its 200');
        assert.equal(st.get('tm:retransmissions'), 0);
        assert.equal(st.get('tm:active'), 0);
        assert.equal(st.get('tm:suspended'), 0);
      });
    });

    test('chained: two ms_route suspensions in a row, then the 200', async () => {
      await withServer(engine, null, async (server) => {
        await uac(server, sf('async-chain-uac.xml'), 'chain');
        assert.equal(server.rt.stats.get('async:resumed'), 3 * CALLS);
        assert.equal(server.rt.stats.get('tm:created'), CALLS);
      });
    });

    test('CANCEL during the suspension: 200 to the CANCEL, 487 to the INVITE, the later resume sends nothing', async () => {
      await withServer(engine, null, async (server) => {
        await uac(server, sf('async-cancel-uac.xml'), 'cancel');
        const st = server.rt.stats;
        assert.equal(st.get('tm:canceled'), CALLS);
        assert.equal(st.get('async:gone'), CALLS, 'every resume found its transaction gone');
        assert.equal(st.get('async:resumed'), 0);
        assert.equal(st.get('tm:local_replies'), CALLS, 'the 487s only');
      });
    });

    test('resume → t_relay to a sipp UAS: 180/200 relayed, ACK and BYE passed on', async () => {
      await withServer(engine, ['-sn', 'uas'], async (server) => {
        await uac(server, ['-sn', 'uac', '-d', '100'], 'relay');
        assert.equal(server.rt.stats.get('tm:uac_branches'), 2 * CALLS, 'INVITE and BYE branches');
      });
    });

    test('resume → t_relay; the UAS answers 486 (ACKed hop by hop): the failure route answers 503', async () => {
      await withServer(engine, sf('uas-486.xml'), async (server) => {
        await uac(server, sf('async-503-uac.xml'), 'relay');
        assert.equal(server.rt.stats.get('tm:local_replies'), CALLS);
      });
    });

    test('resume → t_relay; the UAS never answers: fr_timer → 408 → the failure route answers 503', async () => {
      await withServer(engine, sf('uas-no-answer.xml'), async (server) => {
        await uac(server, sf('async-503-uac.xml'), 'relay');
        assert.equal(server.rt.stats.get('tm:timeouts'), CALLS);
      });
    });
  });
}
