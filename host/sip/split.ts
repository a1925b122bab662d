/**
 * Header-value lexing shared by the SIP parsers: splitting a list header into its elements, and
 * the small pieces of RFC 3261 §25.1 every structured header needs (token, quoted-string,
 * SWS, generic-param).
 */

const TOKEN = 1;
const WS = 2;
/** Characters a gen-value may hold besides token: `host` needs `:` `[` `]` (RFC 3261 §25.1, RFC 5118). */
const GENVAL = 4;
/** hostname / IPv4 characters; '_' is outside RFC 3261 but common in DNS names, so accepted. */
const HOST = 8;
/** Never unescaped in a URI: controls, SP, DEL, `"`, `<`, `>` (RFC 3261 §25.1). */
const URIBAD = 16;

// Lookup tables: on V8 one table read per character beats a chain of range comparisons.
const CLASS = new Uint8Array(256);
for (let c = 0x30; c <= 0x39; c++) CLASS[c] = TOKEN | GENVAL | HOST;
for (let c = 0x41; c <= 0x5a; c++) CLASS[c] = TOKEN | GENVAL | HOST;
for (let c = 0x61; c <= 0x7a; c++) CLASS[c] = TOKEN | GENVAL | HOST;
for (const ch of "-.!%*_+`'~") CLASS[ch.charCodeAt(0)] = TOKEN | GENVAL;
for (const ch of '-._') CLASS[ch.charCodeAt(0)] = TOKEN | GENVAL | HOST;
for (const ch of ':[]') CLASS[ch.charCodeAt(0)] = GENVAL;
for (let c = 0; c <= 0x20; c++) CLASS[c] = URIBAD;
for (const ch of '"<>\x7f') CLASS[ch.charCodeAt(0)] = URIBAD;
CLASS[0x20] = WS | URIBAD;
CLASS[0x09] = WS | URIBAD;

/** End of the run of hostname / IPv4 characters starting at `pos`. */
export function scanHost(s: string, pos: number, end: number): number {
  while (pos < end) {
    const c = s.charCodeAt(pos);
    if (c >= 256 || ((CLASS[c] ?? 0) & HOST) === 0) break;
    pos++;
  }
  return pos;
}

/** True when `s[from, end)` holds a character no URI may hold unescaped. */
export function hasUriForbidden(s: string, from: number, end = s.length): boolean {
  for (let i = from; i < end; i++) {
    const c = s.charCodeAt(i);
    if (c < 256 && ((CLASS[c] ?? 0) & URIBAD) !== 0) return true;
  }
  return false;
}

/** True for a `token` character (RFC 3261 §25.1). */
export function isTokenChar(c: number): boolean {
  return c < 256 && ((CLASS[c] ?? 0) & TOKEN) !== 0;
}

/** True for SP or HTAB. */
export function isWs(c: number): boolean {
  return c === 0x20 || c === 0x09;
}

/** True when `s[start, end)` is a non-empty token. */
export function isToken(s: string, start = 0, end = s.length): boolean {
  if (start >= end) return false;
  for (let i = start; i < end; i++) {
    const c = s.charCodeAt(i);
    if (c >= 256 || ((CLASS[c] ?? 0) & TOKEN) === 0) return false;
  }
  return true;
}

/** Index of the first non-SP/HTAB at or after `pos` (values are unfolded, so LWS is SP/HTAB). */
export function skipWs(s: string, pos: number, end = s.length): number {
  while (pos < end && isWs(s.charCodeAt(pos))) pos++;
  return pos;
}

/** End of `s[start, end)` with trailing SP/HTAB removed. */
export function trimWsEnd(s: string, start: number, end: number): number {
  while (end > start && isWs(s.charCodeAt(end - 1))) end--;
  return end;
}

/**
 * `pos` is at a DQUOTE: returns the index just after the closing DQUOTE, or -1 when the
 * quoted-string is unterminated. A backslash escapes any next character (quoted-pair).
 */
export function skipQuoted(s: string, pos: number, end = s.length): number {
  for (let i = pos + 1; i < end; i++) {
    const c = s.charCodeAt(i);
    if (c === 0x5c) i++;
    else if (c === 0x22) return i + 1;
  }
  return -1;
}

/**
 * Where the first comma-separated element of a list header ends (the index of the separating
 * comma, or `s.length`). Commas inside quoted strings and `<...>` do not separate (RFC 3261 §7.3.1).
 */
export function firstElementEnd(s: string, pos = 0): number {
  const end = s.length;
  let angle = false;
  for (let i = pos; i < end; i++) {
    const c = s.charCodeAt(i);
    if (c === 0x2c) {
      if (!angle) return i;
    } else if (c === 0x22 && !angle) {
      const q = skipQuoted(s, i, end);
      if (q < 0) return end;
      i = q - 1;
    } else if (c === 0x3c) angle = true;
    else if (c === 0x3e) angle = false;
  }
  return end;
}

/**
 * Splits a list header value (Via, Contact, Route, Record-Route, …) into its trimmed elements;
 * empty elements are dropped. Only meaningful for headers defined as comma lists: `Date` or
 * `WWW-Authenticate` carry commas of their own.
 */
export function splitElements(s: string): string[] {
  const out: string[] = [];
  let pos = 0;
  const end = s.length;
  while (pos <= end) {
    const stop = firstElementEnd(s, pos);
    const a = skipWs(s, pos, stop);
    const b = trimWsEnd(s, a, stop);
    if (b > a) out.push(s.slice(a, b));
    pos = stop + 1;
  }
  return out;
}

/** Receives each parameter: name is s[ns, ne), value s[vs, ve) (vs === ve for a flag). */
export interface ParamSink {
  param(s: string, ns: number, ne: number, vs: number, ve: number): void;
}

/**
 * Scans `*( SEMI generic-param )` from `pos` (RFC 3261 §25.1; SEMI and EQUAL allow LWS around),
 * handing each parameter to `sink`. A value is a token, a host (IPv6 included) or a
 * quoted-string (kept with its quotes). Stops at `end`, or at a comma when `stopAtComma` (the
 * next element of a list header). Returns where it stopped, or -1 on a syntax error, including
 * an empty parameter (`;;`) or text that is not a parameter.
 */
export function scanParams(s: string, pos: number, end: number, stopAtComma: boolean, sink: ParamSink | null): number {
  for (;;) {
    pos = skipWs(s, pos, end);
    if (pos >= end) return end;
    const sep = s.charCodeAt(pos);
    if (sep === 0x2c && stopAtComma) return pos;
    if (sep !== 0x3b) return -1;
    pos = skipWs(s, pos + 1, end);
    const nameStart = pos;
    while (pos < end) {
      const c = s.charCodeAt(pos);
      if (c >= 256 || ((CLASS[c] ?? 0) & TOKEN) === 0) break;
      pos++;
    }
    if (pos === nameStart) return -1;
    const nameEnd = pos;
    pos = skipWs(s, pos, end);
    let valueStart = nameEnd;
    let valueEnd = nameEnd;
    if (pos < end && s.charCodeAt(pos) === 0x3d) {
      pos = skipWs(s, pos + 1, end);
      valueStart = pos;
      if (pos < end && s.charCodeAt(pos) === 0x22) {
        pos = skipQuoted(s, pos, end);
        if (pos < 0) return -1;
      } else {
        while (pos < end) {
          const c = s.charCodeAt(pos);
          if (c >= 256 || ((CLASS[c] ?? 0) & GENVAL) === 0) break;
          pos++;
        }
        if (pos === valueStart) return -1;
      }
      valueEnd = pos;
    }
    if (sink !== null) sink.param(s, nameStart, nameEnd, valueStart, valueEnd);
  }
}

/** True when s[start, end) is `lower`, ignoring ASCII case. */
export function nameEquals(s: string, start: number, end: number, lower: string): boolean {
  if (end - start !== lower.length) return false;
  for (let i = 0; i < lower.length; i++) {
    let c = s.charCodeAt(start + i);
    if (c >= 0x41 && c <= 0x5a) c |= 0x20;
    if (c !== lower.charCodeAt(i)) return false;
  }
  return true;
}

class MapSink implements ParamSink {
  readonly map = new Map<string, string>();

  param(s: string, ns: number, ne: number, vs: number, ve: number): void {
    const name = s.slice(ns, ne).toLowerCase();
    if (!this.map.has(name)) this.map.set(name, s.slice(vs, ve));
  }
}

/**
 * Builds the parameter map of a parameter list already checked by {@link scanParams}: names
 * lowercased, values as written, '' for a flag. A repeated name is malformed; the first one is
 * kept, the liberal reading.
 */
export function paramMap(s: string, pos: number, end: number): Map<string, string> {
  const sink = new MapSink();
  scanParams(s, pos, end, true, sink);
  return sink.map;
}
