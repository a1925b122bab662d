/**
 * nathelper's Contact functions: fix_nated_contact, set_contact_alias(_trim),
 * add_contact_alias(_addr), add_rcv_param, set_alias_to_pv. A rewritten Contact replaces its
 * header line when the message is sent (HeaderEdits.replace); later nathelper calls on the same
 * message see the rewritten URI, as Kamailio's see the contact it re-pointed.
 */
import { isIP } from 'node:net';
import type { Context } from '../../host/kemi/context.js';
import type { ModuleHost } from '../../host/kemi/types.js';
import { aliasUri, trimAlias } from '../../host/nathelper/alias.js';
import { firstContact, protoDigit, sourceOf, srcAlias, srcHost, srcProto, srcUri, withUri, type ContactSpot } from '../../host/nathelper/contact.js';
import { sameHost } from '../../host/nathelper/private-net.js';
import type { SipMessage } from '../../host/sip/message.js';
import { splitElements } from '../../host/sip/split.js';
import { cutHostPort } from '../../host/sip/uri-edit.js';
import type { NathelperParams } from './params.js';

export interface NhState {
  readonly host: ModuleHost;
  readonly p: NathelperParams;
  /** header lines nathelper rewrote, per message: line index → value (what HeaderEdits.replace holds) */
  readonly rewritten: WeakMap<SipMessage, Map<number, string>>;
  /** messages whose Contact URI was replaced (fix_nated_contact, set_contact_alias): a second one fails, as in Kamailio */
  readonly uriReplaced: WeakMap<SipMessage, number>;
}

/**
 * The value nathelper gave this line of ctx's message, if the edit still stands: a branch or
 * reply route's edits are taken back when it ends (RouteScope), and then so is this.
 */
export function currentLine(s: NhState, ctx: Context, line: number): string | undefined {
  const msg = ctx.msg;
  if (msg === null || !ctx.hasHeaderEdits) return undefined;
  const mine = s.rewritten.get(msg)?.get(line);
  return mine !== undefined && ctx.headerEdits.replace?.get(line) === mine ? mine : undefined;
}

function contactOf(s: NhState, ctx: Context): ContactSpot | -1 | -2 | -3 {
  const msg = ctx.msg;
  if (msg === null) return -1;
  return firstContact(msg, (i) => currentLine(s, ctx, i));
}

function write(s: NhState, ctx: Context, line: number, value: string): void {
  const msg = ctx.msg as SipMessage;
  let mine = s.rewritten.get(msg);
  if (mine === undefined) {
    mine = new Map();
    s.rewritten.set(msg, mine);
  }
  mine.set(line, value);
  const edits = ctx.headerEdits;
  edits.replace ??= new Map();
  edits.replace.set(line, value);
}

/** The Contact URI was replaced already (and that edit stands): Kamailio refuses a second replacement. */
function replacedTwice(s: NhState, ctx: Context, spot: ContactSpot, fname: string): boolean {
  const msg = ctx.msg as SipMessage;
  if (s.uriReplaced.get(msg) !== spot.line || currentLine(s, ctx, spot.line) === undefined) return false;
  s.host.complain(`${fname}: the Contact was already rewritten (you can't update contact twice)`);
  return true;
}

/** The Contact URI is now `uri` for what runs after (registrar's save stores it, as Kamailio's). */
function replaced(s: NhState, ctx: Context, spot: ContactSpot, uri: string): void {
  const msg = ctx.msg as SipMessage;
  s.uriReplaced.set(msg, spot.line);
  msg.contactUri = uri;
}

/** fix_nated_contact: the Contact's host:port becomes the source address (maddr dropped). */
export function fixNatedContact(s: NhState, ctx: Context): number {
  const spot = contactOf(s, ctx);
  if (typeof spot === 'number') return -1;
  if (replacedTwice(s, ctx, spot, 'fix_nated_contact')) return -1;
  const cut = cutHostPort(spot.uri);
  if (cut === null) return -1;
  const rest = cut.rest.replace(/;[ \t]*maddr=[^;?]*/i, '');
  const uri = `${cut.before}${srcHost(ctx)}:${String(sourceOf(ctx).port)}${rest}`;
  write(s, ctx, spot.line, withUri(spot, uri, false));
  replaced(s, ctx, spot, uri);
  return 1;
}

/** set_contact_alias([trim]): ";alias=ip~port~proto" of the source at the end of the Contact URI, in <> when it was bare. */
export function setContactAlias(s: NhState, ctx: Context, trim: boolean): number {
  const spot = contactOf(s, ctx);
  if (typeof spot === 'number') return -1;
  if (replacedTwice(s, ctx, spot, 'set_contact_alias')) return -1;
  const base = trim ? (trimAlias(spot.uri, s.p.alias_name) ?? spot.uri) : spot.uri;
  const uri = `${base};${s.p.alias_name}=${srcAlias(ctx)}`;
  write(s, ctx, spot.line, withUri(spot, uri, true));
  replaced(s, ctx, spot, uri);
  return 1;
}

/**
 * add_contact_alias: the alias parameter right after the URI's host:port (before its other
 * parameters, where Kamailio inserts it), `<` … `>` added when the header has none.
 */
function insertAlias(s: NhState, ctx: Context, spot: ContactSpot, alias: string): number {
  if (replacedTwice(s, ctx, spot, 'add_contact_alias')) return -1;
  const cut = cutHostPort(spot.uri);
  if (cut === null) return -1;
  const uri = `${cut.before}${cut.hostport};${s.p.alias_name}=${alias}`;
  const bracket = !spot.value.includes('<');
  // without brackets the URI's own parameters end up after '>' (Kamailio inserts only '<' and '>')
  const value = bracket
    ? `${spot.value.slice(0, spot.start)}<${uri}>${cut.rest}${spot.value.slice(spot.end)}`
    : `${spot.value.slice(0, spot.start)}${uri}${cut.rest}${spot.value.slice(spot.end)}`;
  write(s, ctx, spot.line, value);
  return 1;
}

export function addContactAlias(s: NhState, ctx: Context): number {
  const spot = contactOf(s, ctx);
  if (spot === -2) return 2;
  if (typeof spot === 'number') return -1;
  const u = spot.parsed;
  const transport = u.params.get('transport')?.toLowerCase() ?? '';
  const src = sourceOf(ctx);
  // Kamailio compares the URI's transport parameter as given: without one it never matches
  if (
    isIP(u.host.replace(/^\[|\]$/g, '')) !== 0 && sameHost(u.host, src.ip) &&
    (u.port === src.port || (u.port === 0 && src.port === 5060)) && transport === srcProto(src.proto)
  ) return 2;
  return insertAlias(s, ctx, spot, srcAlias(ctx));
}

export function addContactAliasAddr(s: NhState, ctx: Context, ip: string, port: string, proto: string): number {
  const spot = contactOf(s, ctx);
  if (spot === -2) return 2;
  if (typeof spot === 'number') return -1;
  if (isIP(ip.replace(/^\[|\]$/g, '')) === 0) {
    s.host.complain('add_contact_alias_addr: the ip is not an IP address', { ip });
    return -1;
  }
  if (!/^\d{1,5}$/.test(port) || Number(port) === 0 || Number(port) > 65535) {
    s.host.complain('add_contact_alias_addr: the port is not a port number', { port });
    return -1;
  }
  const digit = protoDigit(proto);
  if (digit === 0) {
    s.host.complain('add_contact_alias_addr: unknown protocol (udp, tcp, tls, sctp, ws, wss)', { proto });
    return -1;
  }
  return insertAlias(s, ctx, spot, `${ip}~${port}~${String(digit)}`);
}

/**
 * add_rcv_param(flag): received="<source URI>" after each contact (flag 0), or ;received=<URI>
 * inside each Contact URI (flag ≠ 0, UDP only).
 */
export function addRcvParam(s: NhState, ctx: Context, upos: number): number {
  const msg = ctx.msg;
  if (msg?.isRequest !== true) return -1;
  if (upos !== 0 && srcProto(sourceOf(ctx).proto) !== 'udp') {
    s.host.complain('add_rcv_param: adding the received parameter to the Contact URI works only for UDP');
    return -1;
  }
  const rcv = srcUri(ctx);
  const headers = msg.headers;
  for (let i = 0; i < headers.length; i++) {
    if (headers[i]?.name !== 'contact') continue;
    const value = currentLine(s, ctx, i) ?? (headers[i]?.value ?? '');
    const els = splitElements(value);
    if (els.length === 1 && els[0] === '*') continue;
    const out = els.map((el) => {
      if (upos === 0) return `${el};received="${rcv}"`;
      const gt = el.indexOf('>');
      if (gt >= 0) return `${el.slice(0, gt)};received=${rcv}${el.slice(gt)}`;
      const semi = el.indexOf(';');
      return semi < 0 ? `${el};received=${rcv}` : `${el.slice(0, semi)};received=${rcv}${el.slice(semi)}`;
    });
    write(s, ctx, i, out.join(', '));
  }
  // without a Contact (or with `*`) there is nothing to add to: 1, as Kamailio's contact_iterator ends at once
  return 1;
}

/** set_alias_to_pv(pv): the alias of the (single) first Contact as "sip:ip:port;transport=…" into a PV. */
export function setAliasToPv(s: NhState, ctx: Context, pvName: string): number {
  const msg = ctx.msg;
  const value = msg?.getHeader('contact');
  if (value === undefined) return -1;
  const els = splitElements(value);
  if (els.length !== 1) return -1;
  const uri = aliasUri(els[0] ?? '', s.p.alias_name);
  if (uri === null) return -1;
  const pv = s.host.pvs.resolve(pvName);
  if (pv?.set === undefined) {
    s.host.complain('set_alias_to_pv: not a writable pseudo-variable', { pv: pvName });
    return -1;
  }
  pv.set(ctx, uri);
  return 1;
}
