/**
 * The `;alias=ip~port~proto` Contact URI parameter (Kamailio's core dset.c and nathelper): a
 * UA's received address carried in its Contact, so an in-dialog request to that Contact can be
 * sent where the UA really is (handle_ruri_alias) while the R-URI stays the UA's own.
 */
import { protoName } from './contact.js';

/** An alias value read back: where to send (`sip:ip:port[;transport=…]`) and the URI without it. */
export interface AliasTarget {
  readonly dst: string;
  readonly uri: string;
}

/** Where the URI parameters are: after host[:port], before `?headers`. */
function paramsSpan(uri: string): [number, number] {
  const at = uri.lastIndexOf('@', uri.indexOf('?') < 0 ? uri.length : uri.indexOf('?'));
  const hostStart = at < 0 ? uri.indexOf(':') + 1 : at + 1;
  let start = uri.indexOf(';', hostStart);
  const q = uri.indexOf('?', hostStart);
  const end = q < 0 ? uri.length : q;
  if (start < 0 || start > end) start = end;
  return [start, end];
}

/**
 * The URI with its alias parameter removed (set_contact_alias_trim): the last `;alias=` whose
 * value has the three parts, as uri_trim_rcv_alias; null when there is none.
 */
export function trimAlias(uri: string, name: string): string | null {
  const re = new RegExp(`;${escape(name)}=[^~]*~[^~]*~.(?=;|$)`, 'g');
  let last: RegExpExecArray | null = null;
  for (let m = re.exec(uri); m !== null; m = re.exec(uri)) last = m;
  if (last === null) return null;
  return uri.slice(0, last.index) + uri.slice(last.index + last[0].length);
}

function escape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * handle_ruri_alias on a URI: the first alias parameter (or the last, `last`), decoded, and the
 * URI without it. null: there is none (Kamailio's 2); a string: why it is malformed (-1).
 */
export function takeAlias(uri: string, name: string, last: boolean): AliasTarget | null | string {
  const [pStart, pEnd] = paramsSpan(uri);
  const prefix = `${name}=`;
  let found = -1;
  for (let i = pStart; i < pEnd;) {
    // i is at a ';'
    if (uri.startsWith(prefix, i + 1)) {
      found = i;
      if (!last) break;
    }
    const next = uri.indexOf(';', i + 1);
    i = next < 0 || next > pEnd ? pEnd : next;
  }
  if (found < 0) return null;
  const vStart = found + 1 + prefix.length;
  const semi = uri.indexOf(';', vStart);
  const vEnd = semi < 0 || semi > pEnd ? pEnd : semi;
  const value = uri.slice(vStart, vEnd);
  const parts = value.split('~');
  if (parts.length < 2) return 'no \'~\' in alias param value';
  if (parts.length < 3) return 'no second \'~\' in alias param value';
  const [ip = '', port = '', proto = ''] = parts;
  if (parts.length > 3 || proto.length !== 1) return proto === '' ? 'no proto in alias param' : 'invalid alias param value';
  const digit = proto.charCodeAt(0) - 0x30;
  const transport = protoName(digit);
  if (transport === '') return 'unknown proto in alias param';
  const host = ip.includes(':') && !ip.startsWith('[') ? `[${ip}]` : ip;
  const dst = `sip:${host}${port === '' ? '' : `:${port}`}${digit === 1 ? '' : `;transport=${transport}`}`;
  return { dst, uri: uri.slice(0, found) + uri.slice(vEnd) };
}

/**
 * set_alias_to_pv: the alias in a Contact (the whole contact, header parameters too) as
 * "sip:ip:port;transport=proto" — with the transport even for UDP, as Kamailio writes it.
 */
export function aliasUri(contact: string, name: string): string | null {
  const i = contact.indexOf(`;${name}=`);
  if (i < 0) return null;
  const m = /^([^~]*)~([^~]+)~(\d+)/.exec(contact.slice(i + name.length + 2));
  if (m === null) return null;
  return `sip:${m[1] ?? ''}:${m[2] ?? ''};transport=${protoName(Number(m[3]))}`;
}
