/**
 * Reload while sipp sends a steady load: OPTIONS answered statelessly, and INVITEs held by
 * KSR.async.ms_route and answered from the resume route. Each version names its resume route
 * after itself (RESUME_V1, RESUME_V2 …) and no other version has it, so a call suspended under
 * version N that resumed under any other version would find no route, get a 500 and fail in
 * sipp: zero failed calls means every call resumed on the version that suspended it. sipp
 * fails a call on any lost, unexpected or late (timeout) message.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { rpcResult } from '../helpers/rpc.js';
import { ENGINES, startServer, type EngineName } from '../helpers/runtime.js';
import { freePort, runSipp, SIPP_FIXTURES } from '../helpers/sipp.js';
import { until } from '../helpers/until.js';

const INVITES = 150;
const INVITE_RATE = 50;
const OPTIONS = 300;
const OPTIONS_RATE = 100;
/** longer than the reload interval, so every reload finds calls suspended on the version it replaces */
const HOLD_MS = 400;
const RELOAD_EVERY_MS = 250;

function script(engine: EngineName, n: number): string {
  const v = String(n);
  // the async-invite-uac scenario checks for "X-Chain: req" on the 200
  return engine === 'lua'
    ? `function ksr_request_route()
  if KSR.is_OPTIONS() then
    KSR.sl.sl_send_reply(200, "OK v${v}")
    return
  end
  if KSR.is_ACK() then return end
  KSR.tm.t_newtran()
  KSR.async.ms_route("RESUME_V${v}", ${String(HOLD_MS)})
  KSR.x.exit()
end
function RESUME_V${v}()
  KSR.hdr.append_to_reply("X-Chain: req\\r\\nX-Version: ${v}\\r\\n")
  KSR.tm.t_reply(200, "OK")
end
`
    : `function ksr_request_route() {
  if (KSR.is_OPTIONS()) {
    KSR.sl.sl_send_reply(200, "OK v${v}");
    return;
  }
  if (KSR.is_ACK()) return;
  KSR.tm.t_newtran();
  KSR.async.ms_route("RESUME_V${v}", ${String(HOLD_MS)});
  KSR.x.exit();
}
function RESUME_V${v}() {
  KSR.hdr.append_to_reply("X-Chain: req\\r\\nX-Version: ${v}\\r\\n");
  KSR.tm.t_reply(200, "OK");
}
`;
}

for (const engine of ENGINES) {
  describe(`reload under load [${engine}]`, () => {
    test('sipp OPTIONS + suspended INVITEs while the script is reloaded every 250 ms: zero failed calls, each call resumes on its own version', async () => {
      const server = await startServer(engine, script(engine, 1), {
        config: { rpc: { listen: '127.0.0.1:0' }, modules: { tm: { fr_inv_timer: 5000 } } },
      });
      try {
        const target = `127.0.0.1:${String(server.udpPort)}`;
        const common = ['-i', '127.0.0.1', '-timeout', '40', '-timeout_error', '-max_recv_loops', '1000'];
        const invites = runSipp([target, '-sf', join(SIPP_FIXTURES, 'async-invite-uac.xml'), '-s', 'load', '-p', String(await freePort()),
          '-m', String(INVITES), '-r', String(INVITE_RATE), ...common]);
        const options = runSipp([target, '-sf', join(SIPP_FIXTURES, 'options-uac.xml'), '-s', 'ping', '-p', String(await freePort()),
          '-m', String(OPTIONS), '-r', String(OPTIONS_RATE), ...common]);
        const load = { finished: false };
        void Promise.all([invites, options]).finally(() => { load.finished = true; });

        let n = 1;
        let sawDraining = false;
        while (!load.finished) {
          await new Promise((r) => setTimeout(r, RELOAD_EVERY_MS));
          writeFileSync(server.rt.scriptPath, script(engine, n + 1));
          const res = (await rpcResult(server.rt, 'script.reload')) as { current: { version: number }; draining: unknown[] };
          n++;
          assert.equal(res.current.version, n);
          if (res.draining.length > 0) sawDraining = true;
        }
        const [inv, opt] = await Promise.all([invites, options]);
        assert.equal(inv.code, 0, `INVITE calls failed:\n${inv.output}`);
        assert.equal(opt.code, 0, `OPTIONS failed:\n${opt.output}`);

        const st = server.rt.stats;
        assert.ok(n >= 5, `only ${String(n - 1)} reloads happened during the load`);
        assert.ok(sawDraining, 'no reload ever found a call suspended on the version it replaced');
        assert.equal(st.get('async:resumed'), INVITES);
        assert.equal(st.get('async:gone'), 0);
        assert.equal(st.get('script:errors'), 0);
        assert.equal(st.get('script:reload_failures'), 0);
        // every replaced version goes once its last suspended call is answered
        await until(() => server.rt.script.drainingVersions.length === 0, 5000);
        assert.equal(st.get('script:disposed_versions'), n - 1);
        assert.equal(st.get('tm:suspended'), 0);
      } finally {
        await server.close();
      }
    });
  });
}
