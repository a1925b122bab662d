import { isIP } from 'node:net';
import type { Context } from '../host/kemi/context.js';
import { defineModule, fn, type MyselfMatcher } from '../host/kemi/types.js';
import { parseNameAddr } from '../host/sip/name-addr.js';
import { parseUri } from '../host/sip/uri.js';
import { ruriOf, toOf } from './msg-fields.js';

interface SiputilsState {
  readonly myself: MyselfMatcher;
}

/**
 * Kamailio's is_first_hop_mode. A request is at its first hop when it carries one Via. A reply is
 * at its first hop when the top Record-Route names this server; in mode 0 that Record-Route host
 * must also be an IP address and the reply must not come from that very address (a loop).
 */
function isFirstHop(s: SiputilsState, ctx: Context, mode: number): number {
  const msg = ctx.msg;
  if (msg === null) return -1;
  if (msg.isRequest) return msg.getHeaderElements('via').length < 2 ? 1 : -1;
  const rr = msg.getHeaderElements('record-route')[0];
  if (rr === undefined) return 1;
  const na = parseNameAddr(rr);
  const uri = na === null ? null : parseUri(na.uri);
  if (uri === null) return -1;
  const host = uri.host.replace(/^\[|\]$/g, '');
  const hostIsIp = isIP(host) !== 0;
  if (mode === 0 && !hostIsIp) return -1;
  if (!s.myself.isMyself(uri.host, uri.port)) return -1;
  if (mode === 0) {
    const transport = uri.params.get('transport')?.toLowerCase() ?? '';
    const samePort = ctx.src.port === uri.port || (uri.port === 0 && ctx.src.port === 5060);
    const sameProto = transport === ctx.src.proto || (transport === '' && ctx.src.proto === 'udp');
    if (host.toLowerCase() === ctx.src.ip.toLowerCase() && samePort && sameProto) return -1;
  }
  return 1;
}

/** Kamailio's ki_uri_param_value: `value` null means "present with no value". */
function uriParam(ctx: Context, name: string, value: string | null): number {
  const u = ruriOf(ctx);
  if (u === null) return -1;
  const v = u.params.get(name.toLowerCase());
  if (v === undefined) return -1;
  if (value === null) return v === '' ? 1 : -1;
  return v === value ? 1 : -1;
}

const ALNUM = /^[0-9A-Za-z]$/;

function isAlphanumEx(text: string, extra: string): number {
  if (text.length === 0) return -2;
  for (const ch of text) {
    if (!ALNUM.test(ch) && !extra.includes(ch)) return -3;
  }
  return 1;
}

/** KSR.siputils: SIP message and value tests (Kamailio's siputils module, the cheap part). */
export default defineModule({
  name: 'siputils',
  doc: 'SIP message and value tests (Kamailio siputils): to-tag, request/reply, first hop, URI and number checks.',
  init: (host): SiputilsState => ({ myself: host.myself }),
  functions: {
    has_totag: fn([], 'int', (_s, ctx) => {
      const to = ctx.msg === null ? null : toOf(ctx.msg);
      return to !== null && to.tag !== '' ? 1 : -1;
    }, 'Positive when the To header has a tag (an in-dialog request), negative otherwise.'),
    is_request: fn([], 'int', (_s, ctx) => (ctx.msg?.isRequest === true ? 1 : -1),
      'Positive when the message is a request, negative otherwise.'),
    is_reply: fn([], 'int', (_s, ctx) => (ctx.msg !== null && !ctx.msg.isRequest ? 1 : -1),
      'Positive when the message is a reply, negative otherwise.'),
    is_first_hop: fn([], 'int', (s: SiputilsState, ctx) => isFirstHop(s, ctx, 0),
      'Positive when this server is the first hop: a request with one Via, or a reply whose top Record-Route is this server (by IP, not looped).'),
    is_first_hop_mode: fn(['int'], 'int', (s: SiputilsState, ctx, mode) => isFirstHop(s, ctx, mode),
      'is_first_hop; mode 1 accepts a host name in the top Record-Route and skips the loop test.'),
    is_uri: fn(['str'], 'int', (_s, _c, text) => (text !== '' && parseUri(text) !== null ? 1 : -1),
      'Positive when the value is a valid sip:, sips: or tel: URI, negative otherwise.'),
    is_tel_number: fn(['str'], 'int', (_s, _c, v) => (v !== '' && /^(\+[1-9])?[0-9]*$/.test(v) ? 1 : -2),
      'Positive when the value is a telephone number: digits with an optional leading + and non-zero first digit; -2 otherwise.'),
    is_numeric: fn(['str'], 'int', (_s, _c, v) => (/^[0-9]+$/.test(v) ? 1 : -2),
      'Positive when the value holds decimal digits only; -2 otherwise (also when empty).'),
    is_alphanum: fn(['str'], 'int', (_s, _c, v) => isAlphanumEx(v, ''),
      'Positive when the value holds ASCII letters and digits only; -2 when empty, -3 otherwise.'),
    is_alphanumex: fn(['str', 'str'], 'int', (_s, _c, v, extra) => isAlphanumEx(v, extra),
      'Positive when the value holds ASCII letters, digits and characters of the second value only; -2 when empty, -3 otherwise.'),
    uri_param: fn(['str'], 'int', (_s, ctx, name) => uriParam(ctx, name, null),
      'Positive when the current R-URI has this parameter with no value, negative otherwise.'),
    uri_param_value: fn(['str', 'str'], 'int', (_s, ctx, name, value) => uriParam(ctx, name, value),
      'Positive when the current R-URI has this parameter with exactly this value, negative otherwise.'),
    uri_param_any: fn(['str'], 'int', (_s, ctx, name) => (ruriOf(ctx)?.params.has(name.toLowerCase()) === true ? 1 : -1),
      'Positive when the current R-URI has this parameter, with or without a value; negative otherwise.'),
  },
});
