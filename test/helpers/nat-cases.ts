/**
 * Binding cases for a UA "behind a NAT": like binding-cases.ts (one table, every engine, a real
 * UDP UAC and next hop), but the request may name the UAC's own port ({peer}) and carry a Via
 * sent-by other than the address it really comes from — what a NATed UA's request looks like.
 */
import { describe, test } from 'node:test';
import type { SipMessage } from '../../host/sip/message.js';
import { assertForwarded, assertReply, type BindingExpect } from './binding-cases.js';
import { NextHop } from './next-hop.js';
import { ENGINES, routeScript, startServer, type EngineName } from './runtime.js';
import { buildRequest, UdpPeer, type RequestSpec } from './sip-client.js';

export interface NatCase {
  name: string;
  lua: string;
  js: string;
  /** the whole script instead of the body of ksr_request_route */
  full?: boolean;
  config?: Record<string, unknown>;
  request?: RequestSpec;
  /** the Via's sent-by ("10.0.0.5:5070"), instead of the UAC's real address; may hold {peer} */
  via?: string;
  /** a next hop (UDP) that answers every request with `answer` (200 by default) */
  next?: { answer?: number };
  expect: BindingExpect;
}

/** "{udp}", "{next}", "{peer}": the server's UDP port, the next hop's, the UAC's. */
function subst(ports: { udp: number; next: number; peer: number }): (s: string) => string {
  return (s) => s.replaceAll('{udp}', String(ports.udp)).replaceAll('{next}', String(ports.next)).replaceAll('{peer}', String(ports.peer));
}

function expected(e: BindingExpect, sub: (s: string) => string): BindingExpect {
  if (e.headers === undefined) return e;
  const headers: Record<string, string | RegExp | null> = {};
  for (const [k, v] of Object.entries(e.headers)) headers[k] = typeof v === 'string' ? sub(v) : v;
  return { ...e, headers };
}

async function finalReply(peer: UdpPeer, e: BindingExpect): Promise<SipMessage | null> {
  const wait = e.noReply === true ? 300 : 3000;
  let reply = await peer.next(wait);
  while (reply !== null && (e.status ?? 0) >= 200 && reply.status < 200) reply = await peer.next(wait);
  return reply;
}

export function scriptOf(c: NatCase, engine: EngineName): string {
  const src = engine === 'lua' ? c.lua : c.js;
  return c.full === true ? src : routeScript(engine, src);
}

export function runNatCases(title: string, cases: readonly NatCase[]): void {
  for (const engine of ENGINES) {
    describe(`${title} [${engine}]`, () => {
      for (const c of cases) {
        test(c.name, async () => {
          const next = c.next === undefined ? null : await NextHop.start('udp', c.next.answer ?? 200);
          const server = await startServer(engine, scriptOf(c, engine), c.config === undefined ? {} : { config: c.config });
          const peer = await UdpPeer.open();
          try {
            const sub = subst({ udp: server.udpPort, next: next?.port ?? 0, peer: peer.port });
            const spec = c.request ?? {};
            const request: RequestSpec = {
              ...spec,
              ...(spec.ruri === undefined ? {} : { ruri: sub(spec.ruri) }),
              ...(spec.headers === undefined ? {} : { headers: spec.headers.map(sub) }),
              ...(spec.body === undefined ? {} : { body: sub(spec.body) }),
            };
            let raw = buildRequest(request, 'UDP', '127.0.0.1', peer.port);
            if (c.via !== undefined) raw = raw.replace(/^Via: SIP\/2\.0\/UDP [^;]+/m, `Via: SIP/2.0/UDP ${sub(c.via)}`);
            peer.send(raw, server.udpPort);
            const e = expected(c.expect, sub);
            assertReply(await finalReply(peer, e), e);
            if (next !== null && e.forwarded !== undefined) {
              assertForwarded(await next.request(1, e.forwarded === null ? 300 : 2000), e.forwarded, sub);
            }
          } finally {
            peer.close();
            await server.close();
            next?.close();
          }
        });
      }
    });
  }
}
