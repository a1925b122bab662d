/**
 * Data-driven flows for bindings whose behaviour spans several requests (a REGISTER, then a
 * re-REGISTER, then a lookup): each case is a script written once in Lua and once in JS, the
 * configuration, and a flow that drives a real UAC (and UAS peers) over UDP against the server.
 * Every case runs on every engine, as runBindingCases does for single requests.
 */
import { describe, test } from 'node:test';
import type { SipMessage } from '../../host/sip/message.js';
import { ENGINES, routeScript, startServer, type EngineName, type TestServer } from './runtime.js';
import { UdpPeer, type RequestSpec } from './sip-client.js';

export interface FlowEnv {
  readonly engine: EngineName;
  readonly server: TestServer;
  readonly uac: UdpPeer;
  /** the UAS peers the case asked for */
  readonly uas: readonly UdpPeer[];
  /** send from the UAC; the first reply that is not a 100, or an error after timeoutMs */
  send(spec: RequestSpec, timeoutMs?: number): Promise<SipMessage>;
  /** send from the UAC and expect nothing back within quietMs */
  sendNoReply(spec: RequestSpec, quietMs?: number): Promise<void>;
}

export interface FlowCase {
  name: string;
  /** the body of ksr_request_route, or a whole script when `full` */
  lua: string;
  js: string;
  full?: boolean;
  config?: Record<string, unknown>;
  /** UAS peers to open */
  uas?: number;
  flow(env: FlowEnv): Promise<void>;
}

async function nextFinal(peer: UdpPeer, timeoutMs: number): Promise<SipMessage> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const m = await peer.next(Math.max(1, end - Date.now()));
    if (m === null) throw new Error(`no reply within ${String(timeoutMs)} ms`);
    if (!m.isRequest && m.status > 100) return m;
  }
}

export function runFlowCases(title: string, cases: readonly FlowCase[]): void {
  for (const engine of ENGINES) {
    describe(`${title} [${engine}]`, () => {
      for (const c of cases) {
        test(c.name, async () => {
          const src = engine === 'lua' ? c.lua : c.js;
          const server = await startServer(engine, c.full === true ? src : routeScript(engine, src), c.config === undefined ? {} : { config: c.config });
          const uac = await UdpPeer.open();
          const uas = await Promise.all(Array.from({ length: c.uas ?? 0 }, () => UdpPeer.open()));
          try {
            await c.flow({
              engine,
              server,
              uac,
              uas,
              send: (spec, timeoutMs = 3000) => {
                uac.request(spec, server.udpPort);
                return nextFinal(uac, timeoutMs);
              },
              sendNoReply: async (spec, quietMs = 300) => {
                uac.request(spec, server.udpPort);
                const m = await uac.next(quietMs);
                if (m !== null) throw new Error(`expected no reply, got ${m.isRequest ? m.method : `${String(m.status)} ${m.reason}`}`);
              },
            });
          } finally {
            uac.close();
            for (const p of uas) p.close();
            await server.close();
          }
        });
      }
    });
  }
}
