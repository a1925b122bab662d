/**
 * Netstrings (`<len>:<bytes>,`, D. J. Bernstein's format, as Kamailio's jsonrpc-c frames JSON).
 * The decoder is incremental: TCP hands us arbitrary slices, a frame may span many chunks and a
 * chunk may hold many frames. The length is checked against a limit before any body byte is
 * buffered, so a peer cannot make us hold more than the limit. Any deviation from the format
 * (a leading zero, a missing ':' or ',', a non-digit) is a protocol error: the stream cannot be
 * resynchronised, so the caller closes the connection.
 */

export class NetstringError extends Error {
  constructor(
    readonly code: 'bad_length' | 'leading_zero' | 'too_long' | 'no_colon' | 'no_comma',
    message: string,
  ) {
    super(message);
    this.name = 'NetstringError';
  }
}

const COLON = 0x3a;
const COMMA = 0x2c;
const ZERO = 0x30;
const NINE = 0x39;

/** `<len>:<json>,` with len in bytes of the UTF-8 encoding. */
export function encodeNetstring(text: string): Buffer {
  const len = Buffer.byteLength(text);
  const head = `${String(len)}:`;
  const buf = Buffer.allocUnsafe(head.length + len + 1);
  buf.write(head, 0, 'latin1');
  buf.write(text, head.length, 'utf8');
  buf[buf.length - 1] = COMMA;
  return buf;
}

export class NetstringDecoder {
  /** digits of the length read so far (-1: none yet) */
  private len = -1;
  private digits = 0;
  /** body bytes still expected; -1 while reading the length */
  private need = -1;
  private parts: Buffer[] = [];
  private partBytes = 0;
  /** the body is complete; the ',' is next */
  private wantComma = false;
  private readonly maxDigits: number;

  constructor(private readonly maxBytes: number) {
    this.maxDigits = String(maxBytes).length;
  }

  /** bytes held for an unfinished frame */
  get buffered(): number {
    return this.partBytes;
  }

  /** Feed a chunk; returns the complete frames in it (UTF-8 text). Throws NetstringError. */
  push(chunk: Buffer): string[] {
    const out: string[] = [];
    let i = 0;
    const n = chunk.length;
    while (i < n) {
      if (this.wantComma) {
        if (chunk[i] !== COMMA) throw new NetstringError('no_comma', 'netstring does not end with ","');
        i++;
        this.wantComma = false;
        out.push(this.take());
        continue;
      }
      if (this.need >= 0) {
        const avail = n - i;
        if (avail >= this.need) {
          if (this.partBytes === 0 && i + this.need < n) {
            // Fast path: the whole body and its comma are in this chunk: no copy into parts.
            const end = i + this.need;
            if (chunk[end] !== COMMA) throw new NetstringError('no_comma', 'netstring does not end with ","');
            out.push(chunk.toString('utf8', i, end));
            i = end + 1;
            this.need = -1;
            continue;
          }
          this.parts.push(chunk.subarray(i, i + this.need));
          this.partBytes += this.need;
          i += this.need;
          this.need = -1;
          this.wantComma = true;
          continue;
        }
        this.parts.push(chunk.subarray(i));
        this.partBytes += avail;
        this.need -= avail;
        break;
      }
      const c = chunk[i] ?? 0;
      if (c >= ZERO && c <= NINE) {
        if (this.len === 0) throw new NetstringError('leading_zero', 'netstring length has a leading zero');
        this.len = this.len < 0 ? c - ZERO : this.len * 10 + (c - ZERO);
        if (++this.digits > this.maxDigits || this.len > this.maxBytes) {
          throw new NetstringError('too_long', `netstring longer than the limit of ${String(this.maxBytes)} bytes`);
        }
        i++;
        continue;
      }
      if (c === COLON && this.len >= 0) {
        this.need = this.len;
        this.len = -1;
        this.digits = 0;
        i++;
        if (this.need === 0) {
          this.need = -1;
          this.wantComma = true;
        }
        continue;
      }
      throw new NetstringError(this.len < 0 ? 'bad_length' : 'no_colon', this.len < 0 ? 'netstring does not start with a length' : 'netstring length is not followed by ":"');
    }
    return out;
  }

  private take(): string {
    const body = this.parts.length === 1 ? (this.parts[0] ?? Buffer.alloc(0)) : Buffer.concat(this.parts, this.partBytes);
    this.parts = [];
    this.partBytes = 0;
    return body.toString('utf8');
  }
}
