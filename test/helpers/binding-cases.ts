/**
 * Data-driven binding tests: each case is a route written once in Lua and once in JS, a
 * request sent by a real UAC over UDP (or TCP), and what that UAC must receive. Every case
 * runs on every engine — parity by construction.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { SipMessage } from '../../host/sip/message.js';
import { NextHop } from './next-hop.js';
import { ENGINES, routeScript, startServer, type EngineName } from './runtime.js';
import { TcpPeer, UdpPeer, type RequestSpec } from './sip-client.js';

export interface BindingExpect {
  status?: number;
  reason?: string;
  /** header name → exact value, a pattern, or null for "absent" */
  headers?: Record<string, string | RegExp | null>;
  /** nothing at all may come back */
  noReply?: boolean;
  /** runtime statistics after the request, e.g. { 'script:errors': 1 } */
  stats?: Record<string, number>;
  /** anything else, on the reply */
  check?: (reply: SipMessage) => void;
  /** what the case's `next` peer received (null: nothing); strings may hold {udp} {tcp} {next} */
  forwarded?: ForwardedExpect | null;
}

export interface ForwardedExpect {
  ruri?: string;
  /** header name → every value of it, one per line; a pattern; or null for "absent" */
  headers?: Record<string, string | RegExp | null>;
  check?: (req: SipMessage) => void;
}

export interface BindingCase {
  name: string;
  /** the body of ksr_request_route, or a whole script when `full` */
  lua: string;
  js: string;
  full?: boolean;
  config?: Record<string, unknown>;
  request?: RequestSpec;
  transport?: 'udp' | 'tcp';
  /**
   * The UDP peer's own address (default 127.0.0.1): another loopback address (127.0.0.2) for a
   * second source, or ::1 for an IPv6 one (the case's config must then listen on udp:[::1]:0).
   */
  from?: string;
  /** send the request this many times (each gets its own reply) */
  repeat?: number;
  /**
   * a peer the request goes on to, started first: "{next}" in the request stands for its port;
   * it answers every request with `answer` (200 by default) as a UAS does
   */
  next?: { transport?: 'udp' | 'tcp'; answer?: number };
  expect: BindingExpect;
}

export function scriptFor(c: BindingCase, engine: EngineName): string {
  const src = engine === 'lua' ? c.lua : c.js;
  return c.full === true ? src : routeScript(engine, src);
}

/** What the next hop received, against the case's expectation (ports put in by `sub`). */
export function assertForwarded(req: SipMessage | null, e: ForwardedExpect | null, sub: (s: string) => string): void {
  if (e === null) {
    assert.equal(req, null, 'nothing may reach the next hop');
    return;
  }
  assert.ok(req !== null, 'the request did not reach the next hop');
  if (e.ruri !== undefined) assert.equal(req.ruri, sub(e.ruri), 'R-URI at the next hop');
  for (const [name, want] of Object.entries(e.headers ?? {})) {
    const got = req.getHeaders(name);
    if (want === null) assert.deepEqual(got, [], `header ${name} must be absent at the next hop`);
    else if (typeof want === 'string') assert.equal(got.join('\n'), sub(want), `header ${name} at the next hop`);
    else assert.match(got.join('\n'), want, `header ${name} at the next hop`);
  }
  e.check?.(req);
}

export function assertReply(reply: SipMessage | null, e: BindingExpect): void {
  if (e.noReply === true) {
    assert.equal(reply, null, `expected no reply, got ${reply === null ? '' : `${String(reply.status)} ${reply.reason}`}`);
    return;
  }
  assert.ok(reply !== null, 'no reply received');
  if (e.status !== undefined) assert.equal(reply.status, e.status, `status (reason: ${reply.reason})`);
  if (e.reason !== undefined) assert.equal(reply.reason, e.reason);
  for (const [name, want] of Object.entries(e.headers ?? {})) {
    const got = reply.getHeader(name);
    if (want === null) assert.equal(got, undefined, `header ${name} must be absent`);
    else if (typeof want === 'string') assert.equal(got, want, `header ${name}`);
    else assert.match(got ?? '', want, `header ${name}`);
  }
  e.check?.(reply);
}

export function runBindingCases(title: string, cases: readonly BindingCase[]): void {
  for (const engine of ENGINES) {
    describe(`${title} [${engine}]`, () => {
      for (const c of cases) {
        test(c.name, async () => {
          const next = c.next === undefined ? null : await NextHop.start(c.next.transport ?? 'udp', c.next.answer ?? 200);
          const server = await startServer(engine, scriptFor(c, engine), c.config === undefined ? {} : { config: c.config });
          try {
            const wait = c.expect.noReply === true ? 300 : 3000;
            const sub = portsIn(server.udpPort, server.tcpPort, next?.port ?? 0);
            const request = withPorts(c.request ?? {}, sub);
            const expect = withExpectedPorts(c.expect, sub);
            for (let i = 0; i < (c.repeat ?? 1); i++) {
              let reply: SipMessage | null;
              if (c.transport === 'tcp') {
                const peer = await TcpPeer.connect(server.tcpPort);
                peer.request(request);
                reply = await finalOrFirst(() => peer.next(wait), expect);
                peer.close();
              } else {
                const peer = await UdpPeer.open(c.from);
                peer.request(request, server.udpPort, c.from?.includes(':') === true ? '::1' : '127.0.0.1');
                reply = await finalOrFirst(() => peer.next(wait), expect);
                peer.close();
              }
              assertReply(reply, expect);
              if (next !== null && expect.forwarded !== undefined) {
                assertForwarded(await next.request(i + 1, expect.forwarded === null ? 300 : 2000), expect.forwarded, sub);
              }
            }
            for (const [key, want] of Object.entries(c.expect.stats ?? {})) {
              assert.equal(server.rt.stats.get(key), want, `statistic ${key}`);
            }
          } finally {
            await server.close();
            next?.close();
          }
        });
      }
    });
  }
}

/** "{udp}" / "{tcp}" / "{next}": the server's bound ports and the next hop's. */
function portsIn(udp: number, tcp: number, next: number): (s: string) => string {
  return (s) => s.replaceAll('{udp}', String(udp)).replaceAll('{tcp}', String(tcp)).replaceAll('{next}', String(next));
}

/** The ports put into a case's R-URI and headers. */
function withPorts(spec: RequestSpec, sub: (s: string) => string): RequestSpec {
  return {
    ...spec,
    ...(spec.ruri === undefined ? {} : { ruri: sub(spec.ruri) }),
    ...(spec.headers === undefined ? {} : { headers: spec.headers.map(sub) }),
  };
}

/** The ports put into the expected reply header values. */
function withExpectedPorts(e: BindingExpect, sub: (s: string) => string): BindingExpect {
  if (e.headers === undefined) return e;
  const headers: Record<string, string | RegExp | null> = {};
  for (const [k, v] of Object.entries(e.headers)) headers[k] = typeof v === 'string' ? sub(v) : v;
  return { ...e, headers };
}

/** A case expecting a final reply skips the provisional ones before it (100 Trying to an INVITE). */
async function finalOrFirst(next: () => Promise<SipMessage | null>, e: BindingExpect): Promise<SipMessage | null> {
  let reply = await next();
  while (reply !== null && e.status !== undefined && e.status >= 200 && reply.status < 200) reply = await next();
  return reply;
}
