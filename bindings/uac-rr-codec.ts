/**
 * The value of uac's Record-Route parameter (`;vsf=` / `;vst=`), byte for byte as Kamailio's uac
 * replace.c writes it, so a dialog Kamailio record-routed can be continued here and back: the
 * original and the new URI XORed over the longer one's length, XORed again with restore_passwd
 * (cycled), in base64 with '-' for padding ('=' would end a URI parameter's value). The value
 * alone reveals neither URI; XORed with whichever URI an in-dialog request carries, it gives the
 * other one.
 */

const TABLE = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const DECODE = new Map<string, number>(Array.from({ length: TABLE.length }, (_, i) => [TABLE.charAt(i), i]));

/** Kamailio's MAX_URI_SIZE: longer URIs are refused on both sides. */
export const MAX_URI_SIZE = 1024;

function xorKey(buf: Buffer, key: string): void {
  const k = Buffer.from(key, 'utf8');
  if (k.length === 0) return;
  for (let i = 0; i < buf.length; i++) buf[i] = (buf[i] ?? 0) ^ (k[i % k.length] ?? 0);
}

function encode64(buf: Buffer): string {
  let out = '';
  for (let i = 0; i < buf.length; i += 3) {
    const left = Math.min(buf.length - i - 1, 2);
    let block = 0;
    for (let j = 0, r = 16; j <= left; j++, r -= 8) block += (buf[i + j] ?? 0) << r;
    out += TABLE[(block >> 18) & 0x3f] ?? '';
    out += TABLE[(block >> 12) & 0x3f] ?? '';
    out += left > 0 ? (TABLE[(block >> 6) & 0x3f] ?? '') : '-';
    out += left > 1 ? (TABLE[block & 0x3f] ?? '') : '-';
  }
  return out;
}

/** Kamailio's decode_uri: null for an empty value or a character outside the table. */
function decode64(s: string): Buffer | null {
  let n = 0;
  for (let i = s.length - 1; i >= 0 && s[i] === '-'; i--) n++;
  const len = ((s.length * 6) >> 3) - n;
  if (s.length === 0 || len <= 0 || len > MAX_URI_SIZE) return null;
  const out = Buffer.alloc(len);
  const end = s.length - n;
  for (let i = 0, idx = 0; i < end; idx += 3) {
    let block = 0;
    for (let j = 0; j < 4 && i < end; j++) {
      const c = DECODE.get(s[i++] ?? '');
      if (c === undefined) return null;
      block += c << (18 - 6 * j);
    }
    for (let j = 0, r = 16; j < 3 && idx + j < len; j++, r -= 8) out[idx + j] = (block >> r) & 0xff;
  }
  return out;
}

/** The parameter value for a header whose URI `original` was replaced by `replacement`; null when either is too long. */
export function encodeUriPair(original: string, replacement: string, passwd: string): string | null {
  const a = Buffer.from(original, 'utf8');
  const b = Buffer.from(replacement, 'utf8');
  if (a.length > MAX_URI_SIZE || b.length > MAX_URI_SIZE) return null;
  const [long, short] = a.length > b.length ? [a, b] : [b, a];
  const buf = Buffer.from(long);
  for (let i = 0; i < short.length; i++) buf[i] = (buf[i] ?? 0) ^ (short[i] ?? 0);
  xorKey(buf, passwd);
  return encode64(buf);
}

/**
 * The other URI of the pair, given the one a request carries (Kamailio's restore_uri): the
 * result ends at the first NUL (the shorter URI's end). null, as Kamailio declines it: a value
 * that does not decode, shorter than `current`, or giving an empty or unprintable URI (an end
 * point altered the URI, or another restore_passwd).
 */
export function decodeUriPair(value: string, current: string, passwd: string): string | null {
  const buf = decode64(value);
  if (buf === null) return null;
  xorKey(buf, passwd);
  const cur = Buffer.from(current, 'utf8');
  if (buf.length < cur.length) return null;
  let len = buf.length;
  for (let i = 0; i < cur.length; i++) {
    buf[i] = (buf[i] ?? 0) ^ (cur[i] ?? 0);
    if (buf[i] === 0) {
      len = i;
      break;
    }
  }
  if (len === 0) return null;
  const out = buf.subarray(0, len);
  for (const c of out) if (c < 0x20 || c > 0x7e) return null;
  return out.toString('latin1');
}
