/**
 * Data-driven binding tests: each case is a route written once in Lua and once in JS, a
 * request sent by a real UAC over UDP (or TCP), and what that UAC must receive. Every case
 * runs on every engine — parity by construction.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { SipMessage } from '../../host/sip/message.js';
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
  /** send the request this many times (each gets its own reply) */
  repeat?: number;
  expect: BindingExpect;
}

export function scriptFor(c: BindingCase, engine: EngineName): string {
  const src = engine === 'lua' ? c.lua : c.js;
  return c.full === true ? src : routeScript(engine, src);
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
          const server = await startServer(engine, scriptFor(c, engine), c.config === undefined ? {} : { config: c.config });
          try {
            const wait = c.expect.noReply === true ? 300 : 3000;
            const request = withPorts(c.request ?? {}, server.udpPort, server.tcpPort);
            for (let i = 0; i < (c.repeat ?? 1); i++) {
              let reply: SipMessage | null;
              if (c.transport === 'tcp') {
                const peer = await TcpPeer.connect(server.tcpPort);
                peer.request(request);
                reply = await peer.next(wait);
                peer.close();
              } else {
                const peer = await UdpPeer.open();
                peer.request(request, server.udpPort);
                reply = await peer.next(wait);
                peer.close();
              }
              assertReply(reply, c.expect);
            }
            for (const [key, want] of Object.entries(c.expect.stats ?? {})) {
              assert.equal(server.rt.stats.get(key), want, `statistic ${key}`);
            }
          } finally {
            await server.close();
          }
        });
      }
    });
  }
}

/** "{udp}" / "{tcp}" in a case's R-URI or headers stand for the server's bound ports. */
function withPorts(spec: RequestSpec, udp: number, tcp: number): RequestSpec {
  const sub = (s: string): string => s.replaceAll('{udp}', String(udp)).replaceAll('{tcp}', String(tcp));
  return {
    ...spec,
    ...(spec.ruri === undefined ? {} : { ruri: sub(spec.ruri) }),
    ...(spec.headers === undefined ? {} : { headers: spec.headers.map(sub) }),
  };
}
