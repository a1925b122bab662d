/** The pike tree (host/pike): Kamailio's counting, timers, pike.top and the bound on memory. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { str2ip, str2ip6 } from '../../host/net/kamailio-ip.js';
import { PikeTree, type PikeResult } from '../../host/pike/ip-tree.js';
import { pikeTop } from '../../host/pike/top.js';
import { RpcError } from '../../host/rpc/jsonrpc.js';

const v4 = (s: string): Uint8Array => (str2ip(s) ?? assert.fail(s)).bytes;
const v6 = (s: string): Uint8Array => (str2ip6(s) ?? assert.fail(s)).bytes;
const tree = (density = 16, maxNodes = 100_000): PikeTree => new PikeTree({ density, removeLatencyMs: 4000, maxNodes });

function hits(t: PikeTree, ip: Uint8Array, n: number, now = 0): PikeResult[] {
  return Array.from({ length: n }, () => t.check(ip, now));
}

/** the position (1-based) of the first -2, checking that only 1s come before and only -1s after */
function blockedAt(results: readonly PikeResult[]): number {
  const at = results.indexOf(-2);
  assert.ok(at >= 0, 'never blocked');
  assert.ok(results.slice(0, at).every((r) => r === 1), 'only 1 before the detection');
  assert.ok(results.slice(at + 1).every((r) => r === -1), 'only -1 after it');
  return at + 1;
}

describe('pike tree', () => {
  it('a fresh IPv4 address: the prefix nodes grow, then density leaf hits turn it red (-2 once, then -1)', () => {
    const t = tree(16);
    // 4 hits make the first byte hot, one hit each for bytes 2-4 (children inherit hits - 1), 16 leaf hits
    assert.equal(blockedAt(hits(t, v4('10.0.0.1'), 30)), 22);
    assert.equal(t.nodes, 4);
  });

  it('an address sharing a hot prefix is blocked sooner; another source is not touched', () => {
    const t = tree(16);
    hits(t, v4('10.0.0.1'), 30);
    assert.deepEqual(hits(t, v4('192.0.2.1'), 3), [1, 1, 1]);
    assert.equal(blockedAt(hits(t, v4('10.0.0.2'), 20)), 17);
  });

  it('IPv6: sixteen levels, blocked between density and 9 x density hits', () => {
    const t = tree(16);
    const n = blockedAt(hits(t, v6('2001:db8::1'), 200));
    assert.ok(n >= 16 && n <= 9 * 16, String(n));
    assert.equal(t.nodes, 16);
  });

  it('let go at the end of a quiet unit: still blocked after one swap, free after the second', () => {
    const t = tree(16);
    hits(t, v4('10.0.0.1'), 30);
    assert.deepEqual(t.swap(), []);
    assert.equal(t.check(v4('10.0.0.1'), 0), -1);
    assert.equal(t.swap().length, 1);
    assert.equal(t.check(v4('10.0.0.1'), 0), 1);
  });

  it('a flood that goes on stays blocked across units', () => {
    const t = tree(16);
    hits(t, v4('10.0.0.1'), 30);
    for (let unit = 0; unit < 3; unit++) {
      t.swap();
      assert.ok(hits(t, v4('10.0.0.1'), 20).every((r) => r === -1));
    }
  });

  it('removed remove_latency after the last counted hit, parents after their children', () => {
    const t = tree(16);
    const nodes = (): number => t.nodes;
    hits(t, v4('10.0.0.1'), 30, 1000);
    t.clean(4999);
    assert.equal(nodes(), 4);
    t.clean(5000);
    assert.equal(nodes(), 3, 'the leaf went first');
    for (let ms = 5000; ms <= 30_000 && nodes() > 0; ms += 1000) t.clean(ms);
    assert.equal(nodes(), 0);
    assert.deepEqual(hits(t, v4('10.0.0.1'), 2), [1, 1]);
  });

  it('memory is bounded: a million spoofed sources keep the tree at max_nodes, and a flooder among them is still blocked', () => {
    const t = tree(16, 5000);
    let state = 12345;
    const rand = (): number => (state = (state * 1103515245 + 12345) >>> 0) >>> 8;
    const flooder = v4('203.0.113.9');
    const seen: PikeResult[] = [];
    for (let i = 0; i < 1_000_000; i++) {
      const r = rand();
      t.check(Uint8Array.of(r & 0xff, (r >>> 8) & 0xff, r >>> 16, i & 0xff), i);
      if (i % 20 === 0) seen.push(t.check(flooder, i));
      assert.ok(t.nodes <= 5000);
    }
    assert.ok(t.evicted > 0);
    assert.ok(seen.includes(-2) && seen.at(-1) === -1, 'the flooder is blocked');
  });

  it('pike.top: HOT by default, ALL, WARM lists nothing (as Kamailio), a bad argument is a 500 fault', () => {
    const t = tree(16);
    hits(t, v4('10.0.0.1'), 30, 0);
    hits(t, v4('192.0.2.1'), 6, 0);
    hits(t, v4('192.0.2.1'), 1, 0);
    const hot = pikeTop(t, [], 1000);
    assert.deepEqual(hot.list.map((r) => [r.ip_addr, r.status]), [['10.0.0.1', 'HOT']]);
    assert.equal(hot.max_hits, 16);
    assert.equal(hot.list[0]?.expires, 3);
    assert.deepEqual(pikeTop(t, ['all'], 0).list.map((r) => r.ip_addr).sort(), ['10.0.0.1', '192.0.2.1']);
    assert.equal(pikeTop(t, ['WARM'], 0).number_of_rows, 0);
    assert.throws(() => pikeTop(t, ['nope'], 0), (e: unknown) => e instanceof RpcError && e.code === 500);
  });
});
