/**
 * The SIP-side types the rest of the host shares: where a message came from and which of our
 * sockets took it, and the edits a script asks for on a message it relays (Kamailio's lumps).
 * They live here, with the SIP layer, and host/kemi imports them (never the other way round).
 */
import type { RecordRouteEdit } from './record-route.js';

export type TransportProto = 'udp' | 'tcp' | 'tls' | 'ws' | 'wss' | 'http';

/** Where a message came from and which of our sockets took it. */
export interface Source {
  readonly proto: TransportProto;
  readonly ip: string;
  readonly port: number;
  readonly localIp: string;
  readonly localPort: number;
}

/** One of our sockets as a Record-Route or a Route names it. */
export interface SocketAddress {
  readonly proto: string;
  /** IP literal, IPv6 without brackets */
  readonly ip: string;
  readonly port: number;
}

/** Changes a script asked for on the message it will relay (Kamailio's lumps). */
export interface HeaderEdits {
  /**
   * The Record-Route this proxy asked for (rr): written when the message is sent, because it
   * names the socket the message leaves on (host/sip/record-route.ts). null: none.
   */
  recordRoute: RecordRouteEdit | null;
  /** Route entries (indices over every Route header, in order) loose_route consumed: left out when sent */
  dropRoutes: ReadonlySet<number> | null;
  /** header lines (with CRLF) to put first, before our own Via (Kamailio's insert_hf), in order */
  readonly insert: string[];
  /** header lines (with CRLF) to put at the end of the header section */
  readonly append: string[];
  /**
   * lowercase header names to leave out, and `#<i>` for one header line: the i-th of the
   * received message's `headers` (auth's consume_credentials removes the credentials it used,
   * not every Authorization)
   */
  readonly remove: Set<string>;
  /** value to write for Max-Forwards, or null to keep what came in (maxfwd) */
  maxForwards: number | null;
  /**
   * the body to send instead of the one received (an SDP rewritten by a media relay), or null
   * to keep it; Content-Type stays as received, Content-Length is written from what is sent
   */
  body: Buffer | null;
  /**
   * received header lines (index in the message's `headers`) written with another value: a
   * Contact whose URI nathelper rewrote (fix_nated_contact, set_contact_alias). Absent: none.
   */
  replace?: Map<number, string>;
  /**
   * text edits by byte offset into the received message (textops' replace, subst…: Kamailio's
   * lumps), made when it is written out (host/sip/lumps.ts); absent when none
   */
  lumps?: Lump[];
}

/** One text edit of a received message (host/sip/lumps.ts). */
export interface Lump {
  /** byte offsets into the received message (msg.raw); start === end inserts */
  readonly start: number;
  readonly end: number;
  /** what replaces raw[start, end), a byte (latin1) string */
  readonly text: string;
}

/** Kamailio's send flags (set_reply_close & co.), for the replies to a message or what it is forwarded as. */
export const SEND_NO_CONNECT = 1;
/** close the connection once the message is written (TCP) */
export const SEND_CLOSE = 2;
