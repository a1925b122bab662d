/** Real HTTP clients for the xhttp tests: node:http (status line, headers, socket identity) and raw TCP. */
import http from 'node:http';
import net from 'node:net';

export interface HttpSpec {
  method?: string;
  path?: string;
  headers?: Record<string, string | string[]>;
  body?: string;
  /** send the body chunked (no Content-Length) */
  chunked?: boolean;
}

export interface HttpReply {
  status: number;
  reason: string;
  headers: http.IncomingHttpHeaders;
  body: string;
  /** the client's local port: the same for two requests on one kept-alive connection */
  localPort: number;
}

/** One request; rejects on a connection error or when no reply arrives within timeoutMs. */
export function httpRequest(port: number, spec: HttpSpec, agent?: http.Agent, timeoutMs = 5000): Promise<HttpReply> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: '127.0.0.1', port, method: spec.method ?? 'GET', path: spec.path ?? '/', headers: spec.headers ?? {}, agent: agent ?? false },
      (res) => {
        // Read now: once the body has been read the socket goes back to the agent (res.socket null).
        const localPort = res.socket.localPort ?? 0;
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          clearTimeout(timer);
          resolve({
            status: res.statusCode ?? 0,
            reason: res.statusMessage ?? '',
            headers: res.headers,
            body: Buffer.concat(chunks).toString('utf8'),
            localPort,
          });
        });
        res.on('error', reject);
      },
    );
    const timer = setTimeout(() => {
      req.destroy(new Error(`no reply within ${String(timeoutMs)} ms`));
    }, timeoutMs);
    req.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    if (spec.body !== undefined) {
      if (spec.chunked === true) {
        // Two writes before end() make node use chunked transfer coding.
        const half = Math.floor(spec.body.length / 2);
        req.write(spec.body.slice(0, half));
        req.write(spec.body.slice(half));
      } else {
        req.setHeader('Content-Length', Buffer.byteLength(spec.body));
        req.write(spec.body);
      }
    }
    req.end();
  });
}

export interface RawOutcome {
  /** everything the server sent */
  data: string;
  /** ms from connect until the server closed the connection */
  closedAfterMs: number;
}

/**
 * Connect, send `text` (and nothing more), and wait until the server closes the connection.
 * Rejects if it is still open after giveUpMs: the server hung the client.
 */
export function rawUntilClosed(port: number, text: string, giveUpMs: number): Promise<RawOutcome> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const sock = net.connect(port, '127.0.0.1', () => { sock.write(text); });
    let data = '';
    sock.on('data', (d: Buffer) => (data += d.toString('latin1')));
    sock.on('error', () => undefined);
    const timer = setTimeout(() => {
      sock.destroy();
      reject(new Error(`connection still open after ${String(giveUpMs)} ms; received: ${JSON.stringify(data)}`));
    }, giveUpMs);
    sock.on('close', () => {
      clearTimeout(timer);
      resolve({ data, closedAfterMs: Date.now() - started });
    });
  });
}
