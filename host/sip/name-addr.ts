/**
 * From / To / Contact / Route style values: `[display-name] <URI> *(;param)` or a bare
 * `URI *(;param)` (RFC 3261 §20.10, §25.1 name-addr / addr-spec).
 */
import { isTokenChar, isWs, nameEquals, paramMap, scanParams, skipQuoted, skipWs, trimWsEnd, type ParamSink } from './split.js';
import { isAbsoluteUri } from './uri.js';

/** One name-addr or addr-spec value with its header parameters. */
export interface NameAddr {
  /** Without the quotes and with quoted-pairs resolved (`"a \"b\""` → `a "b"`); '' when absent. */
  displayName: string;
  /** The URI as written, without the angle brackets. Any scheme. */
  uri: string;
  /** Header parameters (after the URI): names lowercased, values as written, '' for a flag. */
  params: ReadonlyMap<string, string>;
  /** The `tag` parameter, '' when absent. */
  tag: string;
}

/** A name-addr whose parameter map is built only when asked for: the parser needs just the tag. */
class ParsedNameAddr implements NameAddr, ParamSink {
  tag = '';
  private map: ReadonlyMap<string, string> | null = null;

  constructor(
    readonly displayName: string,
    readonly uri: string,
    private readonly text: string,
    private readonly paramStart: number,
  ) {}

  get params(): ReadonlyMap<string, string> {
    this.map ??= paramMap(this.text, this.paramStart, this.text.length);
    return this.map;
  }

  /** Keeps the tag; the first occurrence wins (a tag value is never '', so '' means not seen). */
  param(s: string, ns: number, ne: number, vs: number, ve: number): void {
    if (ne - ns === 3 && this.tag === '' && nameEquals(s, ns, ne, 'tag')) this.tag = s.slice(vs, ve);
  }
}

function unquote(s: string, start: number, end: number): string {
  const bs = s.indexOf('\\', start);
  if (bs < 0 || bs >= end) return s.slice(start, end);
  let out = '';
  let from = start;
  for (let i = bs; i < end; i++) {
    if (s.charCodeAt(i) === 0x5c) {
      out += s.slice(from, i);
      from = i + 1;
      i++;
    }
  }
  return out + s.slice(from, end);
}

/**
 * Parses one From/To/Contact/Route element. In the bare form (no angle brackets) parameters
 * after the URI belong to the header, and the URI may not hold `,` `?` or `;` (RFC 3261 §20.10),
 * so `Contact: sip:a@b?Route=…` is rejected. Spaces inside the angle brackets are rejected
 * (RFC 4475 §3.1.2.14), as is an unquoted display name with non-token characters (§3.1.2.15).
 * Returns null when malformed.
 */
export function parseNameAddr(value: string): NameAddr | null {
  const end = trimWsEnd(value, 0, value.length);
  let pos = skipWs(value, 0, end);
  if (pos >= end) return null;
  let displayName = '';
  let uri: string;
  let lt = -1;
  const first = value.charCodeAt(pos);
  if (first === 0x22) {
    const q = skipQuoted(value, pos, end);
    if (q < 0) return null;
    displayName = unquote(value, pos + 1, q - 1);
    lt = skipWs(value, q, end);
    if (lt >= end || value.charCodeAt(lt) !== 0x3c) return null;
  } else if (first === 0x3c) {
    lt = pos;
  } else {
    let i = pos;
    while (i < end) {
      const c = value.charCodeAt(i);
      if (isTokenChar(c) || isWs(c)) i++;
      else break;
    }
    if (i >= end) return null;
    const stop = value.charCodeAt(i);
    if (stop === 0x3c) {
      displayName = value.slice(pos, trimWsEnd(value, pos, i));
      lt = i;
    } else if (stop !== 0x3a) {
      return null;
    }
  }
  if (lt >= 0) {
    const gt = value.indexOf('>', lt + 1);
    if (gt < 0) return null;
    uri = value.slice(lt + 1, gt);
    pos = gt + 1;
  } else {
    let i = pos;
    while (i < end) {
      const c = value.charCodeAt(i);
      if (c === 0x3b || isWs(c)) break;
      if (c === 0x2c || c === 0x3f) return null;
      i++;
    }
    uri = value.slice(pos, i);
    pos = i;
  }
  if (!isAbsoluteUri(uri)) return null;
  const na = new ParsedNameAddr(displayName, uri, value, pos);
  return scanParams(value, pos, end, false, na) < 0 ? null : na;
}
