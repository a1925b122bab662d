/**
 * The connection addresses of an SDP (RFC 4566 §5.7): the session's c= and each media
 * description's, which is what nat_uac_test's SDP tests look at.
 */

export interface SdpConn {
  /** 'IP4' / 'IP6' as written, uppercased */
  readonly family: string;
  readonly addr: string;
}

export interface SdpAddrs {
  /** the session-level c=, null when absent */
  readonly session: SdpConn | null;
  /** per m= line: its own c=, else null (the session's applies) */
  readonly media: readonly (SdpConn | null)[];
}

function conn(line: string): SdpConn | null {
  const m = /^c=IN[ \t]+(IP[46])[ \t]+([^ \t/]+)/i.exec(line);
  return m === null ? null : { family: (m[1] ?? '').toUpperCase(), addr: m[2] ?? '' };
}

export function sdpAddrs(sdp: string): SdpAddrs {
  let session: SdpConn | null = null;
  const media: (SdpConn | null)[] = [];
  for (const line of sdp.split(/\r?\n/)) {
    if (line.startsWith('m=')) media.push(null);
    else if (line.startsWith('c=')) {
      const c = conn(line);
      if (media.length === 0) session = c;
      else media[media.length - 1] = c;
    }
  }
  return { session, media };
}

/** Each media stream's address (its own c=, else the session's), as Kamailio's SDP parser gives them. */
export function streamAddrs(a: SdpAddrs): (SdpConn | null)[] {
  return a.media.map((c) => c ?? a.session);
}
