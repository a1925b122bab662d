/**
 * The Record-Route a proxy inserts (RFC 3261 §16.6 step 4), as Kamailio's rr module writes it.
 * A script asks for it (KSR.rr.record_route…) before the request is sent, but the header names
 * the socket the request leaves on, which is known only when a branch or a stateless forward
 * picks it: so the request is kept as a RecordRouteEdit in the message's HeaderEdits and
 * written here, per send, from the receiving and the sending socket.
 *
 * Double record-routing (rr's enable_double_rr): when the two sockets differ, two headers go
 * out, the sending socket's on top, each with `;r2=on`, so the in-dialog requests coming back
 * on either side find this proxy on the socket that faces them. The parameter order of each
 * form is Kamailio's (checked against Kamailio 5.6), so a UA sees the same bytes.
 */
import type { HeaderEdits, SocketAddress, Source } from './types.js';

export type { SocketAddress };

export interface RecordRouteEdit {
  /** record_route (the sockets), record_route_advertised_address, record_route_preset */
  readonly kind: 'socket' | 'advertised' | 'preset';
  /** advertised: the address; preset: one or two `host[:port][;params]` as given; socket: none */
  readonly addrs: readonly string[];
  /** sips: when the R-URI is (rr's ignore_sips off) */
  readonly sips: boolean;
  /** user part of the URI ('' for none): rr's add_username */
  readonly user: string;
  /** `ftag` value ('' for none): rr's append_fromtag */
  readonly ftag: string;
  /** `;lr=on` instead of `;lr` (enable_full_lr) */
  readonly fullLr: boolean;
  /** enable_double_rr: 0 one header, 1 two when the sockets differ, 2 always two */
  readonly double: 0 | 1 | 2;
  /** record_route_params' text, then what add_rr_param gave before the header was asked for */
  readonly params: string;
  /** what add_rr_param gave after: added to every header */
  readonly added: string;
  /** how many hdr.insert lines came before it: it goes out between those and the later ones */
  readonly at: number;
}

/** Kamailio writes a socket as ip[:port][;transport=…]: port 5060 and UDP are left out. */
function socketText(s: SocketAddress): string {
  const ip = s.ip.includes(':') ? `[${s.ip}]` : s.ip;
  const port = s.port === 5060 ? '' : `:${String(s.port)}`;
  return s.proto === 'udp' ? `${ip}${port}` : `${ip}${port};transport=${s.proto}`;
}

function sameRealm(a: SocketAddress, b: SocketAddress): boolean {
  return a.proto === b.proto && a.port === b.port && a.ip === b.ip;
}

/** `;transport=` and `;r2=on` of one advertised-address header (Kamailio's conditional lumps). */
function advertisedParams(rr: RecordRouteEdit, s: SocketAddress, protos: boolean, realms: boolean): string {
  const transport = rr.double === 2 || protos ? `;transport=${s.proto}` : '';
  return rr.double === 2 || (rr.double === 1 && realms) ? `${transport};r2=on` : transport;
}

/**
 * The Record-Route header lines (CRLF-terminated) for a request received on `inbound` and sent
 * on `outbound`: the text to put at the top of the header section.
 */
export function recordRouteLines(rr: RecordRouteEdit, inbound: SocketAddress, outbound: SocketAddress): string {
  const head = `Record-Route: <${rr.sips ? 'sips' : 'sip'}:${rr.user === '' ? '' : `${rr.user}@`}`;
  const lr = rr.fullLr ? ';lr=on' : ';lr';
  const ftag = rr.ftag === '' ? '' : `;ftag=${rr.ftag}`;
  const realms = !sameRealm(inbound, outbound);
  switch (rr.kind) {
    case 'socket': {
      const tail = `${lr}${ftag}${rr.params}${rr.added}>\r\n`;
      if (rr.double === 2 || (rr.double === 1 && realms)) {
        return `${head}${socketText(outbound)};r2=on${tail}${head}${socketText(inbound)};r2=on${tail}`;
      }
      return `${head}${socketText(inbound)}${tail}`;
    }
    case 'advertised': {
      const addr = `${head}${rr.addrs[0] ?? ''}`;
      const protos = inbound.proto !== outbound.proto;
      const tail = `${ftag}${lr}${rr.params}${rr.added}>\r\n`;
      const inLine = `${addr}${advertisedParams(rr, inbound, protos, realms)}${tail}`;
      if (rr.double === 2 || (rr.double === 1 && protos)) return `${addr}${advertisedParams(rr, outbound, protos, realms)}${tail}${inLine}`;
      return inLine;
    }
    case 'preset': {
      let out = '';
      for (const addr of rr.addrs) out += `${head}${addr}${ftag}${rr.params}${lr}${rr.added}>\r\n`;
      return out;
    }
  }
}

/** A socket named by a URI (host possibly in brackets), as the writer above compares them. */
export function socketOf(proto: string, ip: string, port: number): SocketAddress {
  return { proto, ip: ip.replace(/^\[|\]$/g, ''), port };
}

/** The Record-Route lines for a request received as `src` and sent on `sock` ('' when none was asked for). */
export function recordRouteFor(edits: HeaderEdits | null, src: Source, sock: { readonly proto: string; readonly localIp: string; readonly localPort: number }): string {
  const rr = edits?.recordRoute ?? null;
  if (rr === null) return '';
  // our sockets' addresses are IP literals without brackets already
  return recordRouteLines(rr, { proto: src.proto, ip: src.localIp, port: src.localPort }, { proto: sock.proto, ip: sock.localIp, port: sock.localPort });
}
