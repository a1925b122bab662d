/**
 * http_client under Kamailio (the call blocks its worker) and kemihost (the call waits in
 * place): one HTTP server on 127.0.0.1 for both; the route calls KSR.http_client by the R-URI
 * user and answers with the return code, the result variable and $curlerror in X- headers.
 * Each flow also checks what the HTTP server received, so both servers must send the same
 * request. Lua only: app_jsdt (Duktape, ES5.1) has no async functions, which kemihost's JS
 * needs to wait (docs/http_client.md).
 */
import assert from 'node:assert/strict';
import { after } from 'node:test';
import { PASS, startHttpPeers, USER } from '../helpers/http-peers.js';
import { isReply, type Peer } from './harness/peer.js';
import { compatSuite } from './harness/suite.js';
import { STANDARD_MASKS, type View } from './harness/view.js';

const peers = await startHttpPeers();
after(() => peers.close());
const H = peers.http;

const CALLS: Readonly<Record<string, string>> = {
  get: `KSR.http_client.query("${H}/echo?t=c-get", "$var(r)")`,
  post: `KSR.http_client.query_post("${H}/echo?t=c-post", "a=1&b=2", "$var(r)")`,
  emptypost: `KSR.http_client.query_post("${H}/echo?t=c-ep", "", "$var(r)")`,
  hdrs: `KSR.http_client.query_post_hdrs("${H}/echo?t=c-hdrs", "{}", "Content-Type: application/json", "$var(r)")`,
  gethdrs: `KSR.http_client.get_hdrs("${H}/echo?t=c-gh", "q=1", "X-Test: g", "$var(r)")`,
  notfound: `KSR.http_client.query("${H}/nothing?t=c-404", "$var(r)")`,
  basic: `KSR.http_client.query("${H}/basic?t=c-401", "$var(r)")`,
  err500: `KSR.http_client.query("${H}/500?t=c-500", "$var(r)")`,
  refused: `KSR.http_client.query("${peers.refused}/x", "$var(r)")`,
  never: `KSR.http_client.query("${H}/never?t=c-never", "$var(r)")`,
  big: `KSR.http_client.curl_connect("api", "/huge?t=c-big", "$var(r)")`,
  con: `KSR.http_client.curl_connect("api", "echo?t=c-con", "$var(r)")`,
  conpost: `KSR.http_client.curl_connect_post("api", "/echo?t=c-cp", "text/csv", "x,y", "$var(r)")`,
  ftp: `KSR.http_client.query("ftp://127.0.0.1/x", "$var(r)")`,
  failover: `KSR.http_client.curl_connect("down", "/echo?t=c-fo", "$var(r)")`,
  failover5xx: `KSR.http_client.curl_connect("err", "", "$var(r)")`,
  twofail: `KSR.http_client.curl_connect("err2", "", "$var(r)")`,
  small: `KSR.http_client.curl_connect("small", "/echo?t=c-small", "$var(r)")`,
  creds: `KSR.http_client.curl_connect("creds", "/basic?t=c-creds", "$var(r)")`,
  redirect: `KSR.http_client.query("${H}/redirect?t=c-rd", "$var(r)")`,
  badhdrs: `KSR.http_client.query_post_hdrs("${H}/echo?t=c-bh", "x", "no colon here", "$var(r)")`,
  noctype: `KSR.http_client.curl_connect_post("api", "/echo?t=c-nct", "", "x,y", "$var(r)")`,
  follow: `KSR.http_client.curl_connect("follow", "/redirect?t=c-fl", "$var(r)")`,
  nopv: `KSR.http_client.query("${H}/echo?t=c-nopv", "$ci")`,
  nocon: `KSR.http_client.curl_connect("nosuch", "/", "$var(r)")`,
};

const LUA = `
function ksr_request_route()
  local u = KSR.pv.get("$rU")
  KSR.pv.sets("$var(r)", "unset")
  local code = -100
${Object.entries(CALLS).map(([user, call]) => `  if u == "${user}" then code = ${call} end`).join('\n')}
  KSR.hdr.append_to_reply("X-Code: " .. code .. "\\r\\n")
  KSR.hdr.append_to_reply("X-R: " .. KSR.pv.gete("$var(r)") .. "\\r\\n")
  KSR.hdr.append_to_reply("X-Err: " .. KSR.pv.gete("$curlerror(" .. code .. ")") .. "\\r\\n")
  KSR.sl.sl_send_reply(200, "OK")
end
`;

const REPLY: View = { headers: ['x-code', 'x-r', 'x-err'], masks: STANDARD_MASKS };

/** What the HTTP server must have received for `tag` in this run (the last such request). */
interface SeenExpect {
  method: string;
  body?: string;
  headers?: Record<string, string | undefined>;
}

function ask(user: string, tag: string | null, want: SeenExpect | null, timeoutMs = 4000) {
  return async ({ peers: { uac } }: { peers: Readonly<Record<'uac', Peer>> }): Promise<void> => {
    const before = tag === null ? 0 : peers.find(tag).length;
    uac.request({ method: 'MESSAGE', ruri: `sip:${user}@127.0.0.1` });
    await uac.waitFor(isReply(200), '200', timeoutMs);
    if (tag === null) return;
    const got = peers.find(tag);
    if (want === null) {
      assert.equal(got.length, before, 'nothing was sent');
      return;
    }
    const s = got.at(-1);
    assert.ok(s !== undefined && got.length > before, `the HTTP server got the request ${tag}`);
    assert.equal(s.method, want.method);
    if (want.body !== undefined) assert.equal(s.body, want.body);
    for (const [k, v] of Object.entries(want.headers ?? {})) assert.equal(s.headers[k], v, `HTTP header ${k}`);
  };
}

const FORM = 'application/x-www-form-urlencoded';

compatSuite({
  title: 'http_client: answers in place',
  peers: ['uac'],
  modules: {
    sl: {},
    http_client: {
      connection_timeout: 1,
      maxdatasize: 9,
      httpcon: [
        `api=>${H}`,
        `up=>${H}`,
        `down=>${peers.refused};failover=up`,
        `echo=>${H}/echo?t=c-fo5`,
        `err=>${H}/500?t=c-e5;failover=echo`,
        `err2=>${H}/500?t=c-e52;failover=down`,
        `small=>${H};maxdatasize=3`,
        `creds=>http://${USER}:${PASS}@${H.slice('http://'.length)}`,
        `follow=>${H};httpredirect=1`,
      ],
    },
  },
  script: () => ({ lua: LUA }),
  jsUnsupported: 'app_jsdt (Duktape, ECMAScript 5.1) has no async functions; kemihost\'s JS awaits the call (docs/http_client.md)',
  cases: [
    { name: 'query: GET, the first line', flow: ask('get', 't=c-get', { method: 'GET', body: '', headers: { accept: '*/*', 'content-type': undefined } }), compare: { uac: REPLY } },
    { name: 'query_post: POST, curl\'s form type', flow: ask('post', 't=c-post', { method: 'POST', body: 'a=1&b=2', headers: { 'content-type': FORM } }), compare: { uac: REPLY } },
    { name: 'query_post with "" is a GET', flow: ask('emptypost', 't=c-ep', { method: 'GET', body: '' }), compare: { uac: REPLY } },
    { name: 'query_post_hdrs: the caller\'s Content-Type', flow: ask('hdrs', 't=c-hdrs', { method: 'POST', body: '{}', headers: { 'content-type': 'application/json' } }), compare: { uac: REPLY } },
    { name: 'get_hdrs: GET with a body and a header', flow: ask('gethdrs', 't=c-gh', { method: 'GET', body: 'q=1', headers: { 'x-test': 'g', 'content-type': FORM } }), compare: { uac: REPLY } },
    { name: 'a 404', flow: ask('notfound', 't=c-404', { method: 'GET' }), compare: { uac: REPLY } },
    { name: 'a 401 keeps its body', flow: ask('basic', 't=c-401', { method: 'GET' }), compare: { uac: REPLY } },
    { name: 'a 500 empties the result', flow: ask('err500', 't=c-500', { method: 'GET' }), compare: { uac: REPLY } },
    { name: 'a refused connection: curl\'s code and text', flow: ask('refused', null, null), compare: { uac: REPLY } },
    { name: 'no answer within connection_timeout', flow: ask('never', 't=c-never', { method: 'GET' }, 6000), compare: { uac: REPLY } },
    { name: 'curl_connect: a body past maxdatasize is cut', flow: ask('big', 't=c-big', { method: 'GET' }), compare: { uac: REPLY } },
    { name: 'curl_connect: the base URL and the path joined', flow: ask('con', 't=c-con', { method: 'GET' }), compare: { uac: REPLY } },
    { name: 'curl_connect_post: the call\'s Content-Type', flow: ask('conpost', 't=c-cp', { method: 'POST', body: 'x,y', headers: { 'content-type': 'text/csv' } }), compare: { uac: REPLY } },
    { name: 'failover after a refused connection', flow: ask('failover', 't=c-fo', { method: 'GET' }), compare: { uac: REPLY } },
    { name: 'failover after a 5xx', flow: ask('failover5xx', 't=c-fo5', { method: 'GET' }), compare: { uac: REPLY } },
    { name: 'one failover only', flow: ask('twofail', 't=c-e52', { method: 'GET' }), compare: { uac: REPLY } },
    { name: 'a connection\'s own maxdatasize', flow: ask('small', 't=c-small', { method: 'GET' }), compare: { uac: REPLY } },
    { name: 'a connection\'s credentials answer a Basic challenge', flow: ask('creds', 't=c-creds', { method: 'GET', headers: { authorization: `Basic ${Buffer.from(`${USER}:${PASS}`).toString('base64')}` } }), compare: { uac: REPLY } },
    { name: 'a redirect is not followed by default', flow: ask('redirect', 't=c-rd', { method: 'GET' }), compare: { uac: REPLY } },
    { name: 'a connection with httpredirect=1 follows it', flow: ask('follow', 't=c-fl', { method: 'GET' }), compare: { uac: REPLY } },
    {
      name: 'hdrs that are not header lines',
      flow: ask('badhdrs', null, null),
      compare: { uac: REPLY },
      differs: {
        doc: 'http_client: `hdrs` that is not `Name: value` lines',
        expect: (kam) => {
          assert.notEqual(kam.uac?.[0]?.[1], 'x-code: -1', 'Kamailio sends the request');
          return { uac: [['200 OK', 'x-code: -1', 'x-r: unset', 'x-err: Bad CURL error code']] };
        },
      },
    },
    {
      name: 'curl_connect_post with an empty ctype',
      flow: ask('noctype', 't=c-nct', { method: 'POST', body: 'x,y', headers: { 'content-type': undefined } }),
      compare: { uac: REPLY },
    },
    { name: 'not an http URL', flow: ask('ftp', null, null), compare: { uac: REPLY } },
    { name: 'a dst that is not writable', flow: ask('nopv', 't=c-nopv', null), compare: { uac: REPLY } },
    { name: 'an unknown connection', flow: ask('nocon', null, null), compare: { uac: REPLY } },
  ],
});
