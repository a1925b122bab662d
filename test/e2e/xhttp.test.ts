/**
 * The xhttp listener as clients see it: keep-alive, the connection limits and timeouts (slow or
 * idle clients are cut off, never hung), load, and the config errors for bad parameters.
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import { writeFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { Agent, fetch } from 'undici';
import { validateConfig } from '../../host/config.js';
import { runCli } from '../helpers/cli.js';
import { httpRequest, rawUntilClosed } from '../helpers/http-client.js';
import { ENGINES, writeScript, type EngineName } from '../helpers/runtime.js';
import { startXhttp, xhttpScript } from '../helpers/xhttp-cases.js';

/** Replies "<query string>|<$sp>" to every request. */
const ECHO = {
  lua: 'KSR.xhttp.xhttp_reply(200, "OK", "text/plain", KSR.pv.get("$(hu{url.querystring})") .. "|" .. KSR.pv.get("$sp"))',
  js: 'KSR.xhttp.xhttp_reply(200, "OK", "text/plain", KSR.pv.get("$(hu{url.querystring})") + "|" + KSR.pv.get("$sp"));',
};

const echo = (engine: EngineName): string => xhttpScript(engine, ECHO[engine]);

for (const engine of ENGINES) {
  describe(`xhttp listener [${engine}]`, () => {
    test('HTTP/1.1 keep-alive: two requests on the same connection (same socket, same $sp)', async () => {
      const server = await startXhttp(engine, echo(engine));
      const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
      try {
        const a = await httpRequest(server.httpPort, { path: '/?a' }, agent);
        const b = await httpRequest(server.httpPort, { path: '/?b' }, agent);
        assert.equal(a.headers.connection, 'keep-alive');
        assert.equal(a.localPort, b.localPort);
        assert.equal(a.body, `a|${String(a.localPort)}`);
        assert.equal(b.body, `b|${String(a.localPort)}`);
      } finally {
        agent.destroy();
        await server.close();
      }
    });

    test('1,000 concurrent requests are all answered, each with its own reply', async () => {
      const server = await startXhttp(engine, echo(engine));
      const client = new Agent({ connections: 200 });
      try {
        const n = 1000;
        const replies = await Promise.all(
          Array.from({ length: n }, async (_, i) => {
            const r = await fetch(`http://127.0.0.1:${String(server.httpPort)}/load?i=${String(i)}`, { dispatcher: client });
            return { status: r.status, body: await r.text(), i };
          }),
        );
        for (const r of replies) {
          assert.equal(r.status, 200);
          assert.match(r.body, new RegExp(`^i=${String(r.i)}\\|\\d+$`));
        }
        assert.equal(server.rt.stats.get('xhttp:replies'), n);
      } finally {
        await client.close();
        await server.close();
      }
    });

    test('a client that stops in the middle of its headers is cut off (408) by headers_timeout_ms', async () => {
      const server = await startXhttp(engine, echo(engine), { config: { http: { headers_timeout_ms: 300, request_timeout_ms: 600 } } });
      try {
        const o = await rawUntilClosed(server.httpPort, 'GET / HTTP/1.1\r\nHost: x\r\nX-Slow: ', 5000);
        assert.match(o.data, /^HTTP\/1\.1 408 /);
        assert.ok(o.closedAfterMs >= 250, `closed after ${String(o.closedAfterMs)} ms`);
      } finally {
        await server.close();
      }
    });

    test('a client that stops in the middle of its body is cut off by request_timeout_ms; the script never runs', async () => {
      const server = await startXhttp(engine, echo(engine), { config: { http: { headers_timeout_ms: 300, request_timeout_ms: 600 } } });
      try {
        const o = await rawUntilClosed(server.httpPort, 'POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nonly-a-part', 5000);
        assert.doesNotMatch(o.data, /200 OK/);
        assert.ok(o.closedAfterMs >= 500, `closed after ${String(o.closedAfterMs)} ms`);
        assert.equal(server.rt.stats.get('xhttp:replies'), 0);
      } finally {
        await server.close();
      }
    });

    test('an idle kept-alive connection is closed after keepalive_timeout_ms', async () => {
      const server = await startXhttp(engine, echo(engine), { config: { http: { keepalive_timeout_ms: 300 } } });
      try {
        const o = await rawUntilClosed(server.httpPort, 'GET /?k HTTP/1.1\r\nHost: x\r\n\r\n', 5000);
        assert.match(o.data, /^HTTP\/1\.1 200 OK\r\n/);
        assert.match(o.data, /\r\n\r\nk\|\d+$/);
        assert.ok(o.closedAfterMs >= 250 && o.closedAfterMs < 3000, `closed after ${String(o.closedAfterMs)} ms`);
      } finally {
        await server.close();
      }
    });

    test('a client that does not read its reply is disconnected after send_timeout_ms', async () => {
      const size = 8 * 1024 * 1024;
      const big = engine === 'lua'
        ? `KSR.xhttp.xhttp_reply(200, "OK", "text/plain", string.rep("x", ${String(size)}))`
        : `KSR.xhttp.xhttp_reply(200, "OK", "text/plain", "x".repeat(${String(size)}));`;
      const server = await startXhttp(engine, xhttpScript(engine, big), { params: { send_timeout_ms: 300 } });
      try {
        const sock = net.connect(server.httpPort, '127.0.0.1');
        sock.on('error', () => undefined);
        await new Promise((r) => sock.once('connect', r));
        sock.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
        // Read nothing for a while: the kernel buffers fill, the rest waits in the server.
        sock.pause();
        await new Promise((r) => setTimeout(r, 2500));
        let got = 0;
        sock.on('data', (d: Buffer) => (got += d.length));
        const closed = new Promise((r) => sock.once('close', r));
        sock.resume();
        await Promise.race([closed, new Promise((_, reject) => setTimeout(() => { reject(new Error(`still open, ${String(got)} bytes read`)); }, 5000))]);
        assert.ok(got < size, `the whole reply arrived (${String(got)} bytes): the server did not cut the slow reader`);
      } finally {
        await server.close();
      }
    });

    test('a header section over max_header_bytes gets 431', async () => {
      const server = await startXhttp(engine, echo(engine), { config: { http: { max_header_bytes: 1024 } } });
      try {
        const r = await httpRequest(server.httpPort, { headers: { 'X-Big': 'b'.repeat(2000) } });
        assert.equal(r.status, 431);
        assert.equal(server.rt.stats.get('xhttp:requests'), 0);
      } finally {
        await server.close();
      }
    });

    test('max_connections: one connection more is closed at once; a freed slot is usable again', async () => {
      const server = await startXhttp(engine, echo(engine), { config: { http: { max_connections: 2 } } });
      const open: net.Socket[] = [];
      try {
        for (let i = 0; i < 2; i++) {
          const s = net.connect(server.httpPort, '127.0.0.1');
          s.on('error', () => undefined);
          await new Promise((r) => s.once('connect', r));
          open.push(s);
        }
        // let the server count both before the third arrives
        await new Promise((r) => setTimeout(r, 50));
        const third = await rawUntilClosed(server.httpPort, 'GET /?third HTTP/1.1\r\nHost: x\r\n\r\n', 3000);
        assert.equal(third.data, '');
        open.shift()?.destroy();
        await new Promise((r) => setTimeout(r, 50));
        const r = await httpRequest(server.httpPort, { path: '/?again' });
        assert.equal(r.status, 200);
        assert.match(r.body, /^again\|/);
      } finally {
        for (const s of open) s.destroy();
        await server.close();
      }
    });
  });
}

describe('xhttp configuration', () => {
  test('an invalid url_match / url_skip is a config error naming the key', () => {
    assert.throws(() => validateConfig({ modules: { xhttp: { url_match: '(' } } }), (e: Error) => {
      assert.match(e.message, /modules\.xhttp\.url_match: not a regular expression RE2 can run/);
      return true;
    });
    assert.throws(() => validateConfig({ modules: { xhttp: { url_skip: '[a-' } } }), /modules\.xhttp\.url_skip/);
    // linear time: what needs backtracking is refused at start, not met at run time
    assert.throws(() => validateConfig({ modules: { xhttp: { url_skip: '^/(a)\\1' } } }), /modules\.xhttp\.url_skip: not a regular expression RE2 can run/);
  });

  test('headers_timeout_ms above request_timeout_ms is a config error', () => {
    assert.throws(() => validateConfig({ http: { headers_timeout_ms: 5000, request_timeout_ms: 1000 } }), /http\.headers_timeout_ms/);
  });

  test('kemihost run exits non-zero on a bad url_skip, naming the key', async () => {
    const script = writeScript('lua', xhttpScript('lua', ECHO.lua));
    const cfg = `${script}.yaml`;
    writeFileSync(cfg, 'modules:\n  xhttp: { event_callback: ksr_xhttp_event, url_skip: "(unclosed" }\n');
    const r = await runCli(['run', script, '-c', cfg, '-l', 'udp:127.0.0.1:0', '--http', '127.0.0.1:0']);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /modules\.xhttp\.url_skip/);
  });
});
