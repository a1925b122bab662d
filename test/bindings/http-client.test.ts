/**
 * KSR.http_client waiting in place, both engines, over real SIP and a real HTTP server: the
 * request route makes the call in its middle (Lua: a plain call; JS: `await` in an async
 * function), then replies with the code, the result variable and $curlerror in X- headers. The
 * cases check what the UAC got and what the HTTP server received; the last tests show the
 * server answering other messages while a call waits, a call in an xhttp event route, and a
 * plain JS function refused.
 */
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { runBindingCases, type BindingCase } from '../helpers/binding-cases.js';
import { startHttpPeers } from '../helpers/http-peers.js';
import { ENGINES, startServer } from '../helpers/runtime.js';
import { UdpPeer } from '../helpers/sip-client.js';

const peers = await startHttpPeers();
after(() => peers.close());
const H = peers.http;

/** The route: something before, the call (the same KSR expression in both languages), the reply. */
function scripts(call: string): { lua: string; js: string; full: true } {
  return {
    full: true,
    lua: `function ksr_request_route()
  KSR.pv.sets("$var(r)", "unset")
  local code = ${call}
  KSR.hdr.append_to_reply("X-Code: " .. code .. "\\r\\n")
  KSR.hdr.append_to_reply("X-R: " .. KSR.pv.gete("$var(r)") .. "\\r\\n")
  KSR.hdr.append_to_reply("X-Err: " .. KSR.pv.gete("$curlerror(" .. code .. ")") .. "\\r\\n")
  KSR.sl.sl_send_reply(200, "OK")
end
`,
    js: `async function ksr_request_route() {
  KSR.pv.sets("$var(r)", "unset");
  const code = await ${call};
  KSR.hdr.append_to_reply("X-Code: " + code + "\\r\\n");
  KSR.hdr.append_to_reply("X-R: " + KSR.pv.gete("$var(r)") + "\\r\\n");
  KSR.hdr.append_to_reply("X-Err: " + KSR.pv.gete("$curlerror(" + code + ")") + "\\r\\n");
  KSR.sl.sl_send_reply(200, "OK");
}
`,
  };
}

/** The last request the HTTP server saw with `tag` in its URL. */
function seen(tag: string): NonNullable<(typeof peers.seen)[number]> {
  const s = peers.find(tag).at(-1);
  assert.ok(s, `the HTTP server saw no request with ${tag}`);
  return s;
}

const cases: BindingCase[] = [
  {
    name: 'query: a GET; the first line of the answer in the reply',
    ...scripts(`KSR.http_client.query("${H}/echo?t=e1", "$var(r)")`),
    expect: {
      status: 200,
      headers: { 'X-Code': '200', 'X-R': 'GET::-', 'X-Err': 'HTTP result code' },
      check: () => {
        const s = seen('t=e1');
        assert.equal(s.method, 'GET');
        assert.equal(s.body, '');
        assert.equal(s.headers.accept, '*/*');
        assert.match(String(s.headers['user-agent']), /^kemihost \(/);
      },
    },
  },
  {
    name: 'query_post: a POST with its body and curl\'s Content-Type',
    ...scripts(`KSR.http_client.query_post("${H}/echo?t=e2", "a=1&b=2", "$var(r)")`),
    expect: {
      status: 200,
      headers: { 'X-Code': '200', 'X-R': 'POST:a=1&b=2:-' },
      check: () => {
        const s = seen('t=e2');
        assert.equal(s.method, 'POST');
        assert.equal(s.body, 'a=1&b=2');
        assert.equal(s.headers['content-type'], 'application/x-www-form-urlencoded');
      },
    },
  },
  {
    name: 'query_post_hdrs: the caller\'s headers and Content-Type',
    ...scripts(`KSR.http_client.query_post_hdrs("${H}/echo?t=e3", "{}", "Content-Type: application/json\\r\\nX-Test: sip", "$var(r)")`),
    expect: {
      status: 200,
      headers: { 'X-Code': '200', 'X-R': 'POST:{}:sip' },
      check: () => {
        const s = seen('t=e3');
        assert.equal(s.headers['content-type'], 'application/json');
        assert.equal(s.headers['x-test'], 'sip');
      },
    },
  },
  {
    name: 'get_hdrs: a GET with a body and headers',
    ...scripts(`KSR.http_client.get_hdrs("${H}/echo?t=e4", "q=1", "X-Test: g", "$var(r)")`),
    expect: { status: 200, headers: { 'X-Code': '200', 'X-R': 'GET:q=1:g' }, check: () => { assert.equal(seen('t=e4').method, 'GET'); } },
  },
  {
    name: 'a 404 is returned as 404',
    ...scripts(`KSR.http_client.query("${H}/nothing?t=e5", "$var(r)")`),
    expect: { status: 200, headers: { 'X-Code': '404', 'X-R': '' } },
  },
  {
    name: 'a 500 is returned as 500, the result emptied',
    ...scripts(`KSR.http_client.query("${H}/500?t=e6", "$var(r)")`),
    expect: { status: 200, headers: { 'X-Code': '500', 'X-R': '' } },
  },
  {
    name: 'a refused connection: curl\'s 7, and $curlerror(7) says why',
    ...scripts(`KSR.http_client.query("${peers.refused}/x", "$var(r)")`),
    expect: { status: 200, headers: { 'X-Code': '7', 'X-R': '', 'X-Err': 'Couldn\'t connect to server' } },
  },
  {
    name: 'a server that never answers: curl\'s 28 after the module\'s timeout',
    ...scripts(`KSR.http_client.query("${H}/never?t=e8", "$var(r)")`),
    config: { modules: { http_client: { timeout_mode: 2, connection_timeout: 300 } } },
    expect: { status: 200, headers: { 'X-Code': '28', 'X-R': '', 'X-Err': 'Timeout was reached' } },
  },
  {
    name: 'limits.wait_ms ends the wait first: -1, dst unchanged',
    ...scripts(`KSR.http_client.query("${H}/never?t=e8b", "$var(r)")`),
    config: { limits: { wait_ms: 200 }, modules: { http_client: { connection_timeout: 5 } } },
    expect: { status: 200, headers: { 'X-Code': '-1', 'X-R': 'unset', 'X-Err': 'Bad CURL error code' }, stats: { 'wait:timeouts': 1, 'http_client:connfail': 0 } },
  },
  {
    name: 'a body larger than query_maxdatasize is cut there',
    ...scripts(`KSR.http_client.query("${H}/huge?t=e9", "$var(r)")`),
    config: { modules: { http_client: { query_maxdatasize: 12, query_result: 0 } } },
    expect: { status: 200, headers: { 'X-Code': '200', 'X-R': 'a'.repeat(12) } },
  },
  {
    name: 'curl_connect_post on a named connection',
    ...scripts('KSR.http_client.curl_connect_post("api", "/echo?t=e10", "text/csv", "x,y", "$var(r)")'),
    config: { modules: { http_client: { httpcon: `api=>${H}` } } },
    expect: {
      status: 200,
      headers: { 'X-Code': '200', 'X-R': 'POST:x,y:-' },
      check: () => { assert.equal(seen('t=e10').headers['content-type'], 'text/csv'); },
    },
  },
  {
    name: 'a dst that is no variable: -1 without sending',
    ...scripts(`KSR.http_client.query("${H}/echo?t=e11", "$nosuch(x)")`),
    expect: { status: 200, headers: { 'X-Code': '-1', 'X-R': 'unset' }, check: () => { assert.equal(peers.find('t=e11').length, 0); } },
  },
];

runBindingCases('KSR.http_client', cases);

describe('KSR.http_client waits without stopping the server', () => {
  for (const engine of ENGINES) {
    test(`[${engine}] a message arriving while a call waits is answered first`, async () => {
      const slow = `KSR.http_client.query("${H}/slow?ms=1200&t=w1", "$var(r)")`;
      const src = engine === 'lua'
        ? `function ksr_request_route()
  if KSR.hdr.is_present("X-Slow") > 0 then
    local code = ${slow}
    KSR.hdr.append_to_reply("X-Code: " .. code .. "\\r\\n")
  end
  KSR.sl.sl_send_reply(200, "OK")
end
`
        : `async function ksr_request_route() {
  if (KSR.hdr.is_present("X-Slow") > 0) {
    const code = await ${slow};
    KSR.hdr.append_to_reply("X-Code: " + code + "\\r\\n");
  }
  KSR.sl.sl_send_reply(200, "OK");
}
`;
      const server = await startServer(engine, src);
      const peer = await UdpPeer.open();
      try {
        const t0 = Date.now();
        peer.request({ method: 'MESSAGE', callId: 'slow@w1', headers: ['X-Slow: 1'] }, server.udpPort);
        peer.request({ method: 'MESSAGE', callId: 'fast@w1' }, server.udpPort);
        const first = await peer.next(3000);
        assert.equal(first?.getHeader('Call-ID'), 'fast@w1', 'the other message was answered while the call waited');
        assert.ok(Date.now() - t0 < 1000, 'answered before the slow answer came');
        const second = await peer.next(5000);
        assert.equal(second?.getHeader('Call-ID'), 'slow@w1');
        assert.equal(second.getHeader('X-Code'), '200');
      } finally {
        peer.close();
        await server.close();
      }
    });
  }

  for (const engine of ENGINES) {
    test(`[${engine}] in an xhttp event route: the HTTP request waits, then gets the answer`, async () => {
      const call = `KSR.http_client.query("${H}/echo?t=x1", "$var(r)")`;
      const src = engine === 'lua'
        ? `function ksr_request_route() KSR.sl.sl_send_reply(404, "Not Here") end
function ksr_xhttp_event(evname)
  local code = ${call}
  KSR.xhttp.xhttp_reply(200, "OK", "text/plain", code .. ":" .. KSR.pv.gete("$var(r)"))
end
`
        : `function ksr_request_route() { KSR.sl.sl_send_reply(404, "Not Here"); }
async function ksr_xhttp_event(evname) {
  const code = await ${call};
  KSR.xhttp.xhttp_reply(200, "OK", "text/plain", code + ":" + KSR.pv.gete("$var(r)"));
}
`;
      const server = await startServer(engine, src, { config: { http: { listen: '127.0.0.1:0' }, modules: { xhttp: { event_callback: 'ksr_xhttp_event' } } } });
      try {
        const res = await fetch(`http://127.0.0.1:${String(server.httpPort)}/lookup`, { signal: AbortSignal.timeout(5000) });
        assert.equal(res.status, 200);
        assert.equal(await res.text(), '200:GET::-');
        assert.equal(seen('t=x1').method, 'GET');
      } finally {
        await server.close();
      }
    });
  }

  if (ENGINES.includes('js')) {
    test('[js] a plain (not async) function cannot wait: -1, nothing sent', async () => {
      const src = `function ksr_request_route() {
  const code = KSR.http_client.query("${H}/echo?t=plain1", "$var(r)");
  KSR.hdr.append_to_reply("X-Code: " + code + "\\r\\n");
  KSR.sl.sl_send_reply(200, "OK");
}
`;
      const server = await startServer('js', src);
      const peer = await UdpPeer.open();
      try {
        peer.request({ method: 'MESSAGE', callId: 'plain@js' }, server.udpPort);
        const reply = await peer.next(3000);
        assert.equal(reply?.getHeader('X-Code'), '-1');
        assert.equal(peers.find('t=plain1').length, 0, 'nothing was sent');
      } finally {
        peer.close();
        await server.close();
      }
    });
  }
});
