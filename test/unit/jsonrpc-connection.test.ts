/**
 * One JSON-RPC connection against real sockets: the reconnection schedule (interval, doubling,
 * the cap, max_conn_attempts in jsonrpc-c's sense), requests in flight on it, and a server that
 * stops reading what is sent to it.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import net from 'node:net';
import { test } from 'node:test';
import { pino } from 'pino';
import { ErrorBoundary } from '../../host/boundary.js';
import { Stats } from '../../host/kemi/stats.js';
import { Connection, type ConnectionEvents, type ConnectionSettings, type Outcome } from '../../host/jsonrpc/connection.js';
import { NetstringServer } from '../helpers/netstring-server.js';
import { until } from '../helpers/until.js';

const BASE: ConnectionSettings = {
  maxConnAttempts: -1,
  reconnectInterval: 20,
  reconnectMaxInterval: 80,
  connectTimeout: 1000,
  maxNetstringBytes: 1000,
  maxInFlight: 2,
  maxJsonDepth: 64,
  maxUnsentBytes: 4 * 1024 * 1024,
  stalledTimeoutMs: 10_000,
  backpressure: { paused: { value: 0 }, stalledClosed: { value: 0 } },
  boundary: new ErrorBoundary(pino({ level: 'silent' }), new Stats()),
};

function recorder(): { events: ConnectionEvents; downs: (number | null)[]; connects: number } {
  const r = {
    downs: [] as (number | null)[],
    connects: 0,
    events: {
      connected: () => { r.connects++; },
      down: (_c: Connection, _why: string, retry: number | null) => { r.downs.push(retry); },
      protocolError: () => undefined,
      unmatched: () => undefined,
      tooDeep: () => undefined,
    } satisfies ConnectionEvents,
  };
  return r;
}

/** A port nothing listens on. */
async function deadPort(): Promise<number> {
  const s = await NetstringServer.start();
  await s.stop();
  return s.port;
}

test('reconnection delays start at the interval, double, and stop at the cap', async () => {
  const r = recorder();
  const c = new Connection('127.0.0.1', await deadPort(), BASE, r.events);
  c.connect();
  try {
    await until(() => r.downs.length >= 5, 3000, 'five failed attempts');
    assert.deepEqual(r.downs.slice(0, 5), [20, 40, 80, 80, 80]);
  } finally {
    c.close();
  }
});

test('max_conn_attempts N: the first attempt and N more, then it gives up; 0: no reconnection at all', async () => {
  for (const [max, want] of [[2, [20, 40, null]], [0, [null]]] as const) {
    const r = recorder();
    const c = new Connection('127.0.0.1', await deadPort(), { ...BASE, maxConnAttempts: max }, r.events);
    c.connect();
    try {
      await until(() => r.downs.includes(null), 3000, 'giving up');
      await new Promise((res) => setTimeout(res, 150));
      assert.deepEqual(r.downs, want);
    } finally {
      c.close();
    }
  }
});

test('a successful connect starts the count again; in-flight cap; close drops pending without running them', async () => {
  const srv = await NetstringServer.start('A', () => undefined);
  const r = recorder();
  const c = new Connection('127.0.0.1', srv.port, { ...BASE, maxConnAttempts: 1, reconnectInterval: 300, reconnectMaxInterval: 600 }, r.events);
  c.connect();
  try {
    await until(() => c.connected, 2000, 'connected');
    const outcomes: Outcome[] = [];
    assert.ok(c.request(1, '{}', 5000, (o) => outcomes.push(o)));
    assert.ok(c.request(2, '{}', 5000, (o) => outcomes.push(o)));
    assert.equal(c.canTake, false);
    assert.equal(c.request(3, '{}', 5000, (o) => outcomes.push(o)), false, 'over max_in_flight');
    await srv.waitReceived(2);
    // the server goes away and comes back: one failure, one reconnection (within max 1)
    await srv.stop();
    await until(() => outcomes.length === 2, 2000, 'pending failed');
    assert.deepEqual(outcomes, [{ kind: 'failure' }, { kind: 'failure' }]);
    await srv.listen();
    await until(() => c.connected, 2000, 'reconnected');
    // and again: the count started over, so it reconnects once more
    await srv.stop();
    await until(() => !c.connected, 2000, 'down again');
    await srv.listen();
    await until(() => c.connected, 2000, 'reconnected again');
    assert.equal(r.connects, 3);
    let ran = false;
    assert.ok(c.request(4, '{}', 5000, () => { ran = true; }));
    c.close();
    await new Promise((res) => setTimeout(res, 50));
    assert.equal(ran, false);
  } finally {
    c.close();
    await srv.stop();
  }
});

test('a server that does not read: past max_unsent_bytes no more requests are taken; after stalled_timeout the connection is closed, its requests fail, and it reconnects', async () => {
  // a real server that accepts and never reads a byte
  const sockets = new Set<net.Socket>();
  const srv = net.createServer((s) => {
    s.pause();
    sockets.add(s);
  });
  srv.listen(0, '127.0.0.1');
  await once(srv, 'listening');
  const port = (srv.address() as net.AddressInfo).port;
  const r = recorder();
  const backpressure = { paused: { value: 0 }, stalledClosed: { value: 0 } };
  const c = new Connection('127.0.0.1', port, { ...BASE, maxInFlight: 100_000, maxUnsentBytes: 65_536, stalledTimeoutMs: 300, reconnectInterval: 50, backpressure }, r.events);
  c.connect();
  try {
    await until(() => c.connected, 2000, 'connected');
    const outcomes: Outcome[] = [];
    const params = JSON.stringify({ pad: 'x'.repeat(60_000) });
    let id = 0;
    // the kernel takes a few MB; bounded at 64 MB
    while (c.request(++id, params, 60_000, (o) => outcomes.push(o))) assert.ok(id < 1100, 'the connection never filled up');
    assert.equal(c.canTake, false);
    assert.equal(c.notify(params), false, 'notifications are refused too');
    assert.equal(backpressure.paused.value, 1);
    await until(() => backpressure.stalledClosed.value === 1, 3000, 'the stalled connection to be closed');
    await until(() => outcomes.length === id - 1, 2000, 'its requests to fail');
    assert.ok(outcomes.every((o) => o.kind === 'failure'));
    await until(() => c.connected && c.canTake, 3000, 'a new connection');
  } finally {
    c.close();
    for (const s of sockets) s.destroy();
    srv.close();
  }
});
