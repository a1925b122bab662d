/**
 * The NG client (host/rtpengine) against real rtpengine daemons on 127.0.0.1: offer, answer,
 * query and delete of one call; an instance that is down is skipped and disabled, and used
 * again once it answers; weights and the Call-ID hash choose the instance; a call stays on its
 * instance; a lost request is sent again.
 */
import assert from 'node:assert/strict';
import { describe, test, type TestContext } from 'node:test';
import { callIdSum } from '../../host/media-relay/relay-set.js';
import { parseRelaySocks } from '../../host/media-relay/relay-url.js';
import { bbytes, bdict } from '../../host/rtpengine/bdecode.js';
import { buildNgRequest, type MessageFacts } from '../../host/rtpengine/ng-request.js';
import type { NgOp } from '../../host/rtpengine/ng-ops.js';
import { RtpengineClient, type NgClientParams } from '../../host/rtpengine/rtpengine-client.js';
import { freeUdpPort, startRtpengine } from '../helpers/rtpengine.js';
import { LossyRelay, poolCounters, testPoolHost, type TestPoolHost } from '../helpers/relay-host.js';
import { until } from '../helpers/until.js';

const PARAMS: NgClientParams = {
  disableToutSec: 60, toutMs: 150, tries: 2, maxInFlight: 64, callTtlSec: 3600, maxCalls: 1000, queriedNodesLimit: 30, aggressiveRedetection: false,
};

const SDP_A = 'v=0\r\no=alice 1 1 IN IP4 192.0.2.10\r\ns=-\r\nc=IN IP4 192.0.2.10\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0 8\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:8 PCMA/8000\r\n';
const SDP_B = 'v=0\r\no=bob 2 2 IN IP4 192.0.2.20\r\ns=-\r\nc=IN IP4 192.0.2.20\r\nt=0 0\r\nm=audio 5000 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n';

function facts(callId: string, isRequest: boolean, toTag = ''): MessageFacts {
  return {
    isRequest, callId, fromTag: 'ftag', toTag, srcIp: '127.0.0.1',
    viaBranch: () => '', extraId: () => null,
  };
}

function counters(host: TestPoolHost): Parameters<typeof RtpengineClient.start>[3] {
  return { ...poolCounters(host), answers: host.stat('answers'), errorAnswers: host.stat('error_answers'), badAnswers: host.stat('bad_answers'), noInstance: host.stat('no_instance') };
}

async function client(t: TestContext, socks: string[], params: Partial<NgClientParams> = {}): Promise<{ c: RtpengineClient; host: TestPoolHost }> {
  const host = testPoolHost('rtpengine');
  const c = await RtpengineClient.start(parseRelaySocks(socks), { ...PARAMS, ...params }, host, counters(host));
  t.after(() => c.close());
  return { c, host };
}

function send(c: RtpengineClient, op: NgOp, callId: string, isRequest: boolean, sdp: string | null, flags = '', toTag = ''): ReturnType<RtpengineClient['send']> {
  return c.send(buildNgRequest(op, flags, facts(callId, isRequest, toTag), sdp === null ? null : Buffer.from(sdp)), 0);
}

describe('rtpengine NG client against rtpengine', () => {
  test('offer, answer, query, delete: the SDPs carry rtpengine\'s address and ports; a deleted call is unknown', async (t) => {
    const rtpe = await startRtpengine(t);
    if (rtpe === null) return;
    const { c, host } = await client(t, [`udp:127.0.0.1:${String(rtpe.ngPort)}`]);
    const offer = send(c, 'offer', 'call-1', true, SDP_A, 'replace-origin replace-session-connection');
    assert.ok(offer.ok, offer.ok ? '' : offer.why);
    const sdp = bbytes(offer.answer, 'sdp')?.toString() ?? '';
    assert.match(sdp, /^c=IN IP4 127\.0\.0\.1\r$/m);
    assert.match(sdp, /^o=alice 1 1 IN IP4 127\.0\.0\.1\r$/m);
    const port = Number(/^m=audio (\d+) RTP\/AVP 0 8\r$/m.exec(sdp)?.[1]);
    assert.ok(port >= rtpe.portMin && port <= rtpe.portMax, `media port ${String(port)} in rtpengine's range`);

    const answer = send(c, 'answer', 'call-1', false, SDP_B, '', 'btag');
    assert.ok(answer.ok, answer.ok ? '' : answer.why);
    const sdp2 = bbytes(answer.answer, 'sdp')?.toString() ?? '';
    assert.match(sdp2, /^c=IN IP4 127\.0\.0\.1\r$/m);
    assert.notEqual(Number(/^m=audio (\d+) /m.exec(sdp2)?.[1]), port, 'each side gets its own port');

    const query = send(c, 'query', 'call-1', true, null);
    assert.ok(query.ok, query.ok ? '' : query.why);
    assert.ok(bdict(bdict(query.answer, 'tags'), 'ftag') !== undefined, 'the query knows the caller\'s tag');
    assert.ok(bdict(query.answer, 'totals') !== undefined);

    const del = send(c, 'delete', 'call-1', true, null);
    assert.ok(del.ok, del.ok ? '' : del.why);
    const gone = send(c, 'query', 'call-1', true, null);
    assert.ok(!gone.ok);
    assert.match(gone.why, /Unknown call-id/);
    assert.equal(host.get('answers'), 4);
    assert.equal(host.get('error_answers'), 1);
    assert.equal(c.calls.size, 0, 'a delete forgets the call');
  });

  test('an instance that is down at start is disabled and skipped; one that goes down fails over and is disabled', async (t) => {
    const a = await startRtpengine(t);
    const b = await startRtpengine(t);
    if (a === null || b === null) return;
    const dead = await freeUdpPort();
    const { c, host } = await client(t, [`udp:127.0.0.1:${String(dead)} udp:127.0.0.1:${String(a.ngPort)} udp:127.0.0.1:${String(b.ngPort)}`]);
    const [dn, an, bn] = c.pool.sets.members(0);
    assert.ok(dn !== undefined && an !== undefined && bn !== undefined);
    assert.equal(dn.usable(), false, 'not answering the start-up ping: disabled');
    assert.equal(host.get(`instance_0_127.0.0.1_${String(dead)}_disabled`), 1);
    for (let i = 0; i < 20; i++) {
      const r = send(c, 'offer', `skip-${String(i)}`, true, SDP_A);
      assert.ok(r.ok && r.node !== dn, 'never the dead instance');
    }
    assert.equal(host.get(`instance_0_127.0.0.1_${String(dead)}_requests`), 1, 'only the start-up ping went to it');
    // b goes down: the next call that hashes to b fails over to a, and b is disabled
    await b.stop();
    let callId = '';
    for (let i = 0; callId === ''; i++) if (c.pool.sets.select(0, `fo-${String(i)}`, new Set()) === bn) callId = `fo-${String(i)}`;
    const r = send(c, 'offer', callId, true, SDP_A);
    assert.ok(r.ok, r.ok ? '' : r.why);
    assert.equal(r.node, an);
    assert.equal(bn.usable(), false);
    assert.ok(host.get('refused') + host.get('timeouts') >= 1);
  });

  test('weights and the Call-ID choose the instance (Kamailio\'s sum of bytes, low 8 bits, modulo the weights)', async (t) => {
    const a = await startRtpengine(t);
    const b = await startRtpengine(t);
    if (a === null || b === null) return;
    const { c } = await client(t, [`udp:127.0.0.1:${String(a.ngPort)}=2 udp:127.0.0.1:${String(b.ngPort)}=1`]);
    const [an, bn] = c.pool.sets.members(0);
    let onA = 0;
    for (let i = 0; i < 60; i++) {
      const callId = `w-${String(i * 7919)}@h`;
      const r = send(c, 'offer', callId, true, SDP_A);
      assert.ok(r.ok, r.ok ? '' : r.why);
      assert.equal(r.node, callIdSum(callId) % 3 < 2 ? an : bn, callId);
      if (r.node === an) onA++;
    }
    assert.ok(onA > 30 && onA < 55, `about two thirds on the weight-2 instance (${String(onA)} of 60)`);
  });

  test('a call stays on the instance that has it, whatever the weights say now', async (t) => {
    const a = await startRtpengine(t);
    const b = await startRtpengine(t);
    if (a === null || b === null) return;
    const { c } = await client(t, [`udp:127.0.0.1:${String(a.ngPort)} udp:127.0.0.1:${String(b.ngPort)}`]);
    const first = send(c, 'offer', 'sticky-1', true, SDP_A);
    assert.ok(first.ok);
    for (const n of c.pool.sets.members(0)) n.weight = n === first.node ? 0 : 5;
    const answer = send(c, 'answer', 'sticky-1', false, SDP_B, '', 'btag');
    assert.ok(answer.ok && answer.node === first.node, 'the answer goes where the offer went');
    const del = send(c, 'delete', 'sticky-1', true, null);
    assert.ok(del.ok && del.node === first.node);
    const fresh = send(c, 'offer', 'sticky-2', true, SDP_A);
    assert.ok(fresh.ok && fresh.node !== first.node, 'a new call follows the weights');
  });

  test('a relay worker that stops: requests are not sent (-1, no instance blamed) until it is started again', async (t) => {
    const rtpe = await startRtpengine(t);
    if (rtpe === null) return;
    const { c, host } = await client(t, [`udp:127.0.0.1:${String(rtpe.ngPort)}`]);
    await c.pool.transport.crash();
    await until(() => !send(c, 'offer', 'crash-0', true, SDP_A).ok, 1000, 'the stopped worker noticed');
    const r = send(c, 'offer', 'crash-1', true, SDP_A);
    assert.ok(!r.ok && r.why.startsWith('not sent:'), r.ok ? '' : r.why);
    assert.ok(c.pool.sets.members(0)[0]?.usable(), 'the instance is not disabled for it');
    assert.ok(host.get('unsent') >= 1);
    await until(() => send(c, 'offer', 'crash-2', true, SDP_A).ok, 5000, 'offers going through again');
    assert.equal(c.pool.transport.restarts, 1);
  });

  test('a lost request is sent again after rtpengine_tout_ms; a silent instance times out after rtpengine_retr sends', async (t) => {
    const rtpe = await startRtpengine(t);
    if (rtpe === null) return;
    const relay = await LossyRelay.open(rtpe.ngPort, 1);
    t.after(() => relay.close());
    const { c, host } = await client(t, [`udp:127.0.0.1:${String(relay.port)}`], { toutMs: 100, tries: 3, disableToutSec: 1 });
    const retransmittedAtStart = host.get('retransmissions');
    assert.equal(retransmittedAtStart, 1, 'the start-up ping was dropped once and sent again');
    const started = performance.now();
    const r = send(c, 'offer', 'lossy-1', true, SDP_A);
    assert.ok(r.ok, r.ok ? '' : r.why);
    assert.ok(performance.now() - started >= 90, 'answered only after the second send');
    assert.equal(host.get('retransmissions'), 2);
    assert.equal(relay.received, 4, 'two pings, two offers');

    relay.blackhole = true;
    const t0 = performance.now();
    const lost = send(c, 'offer', 'lossy-2', true, SDP_A);
    const waited = performance.now() - t0;
    assert.equal(lost.ok, false);
    assert.ok(waited >= 290 && waited < 1000, `waited tries x tout (${waited.toFixed(0)} ms)`);
    assert.equal(host.get('timeouts'), 1);
    const node = c.pool.sets.members(0)[0];
    assert.ok(node !== undefined);
    assert.equal(node.usable(), false, 'disabled after the timeout');
    const skipped = send(c, 'offer', 'lossy-3', true, SDP_A);
    assert.equal(skipped.ok ? '' : skipped.why, 'no available proxies');
    relay.blackhole = false;
    await until(() => node.usable(), 4000, 'the instance enabled again by its re-check ping');
    assert.ok(send(c, 'offer', 'lossy-4', true, SDP_A).ok);
  });
});
