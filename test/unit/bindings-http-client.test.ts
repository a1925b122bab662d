/**
 * KSR.http_client through the registry, as an engine calls it: a call returns a Wait (or its
 * answer at once for what is refused before sending); the test starts the Wait as the host
 * would and checks the code, the result variable and what the HTTP server received. The
 * engines' suspension is tested end to end in test/bindings/http-client.test.ts.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import httpClient from '../../bindings/http-client/index.js';
import { parseHttpcon, parseConnections, connectionUrl } from '../../bindings/http-client/connections.js';
import pvModule from '../../bindings/pv.js';
import type { Context } from '../../host/kemi/context.js';
import type { KemiRegistry } from '../../host/kemi/registry.js';
import { Wait } from '../../host/kemi/wait.js';
import { call, ctxOf, invite, recordingLog, registryWith } from '../helpers/binding-harness.js';
import { startHttpPeers, USER, PASS, type HttpPeers } from '../helpers/http-peers.js';

let peers: HttpPeers;
const registries: KemiRegistry[] = [];

before(async () => {
  peers = await startHttpPeers();
});
after(async () => {
  for (const r of registries) await r.close();
  await peers.close();
});

function reg(params: Record<string, unknown> = {}, log = recordingLog().log): KemiRegistry {
  const r = registryWith(httpClient, params, { with: [pvModule], log });
  registries.push(r);
  return r;
}

/** Call KSR.http_client.<name>; when it waits, run the wait as the host does (bounded). */
async function hc(r: KemiRegistry, ctx: Context, name: string, ...args: unknown[]): Promise<{ code: unknown; waited: boolean }> {
  const v = call(r, `KSR.http_client.${name}`, ctx, ...args);
  if (!(v instanceof Wait)) return { code: v, waited: false };
  assert.equal(v.failure, -1);
  assert.equal(v.what, `KSR.http_client.${name}`);
  const code: unknown = await (v as Wait).start(AbortSignal.timeout(10_000));
  return { code, waited: true };
}

function get(r: KemiRegistry, ctx: Context, spec: string): unknown {
  return r.pvs.resolve(spec)?.get(ctx);
}

/** The request the server saw last with `tag` in its URL. */
function seen(tag: string): NonNullable<HttpPeers['seen'][number]> {
  const s = peers.find(tag).at(-1);
  assert.ok(s, `the server saw a request with ${tag}`);
  return s;
}

describe('KSR.http_client', () => {
  it('query: GET, the first line of the body, the HTTP status, curl\'s default headers', async () => {
    const r = reg();
    const ctx = ctxOf(invite());
    const res = await hc(r, ctx, 'query', `${peers.http}/echo?t=q1`, '$var(r)');
    assert.deepEqual(res, { code: 200, waited: true });
    assert.equal(get(r, ctx, '$var(r)'), 'GET::-');
    const s = seen('t=q1');
    assert.equal(s.method, 'GET');
    assert.equal(s.headers.accept, '*/*');
    assert.match(String(s.headers['user-agent']), /^kemihost \(/);
  });

  it('query_post: POST with curl\'s form Content-Type; query_result 1 keeps the first line, 0 the whole body', async () => {
    const ctx = ctxOf(invite());
    const r1 = reg();
    assert.equal((await hc(r1, ctx, 'query_post', `${peers.http}/echo?t=p1`, 'a=1\nsecond', '$var(r)')).code, 200);
    assert.equal(get(r1, ctx, '$var(r)'), 'POST:a=1');
    const s = seen('t=p1');
    assert.equal(s.method, 'POST');
    assert.equal(s.body, 'a=1\nsecond');
    assert.equal(s.headers['content-type'], 'application/x-www-form-urlencoded');
    const r0 = reg({ query_result: 0 });
    assert.equal((await hc(r0, ctx, 'query_post', `${peers.http}/echo?t=p2`, 'a=1\nsecond', '$var(r)')).code, 200);
    assert.equal(get(r0, ctx, '$var(r)'), 'POST:a=1\nsecond:-');
  });

  it('query_post with "" sends a GET (Kamailio: no post data)', async () => {
    const r = reg();
    const ctx = ctxOf(invite());
    assert.equal((await hc(r, ctx, 'query_post', `${peers.http}/echo?t=p3`, '', '$var(r)')).code, 200);
    assert.equal(seen('t=p3').method, 'GET');
  });

  it('query_post_hdrs: the caller\'s header lines, its Content-Type winning', async () => {
    const r = reg();
    const ctx = ctxOf(invite());
    const res = await hc(r, ctx, 'query_post_hdrs', `${peers.http}/echo?t=h1`, '{"a":1}', 'Content-Type: application/json\r\nX-Test: abc', '$var(r)');
    assert.equal(res.code, 200);
    assert.equal(get(r, ctx, '$var(r)'), 'POST:{"a":1}:abc');
    const s = seen('t=h1');
    assert.equal(s.headers['content-type'], 'application/json');
    assert.equal(s.headers['x-test'], 'abc');
  });

  it('get_hdrs: a GET, with a body and header lines', async () => {
    const r = reg();
    const ctx = ctxOf(invite());
    assert.equal((await hc(r, ctx, 'get_hdrs', `${peers.http}/echo?t=g1`, 'q=1', 'X-Test: tok', '$var(r)')).code, 200);
    const s = seen('t=g1');
    assert.equal(s.method, 'GET');
    assert.equal(s.body, 'q=1');
    assert.equal(get(r, ctx, '$var(r)'), 'GET:q=1:tok');
    assert.equal((await hc(r, ctx, 'get_hdrs', `${peers.http}/echo?t=g2`, '', '', '$var(r)')).code, 200);
    assert.equal(seen('t=g2').body, '');
  });

  it('a 404 returns 404 with its body; a 500 returns 500 and an empty result (Kamailio keeps 2xx-4xx bodies)', async () => {
    const r = reg();
    const ctx = ctxOf(invite());
    assert.equal((await hc(r, ctx, 'query', `${peers.http}/nothing-here`, '$var(r)')).code, 404);
    assert.equal(get(r, ctx, '$var(r)'), '');
    assert.equal((await hc(r, ctx, 'query', `${peers.http}/500`, '$var(r)')).code, 500);
    assert.equal(get(r, ctx, '$var(r)'), '');
    assert.equal((await hc(r, ctx, 'query', `${peers.http}/basic`, '$var(r)')).code, 401);
    assert.equal(get(r, ctx, '$var(r)'), 'who?');
  });

  it('a refused connection returns curl\'s 7, an empty result, and $curlerror(7) says why', async () => {
    const { log, records } = recordingLog();
    const r = reg({}, log);
    const ctx = ctxOf(invite());
    r.pvs.resolve('$var(r)')?.set?.(ctx, 'old');
    assert.equal((await hc(r, ctx, 'query', `${peers.refused}/x`, '$var(r)')).code, 7);
    assert.equal(get(r, ctx, '$var(r)'), '');
    assert.equal(get(r, ctx, '$curlerror(7)'), 'Couldn\'t connect to server');
    assert.ok(records.some((x) => String(x.msg).includes('connection refused')), 'the reason is logged');
  });

  it('a server that never answers: curl\'s 28 after connection_timeout, and the server serves on', async () => {
    const r = reg({ timeout_mode: 2, connection_timeout: 300 });
    const ctx = ctxOf(invite());
    const t0 = Date.now();
    assert.equal((await hc(r, ctx, 'query', `${peers.http}/never?t=n1`, '$var(r)')).code, 28);
    assert.ok(Date.now() - t0 >= 250, 'waited for the timeout');
    assert.equal(get(r, ctx, '$curlerror(28)'), 'Timeout was reached');
    assert.equal((await hc(r, ctx, 'query', `${peers.http}/echo?t=n2`, '$var(r)')).code, 200);
  });

  it('connection_timeout is in seconds by default', async () => {
    const r = reg({ connection_timeout: 1 });
    const t0 = Date.now();
    assert.equal((await hc(r, ctxOf(invite()), 'query', `${peers.http}/slow?ms=1500&t=s1`, '$var(r)')).code, 28);
    assert.ok(Date.now() - t0 >= 900);
  });

  it('a body larger than query_maxdatasize / maxdatasize is cut there, the call still 200', async () => {
    const r = reg({ query_maxdatasize: 10, query_result: 0, maxdatasize: 7, httpcon: `big=>${peers.http}` });
    const ctx = ctxOf(invite());
    assert.equal((await hc(r, ctx, 'query', `${peers.http}/huge`, '$var(r)')).code, 200);
    assert.equal(get(r, ctx, '$var(r)'), 'a'.repeat(10));
    assert.equal((await hc(r, ctx, 'curl_connect', 'big', '/huge', '$var(r)')).code, 200);
    assert.equal(get(r, ctx, '$var(r)'), 'a'.repeat(7));
  });

  it('max_body_bytes bounds a result even without maxdatasize, and says so', async () => {
    const { log, records } = recordingLog();
    const r = reg({ query_result: 0, max_body_bytes: 1000 }, log);
    const ctx = ctxOf(invite());
    assert.equal((await hc(r, ctx, 'query', `${peers.http}/huge`, '$var(r)')).code, 200);
    assert.equal(String(get(r, ctx, '$var(r)')).length, 1000);
    assert.ok(records.some((x) => String(x.msg).includes('max_body_bytes')));
  });

  it('curl_connect / curl_connect_post: the connection\'s URL with the path appended, its Content-Type', async () => {
    const r = reg({ httpcon: [`api=>${peers.http}/echo`, `root=>${peers.http}`] });
    const ctx = ctxOf(invite());
    assert.equal((await hc(r, ctx, 'curl_connect', 'root', 'echo?t=c1', '$var(r)')).code, 200);
    assert.equal(seen('t=c1').url, '/echo?t=c1');
    assert.equal(get(r, ctx, '$var(r)'), 'GET::-');
    assert.equal((await hc(r, ctx, 'curl_connect_post', 'root', '/echo?t=c2', 'application/json', '{"x":1}\n2', '$var(r)')).code, 200);
    const s = seen('t=c2');
    assert.equal(s.method, 'POST');
    assert.equal(s.headers['content-type'], 'application/json');
    assert.equal(get(r, ctx, '$var(r)'), 'POST:{"x":1}\n2:-', 'curl_connect keeps the whole body');
    assert.equal((await hc(r, ctx, 'curl_connect', 'api', '', '$var(r)')).code, 200);
    assert.equal((await hc(r, ctx, 'curl_connect_post', 'root', '/echo?t=c3', '', 'x', '$var(r)')).code, 200);
    assert.equal(seen('t=c3').headers['content-type'], undefined, 'an empty ctype: no Content-Type, as curl');
  });

  it('a failover connection is tried once after a refused connection or a 5xx', async () => {
    const r = reg({ httpcon: [`down=>${peers.refused};failover=up`, `up=>${peers.http}`, `err=>${peers.http}/500;failover=echo`, `echo=>${peers.http}/echo;failover=down`] });
    const ctx = ctxOf(invite());
    assert.equal((await hc(r, ctx, 'curl_connect', 'down', '/echo?t=f1', '$var(r)')).code, 200);
    assert.equal(seen('t=f1').url, '/echo?t=f1');
    assert.equal((await hc(r, ctx, 'curl_connect', 'err', '', '$var(r)')).code, 200);
    assert.equal(get(r, ctx, '$var(r)'), 'GET::-');
    // only one failover: b fails too, and its own failover c is not tried (Kamailio: two attempts)
    const r2 = reg({ httpcon: [`a=>${peers.http}/500;failover=b`, `b=>${peers.refused};failover=c`, `c=>${peers.http}/echo`] });
    assert.equal((await hc(r2, ctx, 'curl_connect', 'a', '', '$var(r)')).code, 7);
  });

  it('credentials of a connection answer a Basic challenge', async () => {
    const r = reg({ httpcon: `auth=>http://${USER}:${PASS}@${peers.http.slice(7)}` });
    const ctx = ctxOf(invite());
    assert.equal((await hc(r, ctx, 'curl_connect', 'auth', '/basic', '$var(r)')).code, 200);
    assert.equal(get(r, ctx, '$var(r)'), 'basic-ok');
  });

  it('HTTPS: cacert and verify_peer / verify_host; a certificate failure is curl\'s 60', async () => {
    const ctx = ctxOf(invite());
    const trusted = reg({ cacert: peers.tls.cert });
    assert.equal((await hc(trusted, ctx, 'query', `${peers.https}/echo?t=s1`, '$var(r)')).code, 200);
    assert.equal(get(trusted, ctx, '$var(r)'), 'GET::-');
    assert.equal((await hc(trusted, ctx, 'query', `${peers.wrongName}/echo?t=s2`, '$var(r)')).code, 60, 'the name does not match');
    assert.equal((await hc(reg(), ctx, 'query', `${peers.https}/echo?t=s3`, '$var(r)')).code, 60, 'not signed by a trusted CA');
    assert.equal(get(trusted, ctx, '$curlerror(60)'), 'SSL peer certificate or SSH remote key was not OK');
    assert.equal((await hc(reg({ verify_peer: 0, verify_host: 0 }), ctx, 'query', `${peers.wrongName}/echo?t=s4`, '$var(r)')).code, 200);
    const mtls = reg({ cacert: peers.tls.cert, client_cert: peers.tls.clientCert, client_key: peers.tls.clientKey });
    assert.equal((await hc(mtls, ctx, 'query', `${peers.mtls}/echo?t=s5`, '$var(r)')).code, 200, 'with the client certificate');
  });

  it('refused before sending, without waiting: a bad dst or hdrs (-1), an unknown connection (-1), a malformed URL (3), not http (1)', async () => {
    const r = reg();
    const ctx = ctxOf(invite());
    assert.deepEqual(await hc(r, ctx, 'query', `${peers.http}/echo`, '$nosuch(x)'), { code: -1, waited: false });
    assert.deepEqual(await hc(r, ctx, 'query', `${peers.http}/echo`, '$ci'), { code: -1, waited: false });
    assert.deepEqual(await hc(r, ctx, 'query_post_hdrs', `${peers.http}/echo`, '', 'no colon here', '$var(r)'), { code: -1, waited: false });
    r.pvs.resolve('$var(r)')?.set?.(ctx, 'kept');
    assert.deepEqual(await hc(r, ctx, 'query_post_hdrs', `${peers.http}/echo`, '', 'no colon here', '$var(r)'), { code: -1, waited: false });
    assert.equal(get(r, ctx, '$var(r)'), 'kept');
    assert.deepEqual(await hc(r, ctx, 'curl_connect', 'nosuch', '/', '$var(r)'), { code: -1, waited: false });
    assert.equal(get(r, ctx, '$var(r)'), '', 'Kamailio empties dst for an unknown connection');
    assert.deepEqual(await hc(r, ctx, 'query', 'not a url', '$var(r)'), { code: 3, waited: false });
    assert.deepEqual(await hc(r, ctx, 'query', 'ftp://127.0.0.1/x', '$var(r)'), { code: 1, waited: false });
  });

  it('an aborted wait (the host\'s timeout, shutdown) stops the request and touches nothing', async () => {
    const r = reg();
    const ctx = ctxOf(invite());
    r.pvs.resolve('$var(r)')?.set?.(ctx, 'kept');
    const w = call(r, 'KSR.http_client.query', ctx, `${peers.http}/never?t=a1`, '$var(r)');
    assert.ok(w instanceof Wait);
    const ac = new AbortController();
    const p = w.start(ac.signal);
    setTimeout(() => { ac.abort(); }, 100);
    assert.equal(await p, -1);
    assert.equal(get(r, ctx, '$var(r)'), 'kept');
  });

  it('$curlerror: curl\'s texts, Kamailio\'s words for other numbers', () => {
    const r = reg();
    const ctx = ctxOf(invite());
    assert.equal(get(r, ctx, '$curlerror(0)'), 'No error');
    assert.equal(get(r, ctx, '$curlerror(6)'), 'Couldn\'t resolve host name');
    assert.equal(get(r, ctx, '$curlerror(404)'), 'HTTP result code');
    assert.equal(get(r, ctx, '$curlerror(-1)'), 'Bad CURL error code');
    assert.equal(get(r, ctx, '$curlerror(20)'), 'Unknown error');
  });

  it('counts connok (200) and connfail, and lists the connections over RPC', async () => {
    const r = reg({ httpcon: `api=>${peers.http}` });
    const ctx = ctxOf(invite());
    await hc(r, ctx, 'query', `${peers.http}/echo`, '$var(r)');
    await hc(r, ctx, 'query', `${peers.http}/500`, '$var(r)');
    const stats = r.stats.snapshot();
    assert.equal(stats['http_client:connok'], 1);
    assert.equal(stats['http_client:connfail'], 1);
    assert.equal(stats['http_client:connections'], 1);
  });
});

describe('httpcon', () => {
  const d = { timeoutMs: 4000, maxDataSize: 0, followRedirect: false, userAgent: 'ua', verifyPeer: true, verifyHost: true, tlsVersion: 0, clientCert: '', clientKey: '', caCert: '', authMethod: 3 };
  const s = (n: number): number => n * 1000;

  it('parses name=>schema://user:password@host/path;params, the parameters over the defaults', () => {
    const c = parseHttpcon('apifour => https://ann:se:cret@api.example.com:8443/v1/get;timeout=12;failover=apione;maxdatasize=4;httpredirect=1;useragent=x', d, s);
    assert.equal(c.name, 'apifour');
    assert.equal(c.schema, 'https');
    assert.equal(c.base, 'api.example.com:8443/v1/get');
    assert.equal(c.username, 'ann');
    assert.equal(c.password, 'se:cret');
    assert.equal(c.failover, 'apione');
    assert.deepEqual([c.settings.timeoutMs, c.settings.maxDataSize, c.settings.followRedirect, c.settings.userAgent, c.settings.verifyPeer], [12_000, 4, true, 'x', true]);
    assert.equal(connectionUrl(c, 'x'), 'https://api.example.com:8443/v1/get/x');
    assert.equal(connectionUrl(c, '/x'), 'https://api.example.com:8443/v1/get/x');
    assert.equal(connectionUrl(c, ''), 'https://api.example.com:8443/v1/get');
  });

  it('refuses what Kamailio would not load, naming the connection', () => {
    assert.throws(() => parseHttpcon('noarrow http://x', d, s), /expected name=>url/);
    assert.throws(() => parseHttpcon('a=>ftp://x', d, s), /only http and https/);
    assert.throws(() => parseHttpcon('a=>http://x;timeout=soon', d, s), /"a": timeout must be/);
    assert.throws(() => parseHttpcon('a=>http://x;colour=red', d, s), /unknown parameter "colour"/);
    assert.throws(() => parseConnections(['a=>http://x', 'a=>http://y'], d, s), /defined twice/);
    assert.throws(() => parseConnections(['a=>http://x;failover=b'], d, s), /failover names no connection/);
  });

  it('a bad httpcon stops the configuration with the reason', () => {
    assert.throws(() => reg({ httpcon: 'a=>gopher://x' }), /only http and https/);
    assert.throws(() => reg({ httpproxy: 'http://proxy:3128' }), /httpproxy not supported/);
  });

  it('config_file: Kamailio\'s [name] sections beside httpcon; errors with file:line', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kemihost-hc-'));
    const file = join(dir, 'http.cfg');
    writeFileSync(file, `# connections\n[fromfile]\nurl = ${peers.http}/echo\nmaxdatasize = 4\nverify_peer = yes\ntlsversion = TLSv1.2\nhttp_follow_redirect = no\n\n[authed]\nurl = ${peers.http}\nusername = ${USER}\npassword = ${PASS}\n`);
    const r = reg({ config_file: file, httpcon: `inline=>${peers.http}` });
    const ctx = ctxOf(invite());
    assert.equal((await hc(r, ctx, 'curl_connect', 'fromfile', '', '$var(r)')).code, 200);
    assert.equal(get(r, ctx, '$var(r)'), 'GET:', 'maxdatasize 4 from the file');
    assert.equal((await hc(r, ctx, 'curl_connect', 'authed', '/basic', '$var(r)')).code, 200);
    assert.equal((await hc(r, ctx, 'curl_connect', 'inline', '/echo', '$var(r)')).code, 200);
    writeFileSync(file, '[a]\nurl = http://x\ntimeout = soon\n');
    assert.throws(() => reg({ config_file: file }), /http\.cfg:3: \[a\] httpcon "a": timeout must be/);
    writeFileSync(file, '[a]\nhost = x\n');
    assert.throws(() => reg({ config_file: file }), /http\.cfg:1: \[a\] has no url/);
    writeFileSync(file, '[a]\nurl = http://x\nhttpproxy = http://p\n');
    assert.throws(() => reg({ config_file: file }), /httpproxy is not supported/);
    assert.throws(() => reg({ config_file: join(dir, 'none.cfg') }), /config_file: ENOENT/);
  });
});
