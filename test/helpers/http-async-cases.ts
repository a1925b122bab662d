/**
 * Cases for KSR.http_async_client / KSR.async_http, written once and run on both engines: the
 * request route makes one query (its KSR lines are the same text in Lua and JS), a real UAC
 * sends a MESSAGE over UDP, and the test checks what the UAC got back and what the real HTTP
 * peer received. The scripts' shared routes:
 * - REPORT: a held query's route; replies 200 with every $http_* result in X- headers;
 * - EVENT: the route of a query that did not hold; stores a summary in $shv(ev);
 * - LATER: when the query did not hold, the request waits in KSR.async.ms_route and LATER
 *   replies with X-Var (rc/$http_req_id) and X-Ev ($shv(ev));
 * - AVP: async_http's route; replies with $avp(http_rc|http_rb|http_error).
 * With `mark`, REPORT and EVENT first send a marker query (/echo?ran=<id>) so the test can
 * count how many times the route ran.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { SipMessage } from '../../host/sip/message.js';
import { assertReply, type BindingExpect } from './binding-cases.js';
import type { HttpPeers } from './http-peers.js';
import { ENGINES, startServer, type EngineName, type TestServer } from './runtime.js';
import { UdpPeer, type RequestSpec } from './sip-client.js';

export interface HttpCase {
  name: string;
  /** KSR lines before the call, identical in Lua and JS (end each with ";") */
  pre?: string[];
  /** the call expression, e.g. KSR.http_async_client.query("…", "REPORT") */
  call: string;
  /** create the transaction first (default true) */
  newtran?: boolean;
  /** ms the LATER route waits when the call did not hold (default 400) */
  laterMs?: number;
  mark?: boolean;
  config?: Record<string, unknown>;
  request?: RequestSpec;
  expect: BindingExpect;
  /** after the reply: what the HTTP peer saw, the server, the reply */
  after?: (peers: HttpPeers, server: TestServer, reply: SipMessage | null) => Promise<void> | void;
}

const FIELDS = ['ok', 'err', 'rs', 'rr', 'rb', 'bs', 'ml', 'req_id', 'time(total)', 'time(starttransfer)', 'time(lookup)', 'xdata', 'hdr(X-Reply)'];
const HEADERS = ['X-Ok', 'X-Err', 'X-Rs', 'X-Rr', 'X-Rb', 'X-Bs', 'X-Ml', 'X-Id', 'X-Total', 'X-Start', 'X-Lookup', 'X-Xdata', 'X-Reply'];

function script(engine: EngineName, c: HttpCase, base: string): string {
  const lua = engine === 'lua';
  const cat = lua ? ' .. ' : ' + ';
  const g = (pv: string): string => (lua ? `tostring(KSR.pv.getw("${pv}"))` : `String(KSR.pv.getw("${pv}"))`);
  const crlf = '"\\r\\n"';
  const report = HEADERS.map((h, i) => `"${h}: "${cat}${g(`$http_${FIELDS[i] ?? ''}`)}${cat}${crlf}`).join(cat);
  const extra = [
    `"X-Multi: "${cat}${g('$(http_hdr(X-Multi)[1])')}${cat}","${cat}${g('$(http_hdr(x-multi)[-1])')}${cat}","${cat}${g('$(http_hdr(X-Multi)[*])')}${cat}${crlf}`,
    `"X-Var: "${cat}${g('$var(v)')}${cat}${crlf}`,
  ].join(cat);
  const marker = c.mark === true ? `KSR.http_async_client.send("${base}/echo?ran="${cat}${g('$http_req_id')}, "NOOP");` : '';
  const firstLine = lua ? `(KSR.pv.getw("$http_mb")):match("^[^\\r]*")` : `String(KSR.pv.getw("$http_mb")).split("\\r")[0]`;
  const ev = ['ok', 'rs', 'rb', 'xdata', 'err'].map((f) => g(`$http_${f}`)).join(`${cat}"|"${cat}`);
  const avp = ['http_rc', 'http_rb', 'http_error'].map((a) => `"X-${a}: "${cat}${g(`$avp(${a})`)}${cat}${crlf}`).join(cat);
  const body = [
    ...(c.newtran === false ? [] : ['KSR.tm.t_newtran();']),
    ...(c.pre ?? []),
    lua ? `local rc = ${c.call}` : `const rc = ${c.call};`,
    `KSR.pv.sets("$var(v)", ${lua ? 'tostring(rc)' : 'String(rc)'}${cat}"/"${cat}${g('$http_req_id')});`,
    lua ? 'if rc == 0 then KSR.x.exit() end' : 'if (rc === 0) KSR.x.exit();',
    `KSR.async.ms_route("LATER", ${String(c.laterMs ?? 400)});`,
  ];
  const fns: [string, string[]][] = [
    ['ksr_request_route', body],
    // the marker goes after the results are read: sending it changes $http_req_id
    ['REPORT', [`KSR.hdr.append_to_reply(${report}${cat}${extra}${cat}"X-Mb: "${cat}${firstLine}${cat}${crlf});`, marker, 'KSR.tm.t_reply(200, "OK");']],
    ['EVENT', [`KSR.pv.sets("$shv(ev)", ${ev});`, marker]],
    ['LATER', [`KSR.hdr.append_to_reply("X-Var: "${cat}${g('$var(v)')}${cat}${crlf}${cat}"X-Ev: "${cat}${g('$shv(ev)')}${cat}${crlf});`, 'KSR.tm.t_reply(200, "Later");']],
    ['AVP', [`KSR.hdr.append_to_reply(${avp}${cat}"X-Ok: "${cat}${g('$http_ok')}${cat}${crlf});`, 'KSR.tm.t_reply(200, "OK");']],
    ['NOOP', []],
  ];
  return fns.map(([name, lines]) => (lua ? `function ${name}()\n  ${lines.join('\n  ')}\nend\n` : `function ${name}() {\n  ${lines.join('\n  ')}\n}\n`)).join('');
}

export function runHttpCases(title: string, peers: () => HttpPeers, cases: readonly HttpCase[]): void {
  for (const engine of ENGINES) {
    describe(`${title} [${engine}]`, () => {
      for (const c of cases) {
        test(c.name, async () => {
          const p = peers();
          // what the peer saw belongs to this case only (the same tags run on each engine)
          p.seen.length = 0;
          const server = await startServer(engine, script(engine, c, p.http), c.config === undefined ? {} : { config: c.config });
          const uac = await UdpPeer.open();
          try {
            uac.request({ method: 'MESSAGE', ...c.request }, server.udpPort);
            const reply = await uac.next(c.expect.noReply === true ? 600 : 5000);
            assertReply(reply, c.expect);
            await c.after?.(p, server, reply);
            for (const [key, want] of Object.entries(c.expect.stats ?? {})) assert.equal(server.rt.stats.get(key), want, `statistic ${key}`);
          } finally {
            uac.close();
            await server.close();
          }
        });
      }
    });
  }
}

