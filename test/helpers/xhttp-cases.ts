/**
 * Data-driven xhttp tests: each case is the body of ksr_xhttp_event written once in Lua and
 * once in JS, the HTTP requests a real client sends (on one kept-alive connection when the
 * server allows), and what that client must receive. Every case runs on every engine.
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import { describe, test } from 'node:test';
import type { AnyModuleDef } from '../../host/kemi/types.js';
import { httpRequest, type HttpReply, type HttpSpec } from './http-client.js';
import { ENGINES, startServer, type EngineName, type TestServer } from './runtime.js';

export interface HttpExpect {
  status?: number;
  reason?: string;
  /** header name (lowercase) → exact value, a pattern, or null for "absent" */
  headers?: Record<string, string | RegExp | null>;
  body?: string | RegExp;
  /** the server closes the connection without any reply */
  closed?: boolean;
  check?: (reply: HttpReply, server: TestServer) => void;
}

export interface XhttpRequest extends HttpSpec {
  /** wait this long before sending (after the previous reply) */
  waitMs?: number;
  expect: HttpExpect;
}

export interface XhttpCase {
  name: string;
  /** the body of ksr_xhttp_event(evname) */
  lua: string;
  js: string;
  /** more script functions (other routes) */
  luaExtra?: string;
  jsExtra?: string;
  /** modules.xhttp; event_callback is ksr_xhttp_event unless given */
  params?: Record<string, unknown>;
  /** other config sections (limits, http…) */
  config?: Record<string, unknown>;
  modules?: readonly AnyModuleDef[];
  requests: XhttpRequest[];
  /** runtime statistics after the requests, e.g. { 'xhttp:default_replies': 1 } */
  stats?: Record<string, number>;
}

export function xhttpScript(engine: EngineName, body: string, extra = ''): string {
  return engine === 'lua'
    ? `function ksr_request_route()\nend\nfunction ksr_xhttp_event(evname)\n${body}\nend\n${extra}`
    : `function ksr_request_route() {}\nfunction ksr_xhttp_event(evname) {\n${body}\n}\n${extra}`;
}

/** Start a runtime with the HTTP listener on 127.0.0.1 port 0. */
export function startXhttp(engine: EngineName, source: string, c: Pick<XhttpCase, 'params' | 'config' | 'modules'> = {}): Promise<TestServer> {
  const { http: httpCfg, ...rest } = c.config ?? {};
  return startServer(engine, source, {
    config: {
      ...rest,
      http: { listen: '127.0.0.1:0', ...(httpCfg as Record<string, unknown> | undefined) },
      modules: { xhttp: { event_callback: 'ksr_xhttp_event', ...c.params } },
    },
    ...(c.modules === undefined ? {} : { modules: c.modules }),
  });
}

export function assertHttpReply(r: HttpReply, e: HttpExpect, server: TestServer): void {
  if (e.status !== undefined) assert.equal(r.status, e.status, `status (body: ${r.body})`);
  if (e.reason !== undefined) assert.equal(r.reason, e.reason);
  for (const [name, want] of Object.entries(e.headers ?? {})) {
    const got = r.headers[name];
    if (want === null) assert.equal(got, undefined, `header ${name} must be absent`);
    else if (typeof want === 'string') assert.equal(got, want, `header ${name}`);
    else assert.match(String(got), want, `header ${name}`);
  }
  if (typeof e.body === 'string') assert.equal(r.body, e.body);
  else if (e.body !== undefined) assert.match(r.body, e.body);
  e.check?.(r, server);
}

export function runXhttpCases(title: string, cases: readonly XhttpCase[]): void {
  for (const engine of ENGINES) {
    describe(`${title} [${engine}]`, () => {
      for (const c of cases) {
        test(c.name, async () => {
          const server = await startXhttp(engine, xhttpScript(engine, engine === 'lua' ? c.lua : c.js, engine === 'lua' ? c.luaExtra : c.jsExtra), c);
          const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
          try {
            for (const r of c.requests) {
              if (r.waitMs !== undefined) await new Promise((res) => setTimeout(res, r.waitMs));
              if (r.expect.closed === true) {
                await assert.rejects(httpRequest(server.httpPort, r, agent), /socket hang up|ECONNRESET/);
                continue;
              }
              assertHttpReply(await httpRequest(server.httpPort, r, agent), r.expect, server);
            }
            for (const [key, want] of Object.entries(c.stats ?? {})) {
              assert.equal(server.rt.stats.get(key), want, `statistic ${key}`);
            }
          } finally {
            agent.destroy();
            await server.close();
          }
        });
      }
    });
  }
}
