/**
 * Real HTTP(S) servers on 127.0.0.1 for the http_async_client tests: one path per behaviour
 * (echo, 500, redirect, never answers, closes mid-body, huge body, Basic and Digest auth, slow),
 * an HTTPS server with a self-signed certificate and one that requires a client certificate
 * (both made with openssl at start). Every request received is recorded for assertions.
 */
import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync } from 'node:fs';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import http2 from 'node:http2';
import https from 'node:https';
import net, { type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface Seen {
  readonly method: string;
  readonly url: string;
  readonly headers: IncomingMessage['headers'];
  readonly body: string;
  readonly server: 'http' | 'https' | 'mtls' | 'h2';
}

export interface TlsFiles {
  readonly dir: string;
  readonly cert: string;
  readonly key: string;
  readonly clientCert: string;
  readonly clientKey: string;
  /** a certificate for another name (other.example), self-signed */
  readonly otherCert: string;
  readonly otherKey: string;
}

export interface HttpPeers {
  readonly http: string;
  readonly https: string;
  readonly mtls: string;
  /** HTTPS with a certificate for other.example, not 127.0.0.1 */
  readonly wrongName: string;
  /** HTTPS that speaks HTTP/2 only (no HTTP/1.1 fallback) */
  readonly h2: string;
  /** a port nobody listens on */
  readonly refused: string;
  readonly tls: TlsFiles;
  readonly seen: Seen[];
  /** requests whose URL contains `tag` */
  find(tag: string): Seen[];
  close(): Promise<void>;
}

export const USER = 'alice';
export const PASS = 's3cret';
const REALM = 'kemihost-test';

function makeCerts(): TlsFiles {
  const dir = mkdtempSync(join(tmpdir(), 'kemihost-tls-'));
  const f = (n: string): string => join(dir, n);
  const req = (key: string, cert: string, subj: string, extra: string[]): void => {
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', key, '-out', cert, '-days', '2', '-subj', subj, ...extra], { stdio: 'ignore' });
  };
  req(f('server.key'), f('server.pem'), '/CN=127.0.0.1', ['-addext', 'subjectAltName=IP:127.0.0.1']);
  req(f('client.key'), f('client.pem'), '/CN=kemihost-client', []);
  req(f('other.key'), f('other.pem'), '/CN=other.example', ['-addext', 'subjectAltName=DNS:other.example']);
  return { dir, cert: f('server.pem'), key: f('server.key'), clientCert: f('client.pem'), clientKey: f('client.key'), otherCert: f('other.pem'), otherKey: f('other.key') };
}

/** RFC 7616 check written independently of the client's code: H(H(A1):nonce:nc:cnonce:qop:H(A2)). */
function digestOk(header: string, method: string, alg: 'md5' | 'sha256', nonce: string): boolean {
  const p = new Map<string, string>();
  for (const m of header.replace(/^Digest\s+/i, '').matchAll(/(\w+)=(?:"([^"]*)"|([^,\s]+))/g)) p.set((m[1] ?? '').toLowerCase(), m[2] ?? m[3] ?? '');
  const h = (s: string): string => createHash(alg).update(s).digest('hex');
  if (p.get('username') !== USER || p.get('nonce') !== nonce || p.get('qop') !== 'auth') return false;
  const want = h(`${h(`${USER}:${REALM}:${PASS}`)}:${nonce}:${p.get('nc') ?? ''}:${p.get('cnonce') ?? ''}:auth:${h(`${method}:${p.get('uri') ?? ''}`)}`);
  return p.get('response') === want;
}

function handler(seen: Seen[], server: Seen['server'], sockets: Set<Socket>) {
  const nonce = randomBytes(8).toString('hex');
  return (req: IncomingMessage, res: ServerResponse): void => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const url = new URL(req.url ?? '/', 'http://x');
      seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body, server });
      const auth = req.headers.authorization ?? '';
      switch (url.pathname) {
        case '/echo':
          res.writeHead(200, 'OK Fine', [['X-Reply', 'yes'], ['X-Multi', 'one'], ['X-Multi', 'two'], ['Content-Type', 'text/plain']]);
          res.end(`${req.method ?? ''}:${body}:${req.headers['x-test'] === undefined ? '-' : String(req.headers['x-test'])}`);
          return;
        case '/500':
          res.writeHead(500, 'Internal Oops');
          res.end('boom');
          return;
        case '/redirect':
          res.writeHead(302, 'Found', { Location: `/echo${url.search}` });
          res.end();
          return;
        case '/never':
          return;
        case '/half':
          res.writeHead(200, { 'Content-Length': '100' });
          res.write('only-part');
          setTimeout(() => res.destroy(), 20);
          return;
        case '/huge': {
          res.writeHead(200, { 'Content-Type': 'application/octet-stream' });
          const chunk = Buffer.alloc(64 * 1024, 0x61);
          let left = 64;
          const pump = (): void => {
            while (left > 0 && !res.destroyed) {
              left--;
              if (!res.write(chunk)) {
                res.once('drain', pump);
                return;
              }
            }
            res.end();
          };
          res.on('error', () => undefined);
          pump();
          return;
        }
        case '/basic':
          if (auth === `Basic ${Buffer.from(`${USER}:${PASS}`).toString('base64')}`) {
            res.writeHead(200);
            res.end('basic-ok');
          } else {
            res.writeHead(401, { 'WWW-Authenticate': `Basic realm="${REALM}"` });
            res.end('who?');
          }
          return;
        case '/digest':
        case '/digest256': {
          const alg = url.pathname === '/digest' ? 'md5' : 'sha256';
          if (auth.startsWith('Digest ') && digestOk(auth, req.method ?? '', alg, nonce)) {
            res.writeHead(200);
            res.end('digest-ok');
          } else {
            res.writeHead(401, { 'WWW-Authenticate': `Digest realm="${REALM}", qop="auth", nonce="${nonce}", opaque="op1", algorithm=${alg === 'md5' ? 'MD5' : 'SHA-256'}` });
            res.end('who?');
          }
          return;
        }
        case '/slow':
          setTimeout(() => {
            res.writeHead(200);
            res.end('slow-ok');
          }, Number(url.searchParams.get('ms') ?? 300));
          return;
        default:
          res.writeHead(404);
          res.end();
      }
    });
    // sockets kept so close() can cut the ones that never get an answer
    sockets.add(req.socket);
    req.socket.once('close', () => sockets.delete(req.socket));
  };
}

async function listen(server: net.Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as net.AddressInfo).port;
}

export async function startHttpPeers(): Promise<HttpPeers> {
  const seen: Seen[] = [];
  const sockets = new Set<Socket>();
  const tls = makeCerts();
  const plain = http.createServer(handler(seen, 'http', sockets));
  const secure = https.createServer({ cert: readFileSync(tls.cert), key: readFileSync(tls.key) }, handler(seen, 'https', sockets));
  const mtls = https.createServer({ cert: readFileSync(tls.cert), key: readFileSync(tls.key), requestCert: true, rejectUnauthorized: true, ca: readFileSync(tls.clientCert) }, handler(seen, 'mtls', sockets));
  const h2 = http2.createSecureServer({ cert: readFileSync(tls.cert), key: readFileSync(tls.key), allowHTTP1: false }, (req, res) => {
    seen.push({ method: req.method, url: req.url, headers: req.headers, body: '', server: 'h2' });
    res.writeHead(200, { 'x-proto': req.httpVersion });
    res.end(`h2:${req.method}`);
  });
  const h2Sessions = new Set<http2.ServerHttp2Session>();
  h2.on('session', (sess) => {
    h2Sessions.add(sess);
    sess.once('close', () => h2Sessions.delete(sess));
  });
  const wrong = https.createServer({ cert: readFileSync(tls.otherCert), key: readFileSync(tls.otherKey) }, handler(seen, 'https', sockets));
  const servers = [plain, secure, mtls, wrong];
  const [p1, p2, p3, p4, p5] = [await listen(plain), await listen(secure), await listen(mtls), await listen(h2), await listen(wrong)];
  const probe = net.createServer();
  const refused = await listen(probe);
  await new Promise<void>((resolve) => probe.close(() => { resolve(); }));
  return {
    http: `http://127.0.0.1:${String(p1)}`,
    https: `https://127.0.0.1:${String(p2)}`,
    mtls: `https://127.0.0.1:${String(p3)}`,
    h2: `https://127.0.0.1:${String(p4)}`,
    wrongName: `https://127.0.0.1:${String(p5)}`,
    refused: `http://127.0.0.1:${String(refused)}`,
    tls,
    seen,
    find: (tag) => seen.filter((s) => s.url.includes(tag)),
    close: async () => {
      for (const s of sockets) s.destroy();
      for (const sess of h2Sessions) sess.destroy();
      await new Promise<void>((resolve) => h2.close(() => { resolve(); }));
      await Promise.all(servers.map((s) => new Promise<void>((resolve) => {
        s.close(() => { resolve(); });
        s.closeAllConnections();
      })));
    },
  };
}
