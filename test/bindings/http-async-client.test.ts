/**
 * KSR.http_async_client and KSR.async_http against real HTTP(S) servers on 127.0.0.1, both
 * engines: held queries answered from $http_rb, queries that do not hold, send/send_xdata,
 * $http_req settings (and their reset), every fault (refused, never answers, closed mid-body,
 * 500, redirect, huge body, TLS verification, client certificate, Basic and Digest auth),
 * bad arguments, the in-flight cap and the statistics.
 */
import assert from 'node:assert/strict';
import { after } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { runHttpCases, type HttpCase } from '../helpers/http-async-cases.js';
import { until } from '../helpers/until.js';
import { PASS, startHttpPeers, USER } from '../helpers/http-peers.js';

const peers = await startHttpPeers();
after(() => peers.close());
const H = peers.http;
const q = (url: string, route = 'REPORT'): string => `KSR.http_async_client.query("${url}", "${route}")`;

const ranOnce = async (tag: string): Promise<void> => {
  // the marker query REPORT/EVENT sends carries the query id; one route run = one marker
  await sleep(400);
  const runs = peers.seen.filter((s) => s.url.includes('ran=') && s.url.includes(tag));
  assert.equal(runs.length, 1, `the route ran ${String(runs.length)} times`);
};

const cases: HttpCase[] = [
  {
    name: 'query in a transaction: held (0), resumed in the route with status, reason, body, headers, sizes, times',
    pre: ['KSR.pv.sets("$http_req(hdr)", "X-Test: from-sip");'],
    call: q(`${H}/echo?t=get1`),
    expect: {
      status: 200,
      headers: {
        'X-Ok': '1', 'X-Err': '<null>', 'X-Rs': '200', 'X-Rr': 'OK Fine', 'X-Rb': 'GET::from-sip', 'X-Bs': '13',
        'X-Reply': 'yes', 'X-Multi': 'two,two,one, two', 'X-Mb': 'HTTP/1.1 200 OK Fine', 'X-Xdata': '<null>', 'X-Lookup': '0',
        'X-Total': /^[1-9]\d*$/, 'X-Start': /^[1-9]\d*$/, 'X-Var': /^0\/\S+$/,
      },
      stats: { 'http_async_client:requests': 1, 'http_async_client:replies': 1, 'http_async_client:errors': 0, 'http_async_client:timeouts': 0, 'tm:created': 1 },
    },
    after: (p, _s, reply) => {
      const seen = p.find('t=get1');
      assert.equal(seen.length, 1);
      const s = seen[0];
      assert.equal(s?.method, 'GET');
      assert.equal(s.headers['x-test'], 'from-sip');
      assert.equal(s.body, '');
      assert.ok(reply !== null);
      // $http_req_id right after sending is the id the route sees
      assert.equal(reply.getHeader('X-Var'), `0/${reply.getHeader('X-Id') ?? ''}`);
      const ml = Number(reply.getHeader('X-Ml'));
      assert.ok(ml > 13 + 60, `$http_ml ${String(ml)} counts the headers too`);
    },
  },
  {
    name: 'a body makes a POST (curl\'s default Content-Type); method, headers and timeout apply',
    pre: ['KSR.pv.sets("$http_req(body)", "a=1&b=2");', 'KSR.pv.sets("$http_req(hdr)", "X-Test: one");', 'KSR.pv.sets("$http_req(hdr)", "X-Other: two");', 'KSR.pv.seti("$http_req(timeout)", 2000);'],
    call: q(`${H}/echo?t=post1`),
    expect: { status: 200, headers: { 'X-Ok': '1', 'X-Rb': 'POST:a=1&b=2:one' } },
    after: (p) => {
      const s = p.find('t=post1')[0];
      assert.equal(s?.method, 'POST');
      assert.equal(s.headers['content-type'], 'application/x-www-form-urlencoded');
      assert.equal(s.headers['x-other'], 'two');
    },
  },
  {
    name: 'settings apply to one query only: the next query from the same Context has none',
    pre: ['KSR.pv.sets("$http_req(method)", "put");', 'KSR.pv.sets("$http_req(body)", "x");', 'KSR.pv.sets("$http_req(hdr)", "X-Test: first");', `KSR.http_async_client.send("${H}/echo?t=reset1", "NOOP");`],
    call: q(`${H}/echo?t=reset2`),
    expect: { status: 200, headers: { 'X-Rb': 'GET::-' }, stats: { 'http_async_client:requests': 2 } },
    after: async (p) => {
      await until(() => p.find('t=reset1').length === 1);
      const first = p.find('t=reset1')[0];
      assert.equal(first?.method, 'PUT');
      assert.equal(first.body, 'x');
      assert.equal(first.headers['x-test'], 'first');
      const second = p.find('t=reset2')[0];
      assert.equal(second?.method, 'GET');
      assert.equal(second.headers['x-test'], undefined);
    },
  },
  {
    name: '$http_req(all) = $null drops what was set',
    pre: ['KSR.pv.sets("$http_req(hdr)", "X-Test: dropped");', 'KSR.pv.sets("$http_req(method)", "DELETE");', 'KSR.pv.unset("$http_req(all)");'],
    call: q(`${H}/echo?t=all1`),
    expect: { status: 200, headers: { 'X-Rb': 'GET::-' } },
  },
  {
    name: 'bad $http_req values are ignored (logged): the query goes out with what was valid',
    pre: ['KSR.pv.sets("$http_req(method)", "FETCH");', 'KSR.pv.sets("$http_req(hdr)", "no colon here");', 'KSR.pv.sets("$http_req(hdr)", "X-Test: kept");', 'KSR.pv.sets("$http_req(nosuchkey)", "1");', 'KSR.pv.seti("$http_req(timeout)", -5);'],
    call: q(`${H}/echo?t=badset`),
    expect: { status: 200, headers: { 'X-Ok': '1', 'X-Rb': 'GET::kept' }, stats: { 'http_async_client:requests': 1, 'http_async_client:refused': 0 } },
  },
  {
    name: 'without a transaction: 1, the script goes on, the route runs on a Context of its own',
    newtran: false,
    call: q(`${H}/echo?t=notx`, 'EVENT'),
    expect: { status: 200, reason: 'Later', headers: { 'X-Var': /^1\/\S+$/, 'X-Ev': '1|200|GET::-|<null>|<null>' }, stats: { 'http_async_client:replies': 1 } },
  },
  {
    name: '$http_req(suspend) = 0 in a transaction: 1, not held',
    pre: ['KSR.pv.seti("$http_req(suspend)", 0);'],
    call: q(`${H}/echo?t=nosus`, 'EVENT'),
    expect: { status: 200, reason: 'Later', headers: { 'X-Var': /^1\//, 'X-Ev': '1|200|GET::-|<null>|<null>' } },
  },
  {
    name: 'send never holds, even in a transaction',
    call: `KSR.http_async_client.send("${H}/echo?t=send1", "EVENT")`,
    expect: { status: 200, reason: 'Later', headers: { 'X-Var': /^1\//, 'X-Ev': '1|200|GET::-|<null>|<null>' } },
  },
  {
    name: 'send_xdata: the route reads $http_xdata',
    call: `KSR.http_async_client.send_xdata("${H}/echo?t=xd", "EVENT", "call-42")`,
    expect: { status: 200, reason: 'Later', headers: { 'X-Ev': '1|200|GET::-|call-42|<null>' } },
  },
  {
    name: 'connection refused: $http_ok 0, $http_err says so, counted in errors',
    call: q(`${peers.refused}/x`),
    mark: true,
    expect: { status: 200, headers: { 'X-Ok': '0', 'X-Err': /connection refused/, 'X-Rs': '<null>', 'X-Rb': '<null>' }, stats: { 'http_async_client:errors': 1, 'http_async_client:replies': 1 } },
    after: (_p, _s, r) => ranOnce(r?.getHeader('X-Id') ?? '?'),
  },
  {
    name: 'a server that never answers: the timeout fires, the route runs once, counted in timeouts',
    pre: ['KSR.pv.seti("$http_req(timeout)", 200);'],
    call: q(`${H}/never?t=never`),
    mark: true,
    expect: { status: 200, headers: { 'X-Ok': '0', 'X-Err': /^timeout: no complete reply within 200 ms$/ }, stats: { 'http_async_client:timeouts': 1, 'http_async_client:errors': 0 } },
    after: (_p, _s, r) => ranOnce(r?.getHeader('X-Id') ?? '?'),
  },
  {
    name: 'the connection_timeout parameter is the default query timeout',
    config: { modules: { http_async_client: { connection_timeout: 150 } } },
    call: q(`${H}/never?t=never2`),
    expect: { status: 200, headers: { 'X-Ok': '0', 'X-Err': /within 150 ms/ }, stats: { 'http_async_client:timeouts': 1 } },
  },
  {
    name: 'a server that closes mid-body: an error, the route runs once',
    call: q(`${H}/half?t=half`),
    mark: true,
    expect: { status: 200, headers: { 'X-Ok': '0', 'X-Err': /closed|reset/ }, stats: { 'http_async_client:errors': 1 } },
    after: (_p, _s, r) => ranOnce(r?.getHeader('X-Id') ?? '?'),
  },
  {
    name: 'a 500 is a reply: $http_ok 1, $http_rs 500, the reason and body',
    call: q(`${H}/500?t=500`),
    expect: { status: 200, headers: { 'X-Ok': '1', 'X-Rs': '500', 'X-Rr': 'Internal Oops', 'X-Rb': 'boom', 'X-Err': '<null>' }, stats: { 'http_async_client:replies': 1, 'http_async_client:errors': 0 } },
  },
  {
    name: 'a redirect is not followed by default',
    call: q(`${H}/redirect?t=redir1`),
    expect: { status: 200, headers: { 'X-Ok': '1', 'X-Rs': '302', 'X-Rr': 'Found' } },
  },
  {
    name: '$http_req(follow_redirect) = 1 follows it',
    pre: ['KSR.pv.seti("$http_req(follow_redirect)", 1);'],
    call: q(`${H}/redirect?t=redir2`),
    expect: { status: 200, headers: { 'X-Ok': '1', 'X-Rs': '200', 'X-Rb': 'GET::-' } },
    after: (p) => { assert.deepEqual(p.find('t=redir2').map((s) => s.url), ['/redirect?t=redir2', '/echo?t=redir2']); },
  },
  {
    name: 'curl_follow_redirect = 1 follows by default',
    config: { modules: { http_async_client: { curl_follow_redirect: 1 } } },
    call: q(`${H}/redirect?t=redir3`),
    expect: { status: 200, headers: { 'X-Rs': '200' } },
  },
  {
    name: 'a body past max_body_bytes: aborted, $http_err says so, counted in errors',
    config: { modules: { http_async_client: { max_body_bytes: 100_000 } } },
    call: q(`${H}/huge?t=huge`),
    mark: true,
    expect: { status: 200, headers: { 'X-Ok': '0', 'X-Err': 'response body larger than max_body_bytes (100000 bytes)', 'X-Bs': '<null>' }, stats: { 'http_async_client:errors': 1 } },
    after: (_p, _s, r) => ranOnce(r?.getHeader('X-Id') ?? '?'),
  },
  {
    name: 'a self-signed certificate with verification on: a TLS error',
    call: q(`${peers.https}/echo?t=tls1`),
    expect: { status: 200, headers: { 'X-Ok': '0', 'X-Err': /^TLS failure: .*self[- ]signed/ }, stats: { 'http_async_client:errors': 1 } },
    after: (p) => { assert.equal(p.find('t=tls1').length, 0, 'nothing reached the server'); },
  },
  {
    name: 'a self-signed certificate with tls_verify_peer = 0: ok',
    config: { modules: { http_async_client: { tls_verify_peer: 0 } } },
    call: q(`${peers.https}/echo?t=tls2`),
    expect: { status: 200, headers: { 'X-Ok': '1', 'X-Rs': '200', 'X-Rb': 'GET::-' } },
  },
  {
    name: 'a CA given in tls_ca_path: verified, ok',
    config: { modules: { http_async_client: { tls_ca_path: peers.tls.cert } } },
    call: q(`${peers.https}/echo?t=tls3`),
    expect: { status: 200, headers: { 'X-Ok': '1', 'X-Rs': '200' } },
  },
  {
    name: 'a trusted certificate for another name: refused while tls_verify_host is on',
    config: { modules: { http_async_client: { tls_ca_path: peers.tls.otherCert } } },
    call: q(`${peers.wrongName}/echo?t=name1`),
    expect: { status: 200, headers: { 'X-Ok': '0', 'X-Err': /^TLS failure: .*(does not match|not in the cert)/i }, stats: { 'http_async_client:errors': 1 } },
    after: (p) => { assert.equal(p.find('t=name1').length, 0); },
  },
  {
    name: 'a trusted certificate for another name: ok with tls_verify_host = 0',
    config: { modules: { http_async_client: { tls_ca_path: peers.tls.otherCert, tls_verify_host: 0 } } },
    call: q(`${peers.wrongName}/echo?t=name2`),
    expect: { status: 200, headers: { 'X-Ok': '1', 'X-Rs': '200' } },
  },
  {
    name: 'HTTP/2 asked: negotiated by ALPN, the HTTP/1.1 server still answers',
    config: { modules: { http_async_client: { tls_ca_path: peers.tls.dir } } },
    pre: ['KSR.pv.seti("$http_req(http_version)", 3);'],
    call: q(`${peers.https}/echo?t=h2`),
    expect: { status: 200, headers: { 'X-Ok': '1', 'X-Rs': '200' } },
  },
  {
    name: 'HTTP/2 asked, to an HTTP/2-only server: the reply comes over HTTP/2',
    config: { modules: { http_async_client: { tls_ca_path: peers.tls.cert } } },
    pre: ['KSR.pv.sets("$http_req(http_version)", "2");'],
    call: q(`${peers.h2}/x?t=h2only`),
    expect: { status: 200, headers: { 'X-Ok': '1', 'X-Rs': '200', 'X-Rb': 'h2:GET', 'X-Mb': 'HTTP/2 200' } },
    after: (p) => { assert.equal(p.find('t=h2only')[0]?.server, 'h2'); },
  },
  {
    name: 'a server that requires a client certificate: refused without one',
    config: { modules: { http_async_client: { tls_ca_path: peers.tls.cert } } },
    call: q(`${peers.mtls}/echo?t=mtls1`),
    expect: { status: 200, headers: { 'X-Ok': '0', 'X-Err': /\S/ }, stats: { 'http_async_client:errors': 1 } },
    after: (p) => { assert.equal(p.find('t=mtls1').length, 0); },
  },
  {
    name: 'a server that requires a client certificate: ok with $http_req(tls_client_cert/key)',
    config: { modules: { http_async_client: { tls_ca_path: peers.tls.cert } } },
    pre: [`KSR.pv.sets("$http_req(tls_client_cert)", "${peers.tls.clientCert}");`, `KSR.pv.sets("$http_req(tls_client_key)", "${peers.tls.clientKey}");`],
    call: q(`${peers.mtls}/echo?t=mtls2`),
    expect: { status: 200, headers: { 'X-Ok': '1', 'X-Rs': '200' } },
  },
  {
    name: 'an unreadable TLS file: the query fails with the file named, counted in errors',
    pre: ['KSR.pv.sets("$http_req(tls_client_cert)", "/nonexistent/client.pem");'],
    call: q(`${peers.https}/echo?t=nofile`),
    mark: true,
    expect: { status: 200, headers: { 'X-Ok': '0', 'X-Err': /^cannot set up the connection: .*\/nonexistent\/client\.pem/ }, stats: { 'http_async_client:errors': 1 } },
    after: (_p, _s, r) => ranOnce(r?.getHeader('X-Id') ?? '?'),
  },
  {
    name: 'Basic authentication with authmethod 1: sent at once',
    pre: ['KSR.pv.seti("$http_req(authmethod)", 1);', `KSR.pv.sets("$http_req(username)", "${USER}");`, `KSR.pv.sets("$http_req(password)", "${PASS}");`],
    call: q(`${H}/basic?t=basic1`),
    expect: { status: 200, headers: { 'X-Rs': '200', 'X-Rb': 'basic-ok' } },
    after: (p) => { assert.equal(p.find('t=basic1').length, 1); },
  },
  {
    name: 'Basic authentication by the server\'s challenge (authmethod 3, the default)',
    pre: [`KSR.pv.sets("$http_req(username)", "${USER}");`, `KSR.pv.sets("$http_req(password)", "${PASS}");`],
    call: q(`${H}/basic?t=basic2`),
    expect: { status: 200, headers: { 'X-Rs': '200', 'X-Rb': 'basic-ok' } },
    after: (p) => { assert.equal(p.find('t=basic2').length, 2, 'one 401, one retry'); },
  },
  {
    name: 'Digest authentication (MD5, qop=auth)',
    pre: [`KSR.pv.sets("$http_req(username)", "${USER}");`, `KSR.pv.sets("$http_req(password)", "${PASS}");`],
    call: q(`${H}/digest?t=dig1`),
    expect: { status: 200, headers: { 'X-Rs': '200', 'X-Rb': 'digest-ok' } },
  },
  {
    name: 'Digest authentication (SHA-256) with a POST body',
    pre: ['KSR.pv.seti("$http_req(authmethod)", 2);', `KSR.pv.sets("$http_req(username)", "${USER}");`, `KSR.pv.sets("$http_req(password)", "${PASS}");`, 'KSR.pv.sets("$http_req(body)", "b=1");'],
    call: q(`${H}/digest256?t=dig2`),
    expect: { status: 200, headers: { 'X-Rs': '200', 'X-Rb': 'digest-ok' } },
    after: (p) => { assert.deepEqual(p.find('t=dig2').map((s) => `${s.method}:${s.body}`), ['POST:b=1', 'POST:b=1']); },
  },
  {
    name: 'a wrong password: one retry, then the 401 is the reply',
    pre: [`KSR.pv.sets("$http_req(username)", "${USER}");`, 'KSR.pv.sets("$http_req(password)", "wrong");'],
    call: q(`${H}/digest?t=dig3`),
    expect: { status: 200, headers: { 'X-Ok': '1', 'X-Rs': '401' } },
    after: (p) => { assert.equal(p.find('t=dig3').length, 2); },
  },
  {
    name: 'bad arguments: -1, nothing sent, counted in refused',
    pre: [`KSR.pv.seti("$var(a)", ${q('not a url')});`, `KSR.pv.seti("$var(b)", ${q('ftp://127.0.0.1/x')});`],
    call: q(`${H}/echo?t=bad`, 'NO_SUCH_FUNCTION'),
    expect: { status: 200, reason: 'Later', headers: { 'X-Var': /^-1\/<null>$/ }, stats: { 'http_async_client:refused': 3, 'http_async_client:requests': 0, 'tm:suspended': 0 } },
    after: (p) => { assert.equal(p.find('t=bad').length, 0); },
  },
  {
    name: 'past max_in_flight: -1',
    config: { modules: { http_async_client: { max_in_flight: 1 } } },
    pre: [`KSR.http_async_client.send("${H}/slow?ms=300&t=cap1", "NOOP");`],
    call: q(`${H}/echo?t=cap2`),
    expect: { status: 200, reason: 'Later', headers: { 'X-Var': /^-1\// }, stats: { 'http_async_client:refused': 1, 'http_async_client:requests': 1 } },
    after: (p) => { assert.equal(p.find('t=cap2').length, 0); },
  },
  {
    name: 'async_http.http_async_get: results in $avp(http_rc), $avp(http_rb); no $avp(http_error)',
    call: `KSR.async_http.http_async_get("${H}/echo?t=ag", "AVP")`,
    expect: { status: 200, headers: { 'X-http_rc': '200', 'X-http_rb': 'GET::-', 'X-http_error': '<null>', 'X-Ok': '1' }, stats: { 'async_http:requests': 1, 'async_http:replies': 1, 'http_async_client:requests': 0 } },
  },
  {
    name: 'async_http.http_async_post: the data is the body',
    call: `KSR.async_http.http_async_post("${H}/echo?t=ap", "k=v", "AVP")`,
    expect: { status: 200, headers: { 'X-http_rc': '200', 'X-http_rb': 'POST:k=v:-' } },
    after: (p) => { assert.equal(p.find('t=ap')[0]?.method, 'POST'); },
  },
  {
    name: 'async_http: a failure sets $avp(http_error) and http_rc 0; http_timeout is its timeout',
    config: { modules: { async_http: { http_timeout: 100 } } },
    call: `KSR.async_http.http_async_get("${H}/never?t=agt", "AVP")`,
    expect: { status: 200, headers: { 'X-http_rc': '0', 'X-http_error': /within 100 ms/, 'X-Ok': '0' }, stats: { 'async_http:timeouts': 1 } },
  },
];

runHttpCases('KSR.http_async_client', () => peers, cases);
