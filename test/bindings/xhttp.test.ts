import assert from 'node:assert/strict';
import { runBindingCases, type BindingCase } from '../helpers/binding-cases.js';
import { runXhttpCases, type XhttpCase } from '../helpers/xhttp-cases.js';

/** Reply 200 text/plain with `expr` (a Lua / JS string expression) as the body. */
const replyLua = (expr: string): string => `KSR.xhttp.xhttp_reply(200, "OK", "text/plain", ${expr})`;
const replyJs = (expr: string): string => `KSR.xhttp.xhttp_reply(200, "OK", "text/plain", ${expr});`;
/** a PV as a string, "-" when $null */
const pvLua = (pv: string): string => `tostring(KSR.pv.get("${pv}") or "-")`;
const pvJs = (pv: string): string => `String(KSR.pv.get("${pv}") ?? "-")`;
const joinLua = (pvs: string[]): string => pvs.map(pvLua).join(' .. "|" .. ');
const joinJs = (pvs: string[]): string => pvs.map(pvJs).join(' + "|" + ');

const JSON_BODY = '{"id":7,"s":"é"}';
const SRC_PVS = ['$si', '$sp', '$Ri', '$Rp', '$pr', '$proto'];
const REQ_PVS = ['$hdr(X-Token)', '$hdr(x-token)', '$hdrc(X-Multi)', '$hdr(X-Multi)', '$ua', '$rb', '$bs', '$hdr(X-Missing)'];
const SIP_ONLY_PVS = ['$ru', '$ci', '$fu', '$rs', '$ml'];

const cases: XhttpCase[] = [
  {
    name: 'xhttp_reply sends the code, reason, content type and body exactly as given',
    lua: `KSR.xhttp.xhttp_reply(201, "Created Here", "application/json; charset=utf-8", '${JSON_BODY}')`,
    js: `KSR.xhttp.xhttp_reply(201, "Created Here", "application/json; charset=utf-8", '${JSON_BODY}');`,
    requests: [{
      expect: {
        status: 201,
        reason: 'Created Here',
        headers: { 'content-type': 'application/json; charset=utf-8', 'content-length': String(Buffer.byteLength(JSON_BODY)) },
        body: JSON_BODY,
      },
    }],
    stats: { 'xhttp:requests': 1, 'xhttp:replies': 1, 'xhttp:default_replies': 0 },
  },
  {
    name: 'an empty content type sends no Content-Type; an empty body is Content-Length 0',
    lua: 'KSR.xhttp.xhttp_reply(404, "Nothing", "", "")',
    js: 'KSR.xhttp.xhttp_reply(404, "Nothing", "", "");',
    requests: [{ expect: { status: 404, reason: 'Nothing', headers: { 'content-type': null, 'content-length': '0' }, body: '' } }],
  },
  {
    name: 'the callback gets "xhttp:request"; $hu, get_hu() and $(hu{url.path|querystring}) see the URL',
    lua: replyLua(`evname .. "|" .. KSR.xhttp.get_hu() .. "|" .. ${joinLua(['$hu', '$(hu{url.path})', '$(hu{url.querystring})'])}`),
    js: replyJs(`evname + "|" + KSR.xhttp.get_hu() + "|" + ${joinJs(['$hu', '$(hu{url.path})', '$(hu{url.querystring})'])}`),
    requests: [
      { path: '/api/v1/users?id=5&q=a%20b', expect: { body: 'xhttp:request|/api/v1/users?id=5&q=a%20b|/api/v1/users?id=5&q=a%20b|/api/v1/users|id=5&q=a%20b' } },
      { path: '/plain', expect: { body: 'xhttp:request|/plain|/plain|/plain|' } },
    ],
  },
  {
    name: 'every method reaches the script as $rm; HEAD gets the headers without the body',
    lua: replyLua(pvLua('$rm')),
    js: replyJs(pvJs('$rm')),
    requests: [
      { method: 'GET', expect: { status: 200, body: 'GET' } },
      { method: 'POST', body: 'x=1', expect: { status: 200, body: 'POST' } },
      { method: 'PUT', body: 'x=2', expect: { status: 200, body: 'PUT' } },
      { method: 'DELETE', expect: { status: 200, body: 'DELETE' } },
      { method: 'PATCH', body: '{}', expect: { status: 200, body: 'PATCH' } },
      { method: 'HEAD', expect: { status: 200, body: '', headers: { 'content-length': '4', 'content-type': 'text/plain' } } },
    ],
  },
  {
    name: 'request headers and body reach the script: $hdr (any case), $hdrc, $ua, $rb, $bs',
    lua: replyLua(joinLua(REQ_PVS)),
    js: replyJs(joinJs(REQ_PVS)),
    requests: [{
      method: 'POST',
      path: '/in',
      headers: { 'X-Token': 'abc 123', 'X-Multi': ['one', 'two'], 'User-Agent': 'ua-test/1' },
      body: '{"n":"ü"}',
      expect: { body: `abc 123|abc 123|2|one|ua-test/1|{"n":"ü"}|${String(Buffer.byteLength('{"n":"ü"}'))}|-` },
    }],
  },
  {
    name: 'a chunked request body reaches the script whole',
    lua: replyLua(joinLua(['$rb', '$bs', '$hdr(Transfer-Encoding)'])),
    js: replyJs(joinJs(['$rb', '$bs', '$hdr(Transfer-Encoding)'])),
    requests: [{ method: 'POST', body: 'first-half|second-half', chunked: true, expect: { body: 'first-half|second-half|22|chunked' } }],
  },
  {
    name: '$si, $sp, $Ri, $Rp and $pr describe the HTTP connection (tcp, as Kamailio says)',
    lua: replyLua(joinLua(SRC_PVS)),
    js: replyJs(joinJs(SRC_PVS)),
    requests: [{
      expect: {
        check: (r, server) => {
          assert.equal(r.body, `127.0.0.1|${String(r.localPort)}|127.0.0.1|${String(server.httpPort)}|tcp|tcp`);
        },
      },
    }],
  },
  {
    name: '$var works in the callback; SIP message PVs are $null for an HTTP request',
    lua: `KSR.pv.seti("$var(n)", 41)\nKSR.pv.seti("$var(n)", KSR.pv.get("$var(n)") + 1)\n${replyLua(joinLua(['$var(n)', ...SIP_ONLY_PVS]))}`,
    js: `KSR.pv.seti("$var(n)", 41);\nKSR.pv.seti("$var(n)", KSR.pv.get("$var(n)") + 1);\n${replyJs(joinJs(['$var(n)', ...SIP_ONLY_PVS]))}`,
    requests: [{ expect: { body: '42|-|-|-|-|-' } }],
  },
  {
    name: 'headers added with KSR.hdr.append_to_reply go out; framing and the given Content-Type are ours',
    lua: `KSR.hdr.append_to_reply("X-One: 1\\r\\n")
      KSR.hdr.append_to_reply("X-Two: two words")
      KSR.hdr.append_to_reply("Content-Type: text/html\\r\\n")
      KSR.hdr.append_to_reply("Content-Length: 999\\r\\n")
      KSR.xhttp.xhttp_reply(200, "OK", "text/plain", "abc")`,
    js: `KSR.hdr.append_to_reply("X-One: 1\\r\\n");
      KSR.hdr.append_to_reply("X-Two: two words");
      KSR.hdr.append_to_reply("Content-Type: text/html\\r\\n");
      KSR.hdr.append_to_reply("Content-Length: 999\\r\\n");
      KSR.xhttp.xhttp_reply(200, "OK", "text/plain", "abc");`,
    requests: [{ expect: { headers: { 'x-one': '1', 'x-two': 'two words', 'content-type': 'text/plain', 'content-length': '3' }, body: 'abc' } }],
  },
  {
    name: 'xhttp_reply: -1 for a bad code, reason or content type (nothing sent), 1 once, then -1',
    lua: `if KSR.xhttp.get_hu() == "/check" then
        ${replyLua('KSR.pv.get("$shv(ok)") .. "," .. KSR.pv.get("$shv(again)")')}
        return
      end
      local rcs = {
        KSR.xhttp.xhttp_reply(99, "Too Low", "", ""),
        KSR.xhttp.xhttp_reply(700, "Too High", "", ""),
        KSR.xhttp.xhttp_reply(200, "", "", ""),
        KSR.xhttp.xhttp_reply(200, "Bad\\r\\nX-Injected: 1", "", ""),
        KSR.xhttp.xhttp_reply(200, "OK", "text/plain\\r\\nX-Injected: 1", ""),
      }
      local ok = KSR.xhttp.xhttp_reply(202, "Accepted", "text/plain", table.concat(rcs, ","))
      KSR.pv.seti("$shv(ok)", ok)
      KSR.pv.seti("$shv(again)", KSR.xhttp.xhttp_reply(200, "OK", "text/plain", "second"))`,
    js: `if (KSR.xhttp.get_hu() === "/check") {
        ${replyJs('KSR.pv.get("$shv(ok)") + "," + KSR.pv.get("$shv(again)")')}
        return;
      }
      const rcs = [
        KSR.xhttp.xhttp_reply(99, "Too Low", "", ""),
        KSR.xhttp.xhttp_reply(700, "Too High", "", ""),
        KSR.xhttp.xhttp_reply(200, "", "", ""),
        KSR.xhttp.xhttp_reply(200, "Bad\\r\\nX-Injected: 1", "", ""),
        KSR.xhttp.xhttp_reply(200, "OK", "text/plain\\r\\nX-Injected: 1", ""),
      ];
      const ok = KSR.xhttp.xhttp_reply(202, "Accepted", "text/plain", rcs.join(","));
      KSR.pv.seti("$shv(ok)", ok);
      KSR.pv.seti("$shv(again)", KSR.xhttp.xhttp_reply(200, "OK", "text/plain", "second"));`,
    requests: [
      { path: '/first', expect: { status: 202, reason: 'Accepted', headers: { 'x-injected': null }, body: '-1,-1,-1,-1,-1' } },
      { path: '/check', expect: { status: 200, body: '1,-1' } },
    ],
    stats: { 'xhttp:replies': 2 },
  },
  {
    name: 'url_skip and url_match (url_skip wins, both case-sensitive) choose the URLs the callback sees; the rest get 404',
    params: { url_skip: '^/api/private', url_match: '^/api/' },
    lua: replyLua('"ran " .. KSR.xhttp.get_hu()'),
    js: replyJs('"ran " + KSR.xhttp.get_hu()'),
    requests: [
      { path: '/api/public?x=1', expect: { status: 200, body: 'ran /api/public?x=1' } },
      { path: '/api/private/keys', expect: { status: 404, reason: 'Not Found' } },
      { path: '/other', expect: { status: 404 } },
      { path: '/API/public', expect: { status: 404 } },
      { path: '/x?next=/api/', expect: { status: 404 } },
    ],
    stats: { 'xhttp:requests': 5, 'xhttp:not_found': 4, 'xhttp:replies': 1 },
  },
  {
    name: 'url_skip / url_match see the normalised path: other spellings of a skipped path get 404 too; $hu stays as received',
    params: { url_skip: '^/api/private', url_match: '^/api/' },
    lua: replyLua('"ran " .. KSR.xhttp.get_hu()'),
    js: replyJs('"ran " + KSR.xhttp.get_hu()'),
    requests: [
      ...['/api//private', '/api/%70rivate', '/api/./private', '/api/x/../private', '/api/%2E%2e/api/private', '//api/private?a=b', 'http://other.example/api/private', '/api/private/./'].map((path) => ({ path, expect: { status: 404 } })),
      { path: '/api/%70ublic/./?q=/../', expect: { status: 200, body: 'ran /api/%70ublic/./?q=/../' } },
      { path: '/x/../api/public', expect: { status: 200 } },
      { path: '/api/private%2Fkeys', expect: { status: 404 } },
      { path: '/api/pub%2Flic', expect: { status: 200, body: 'ran /api/pub%2Flic' } },
    ],
    stats: { 'xhttp:not_found': 9, 'xhttp:replies': 3 },
  },
  {
    name: 'url_match alone is unanchored: it matches anywhere in the URL, query string included',
    params: { url_match: 'status' },
    lua: replyLua('"ran"'),
    js: replyJs('"ran"'),
    requests: [
      { path: '/v1/status', expect: { status: 200, body: 'ran' } },
      { path: '/v1/health?show=status', expect: { status: 200, body: 'ran' } },
      { path: '/v1/health', expect: { status: 404 } },
    ],
  },
  {
    name: 'url_skip alone: matching URLs get 404, all others run the callback',
    params: { url_skip: '\\.(png|ico)$' },
    lua: replyLua('"ran"'),
    js: replyJs('"ran"'),
    requests: [
      { path: '/favicon.ico', expect: { status: 404 } },
      { path: '/index.html', expect: { status: 200, body: 'ran' } },
    ],
  },
  {
    name: 'a callback that returns without replying gets the default 500; the connection stays usable',
    lua: `if KSR.xhttp.get_hu() == "/yes" then ${replyLua('"yes"')} end`,
    js: `if (KSR.xhttp.get_hu() === "/yes") ${replyJs('"yes"')}`,
    requests: [
      { path: '/none', expect: { status: 500, reason: 'Internal Server Error', headers: { 'content-type': 'text/plain' } } },
      { path: '/yes', expect: { status: 200, body: 'yes' } },
    ],
    stats: { 'xhttp:default_replies': 1, 'xhttp:replies': 1, 'xhttp:errors': 0 },
  },
  {
    name: 'a callback that throws gets 500',
    lua: 'KSR.pv.sets("$var(x)", "1")\nerror("boom")',
    js: 'KSR.pv.sets("$var(x)", "1");\nthrow new Error("boom");',
    requests: [{ expect: { status: 500, reason: 'Internal Server Error' } }],
    stats: { 'xhttp:errors': 1, 'script:errors': 1, 'xhttp:default_replies': 0 },
  },
  {
    name: 'a callback stopped by the CPU limit gets 500',
    config: { limits: { cpu_ms: 50 } },
    lua: 'while true do end',
    js: 'for (;;) { /* spin */ }',
    requests: [{ expect: { status: 500 } }],
    stats: { 'xhttp:errors': 1, 'script:cpu_limit': 1 },
  },
  {
    name: 'KSR.x.exit() after the reply keeps it; exit before any reply gets the default 500',
    lua: `if KSR.xhttp.get_hu() == "/a" then ${replyLua('"a"')} end\nKSR.x.exit()\n${replyLua('"not reached"')}`,
    js: `if (KSR.xhttp.get_hu() === "/a") ${replyJs('"a"')}\nKSR.x.exit();\n${replyJs('"not reached"')}`,
    requests: [
      { path: '/a', expect: { status: 200, body: 'a' } },
      { path: '/b', expect: { status: 500 } },
    ],
    stats: { 'xhttp:default_replies': 1 },
  },
  {
    name: 'KSR.x.drop() closes the connection without a reply',
    lua: 'KSR.x.drop()',
    js: 'KSR.x.drop();',
    requests: [{ expect: { closed: true } }],
    stats: { 'xhttp:dropped': 1, 'xhttp:default_replies': 0 },
  },
  {
    name: 'no event_callback configured: every request gets 404',
    params: { event_callback: '' },
    lua: replyLua('"ran"'),
    js: replyJs('"ran"'),
    requests: [
      { expect: { status: 404, reason: 'Not Found' } },
      { method: 'POST', path: '/x', body: 'b', expect: { status: 404 } },
    ],
    stats: { 'xhttp:not_found': 2, 'xhttp:replies': 0 },
  },
  {
    name: 'an event_callback the script does not define: 500',
    params: { event_callback: 'ksr_not_there' },
    lua: replyLua('"ran"'),
    js: replyJs('"ran"'),
    requests: [{ expect: { status: 500 } }],
    stats: { 'xhttp:errors': 1 },
  },
  {
    name: 'a body up to max_body_bytes reaches the script; one byte more gets 413 and the connection is closed',
    params: { max_body_bytes: 16 },
    lua: replyLua(pvLua('$bs')),
    js: replyJs(pvJs('$bs')),
    requests: [
      { method: 'POST', body: 'x'.repeat(16), expect: { status: 200, body: '16' } },
      { method: 'POST', body: 'x'.repeat(17), expect: { status: 413, reason: 'Payload Too Large', headers: { connection: 'close' } } },
      { method: 'POST', body: 'y'.repeat(16), chunked: true, expect: { status: 200, body: '16' } },
      { method: 'POST', body: 'y'.repeat(40), chunked: true, expect: { status: 413, headers: { connection: 'close' } } },
    ],
    stats: { 'xhttp:too_large': 2, 'xhttp:replies': 2 },
  },
];

runXhttpCases('KSR.xhttp', cases);

const show = (lang: 'lua' | 'js', exprs: Record<string, string>): string =>
  Object.entries(exprs)
    .map(([name, e]) =>
      lang === 'lua'
        ? `KSR.hdr.append_to_reply("${name}: " .. tostring(${e}) .. "\\r\\n")`
        : `KSR.hdr.append_to_reply("${name}: " + String(${e}) + "\\r\\n");`,
    )
    .join('\n') + (lang === 'lua' ? '\nKSR.sl.sl_send_reply(200, "OK")' : '\nKSR.sl.sl_send_reply(200, "OK");');

const SIP_EXPRS = {
  'X-Rc': 'KSR.xhttp.xhttp_reply(200, "OK", "text/plain", "x")',
  'X-Hu': 'KSR.xhttp.get_hu()',
  'X-Pv': 'KSR.pv.get("$hu")',
  'X-Path': 'KSR.pv.get("$(hu{url.path})")',
};

const sipCases: BindingCase[] = [
  {
    name: 'in a SIP route xhttp_reply returns -1; $hu and get_hu() give the Request-URI as received',
    lua: show('lua', SIP_EXPRS),
    js: show('js', SIP_EXPRS),
    request: { ruri: 'sip:bob@example.com;transport=udp' },
    expect: {
      status: 200,
      headers: { 'X-Rc': '-1', 'X-Hu': 'sip:bob@example.com;transport=udp', 'X-Pv': 'sip:bob@example.com;transport=udp', 'X-Path': 'sip:bob@example.com;transport=udp' },
    },
  },
];

runBindingCases('KSR.xhttp in a SIP route', sipCases);
