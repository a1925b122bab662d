/**
 * Seeded mutations of well-formed SIP, HTTP and netstring input: the same seed gives the same
 * inputs, so a failure found by `npm run fuzz` is replayed with its seed. Mutations work on
 * lines and on bytes; they favour what parsers get wrong (empty parameters, separators, huge
 * numbers, folding, duplicated and missing headers, lengths that lie).
 */

/** A small fast PRNG (mulberry32): enough for fuzzing, and reproducible. */
export class Rng {
  private s: number;

  constructor(seed: number) {
    this.s = seed >>> 0;
  }

  next(): number {
    let t = (this.s = (this.s + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  pick<T>(xs: readonly T[]): T {
    return xs[this.int(xs.length)] as T;
  }

  chance(p: number): boolean {
    return this.next() < p;
  }
}

/** Values that break naive parsers, put in place of a header value or a parameter. */
const NASTY = [
  '', ' ', ';;,,', ',', ';', '<', '>', '<<>>', '"', '"unterminated', '\\', '%', '%00', '%zz', '\t',
  'SIP/2.0/UDP ;;,,', 'SIP/2.0/UDP [::1', 'SIP/2.0/UDP 1.2.3.4:99999', 'SIP/2.0/ UDP host', 'sip:', 'sip:@',
  'sip:a@b;;', '<sip:a@b>;tag=', '<sip:a@[::1>', 'tel:', '-1', '4294967296', '99999999999999999999', '1e309',
  'NaN', '0x10', '１２３', 'é', '\u0000', '\u00ff\u00fe', 'x'.repeat(5000), `${'a,'.repeat(500)}a`, ';p'.repeat(500),
  '=?utf-8?q?x?=', 'a\r\n b', '*', 'INVITE', '1 INVITE', '1', '2147483648 INVITE', 'abc INVITE',
];

const HEADERS = [
  'Via', 'v', 'From', 'f', 'To', 't', 'Call-ID', 'i', 'CSeq', 'Contact', 'm', 'Max-Forwards', 'Content-Length', 'l',
  'Content-Type', 'c', 'Route', 'Record-Route', 'Expires', 'Authorization', 'Proxy-Authorization', 'Require',
  'Proxy-Require', 'Supported', 'Event', 'Allow', 'User-Agent', 'P-Asserted-Identity', 'Path', 'X-Any',
];

/** One mutation of a text message given as lines (start line first, then headers, '', body). */
function mutateLines(rng: Rng, lines: string[]): void {
  const hi = Math.max(1, lines.indexOf('') < 0 ? lines.length : lines.indexOf(''));
  const at = rng.int(hi);
  switch (rng.int(11)) {
    case 0: // a header's value replaced
      if (at > 0) lines[at] = `${(lines[at] ?? '').split(':')[0] ?? 'X'}: ${rng.pick(NASTY)}`;
      break;
    case 1: // a header removed
      if (at > 0) lines.splice(at, 1);
      break;
    case 2: // a header duplicated
      lines.splice(at, 0, lines[at] ?? '');
      break;
    case 3: // a new header with a nasty value
      lines.splice(1 + rng.int(hi), 0, `${rng.pick(HEADERS)}: ${rng.pick(NASTY)}`);
      break;
    case 4: // a parameter appended
      lines[at] = `${lines[at] ?? ''};${rng.pick(NASTY)}`;
      break;
    case 5: // the start line damaged
      lines[0] = rng.pick([`${rng.pick(NASTY)} sip:x@y SIP/2.0`, 'INVITE sip:x@y SIP/3.0', 'SIP/2.0 99999 X', 'SIP/2.0 200', 'INVITE  SIP/2.0', `INVITE ${rng.pick(NASTY)} SIP/2.0`, 'SIP/2.0 183 Session Progress']);
      break;
    case 6: // folded onto the next line
      lines[at] = `${lines[at] ?? ''}\r\n ${rng.pick(NASTY)}`;
      break;
    case 7: // a second Via, malformed, below the first
      lines.splice(2, 0, `Via: ${rng.pick(NASTY)}`);
      break;
    case 8: // Content-Length lies
      for (let i = 0; i < hi; i++) if (/^(Content-Length|l)\s*:/i.test(lines[i] ?? '')) lines[i] = `Content-Length: ${rng.pick(['0', '1', '5000', '-3', 'abc', '70000', ''])}`;
      break;
    case 9: // two lines swapped
      if (at > 0) {
        const b = 1 + rng.int(hi - 1 || 1);
        [lines[at], lines[b]] = [lines[b] ?? '', lines[at] ?? ''];
      }
      break;
    default: // the value cut in half
      lines[at] = (lines[at] ?? '').slice(0, Math.max(1, rng.int((lines[at] ?? '').length)));
  }
}

/** Byte-level damage on top: flips, inserts, cuts. */
function mutateBytes(rng: Rng, buf: Buffer): Buffer {
  const out = Buffer.from(buf);
  const n = 1 + rng.int(4);
  let b = out;
  for (let i = 0; i < n; i++) {
    const at = rng.int(Math.max(1, b.length));
    switch (rng.int(4)) {
      case 0:
        if (b.length > 0) b[at] = rng.int(256);
        break;
      case 1:
        b = Buffer.concat([b.subarray(0, at), Buffer.from([rng.pick([0, 10, 13, 32, 44, 58, 59, 60, 62, 0xff])]), b.subarray(at)]);
        break;
      case 2:
        b = Buffer.concat([b.subarray(0, at), b.subarray(Math.min(b.length, at + 1 + rng.int(20)))]);
        break;
      default:
        b = b.subarray(0, at);
    }
  }
  return b;
}

/** A mutated copy of a message (CRLF-joined lines): 1-2 line mutations, sometimes byte damage. */
export function mutateMessage(rng: Rng, text: string): Buffer {
  const lines = text.split('\r\n');
  const n = 1 + rng.int(2);
  for (let i = 0; i < n; i++) mutateLines(rng, lines);
  let out: Buffer = Buffer.from(lines.join('\r\n'), 'utf8');
  if (rng.chance(0.15)) out = mutateBytes(rng, out);
  return out;
}

/** A well-formed answer whose result is nested n arrays deep. */
function deep(id: number, n: number): string {
  return `{"jsonrpc":"2.0","id":${String(id)},"result":${'['.repeat(n)}${']'.repeat(n)}}`;
}

/** A mutated netstring carrying a mutated JSON-RPC answer (or not a netstring at all). */
export function mutateNetstring(rng: Rng, id: number): Buffer {
  const bodies = [
    `{"jsonrpc":"2.0","id":${String(id)},"result":${rng.pick(['1', '"x"', 'null', '{}', '[]', '{"a":[1,2,{"b":null}]}'])}}`,
    `{"jsonrpc":"2.0","id":${String(id)},"error":{"code":-32000,"message":"boom"}}`,
    deep(id, 2000 + rng.int(100_000)),
    `{"jsonrpc":"2.0","id":"${String(id)}","result":1}`,
    '{"jsonrpc":"2.0"}',
    rng.pick(NASTY),
  ];
  let body = rng.pick(bodies);
  if (rng.chance(0.3)) body = mutateBytes(rng, Buffer.from(body)).toString('latin1');
  const len = Buffer.byteLength(body, 'latin1');
  const prefix = rng.chance(0.15) ? rng.pick(['', '-1', '99999999999', 'x', String(len + 1)]) : String(len);
  return Buffer.from(`${prefix}:${body}${rng.chance(0.1) ? '' : ','}`, 'latin1');
}
