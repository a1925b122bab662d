/**
 * Read a request body with a size cap, for every listener of ours (xhttp, the control RPC). A
 * declared Content-Length over the cap is refused before reading; a chunked body, which
 * announces no size, is counted while it arrives and dropped the moment it passes the cap —
 * never more than `maxBytes` is kept. The caller answers 413 in `tooLarge` (and should close the
 * connection: the rest of the body is not read).
 */
import type { IncomingMessage } from 'node:http';

const EMPTY = Buffer.alloc(0);

export function readBody(req: IncomingMessage, maxBytes: number, done: (body: Buffer) => void, tooLarge: () => void): void {
  const declared = req.headers['content-length'];
  if (declared === undefined && req.headers['transfer-encoding'] === undefined) {
    done(EMPTY);
    return;
  }
  if (declared !== undefined && Number(declared) > maxBytes) {
    tooLarge();
    return;
  }
  const chunks: Buffer[] = [];
  let size = 0;
  let over = false;
  req.on('data', (chunk: Buffer) => {
    if (over) return;
    size += chunk.length;
    if (size > maxBytes) {
      over = true;
      chunks.length = 0;
      tooLarge();
      return;
    }
    chunks.push(chunk);
  });
  req.on('end', () => {
    if (!over) done(chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks, size));
  });
  // A client gone mid-body has no one to answer; node closes the socket. The listener keeps
  // the 'aborted' error from being thrown as unhandled.
  req.on('error', () => undefined);
}
