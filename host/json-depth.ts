/**
 * How deeply JSON text from a peer nests, found before it is parsed. V8's JSON.parse does not
 * recurse, but everything that walks the parsed value does (JSON.stringify, structured copies
 * into a script engine): a 100,000-deep answer from a JSON-RPC server overflowed the stack in
 * JSON.stringify and stopped the server. Refusing such text up front is cheaper and surer than
 * catching a RangeError wherever a walk may happen: a linear scan, no recursion, no allocation.
 *
 * Not a validator: it only counts brackets outside strings, and JSON.parse still judges the text.
 */

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const LBRACE = 0x7b;
const RBRACE = 0x7d;
const LBRACKET = 0x5b;
const RBRACKET = 0x5d;

/**
 * Index of the quote that closes the string opening at `start` (a quote), or text.length when
 * it is not closed. A quote is escaped when an odd number of backslashes precede it; each run of
 * backslashes is looked at once, so this stays linear.
 */
export function stringEnd(text: string, start: number): number {
  let from = start + 1;
  for (;;) {
    const q = text.indexOf('"', from);
    if (q < 0) return text.length;
    let b = q - 1;
    while (b > start && text.charCodeAt(b) === BACKSLASH) b--;
    if ((q - 1 - b) % 2 === 0) return q;
    from = q + 1;
  }
}

/** true when arrays/objects in `text` nest deeper than `max` (`[]` is depth 1, `[[]]` depth 2). */
export function jsonTooDeep(text: string, max: number): boolean {
  let depth = 0;
  const n = text.length;
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c === QUOTE) i = stringEnd(text, i);
    else if (c === LBRACE || c === LBRACKET) {
      if (++depth > max) return true;
    } else if (c === RBRACE || c === RBRACKET) depth--;
  }
  return false;
}

/** The error a parser of peer input reports for text nested too deeply. */
export function tooDeepMessage(max: number): string {
  return `JSON nested deeper than ${String(max)} levels`;
}
