/**
 * Cuts a SIP byte stream (TCP, later TLS) into messages by Content-Length (RFC 3261 §18.3), and
 * recognises the RFC 5626 §3.5.1 CRLF keep-alive.
 */

/** One thing found in the stream. */
export type FramerResult =
  | { kind: 'message'; data: Buffer }
  /** A bare CRLFCRLF ping (RFC 5626 §3.5.1); answer it with CRLF. */
  | { kind: 'keepalive' }
  /**
   * The stream cannot be framed any further; close the connection. `head` is the header section
   * when it could be read, so a reply (400 / 513) can be built from it first.
   */
  | { kind: 'error'; code: 400 | 413 | 513; reason: string; head: Buffer | null };

const CR = 0x0d;
const LF = 0x0a;
const INITIAL_CAPACITY = 4096;

/**
 * Reads Content-Length from a header section (`head` ends with CRLFCRLF). Returns the value, or a
 * reason string when it is missing, repeated or not all digits. Works on bytes: the framer never
 * decodes text, the parser does that once per message.
 */
function contentLengthOf(head: Buffer): number | string {
  let found = -1;
  let pos = head.indexOf(LF) + 1;
  const end = head.length - 2;
  while (pos < end) {
    let lf = head.indexOf(LF, pos);
    const c = head[pos] ?? 0;
    if (c === 0x6c || c === 0x4c || c === 0x63 || c === 0x43) {
      const colon = head.indexOf(0x3a, pos);
      if (colon > 0 && colon < lf) {
        const name = head.toString('latin1', pos, colon).trimEnd().toLowerCase();
        if (name === 'content-length' || name === 'l') {
          if (found >= 0) return 'more than one Content-Length header';
          let value = head.toString('latin1', colon + 1, lf);
          // A folded value continues on lines that start with SP or HTAB (RFC 3261 §7.3.1).
          while (lf + 1 < end && (head[lf + 1] === 0x20 || head[lf + 1] === 0x09)) {
            const next = head.indexOf(LF, lf + 1);
            value += head.toString('latin1', lf + 1, next);
            lf = next;
          }
          value = value.trim();
          if (!/^[0-9]{1,10}$/.test(value)) return 'malformed Content-Length';
          found = Number(value);
        }
      }
    }
    pos = lf + 1;
  }
  return found >= 0 ? found : 'no Content-Length on a stream transport';
}

/**
 * Frames SIP messages on a stream (RFC 3261 §18.3): the header section ends at the first empty
 * line and Content-Length — mandatory on streams — gives the body size. A segment may hold
 * several messages and a message may span many segments. Bytes are copied only while a message
 * is incomplete; the search for the blank line resumes where it stopped, so a message arriving
 * byte by byte costs linear time. After an error the framer is dead and `push` returns nothing.
 * A message from a segment that completes it without buffering is a view of that segment (no
 * copy): push segments you will not reuse, as a socket's `data` events are.
 */
export class SipStreamFramer {
  private readonly max: number;
  /** Bytes of an incomplete message (or a partial CRLF), at acc[0, accLen). */
  private acc: Buffer = Buffer.alloc(0);
  private accLen = 0;
  /** Bytes of the current message already searched for the blank line without finding it. */
  private scanned = 0;
  /** Total size of the current message once its header section is known, else -1. */
  private need = -1;
  private dead = false;

  constructor(opts: { maxMessageBytes: number }) {
    this.max = opts.maxMessageBytes;
  }

  /** Bytes buffered of an incomplete message (not counting keep-alive CRLFs). */
  get pendingBytes(): number {
    return this.need < 0 && this.accLen <= 3 && this.onlyCrlf() ? 0 : this.accLen;
  }

  /** Feeds one received segment; returns what it completed, in order. */
  push(chunk: Buffer): FramerResult[] {
    const out: FramerResult[] = [];
    if (this.dead || chunk.length === 0) return out;
    let view: Buffer;
    const fromAcc = this.accLen > 0;
    if (fromAcc) {
      this.append(chunk);
      view = this.acc.subarray(0, this.accLen);
    } else {
      view = chunk;
    }
    let off = 0;
    while (off < view.length) {
      const used = this.next(view, off, out, fromAcc);
      if (used < 0) {
        this.dead = true;
        this.accLen = 0;
        return out;
      }
      if (used === 0) break;
      off += used;
    }
    const rest = view.length - off;
    if (fromAcc) {
      if (off > 0) this.acc.copyWithin(0, off, this.accLen);
      this.accLen = rest;
    } else if (rest > 0) {
      this.accLen = 0;
      this.append(view.subarray(off));
    }
    return out;
  }

  /** Consumes one item at view[off]; returns the bytes used, 0 when more input is needed, -1 on an error. */
  private next(view: Buffer, off: number, out: FramerResult[], copy: boolean): number {
    const avail = view.length - off;
    if (this.need < 0 && view[off] === CR) {
      // CRLFs between messages: a CRLFCRLF is a ping, a lone CRLF a pong or noise (RFC 5626 §3.5.1).
      if (avail < 2) return 0;
      if (view[off + 1] !== LF) return this.error(out, 400, 'bare CR between messages', null);
      if (avail < 3) return 0;
      if (view[off + 2] !== CR) return 2;
      if (avail < 4) return 0;
      if (view[off + 3] !== LF) return this.error(out, 400, 'bare CR between messages', null);
      out.push({ kind: 'keepalive' });
      return 4;
    }
    if (this.need < 0) {
      const from = off + Math.max(0, this.scanned - 3);
      const blank = view.indexOf('\r\n\r\n', from, 'latin1');
      if (blank < 0 || blank + 4 - off > this.max) {
        if (avail > this.max) return this.error(out, 513, 'header section too large', null);
        this.scanned = avail;
        return 0;
      }
      const headLen = blank + 4 - off;
      const head = view.subarray(off, off + headLen);
      const cl = contentLengthOf(head);
      if (typeof cl === 'string') return this.error(out, 400, cl, Buffer.from(head));
      if (headLen + cl > this.max) return this.error(out, 513, 'message too large', Buffer.from(head));
      this.need = headLen + cl;
      this.scanned = 0;
    }
    if (avail < this.need) return 0;
    const size = this.need;
    const msg = view.subarray(off, off + size);
    // A message cut from the accumulator must not alias it: the accumulator is reused.
    out.push({ kind: 'message', data: copy ? Buffer.from(msg) : msg });
    this.need = -1;
    return size;
  }

  private error(out: FramerResult[], code: 400 | 513, reason: string, head: Buffer | null): number {
    out.push({ kind: 'error', code, reason, head });
    return -1;
  }

  private append(chunk: Buffer): void {
    const needed = this.accLen + chunk.length;
    if (needed > this.acc.length) {
      const grown = Buffer.allocUnsafe(Math.max(INITIAL_CAPACITY, needed, this.acc.length * 2));
      this.acc.copy(grown, 0, 0, this.accLen);
      this.acc = grown;
    }
    chunk.copy(this.acc, this.accLen);
    this.accLen = needed;
  }

  private onlyCrlf(): boolean {
    for (let i = 0; i < this.accLen; i++) if (this.acc[i] !== CR && this.acc[i] !== LF) return false;
    return true;
  }
}
