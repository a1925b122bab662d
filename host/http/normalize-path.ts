/**
 * The form of a request target that xhttp's url_skip / url_match are tested on. Kamailio tests
 * the raw request-URI, so `url_skip ^/api/private` lets `/api//private`, `/api/%70rivate` and
 * `/api/./private` through: they name the same resource (RFC 3986 §6.2.2) and an application
 * behind them may well treat them alike. An operator protecting a path expects those spellings
 * not to slip past, so the path is normalised first:
 *   1. an absolute-form target (`http://host/p`, RFC 9112 §3.2.2) is reduced to its path and query;
 *   2. percent-encoded unreserved characters (A-Z a-z 0-9 - . _ ~) are decoded, other
 *      percent-encodings get upper-case hex digits (%2f → %2F: an encoded "/" stays encoded,
 *      it is data, not a separator);
 *   3. runs of "/" become one;
 *   4. "." and ".." segments are removed (RFC 3986 §5.2.4), never above the root.
 * The query string is kept as received. The script still sees the URL as received ($hu).
 */

const ABSOLUTE = /^[A-Za-z][A-Za-z0-9+.-]*:\/\/[^/?#]*/;
const PCT = /%([0-9A-Fa-f]{2})/g;
const UNRESERVED = /^[A-Za-z0-9\-._~]$/;

function decodeUnreserved(path: string): string {
  if (!path.includes('%')) return path;
  return path.replace(PCT, (_m, hex: string) => {
    const c = String.fromCharCode(parseInt(hex, 16));
    return UNRESERVED.test(c) ? c : `%${hex.toUpperCase()}`;
  });
}

/** RFC 3986 §5.2.4 on a path starting with "/" and without empty segments (but a trailing one). */
function removeDotSegments(path: string): string {
  const segs = path.split('/');
  const out: string[] = [];
  const last = segs.length - 1;
  for (let i = 1; i <= last; i++) {
    const s = segs[i] ?? '';
    if (s === '.' || s === '..') {
      if (s === '..') out.pop();
      // "/a/." and "/a/b/.." name a directory: keep the trailing "/"
      if (i === last) out.push('');
      continue;
    }
    out.push(s);
  }
  return `/${out.join('/')}`;
}

/** A path (origin-form, starting with "/") in the form url_skip / url_match see. */
export function normalizePath(path: string): string {
  return removeDotSegments(decodeUnreserved(path).replace(/\/{2,}/g, '/'));
}

/** A request target as node gives it (req.url) → normalised path + the query as received. */
export function normalizeTarget(target: string): string {
  let t = target;
  const abs = ABSOLUTE.exec(t);
  if (abs !== null) t = t.slice(abs[0].length);
  if (abs !== null && !t.startsWith('/')) t = `/${t}`;
  // "*" (OPTIONS *) and other forms that are not a path are left as they are
  if (!t.startsWith('/')) return t;
  const q = t.indexOf('?');
  return q < 0 ? normalizePath(t) : normalizePath(t.slice(0, q)) + t.slice(q);
}
