/**
 * Kamailio's dispatcher hashes (dispatch.c ds_get_hash and the per-algorithm key choice), so a
 * hash algorithm picks the same destination here as in Kamailio for the same message and list.
 */
import { parseUri } from '../sip/uri.js';

/** C's `char` is signed on x86: bytes ≥ 0x80 count as negative. */
function sc(b: number): number {
  return b >= 0x80 ? b - 0x100 : b;
}

function part(h: number, s: string): number {
  const b = Buffer.from(s, 'latin1');
  let p = 0;
  if (b.length >= 4) {
    for (; p <= b.length - 4; p += 4) {
      const v = ((sc(b[p] ?? 0) << 24) + (sc(b[p + 1] ?? 0) << 16) + (sc(b[p + 2] ?? 0) << 8) + sc(b[p + 3] ?? 0)) >>> 0;
      h = (h + ((v ^ (v >>> 3)) >>> 0)) >>> 0;
    }
  }
  let v = 0;
  for (; p < b.length; p++) v = ((v << 8) + sc(b[p] ?? 0)) >>> 0;
  return (h + ((v ^ (v >>> 3)) >>> 0)) >>> 0;
}

/** ds_get_hash(x, y): null for an absent part; never 0. */
export function dsHash(x: string | null, y: string | null = null): number {
  let h = 0;
  if (x !== null) h = part(h, x);
  if (y !== null) h = part(h, y);
  h = (h + (h >>> 11) + ((h >>> 13) + (h >>> 23))) >>> 0;
  return h === 0 ? 1 : h;
}

/**
 * get_uri_hash_keys: the user, and host[:port] with the port only when it is written and not
 * the scheme's default; the user alone with `userOnly` (flags bit 1). null for a URI without host.
 */
export function uriHash(uri: string, userOnly: boolean): number | null {
  const u = parseUri(uri.trim());
  if (u === null || u.host === '' || u.scheme === 'tel') return null;
  const user = u.user === '' ? null : u.user;
  if (userOnly) return dsHash(user, null);
  const def = u.scheme === 'sips' ? 5061 : 5060;
  const host = u.port !== 0 && u.port !== def ? `${u.host}:${String(u.port)}` : u.host;
  return dsHash(user, host);
}
