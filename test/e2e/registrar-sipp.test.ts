/**
 * A sipp REGISTER flow against the registrar (both engines): 20 users register, the location
 * table holds them, an INVITE from a sipp UAC reaches a sipp UAS through lookup and t_relay,
 * then the users unregister (Expires: 0) and the table is empty.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { ENGINES, startServer } from '../helpers/runtime.js';
import { freePort, runSipp, SIPP_FIXTURES, startSipp } from '../helpers/sipp.js';

const SCRIPT = {
  lua: `function ksr_request_route()
  if KSR.is_REGISTER() then KSR.registrar.save("location", 0) return end
  -- sipp's built-in UAC sends its ACK and BYE to sip:service@<us>, not to the callee's Contact:
  -- those go through lookup too
  if KSR.registrar.lookup("location") < 0 then KSR.sl.send_reply(404, "Not Found") return end
  KSR.tm.t_relay()
end
`,
  js: `function ksr_request_route() {
  if (KSR.is_REGISTER()) { KSR.registrar.save("location", 0); return; }
  if (KSR.registrar.lookup("location") < 0) { KSR.sl.send_reply(404, "Not Found"); return; }
  KSR.tm.t_relay();
}
`,
};

for (const engine of ENGINES) {
  describe(`registrar with sipp [${engine}]`, () => {
    test('20 REGISTERs, a call to a registered sipp UAS through lookup, 20 unregisters', async () => {
      const server = await startServer(engine, SCRIPT[engine]);
      const uasPort = await freePort();
      const uas = startSipp(['-sn', 'uas', '-i', '127.0.0.1', '-p', String(uasPort), '-m', '1', '-timeout', '30']);
      try {
        const reg = (expires: number) => async (): Promise<void> => {
          const r = await runSipp([
            `127.0.0.1:${String(server.udpPort)}`, '-sf', join(SIPP_FIXTURES, 'register-uac.xml'), '-i', '127.0.0.1', '-p', String(await freePort()),
            '-key', 'contact', `127.0.0.1:${String(uasPort)}`, '-key', 'expires', String(expires), '-m', '20', '-r', '50', '-timeout', '30', '-timeout_error',
          ]);
          assert.equal(r.code, 0, r.output);
        };
        await reg(300)();
        assert.equal(server.rt.stats.get('registrar:accepted_regs'), 20);
        assert.equal(server.rt.stats.get('usrloc:registered_users'), 20);
        const call = await runSipp([
          `127.0.0.1:${String(server.udpPort)}`, '-sn', 'uac', '-s', 'u7', '-i', '127.0.0.1', '-p', String(await freePort()),
          '-m', '1', '-timeout', '30', '-timeout_error',
        ]);
        assert.equal(call.code, 0, call.output);
        const callee = await uas.done;
        assert.equal(callee.code, 0, callee.output);
        await reg(0)();
        assert.equal(server.rt.stats.get('registrar:accepted_regs'), 40);
        assert.equal(server.rt.stats.get('usrloc:registered_users'), 0);
      } finally {
        uas.stop();
        await server.close();
      }
    });
  });
}
