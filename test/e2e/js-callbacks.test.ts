/**
 * JS callbacks declared the ways Kamailio's app_jsdt accepts: function declarations, and
 * top-level const/let bindings holding a function (they are not properties of the global
 * object, yet a script written for app_jsdt uses them).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { startServer } from '../helpers/runtime.js';
import { UdpPeer } from '../helpers/sip-client.js';

test('const/let callbacks: the request route and a resume route by name are found', async () => {
  const server = await startServer('js', `
    const ksr_request_route = function () {
      KSR.pv.sets("$var(x)", "held");
      KSR.async.ms_route("RESUME", 5);
      KSR.x.exit();
    };
    let RESUME = () => { KSR.tm.t_reply(200, "resumed " + KSR.pv.get("$var(x)")); };
  `);
  const peer = await UdpPeer.open();
  try {
    peer.request({ method: 'MESSAGE' }, server.udpPort);
    let r = await peer.next(3000);
    while (r !== null && r.status < 200) r = await peer.next(3000);
    assert.equal(r?.reason, 'resumed held');
  } finally {
    peer.close();
    await server.close();
  }
});

test('a const that is not a function is not a callback: the script does not load', async () => {
  await assert.rejects(startServer('js', 'const ksr_request_route = 42;'), /does not define ksr_request_route/);
});
