/**
 * Dialogs between two sipp agents through a record-routing, dialog-tracking kemihost (rr +
 * dialog, the in-dialog requests routed by loose_route alone): the states dlg.list shows while
 * the call runs and after it; a dialog timeout (dlg_set_timeout 1 s, send_bye) and
 * dlg.terminate_dlg each end the call with a BYE that both sipp sides receive and answer (the
 * scenarios check the tags); the call counts as passed only when both sipp runs pass.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { rpcResult } from '../helpers/rpc.js';
import { ENGINES, startServer, type EngineName, type TestServer } from '../helpers/runtime.js';
import { freePort, runSipp, SIPP_FIXTURES, startSipp } from '../helpers/sipp.js';
import { until } from '../helpers/until.js';

interface Row { state: number; 'call-id': string; caller: { tag: string }; callee: { tag: string } }

function proxy(engine: EngineName, callee: number, initial: string): string {
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
  KSR.rr.record_route()
  if KSR.is_INVITE() then
    KSR.dialog.dlg_manage()
    ${initial}
  end
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
  KSR.rr.record_route();
  if (KSR.is_INVITE()) {
    KSR.dialog.dlg_manage();
    ${initial.replace(/\)$/, ');')}
  }
  KSR.setdsturi("sip:127.0.0.1:${String(callee)}");
  if (KSR.tm.t_relay() < 0) KSR.sl.sl_reply_error();
}
`;
}

async function rows(server: TestServer): Promise<Row[]> {
  return (await rpcResult(server.rt, 'dlg.list')) as Row[];
}

/** n calls (10 a second): callee and caller sipp with these scenarios; `during` runs while the call is up. */
async function calls(server: TestServer, calleePort: number, scenarios: [string, string], during: () => Promise<void>, n = 1): Promise<void> {
  const callee = startSipp(['-sf', join(SIPP_FIXTURES, scenarios[1]), '-i', '127.0.0.1', '-p', String(calleePort), '-m', String(n), '-timeout', '20']);
  try {
    const caller = runSipp([
      `127.0.0.1:${String(server.udpPort)}`, '-sf', join(SIPP_FIXTURES, scenarios[0]), '-s', 'callee',
      '-i', '127.0.0.1', '-p', String(await freePort()), '-m', String(n), '-r', '10', '-timeout', '20', '-timeout_error',
    ], 30_000);
    await during();
    const c = await caller;
    assert.equal(c.code, 0, c.output);
    const e = await callee.done;
    assert.equal(e.code, 0, e.output);
  } finally {
    callee.stop();
  }
}

const CONFIG = { rpc: { listen: '127.0.0.1:0' } };

for (const engine of ENGINES) {
  describe(`dialogs through sipp [${engine}]`, () => {
    test('5 calls INVITE/180/200/ACK/BYE: dlg.list shows them confirmed (4) during the calls, nothing after', async () => {
      const calleePort = await freePort();
      const server = await startServer(engine, proxy(engine, calleePort, ''), { config: CONFIG });
      try {
        let seen: Row | undefined;
        await calls(server, calleePort, ['dlg-caller.xml', 'rr-callee.xml'], async () => {
          await until(async () => (seen = (await rows(server))[0])?.state === 4, 10_000, 'a confirmed dialog');
        }, 5);
        assert.match(seen?.caller.tag ?? '', /SIPpTag00/);
        assert.match(seen?.callee.tag ?? '', /SIPpTag01/);
        await until(async () => (await rows(server)).length === 0, 3000, 'the dialog to go');
        assert.equal(server.rt.stats.get('dialog:processed_dialogs'), 5);
        assert.equal(server.rt.stats.get('dialog:active_dialogs'), 0);
      } finally {
        await server.close();
      }
    });

    test('dialog timeout (dlg_set_timeout 1 s, send_bye 1): both sipp sides receive a BYE and answer it', async () => {
      const calleePort = await freePort();
      const server = await startServer(engine, proxy(engine, calleePort, 'KSR.dialog.dlg_set_timeout(1)'), {
        config: { ...CONFIG, modules: { dialog: { send_bye: 1 } } },
      });
      try {
        await calls(server, calleePort, ['dlg-caller-bye.xml', 'dlg-callee-bye.xml'], () => Promise.resolve());
        assert.deepEqual(await rows(server), []);
        assert.equal(server.rt.stats.get('dialog:expired_dialogs'), 1);
        assert.equal(server.rt.stats.get('dialog:byes_sent'), 2);
      } finally {
        await server.close();
      }
    });

    test('dlg.terminate_dlg: both sipp sides receive a BYE and answer it', async () => {
      const calleePort = await freePort();
      const server = await startServer(engine, proxy(engine, calleePort, ''), { config: CONFIG });
      try {
        await calls(server, calleePort, ['dlg-caller-bye.xml', 'dlg-callee-bye.xml'], async () => {
          let d: Row | undefined;
          await until(async () => (d = (await rows(server))[0])?.state === 4, 10_000, 'a confirmed dialog');
          const r = d as Row;
          assert.equal(await rpcResult(server.rt, 'dlg.terminate_dlg', [r['call-id'], r.caller.tag, r.callee.tag]), 'OK');
        });
        assert.deepEqual(await rows(server), []);
      } finally {
        await server.close();
      }
    });
  });
}
