/**
 * Rewriting a From / To header value in place of its name-addr, as Kamailio's uac module does:
 * the "display <uri>" part changes, the header parameters (the tag) stay. Text in, text out:
 * the value is never re-serialised from a parse, so what the script did not touch stays as written.
 */

/** Where the "display <uri>" part of a header value ends: after '>' when there is one, else before the first ';'. */
function prefixEnd(value: string): number | null {
  const lt = value.indexOf('<');
  if (lt >= 0) {
    const gt = value.indexOf('>', lt);
    return gt < 0 ? null : gt + 1;
  }
  const semi = value.indexOf(';');
  return semi < 0 ? value.length : semi;
}

/** The display name (as written, quotes kept) and the URI of a From / To value; null when malformed. */
export function splitNameAddr(value: string): { display: string; uri: string; tail: string } | null {
  const end = prefixEnd(value);
  if (end === null) return null;
  const head = value.slice(0, end);
  const tail = value.slice(end);
  const lt = head.indexOf('<');
  if (lt < 0) return { display: '', uri: head.trim(), tail };
  return { display: head.slice(0, lt).trim(), uri: head.slice(lt + 1, -1).trim(), tail };
}

/**
 * The value with the display name and/or the URI replaced (null: keep it; "" display: remove
 * it). The URI goes in angle brackets, so its own parameters stay apart from the header's.
 */
export function rewriteNameAddr(value: string, display: string | null, uri: string | null): string | null {
  const p = splitNameAddr(value);
  if (p === null) return null;
  const d = display ?? p.display;
  const u = uri ?? p.uri;
  // as Kamailio: a URI written without brackets stays so unless a display name or its own ';' needs them
  if (!value.includes('<') && d === '' && !u.includes(';')) return `${u}${p.tail}`;
  return `${d === '' ? '' : `${d} `}<${u}>${p.tail}`;
}

/** Put `original`'s "display <uri>" part in place of `current`'s, keeping `current`'s parameters (a reply's To-tag). */
export function restorePrefix(current: string, original: string): string | null {
  const end = prefixEnd(current);
  const origEnd = prefixEnd(original);
  if (end === null || origEnd === null) return null;
  return original.slice(0, origEnd).trim() + current.slice(end);
}
