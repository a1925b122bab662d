/**
 * KSR.jsonrpcs on both engines: dispatch answers a real HTTP client's JSON-RPC POST from the
 * xhttp event callback (Kamailio's /RPC example); exec runs a command and the script reads
 * $jsonrpl(...) and response(). Assertions are on what the HTTP client receives.
 */
import assert from 'node:assert/strict';
import { VERSION_LINE } from '../../host/rpc/about.js';
import { runBindingCases } from '../helpers/binding-cases.js';
import { runXhttpCases, type XhttpCase } from '../helpers/xhttp-cases.js';

const post = (doc: unknown): { method: string; path: string; headers: Record<string, string>; body: string } => ({
  method: 'POST',
  path: '/RPC',
  headers: { 'Content-Type': 'application/json' },
  body: typeof doc === 'string' ? doc : JSON.stringify(doc),
});

/** The event callback of Kamailio's jsonrpcs example: /RPC is served by dispatch, the rest gets 404. */
const DISPATCH_LUA = `if KSR.pv.get("$hu"):find("^/RPC") then
  local rc = KSR.jsonrpcs.dispatch()
  if rc < 0 then KSR.xhttp.xhttp_reply(500, "dispatch " .. rc, "", "") end
  return
end
KSR.xhttp.xhttp_reply(404, "Not Found", "text/plain", "wrong URL")`;
const DISPATCH_JS = `if (KSR.pv.get("$hu").startsWith("/RPC")) {
  const rc = KSR.jsonrpcs.dispatch();
  if (rc < 0) KSR.xhttp.xhttp_reply(500, "dispatch " + rc, "", "");
  return;
}
KSR.xhttp.xhttp_reply(404, "Not Found", "text/plain", "wrong URL");`;

const json = (body: string): Record<string, unknown> => JSON.parse(body) as Record<string, unknown>;

/** exec(cmd), then reply with "rc|$jsonrpl(code)|$jsonrpl(text)|$jsonrpl(body)|response()" */
const execLua = (cmd: string): string => `local rc = KSR.jsonrpcs.exec(${JSON.stringify(cmd)})
KSR.xhttp.xhttp_reply(200, "OK", "text/plain", rc .. "|" .. tostring(KSR.pv.get("$jsonrpl(code)")) .. "|" .. tostring(KSR.pv.get("$jsonrpl(text)")) .. "|" .. tostring(KSR.pv.get("$jsonrpl(body)")) .. "|" .. KSR.jsonrpcs.response())`;
const execJs = (cmd: string): string => `const rc = KSR.jsonrpcs.exec(${JSON.stringify(cmd)});
KSR.xhttp.xhttp_reply(200, "OK", "text/plain", rc + "|" + String(KSR.pv.get("$jsonrpl(code)")) + "|" + String(KSR.pv.get("$jsonrpl(text)")) + "|" + String(KSR.pv.get("$jsonrpl(body)")) + "|" + KSR.jsonrpcs.response());`;

const cases: XhttpCase[] = [
  {
    name: 'dispatch answers a JSON-RPC request from the body: 200 application/json, the id kept',
    lua: DISPATCH_LUA,
    js: DISPATCH_JS,
    requests: [
      {
        ...post({ jsonrpc: '2.0', method: 'core.version', id: 7 }),
        expect: { status: 200, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ jsonrpc: '2.0', id: 7, result: VERSION_LINE }) },
      },
      { path: '/other', expect: { status: 404, body: 'wrong URL' } },
    ],
  },
  {
    name: 'dispatch runs the modules\' methods too, and takes params as an object (values in order)',
    lua: DISPATCH_LUA,
    js: DISPATCH_JS,
    requests: [
      {
        ...post({ jsonrpc: '2.0', method: 'stats.get_statistics', params: { which: 'xhttp:requests' }, id: 'a' }),
        expect: { status: 200, check: (r) => { assert.deepEqual(json(r.body).result, ['xhttp:requests = 1']); } },
      },
      {
        ...post({ jsonrpc: '2.0', method: 'system.methodHelp', params: ['core.version'], id: 2 }),
        expect: { status: 200, check: (r) => { assert.equal(json(r.body).result, 'The server version'); } },
      },
    ],
  },
  {
    name: 'an unknown method or a body that is not JSON: 500 with the error as reason and a JSON-RPC error',
    lua: DISPATCH_LUA,
    js: DISPATCH_JS,
    requests: [
      {
        ...post({ jsonrpc: '2.0', method: 'no.such', id: 3 }),
        expect: {
          status: 500,
          reason: 'no method "no.such" (system.listMethods lists them)',
          check: (r) => { assert.deepEqual(json(r.body).error, { code: -32601, message: 'no method "no.such" (system.listMethods lists them)' }); },
        },
      },
      { ...post('{"jsonrpc": "2.0", "method": '), expect: { status: 500, check: (r) => { assert.equal((json(r.body).error as { code: number }).code, -32700); } } },
    ],
  },
  {
    name: 'a notification is run and answered 204 without a body',
    lua: DISPATCH_LUA,
    js: DISPATCH_JS,
    requests: [
      { ...post({ jsonrpc: '2.0', method: 'stats.reset_statistics', params: ['xhttp:requests'] }), expect: { status: 204, body: '' } },
      { ...post({ jsonrpc: '2.0', method: 'stats.get_statistics', params: ['xhttp:requests'], id: 1 }), expect: { check: (r) => { assert.deepEqual(json(r.body).result, ['xhttp:requests = 1']); } } },
    ],
  },
  {
    name: 'a reload through dispatch is answered once it is done, with the version now serving',
    lua: DISPATCH_LUA,
    js: DISPATCH_JS,
    requests: [{
      ...post({ jsonrpc: '2.0', method: 'script.reload', id: 9 }),
      expect: { status: 200, check: (r, server) => {
        const res = json(r.body).result as { version?: number } | undefined;
        assert.ok(res !== undefined, r.body);
        assert.equal(server.rt.script.current?.number, 2);
      } },
    }],
  },
  {
    name: 'exec keeps the answer for $jsonrpl(code|text|body) and response()',
    lua: execLua('{"jsonrpc": "2.0", "method": "core.version", "id": 1}'),
    js: execJs('{"jsonrpc": "2.0", "method": "core.version", "id": 1}'),
    requests: [{ expect: { body: (() => { const b = JSON.stringify({ jsonrpc: '2.0', id: 1, result: VERSION_LINE }); return `1|200|OK|${b}|${b}`; })() } }],
  },
  {
    name: 'exec of an unknown method: 1, code 500, the error in the body',
    lua: execLua('{"jsonrpc": "2.0", "method": "nope", "id": 1}'),
    js: execJs('{"jsonrpc": "2.0", "method": "nope", "id": 1}'),
    requests: [{ expect: { body: /^1\|500\|no method "nope" \(system\.listMethods lists them\)\|\{"jsonrpc":"2\.0","id":1,"error":\{"code":-32601,/ } }],
  },
  {
    name: 'exec of text that is not JSON, or of nothing: -1, $jsonrpl untouched (code 0, no body)',
    lua: execLua('not json').replace('KSR.xhttp.xhttp_reply', 'local e = KSR.jsonrpcs.exec("")\nKSR.xhttp.xhttp_reply').replace('rc .. "|"', 'rc .. e .. "|"'),
    js: execJs('not json').replace('KSR.xhttp.xhttp_reply', 'const e = KSR.jsonrpcs.exec("");\nKSR.xhttp.xhttp_reply').replace('rc + "|"', 'rc + "" + e + "|"'),
    requests: [{ expect: { body: /^-1-1\|0\|(nil|null)\|(nil|null)\|$/ } }],
  },
  {
    name: 'exec of a reload starts it: 1, code 202 Accepted, no body',
    lua: execLua('{"jsonrpc": "2.0", "method": "script.reload", "id": 1}'),
    js: execJs('{"jsonrpc": "2.0", "method": "script.reload", "id": 1}'),
    requests: [{ expect: { body: /^1\|202\|Accepted\|(nil|null)\|$/ } }],
  },
];

runXhttpCases('KSR.jsonrpcs', cases);

runBindingCases('KSR.jsonrpcs outside xhttp', [{
  name: 'dispatch on a SIP request: -1, and the request goes on',
  lua: 'KSR.sl.sl_send_reply(200, "rc " .. KSR.jsonrpcs.dispatch())',
  js: 'KSR.sl.sl_send_reply(200, "rc " + KSR.jsonrpcs.dispatch());',
  request: { method: 'OPTIONS' },
  expect: { status: 200, reason: 'rc -1' },
}]);
