/** Black-box call flows with sipp (Debian sip-tester) against the real server. */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { ENGINES, startServer } from '../helpers/runtime.js';
import { freePort, runSipp, SIPP_FIXTURES, startSipp } from '../helpers/sipp.js';

const OPTIONS_SCRIPT = {
  lua: 'function ksr_request_route()\n  if KSR.is_OPTIONS() then KSR.sl.sl_send_reply(200, "OK") end\nend\n',
  js: 'function ksr_request_route() {\n  if (KSR.is_OPTIONS()) KSR.sl.sl_send_reply(200, "OK");\n}\n',
};

const forwardScript = (engine: 'lua' | 'js', uasPort: number): string =>
  engine === 'lua'
    ? `function ksr_request_route()
  KSR.maxfwd.process_maxfwd(10)
  if KSR.forward_uri("sip:127.0.0.1:${String(uasPort)}") < 0 then KSR.sl.sl_send_reply(500, "no route") end
end
function ksr_reply_route()
  KSR.hdr.append("X-Relayed: 1\\r\\n")
end
`
    : `function ksr_request_route() {
  KSR.maxfwd.process_maxfwd(10);
  if (KSR.forward_uri("sip:127.0.0.1:${String(uasPort)}") < 0) KSR.sl.sl_send_reply(500, "no route");
}
function ksr_reply_route() {
  KSR.hdr.append("X-Relayed: 1\\r\\n");
}
`;

for (const engine of ENGINES) {
  describe(`sipp [${engine}]`, () => {
    for (const transport of ['u1', 't1'] as const) {
      test(`OPTIONS over ${transport === 'u1' ? 'UDP' : 'TCP'}: 200 calls, all answered`, async () => {
        const server = await startServer(engine, OPTIONS_SCRIPT[engine]);
        try {
          const port = transport === 'u1' ? server.udpPort : server.tcpPort;
          const r = await runSipp([
            `127.0.0.1:${String(port)}`, '-sf', join(SIPP_FIXTURES, 'options-uac.xml'), '-t', transport,
            '-i', '127.0.0.1', '-p', String(await freePort()), '-m', '200', '-r', '200', '-timeout', '30', '-timeout_error',
          ]);
          assert.equal(r.code, 0, r.output);
          assert.equal(server.rt.stats.get('core:rcv_requests'), 200);
          assert.equal(server.rt.stats.get('core:sent_replies'), 200);
        } finally {
          await server.close();
        }
      });
    }

    test('stateless forwarding: INVITE/ACK/BYE from a sipp UAC through kemihost to a sipp UAS', async () => {
      const uasPort = await freePort();
      const uas = startSipp(['-sn', 'uas', '-i', '127.0.0.1', '-p', String(uasPort), '-m', '20', '-timeout', '40']);
      const server = await startServer(engine, forwardScript(engine, uasPort));
      try {
        const r = await runSipp([
          `127.0.0.1:${String(server.udpPort)}`, '-sn', 'uac', '-s', 'service', '-i', '127.0.0.1', '-p', String(await freePort()),
          '-m', '20', '-r', '10', '-d', '100', '-timeout', '40', '-timeout_error',
        ]);
        assert.equal(r.code, 0, r.output);
        const uasResult = await uas.done;
        assert.equal(uasResult.code, 0, uasResult.output);
        // INVITE, ACK and BYE for each call went through; 180, 200 (INVITE) and 200 (BYE) came back
        assert.equal(server.rt.stats.get('core:fwd_requests'), 60);
        assert.equal(server.rt.stats.get('core:fwd_replies'), 60);
      } finally {
        uas.stop();
        await server.close();
      }
    });
  });
}
