/**
 * A record-routed call between two sipp agents through kemihost: INVITE → 180 → 200 → ACK → BYE.
 * The proxy record-routes the INVITE and routes the ACK and the BYE by loose_route alone (a
 * request without our Route gets a 404), so a call passes only when the Record-Route reached
 * both ends and the route set built from it brought the in-dialog requests back. Caller over
 * UDP, then over TCP (double Record-Route: the callee is on UDP).
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { ENGINES, startServer, type EngineName } from '../helpers/runtime.js';
import { freePort, runSipp, SIPP_FIXTURES, startSipp } from '../helpers/sipp.js';

const CALLS = 5;

function proxy(engine: EngineName, callee: number): string {
  return engine === 'lua'
    ? `function ksr_request_route()
  if KSR.siputils.has_totag() > 0 then
    local rc = KSR.rr.loose_route()
    if rc > 0 then
      KSR.hdr.append("X-LR: " .. rc .. "\\r\\n")
      if KSR.tm.t_relay() < 0 then KSR.sl.sl_reply_error() end
      return
    end
    KSR.sl.sl_send_reply(404, "Not here")
    return
  end
  KSR.hdr.remove("Route")
  if KSR.is_method_in("IS") then KSR.rr.record_route() end
  KSR.setdsturi("sip:127.0.0.1:${String(callee)}")
  if KSR.tm.t_relay() < 0 then KSR.sl.sl_reply_error() end
end
`
    : `function ksr_request_route() {
  if (KSR.siputils.has_totag() > 0) {
    const rc = KSR.rr.loose_route();
    if (rc > 0) {
      KSR.hdr.append("X-LR: " + rc + "\\r\\n");
      if (KSR.tm.t_relay() < 0) KSR.sl.sl_reply_error();
      return;
    }
    KSR.sl.sl_send_reply(404, "Not here");
    return;
  }
  KSR.hdr.remove("Route");
  if (KSR.is_method_in("IS")) KSR.rr.record_route();
  KSR.setdsturi("sip:127.0.0.1:${String(callee)}");
  if (KSR.tm.t_relay() < 0) KSR.sl.sl_reply_error();
}
`;
}

for (const engine of ENGINES) {
  describe(`record-routed calls through sipp [${engine}]`, () => {
    for (const transport of ['u1', 't1'] as const) {
      test(`caller over ${transport === 'u1' ? 'UDP' : 'TCP'}, callee over UDP: ${String(CALLS)} calls, ACK and BYE by loose_route`, async () => {
        const calleePort = await freePort();
        const callee = startSipp(['-sf', join(SIPP_FIXTURES, 'rr-callee.xml'), '-i', '127.0.0.1', '-p', String(calleePort), '-m', String(CALLS), '-timeout', '30']);
        const server = await startServer(engine, proxy(engine, calleePort));
        try {
          const port = transport === 'u1' ? server.udpPort : server.tcpPort;
          const caller = await runSipp([
            `127.0.0.1:${String(port)}`, '-sf', join(SIPP_FIXTURES, 'rr-caller.xml'), '-t', transport, '-s', 'callee',
            '-i', '127.0.0.1', '-p', String(await freePort()), '-m', String(CALLS), '-r', '10', '-timeout', '30', '-timeout_error',
          ], 40_000);
          assert.equal(caller.code, 0, caller.output);
          const calleeResult = await callee.done;
          assert.equal(calleeResult.code, 0, calleeResult.output);
          // each call: INVITE and BYE relayed statefully, the ACK forwarded; nothing answered 404
          assert.equal(server.rt.stats.get('tm:created'), 2 * CALLS);
          assert.equal(server.rt.stats.get('sl:sent_replies') ?? 0, 0);
        } finally {
          callee.stop();
          await server.close();
        }
      });
    }
  });
}
