/**
 * A bencode decoder for what rtpengine answers: the answer comes from a peer, so it is decoded
 * with limits — nesting depth, string lengths within the datagram, integers as decimal digits,
 * nothing after the top value — and dictionaries without a prototype. npm `bencode` (4.x)
 * encodes our requests; its decoder is not used: it has no depth limit, fails on dictionaries
 * when asked for text, and reads "i12.5e" as 12 (docs/decisions.md).
 *
 * Strings stay bytes (Buffer): an SDP is relayed as the bytes rtpengine sent.
 */

export type BValue = Buffer | number | BValue[] | BDict;
export interface BDict {
  readonly [key: string]: BValue | undefined;
}

export class BencodeError extends Error {}

const MAX_DEPTH = 32;

export function bdecode(data: Buffer, maxDepth = MAX_DEPTH): BValue {
  let pos = 0;
  const fail = (what: string): never => {
    throw new BencodeError(`bad bencode at byte ${String(pos)}: ${what}`);
  };

  const digitsUntil = (stop: number): number => {
    let neg = false;
    if (data[pos] === 0x2d) {
      neg = true;
      pos++;
    }
    let n = 0;
    const first = pos;
    while (pos < data.length && data[pos] !== stop) {
      const c = data[pos] as number;
      if (c < 0x30 || c > 0x39) fail('digit expected');
      n = n * 10 + (c - 0x30);
      if (n > Number.MAX_SAFE_INTEGER) fail('number too large');
      pos++;
    }
    if (pos >= data.length) fail('unterminated number');
    if (pos === first) fail('empty number');
    pos++; // the stop byte
    return neg ? -n : n;
  };

  const value = (depth: number): BValue => {
    if (pos >= data.length) fail('truncated');
    const c = data[pos] as number;
    if (c === 0x69) { // i…e
      pos++;
      return digitsUntil(0x65);
    }
    if (c === 0x6c || c === 0x64) { // l…e, d…e
      if (depth >= maxDepth) fail('nested too deep');
      pos++;
      if (c === 0x6c) {
        const list: BValue[] = [];
        while (data[pos] !== 0x65) {
          if (pos >= data.length) fail('unterminated list');
          list.push(value(depth + 1));
        }
        pos++;
        return list;
      }
      const dict = Object.create(null) as Record<string, BValue>;
      while (data[pos] !== 0x65) {
        if (pos >= data.length) fail('unterminated dictionary');
        const key = bytes();
        dict[key.toString('latin1')] = value(depth + 1);
      }
      pos++;
      return dict;
    }
    return bytes();
  };

  const bytes = (): Buffer => {
    const c = data[pos];
    if (c === undefined || c < 0x30 || c > 0x39) fail('string length expected');
    const len = digitsUntil(0x3a);
    if (len < 0 || pos + len > data.length) fail('string runs past the end');
    const s = data.subarray(pos, pos + len);
    pos += len;
    return s;
  };

  const v = value(0);
  if (pos !== data.length) fail('bytes after the value');
  return v;
}

export function isDict(v: BValue | undefined): v is BDict {
  return typeof v === 'object' && !Buffer.isBuffer(v) && !Array.isArray(v);
}

/** dict[key] as text (utf8), or null when absent or not a string */
export function bstr(d: BDict, key: string): string | null {
  const v = d[key];
  return Buffer.isBuffer(v) ? v.toString('utf8') : null;
}

/** dict[key] as bytes, or null */
export function bbytes(d: BDict, key: string): Buffer | null {
  const v = d[key];
  return Buffer.isBuffer(v) ? v : null;
}

/** dict[key] as a number, or `dflt` */
export function bint(d: BDict | undefined, key: string, dflt: number): number {
  const v = d?.[key];
  return typeof v === 'number' ? v : dflt;
}

export function bdict(d: BDict | undefined, key: string): BDict | undefined {
  const v = d?.[key];
  return isDict(v) ? v : undefined;
}
