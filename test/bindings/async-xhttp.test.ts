/**
 * KSR.async from an xhttp callback: the same calls suspend the HTTP request (xhttp's Exchange is its owner)
 * instead of a SIP transaction, and the resumed route answers it with the Context it left.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { httpRequest } from '../helpers/http-client.js';
import { ENGINES, startServer, type EngineName } from '../helpers/runtime.js';

function script(engine: EngineName): string {
  return engine === 'lua'
    ? `function ksr_request_route() end
function ksr_xhttp_event(evname)
  KSR.pv.sets("$var(url)", KSR.pv.get("$hu"))
  local rc = KSR.async.ms_route("RESUME", 50)
  KSR.pv.sets("$var(rc)", rc)
  KSR.x.exit()
end
function RESUME()
  KSR.xhttp.xhttp_reply(200, "OK", "text/plain", "resumed " .. KSR.pv.get("$var(url)") .. " rc=" .. KSR.pv.get("$var(rc)"))
end
`
    : `function ksr_request_route() {}
function ksr_xhttp_event(evname) {
  KSR.pv.sets("$var(url)", KSR.pv.get("$hu"));
  const rc = KSR.async.ms_route("RESUME", 50);
  KSR.pv.sets("$var(rc)", String(rc));
  KSR.x.exit();
}
function RESUME() {
  KSR.xhttp.xhttp_reply(200, "OK", "text/plain", "resumed " + KSR.pv.get("$var(url)") + " rc=" + KSR.pv.get("$var(rc)"));
}
`;
}

for (const engine of ENGINES) {
  describe(`KSR.async from xhttp [${engine}]`, () => {
    test('ms_route holds the HTTP request and the resumed route answers it; no SIP transaction is made', async () => {
      const server = await startServer(engine, script(engine), {
        config: { http: { listen: '127.0.0.1:0' }, modules: { xhttp: { event_callback: 'ksr_xhttp_event' } } },
      });
      try {
        const t0 = performance.now();
        const r = await httpRequest(server.httpPort, { path: '/held?x=1' });
        assert.equal(r.status, 200);
        assert.equal(r.body, 'resumed /held?x=1 rc=0');
        assert.ok(performance.now() - t0 >= 45, 'answered after the delay');
        assert.equal(server.rt.stats.get('async:suspended'), 1);
        assert.equal(server.rt.stats.get('async:resumed'), 1);
        assert.equal(server.rt.stats.get('tm:created'), 0);
      } finally {
        await server.close();
      }
    });
  });
}
