/**
 * The error boundary (host/boundary.ts): nothing a peer sends ends the process, and a fault at
 * any entry point is counted (core:uncaught_errors) while the server serves on. The first cases
 * are the datagrams that used to stop the server; the last ones throw from each entry point on
 * purpose (a test-only fault put in place for one message, then taken away).
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import dns from 'node:dns/promises';
import { after, afterEach, before, describe, test } from 'node:test';
import { XhttpServer } from '../../bindings/xhttp-exchange.js';
import { Connection } from '../../host/jsonrpc/connection.js';
import { callRpc } from '../../host/rpc/client.js';
import { RpcServer } from '../../host/rpc/server.js';
import { ScriptRunner } from '../../host/script-runner.js';
import { defineModule, fn } from '../../host/kemi/types.js';
import { TransactionLayer } from '../../host/sip/transaction/transaction-layer.js';
import { ServerTransaction } from '../../host/sip/transaction/server-transaction.js';
import { SipRouter } from '../../host/sip/router.js';
import { BadInput } from '../../host/sip/bad-input.js';
import { ENGINES, routeScript, startServer, type EngineName, type TestServer } from '../helpers/runtime.js';
import { randomToken, TcpPeer, UdpPeer } from '../helpers/sip-client.js';
import { httpRequest } from '../helpers/http-client.js';
import { NetstringServer } from '../helpers/netstring-server.js';
import { until } from '../helpers/until.js';

const DEFAULT_SCRIPT: Record<EngineName, string> = {
  lua: readFileSync(new URL('../../scripts/default.lua', import.meta.url), 'utf8'),
  js: readFileSync(new URL('../../scripts/default.js', import.meta.url), 'utf8'),
};

/** A reply whose top Via is the server's own and whose second Via is malformed. */
function replyWithBadLowerVia(proto: 'UDP' | 'TCP', port: number): string {
  return [
    'SIP/2.0 200 OK',
    `Via: SIP/2.0/${proto} 127.0.0.1:${String(port)};branch=z9hG4bK${randomToken()}`,
    'Via: SIP/2.0/UDP ;;,,',
    `From: <sip:a@example.com>;tag=${randomToken()}`,
    `To: <sip:b@example.com>;tag=${randomToken()}`,
    `Call-ID: ${randomToken()}@test`,
    'CSeq: 1 OPTIONS',
    'Content-Length: 0',
    '',
    '',
  ].join('\r\n');
}

async function answersOptions(server: TestServer): Promise<void> {
  const peer = await UdpPeer.open();
  try {
    peer.request({ ruri: `sip:127.0.0.1:${String(server.udpPort)}` }, server.udpPort);
    const r = await peer.next(3000);
    assert.equal(r?.status, 200, 'an OPTIONS after the bad input is answered');
  } finally {
    peer.close();
  }
}

for (const engine of ENGINES) {
  describe(`malformed input that used to stop the server [${engine}]`, () => {
    let server: TestServer;
    before(async () => { server = await startServer(engine, DEFAULT_SCRIPT[engine]); });
    after(async () => { await server.close(); });

    test('UDP: a reply with our Via on top and a malformed second Via is dropped and counted', async () => {
      const bad = server.rt.stats.get('core:bad_msg') ?? 0;
      const dropped = server.rt.stats.get('core:drop_replies') ?? 0;
      const peer = await UdpPeer.open();
      try {
        for (let i = 0; i < 20; i++) peer.send(replyWithBadLowerVia('UDP', server.udpPort), server.udpPort);
        await until(() => (server.rt.stats.get('core:bad_msg') ?? 0) >= bad + 20);
      } finally {
        peer.close();
      }
      assert.equal(server.rt.stats.get('core:drop_replies'), dropped + 20);
      assert.equal(server.rt.stats.get('core:uncaught_errors'), 0);
      await answersOptions(server);
    });

    test('TCP: the same reply over a connection is dropped; the connection keeps working', async () => {
      const bad = server.rt.stats.get('core:bad_msg') ?? 0;
      const peer = await TcpPeer.connect(server.tcpPort);
      try {
        peer.write(replyWithBadLowerVia('TCP', server.tcpPort));
        await until(() => (server.rt.stats.get('core:bad_msg') ?? 0) >= bad + 1);
        peer.request({ ruri: `sip:127.0.0.1:${String(server.tcpPort)};transport=tcp` });
        assert.equal((await peer.next(3000))?.status, 200);
      } finally {
        peer.close();
      }
    });
  });

  describe(`a malformed Via below the top one is relayed as received [${engine}]`, () => {
    let server: TestServer;
    let target: UdpPeer;
    let address: string;
    before(async () => {
      // forward() and t_relay() resolve a host name; the lower Via is never read
      address = (await dns.lookup('localhost')).address;
      target = await UdpPeer.open(address);
      const v6 = address.includes(':');
      const route = engine === 'lua'
        ? `if KSR.hdr.is_present("X-Tm") > 0 then
             KSR.hdr.append_to_reply("X-Rc: " .. KSR.tm.t_relay() .. "\\r\\n")
           else
             KSR.sl.sl_send_reply(200, "fwd " .. KSR.forward())
           end`
        : `if (KSR.hdr.is_present("X-Tm") > 0) { KSR.tm.t_relay(); }
           else { KSR.sl.sl_send_reply(200, "fwd " + KSR.forward()); }`;
      server = await startServer(engine, routeScript(engine, route), {
        config: { listen: v6 ? ['udp:[::1]:0', 'tcp:127.0.0.1:0'] : ['udp:127.0.0.1:0', 'tcp:127.0.0.1:0'] },
      });
    });
    after(async () => {
      target.close();
      await server.close();
    });

    for (const how of ['KSR.forward', 'KSR.tm.t_relay'] as const) {
      test(`${how} to a host name: returns 1, the request arrives with the malformed Via untouched`, async () => {
        const uac = await UdpPeer.open(address);
        try {
          const host = address.includes(':') ? `[${address}]` : address;
          uac.send(
            [
              `MESSAGE sip:bob@localhost:${String(target.port)} SIP/2.0`,
              `Via: SIP/2.0/UDP ${host}:${String(uac.port)};branch=z9hG4bK${randomToken()}`,
              'Via: SIP/2.0/UDP ;;,,',
              'Max-Forwards: 70',
              `From: <sip:a@example.com>;tag=${randomToken()}`,
              'To: <sip:bob@example.com>',
              `Call-ID: ${randomToken()}@test`,
              'CSeq: 1 MESSAGE',
              ...(how === 'KSR.tm.t_relay' ? ['X-Tm: 1'] : []),
              'Content-Length: 0',
              '',
              '',
            ].join('\r\n'),
            server.udpPort,
            address,
          );
          const relayed = await target.next(3000);
          assert.ok(relayed !== null, 'the request reached the target');
          assert.deepEqual(relayed.getHeaderElements('via').slice(-1), ['SIP/2.0/UDP ;;']);
          if (how === 'KSR.forward') assert.equal((await uac.next(3000))?.reason, 'fwd 1');
        } finally {
          uac.close();
        }
        assert.equal(server.rt.stats.get('core:uncaught_errors'), 0);
        assert.equal(server.rt.stats.get('script:errors'), 0);
      });
    }
  });
}

/** Replace one method for the next calls, restored after each test. */
const restores: (() => void)[] = [];
function inject(proto: object, name: string, fault: (original: (...a: unknown[]) => unknown) => (...a: unknown[]) => unknown): void {
  const rec = proto as Record<string, unknown>;
  const original = rec[name] as (...a: unknown[]) => unknown;
  rec[name] = fault(original);
  restores.push(() => { rec[name] = original; });
}

describe('a fault at each entry point is counted and the server serves on', () => {
  let server: TestServer;
  before(async () => {
    server = await startServer('lua', routeScript('lua', `
      if KSR.hdr.is_present("X-Hold") > 0 then KSR.tm.t_newtran(); KSR.x.exit() end
      if KSR.hdr.is_present("X-Fwd") > 0 then KSR.forward_uri("sip:localhost:9"); KSR.x.exit() end
      KSR.sl.sl_send_reply(200, "OK")`), { config: { modules: { tm: { fr_timer: 200 } } } });
  });
  after(async () => { await server.close(); });
  afterEach(() => { for (const r of restores.splice(0)) r(); });

  const uncaught = (): number => server.rt.stats.get('core:uncaught_errors') ?? 0;

  test('receive, before a Context exists: counted; the next request is answered', async () => {
    const n = uncaught();
    inject(TransactionLayer.prototype, 'absorb', () => () => { throw new Error('injected fault in absorb'); });
    const peer = await UdpPeer.open();
    try {
      peer.request({}, server.udpPort);
      await until(() => uncaught() === n + 1);
      for (const r of restores.splice(0)) r();
      peer.request({}, server.udpPort);
      assert.equal((await peer.next(3000))?.status, 200);
    } finally {
      peer.close();
    }
  });

  test('receive, after the script ran: counted, and the request still gets a 500', async () => {
    const n = uncaught();
    inject(ScriptRunner.prototype, 'run', (original) => function (this: unknown, ...a: unknown[]) {
      original.apply(this, a);
      throw new Error('injected fault after the request route');
    });
    const peer = await UdpPeer.open();
    try {
      // the route replies 200 itself; use X-Hold so nothing answered before the fault
      peer.request({ headers: ['X-Hold: 1'], method: 'MESSAGE' }, server.udpPort);
      assert.equal((await peer.next(3000))?.status, 500);
    } finally {
      peer.close();
    }
    assert.equal(uncaught(), n + 1);
  });

  test('a transaction timer: counted; the server goes on', async () => {
    const n = uncaught();
    inject(ServerTransaction.prototype, 'onTimer', () => () => { throw new Error('injected fault in a tm timer'); });
    const peer = await UdpPeer.open();
    try {
      peer.request({ headers: ['X-Hold: 1'], method: 'MESSAGE' }, server.udpPort);
      await until(() => uncaught() === n + 1, 3000);
    } finally {
      peer.close();
    }
    for (const r of restores.splice(0)) r();
    await answersOptions(server);
  });

  test('a DNS answer: counted; the server goes on', async () => {
    const n = uncaught();
    inject(SipRouter.prototype, 'sendForward', () => () => { throw new Error('injected fault after a DNS answer'); });
    const peer = await UdpPeer.open();
    try {
      peer.request({ headers: ['X-Fwd: 1'], method: 'MESSAGE' }, server.udpPort);
      await until(() => uncaught() === n + 1, 3000);
    } finally {
      peer.close();
    }
    for (const r of restores.splice(0)) r();
    await answersOptions(server);
  });

  test('a TCP framing error path: counted; the connection is closed, others are served', async () => {
    const n = uncaught();
    inject(BadInput.prototype, 'frameError', () => () => { throw new Error('injected fault while answering a framing error'); });
    const peer = await TcpPeer.connect(server.tcpPort);
    try {
      peer.write('OPTIONS sip:x@127.0.0.1 SIP/2.0\r\nContent-Length: 99999999\r\n\r\n');
      await until(() => uncaught() === n + 1, 3000);
      await peer.closed;
    } finally {
      peer.close();
    }
    for (const r of restores.splice(0)) r();
    await answersOptions(server);
  });
});

describe('the HTTP, RPC and peer entry points', () => {
  afterEach(() => { for (const r of restores.splice(0)) r(); });

  test('an xhttp request whose handling faults gets 500; counted; the next is served', async () => {
    const server = await startServer('lua', routeScript('lua', 'KSR.sl.sl_send_reply(200, "OK")',
      'function ksr_xhttp_event() KSR.xhttp.xhttp_reply(200, "OK", "text/plain", "fine") end'), {
      config: { http: { listen: '127.0.0.1:0' }, modules: { xhttp: { event_callback: 'ksr_xhttp_event' } } },
    });
    try {
      inject(XhttpServer.prototype, 'dispatch', () => () => { throw new Error('injected fault in an HTTP handler'); });
      assert.equal((await httpRequest(server.httpPort, {})).status, 500);
      assert.equal(server.rt.stats.get('core:uncaught_errors'), 1);
      for (const r of restores.splice(0)) r();
      const ok = await httpRequest(server.httpPort, {});
      assert.equal(ok.status, 200);
      assert.equal(ok.body, 'fine');
    } finally {
      await server.close();
    }
  });

  test('a control RPC request whose handling faults gets 500; counted; the next is served', async () => {
    const server = await startServer('lua', routeScript('lua', 'KSR.sl.sl_send_reply(200, "OK")'), { config: { rpc: { listen: '127.0.0.1:0' } } });
    try {
      const address = server.rt.rpcAddress ?? '';
      inject(RpcServer.prototype, 'authorized', () => () => { throw new Error('injected fault in the RPC server'); });
      await assert.rejects(callRpc({ address, token: null, timeoutMs: 3000 }, 'core.uptime', []), /500/);
      assert.equal(server.rt.stats.get('core:uncaught_errors'), 1);
      for (const r of restores.splice(0)) r();
      const reply = await callRpc({ address, token: null, timeoutMs: 3000 }, 'core.version', []);
      assert.match(String(reply.result), /kemihost/);
    } finally {
      await server.close();
    }
  });

  test('a JSON-RPC server\'s data that faults us: counted, the connection is dropped and made again', async () => {
    const rpc = await NetstringServer.start();
    const server = await startServer('lua', routeScript('lua', `
      KSR.jsonrpc.request("m", "[]", "DONE", "DONE", "$var(r)")
      KSR.x.exit()`, 'function DONE() KSR.tm.t_reply(200, KSR.pv.get("$var(r)")) end'), {
      config: { modules: { jsonrpc: { servers: `127.0.0.1:${String(rpc.port)},1`, reconnect_interval: 20 } } },
    });
    try {
      await until(() => rpc.accepted >= 1);
      inject(Connection.prototype, 'onData', () => () => { throw new Error('injected fault reading an answer'); });
      const peer = await UdpPeer.open();
      try {
        peer.request({ method: 'MESSAGE' }, server.udpPort);
        // the pending request fails with the connection: its error route answers
        assert.equal((await peer.next(3000))?.reason, 'failure');
      } finally {
        peer.close();
      }
      assert.equal(server.rt.stats.get('core:uncaught_errors'), 1);
      for (const r of restores.splice(0)) r();
      await until(() => rpc.accepted >= 2, 3000, 'the reconnection');
    } finally {
      await server.close();
      await rpc.stop();
    }
  });
});

/** A test-only binding that reads every Via: what a binding does that parses more of the message. */
const viaCounter = defineModule({
  name: 'testvias',
  doc: 'Test only: count the Vias (parses every one).',
  functions: {
    count: fn([], 'int', (_s, ctx) => ctx.msg?.vias.length ?? 0, 'How many Vias.'),
  },
});

for (const engine of ENGINES) {
  test(`a binding reading a malformed part of the message returns -1, the script goes on [${engine}]`, async () => {
    const route = engine === 'lua'
      ? 'KSR.sl.sl_send_reply(200, "vias " .. KSR.testvias.count())'
      : 'KSR.sl.sl_send_reply(200, "vias " + KSR.testvias.count());';
    const server = await startServer(engine, routeScript(engine, route), { modules: [viaCounter] });
    const peer = await UdpPeer.open();
    try {
      peer.send([
        'OPTIONS sip:x@127.0.0.1 SIP/2.0', `Via: SIP/2.0/UDP 127.0.0.1:${String(peer.port)};branch=z9hG4bK${randomToken()}`, 'Via: SIP/2.0/UDP ;;,,',
        `From: <sip:a@example.com>;tag=${randomToken()}`, 'To: <sip:b@example.com>', `Call-ID: ${randomToken()}@t`, 'CSeq: 1 OPTIONS', 'Content-Length: 0', '', '',
      ].join('\r\n'), server.udpPort);
      assert.equal((await peer.next(3000))?.reason, 'vias -1');
      assert.equal(server.rt.stats.get('script:errors'), 0);
    } finally {
      peer.close();
      await server.close();
    }
  });
}
