/**
 * The media relay instances a config names, in Kamailio's form (rtpengine_sock, rtpproxy_sock):
 * each value is one set, "[<id> ==] <url>[=<weight>] <url>[=<weight>]…", a set without an id
 * being the default set. A url is `udp:<host>:<port>` or `udp6:<host>:<port>` (an IPv6 literal
 * in brackets); the port defaults to 22222 as in Kamailio. Unix sockets and websockets are not
 * supported here: they are refused at start, not ignored.
 */
import { isIP } from 'node:net';

export interface RelayUrl {
  /** as written, without the weight: how logs, statistics and RPC answers name the instance */
  readonly url: string;
  readonly family: 4 | 6;
  /** an IP literal (IPv6 without brackets) or a host name, resolved when the module starts */
  readonly host: string;
  readonly port: number;
  readonly weight: number;
}

export interface RelaySetSpec {
  readonly id: number;
  readonly urls: readonly RelayUrl[];
}

const DEFAULT_PORT = 22222;

/** One url with its optional weight; throws with a message naming what is wrong. */
export function parseRelayUrl(item: string): RelayUrl {
  const eq = item.indexOf('=');
  const url = eq < 0 ? item : item.slice(0, eq);
  let weight = 1;
  if (eq >= 0) {
    const w = item.slice(eq + 1);
    if (!/^\d{1,6}$/.test(w)) throw new Error(`bad weight in "${item}" (a whole number expected)`);
    weight = Number(w);
  }
  const lower = url.toLowerCase();
  let family: 4 | 6;
  let rest: string;
  if (lower.startsWith('udp:')) {
    family = 4;
    rest = url.slice(4);
  } else if (lower.startsWith('udp6:')) {
    family = 6;
    rest = url.slice(5);
  } else if (lower.startsWith('unix:') || lower.startsWith('ws://') || lower.startsWith('wss://')) {
    throw new Error(`"${url}": only udp: and udp6: instances are supported`);
  } else {
    throw new Error(`"${url}": an instance must start with udp: or udp6:`);
  }
  let host: string;
  let portText: string;
  if (rest.startsWith('[')) {
    const close = rest.indexOf(']');
    if (close < 0) throw new Error(`"${url}": unclosed [ in the address`);
    host = rest.slice(1, close);
    portText = rest.slice(close + 1).replace(/^:/, '');
  } else if (family === 6 && isIP(rest) === 6) {
    host = rest;
    portText = '';
  } else {
    const colon = rest.lastIndexOf(':');
    host = colon < 0 ? rest : rest.slice(0, colon);
    portText = colon < 0 ? '' : rest.slice(colon + 1);
  }
  if (host === '') throw new Error(`"${url}": no host`);
  const port = portText === '' ? DEFAULT_PORT : Number(portText);
  if (!/^\d{0,5}$/.test(portText) || !Number.isInteger(port) || port < 1 || port > 65535) {
    throw new Error(`"${url}": bad port "${portText}"`);
  }
  if (isIP(host) !== 0 && isIP(host) !== family) throw new Error(`"${url}": an IPv${String(isIP(host))} address under udp${family === 6 ? '6' : ''}:`);
  return { url, family, host, port, weight };
}

/** One config value: "[id ==] urls". */
export function parseRelaySet(value: string, defaultId: number): RelaySetSpec {
  let id = defaultId;
  let list = value;
  const sep = value.indexOf('==');
  if (sep >= 0) {
    const idText = value.slice(0, sep).trim();
    if (!/^\d{1,9}$/.test(idText)) throw new Error(`bad set id "${idText}" in "${value}"`);
    id = Number(idText);
    list = value.slice(sep + 2);
  }
  const items = list.split(/\s+/).filter((s) => s !== '');
  if (items.length === 0) throw new Error(`no instance in "${value}"`);
  return { id, urls: items.map(parseRelayUrl) };
}

/**
 * Every value of the parameter (one per Kamailio modparam line). Values naming the same set id
 * add to it, as repeated modparam lines do in Kamailio; an instance listed twice in a set is
 * kept once (the later weight wins).
 */
export function parseRelaySocks(values: readonly string[], defaultId = 0): RelaySetSpec[] {
  const sets = new Map<number, RelayUrl[]>();
  for (const v of values) {
    if (v.trim() === '') continue;
    const set = parseRelaySet(v, defaultId);
    const urls = sets.get(set.id) ?? [];
    for (const u of set.urls) {
      const i = urls.findIndex((x) => x.url === u.url);
      if (i >= 0) urls[i] = u;
      else urls.push(u);
    }
    sets.set(set.id, urls);
  }
  return [...sets].map(([id, urls]) => ({ id, urls }));
}
