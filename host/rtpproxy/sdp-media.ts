/**
 * The parts of an SDP the rtpproxy module reads and rewrites itself (rtpproxy answers only a
 * port and an address; Kamailio's force_rtp_proxy edits the SDP): per session (from "v=") the
 * origin address (o=) and the session connection address (c=); per media description (from
 * "m=") its port, payload types and transport, its own c= address and its a=rtcp: port. Every
 * value keeps its place in the text, so the rewrite replaces exactly those bytes and leaves the
 * rest as it came.
 *
 * The text is the SDP as latin1 (one character per byte).
 */

export interface Span {
  readonly start: number;
  readonly end: number;
}

export interface SdpAddress {
  /** the address itself */
  readonly addr: Span;
  readonly text: string;
  readonly family: 4 | 6;
  /** the "4" or "6" of "IP4"/"IP6" (an address family change rewrites it too) */
  readonly familyAt: number;
}

export interface SdpStream {
  readonly port: Span;
  readonly portText: string;
  /** payload types as written after the transport ("0 8 101") */
  readonly payloads: string;
  readonly transport: string;
  readonly c: SdpAddress | null;
  readonly rtcpPort: Span | null;
}

export interface SdpSession {
  readonly o: SdpAddress | null;
  readonly c: SdpAddress | null;
  readonly streams: SdpStream[];
}

/** "IN IP4 1.2.3.4[/ttl]" starting at `from` in `line` (at `lineAt` in the text) */
function address(line: string, lineAt: number, from: number): SdpAddress | null {
  const m = /IN[ \t]+IP([46])[ \t]+([^ \t/]+)/y;
  m.lastIndex = from;
  const r = m.exec(line);
  if (r === null) return null;
  const family = r[1] === '6' ? 6 : 4;
  const text = r[2] ?? '';
  const start = lineAt + r.index + r[0].length - text.length;
  return { addr: { start, end: start + text.length }, text, family, familyAt: lineAt + r.index + r[0].indexOf('IP') + 2 };
}

/** The sessions of an SDP; sessions or streams that cannot be read are skipped as Kamailio's parser does not know them either. */
export function parseSdpMedia(sdp: string): SdpSession[] {
  const sessions: SdpSession[] = [];
  let session: { o: SdpAddress | null; c: SdpAddress | null; streams: SdpStream[] } | null = null;
  let stream: { port: Span; portText: string; payloads: string; transport: string; c: SdpAddress | null; rtcpPort: Span | null } | null = null;
  let at = 0;
  while (at < sdp.length) {
    let end = sdp.indexOf('\n', at);
    if (end < 0) end = sdp.length;
    const line = sdp.slice(at, end).replace(/\r$/, '');
    if (line.startsWith('v=')) {
      session = { o: null, c: null, streams: [] };
      sessions.push(session);
      stream = null;
    } else if (session !== null) {
      if (line.startsWith('o=') && stream === null) {
        const i = line.indexOf('IN', 2);
        session.o = i < 0 ? null : address(line, at, i);
      } else if (line.startsWith('c=')) {
        const c = address(line, at, 2);
        if (stream !== null) stream.c = c;
        else session.c = c;
      } else if (line.startsWith('m=')) {
        const m = /^m=\S+[ \t]+(\d+)(?:\/\d+)?[ \t]+(\S+)[ \t]*(.*)$/.exec(line);
        if (m !== null) {
          const portText = m[1] ?? '';
          const start = at + line.indexOf(portText, 2);
          stream = { port: { start, end: start + portText.length }, portText, transport: m[2] ?? '', payloads: m[3] ?? '', c: null, rtcpPort: null };
          session.streams.push(stream);
        } else {
          stream = null;
        }
      } else if (line.startsWith('a=rtcp:') && stream !== null) {
        const p = /^a=rtcp:(\d+)/.exec(line);
        if (p !== null) stream.rtcpPort = { start: at + 7, end: at + 7 + (p[1] ?? '').length };
      }
    }
    at = end + 1;
  }
  return sessions;
}

/** 0.0.0.0 or :: (a stream on hold, RFC 3264 §8.4's old way) */
export function isNullAddress(a: SdpAddress): boolean {
  return a.family === 4 ? a.text === '0.0.0.0' : /^(0*:)*:0*$/.test(a.text) || a.text === '::';
}

export interface TextEdit {
  readonly start: number;
  readonly end: number;
  readonly text: string;
}

/** Apply non-overlapping edits (in any order) to `text`. */
export function applyEdits(text: string, edits: readonly TextEdit[]): string {
  const sorted = [...edits].sort((a, b) => a.start - b.start);
  let out = '';
  let at = 0;
  for (const e of sorted) {
    if (e.start < at) continue; // overlapping: the earlier one wins
    out += text.slice(at, e.start) + e.text;
    at = e.end;
  }
  return out + text.slice(at);
}
