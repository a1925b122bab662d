/**
 * The Route header set of a request (RFC 3261 §20.34): its entries in order across every Route
 * header line, and how a relayed request writes the lines once some entries were consumed by
 * loose routing (§16.4, §16.12). A line keeps the text of the entries it still holds as
 * received, so only what was consumed changes (Kamailio deletes those bytes the same way).
 */
import type { SipMessage } from './message.js';
import { parseNameAddr } from './name-addr.js';
import { firstElementEnd, skipWs, trimWsEnd } from './split.js';
import { parseUri, type SipUri } from './uri.js';

/** One Route entry: the name-addr as written, and its URI when it parses. */
export interface RouteEntry {
  readonly text: string;
  /** the URI inside the angle brackets, as written */
  readonly uriText: string;
  readonly uri: SipUri | null;
}

/** Every Route entry of the message, in order; null when one is not a name-addr (malformed). */
export function routeEntries(msg: SipMessage): RouteEntry[] | null {
  const out: RouteEntry[] = [];
  for (const text of msg.getHeaderElements('route')) {
    const na = parseNameAddr(text);
    if (na === null) return null;
    out.push({ text, uriText: na.uri, uri: parseUri(na.uri) });
  }
  return out;
}

/**
 * The value to write for one Route line whose entries are numbered from `first` (over the whole
 * set), leaving out the `drop`ped ones: the received text from the first kept entry to the last
 * one ('' when none is kept). `count` is how many entries the line holds.
 */
export function keptRouteValue(value: string, first: number, drop: ReadonlySet<number>): { text: string; count: number } {
  let count = 0;
  let from = -1;
  let to = -1;
  let pos = 0;
  while (pos <= value.length) {
    const stop = firstElementEnd(value, pos);
    const a = skipWs(value, pos, stop);
    const b = trimWsEnd(value, a, stop);
    if (b > a) {
      if (!drop.has(first + count)) {
        if (from < 0) from = a;
        to = b;
      }
      count++;
    }
    pos = stop + 1;
  }
  return { text: from < 0 ? '' : value.slice(from, to), count };
}

/**
 * The parameters of a URI as written, from the first `;` after the host part to the headers:
 * `;lr;ftag=x` (what rr's check_route_param matches against). '' when it has none.
 */
export function uriParamsText(uri: string): string {
  const at = uri.indexOf('@');
  const semi = uri.indexOf(';', at < 0 ? 0 : at);
  if (semi < 0) return '';
  const q = uri.indexOf('?', semi);
  return uri.slice(semi, q < 0 ? uri.length : q);
}

/**
 * A URI parameter's value in a parameter text like `;lr;ftag=abc` (Kamailio's get_route_param):
 * '' for a flag, null when absent. Names compare case-insensitively; quotes around a value go.
 */
export function paramValue(params: string, name: string): string | null {
  for (const part of params.split(';')) {
    const eq = part.indexOf('=');
    const n = (eq < 0 ? part : part.slice(0, eq)).trim();
    if (n.toLowerCase() !== name) continue;
    if (eq < 0) return '';
    return part.slice(eq + 1).trim().replace(/^["'](.*)["']$/, '$1');
  }
  return null;
}
