/**
 * An SDP body as lines, grouped the way sdpops works on it (Kamailio src/modules/sdpops): the
 * session part, then one section per "m=" line with its attribute lines. Every edit returns a
 * new text that keeps the other lines byte for byte (line endings included). The text is the
 * body as latin1 (one character per byte).
 */

export interface SdpLine {
  /** the line without its line ending */
  readonly text: string;
  /** "\r\n", "\n" or "" (a last line without one) */
  readonly eol: string;
}

export interface SdpMedia {
  /** "audio", "video"… as written */
  readonly media: string;
  readonly port: string;
  readonly transport: string;
  readonly payloads: readonly string[];
  /** the m= line first, then its attribute lines */
  readonly lines: readonly SdpLine[];
}

export interface SdpBody {
  readonly session: readonly SdpLine[];
  readonly media: readonly SdpMedia[];
}

export function parseSdp(text: string): SdpBody | null {
  if (!/^v=/.test(text)) return null;
  const lines: SdpLine[] = [];
  const re = /([^\r\n]*)(\r\n|\n|\r|$)/g;
  for (let m = re.exec(text); m !== null && m.index < text.length; m = re.exec(text)) lines.push({ text: m[1] ?? '', eol: m[2] ?? '' });
  const session: SdpLine[] = [];
  const media: SdpMedia[] = [];
  let cur: { head: string[]; lines: SdpLine[] } | null = null;
  const flush = (): void => {
    if (cur === null) return;
    const [kind = '', port = '', transport = '', ...payloads] = cur.head;
    media.push({ media: kind, port, transport, payloads, lines: cur.lines });
  };
  for (const l of lines) {
    if (l.text.startsWith('m=')) {
      flush();
      cur = { head: l.text.slice(2).trim().split(/\s+/), lines: [l] };
    } else if (cur === null) session.push(l);
    else cur.lines.push(l);
  }
  flush();
  return { session, media };
}

export function printSdp(sdp: SdpBody): string {
  let out = '';
  for (const l of sdp.session) out += l.text + l.eol;
  for (const m of sdp.media) for (const l of m.lines) out += l.text + l.eol;
  return out;
}

/** RFC 3551 static payload types by number. */
const STATIC: Record<string, string> = {
  '0': 'PCMU', '3': 'GSM', '4': 'G723', '5': 'DVI4', '6': 'DVI4', '7': 'LPC', '8': 'PCMA', '9': 'G722', '10': 'L16', '11': 'L16',
  '12': 'QCELP', '13': 'CN', '14': 'MPA', '15': 'G728', '16': 'DVI4', '17': 'DVI4', '18': 'G729', '25': 'CelB', '26': 'JPEG',
  '28': 'nv', '31': 'H261', '32': 'MPV', '33': 'MP2T', '34': 'H263',
};

/** The codec name of each payload type of a stream: its a=rtpmap, else the static assignment. */
export function codecNames(m: SdpMedia): Map<string, string> {
  const names = new Map<string, string>();
  for (const l of m.lines) {
    const r = /^a=rtpmap:(\d+)\s+([^/\s]+)/i.exec(l.text);
    if (r !== null) names.set(r[1] ?? '', r[2] ?? '');
  }
  for (const p of m.payloads) if (!names.has(p) && STATIC[p] !== undefined) names.set(p, STATIC[p]);
  return names;
}

/** Payload types of the stream whose codec name is in `wanted` (case-insensitive). */
export function idsByName(m: SdpMedia, wanted: readonly string[]): Set<string> {
  const lower = new Set(wanted.map((w) => w.toLowerCase()));
  const ids = new Set<string>();
  for (const [id, name] of codecNames(m)) if (lower.has(name.toLowerCase())) ids.add(id);
  return ids;
}

const PER_CODEC = /^a=(rtpmap|fmtp|rtcp-fb):(\S+)\s/i;

/** The stream without the payload types in `drop`: off its m= line, with their rtpmap/fmtp/rtcp-fb lines. */
export function withoutPayloads(m: SdpMedia, drop: ReadonlySet<string>): SdpMedia {
  if (!m.payloads.some((p) => drop.has(p))) return m;
  const payloads = m.payloads.filter((p) => !drop.has(p));
  const [mline, ...rest] = m.lines;
  const head = `m=${[m.media, m.port, m.transport, ...payloads].join(' ')}`;
  const lines: SdpLine[] = [{ text: head, eol: mline?.eol ?? '\r\n' }];
  for (const l of rest) {
    const a = PER_CODEC.exec(l.text);
    if (a !== null && drop.has(a[2] ?? '')) continue;
    lines.push(l);
  }
  return { ...m, payloads, lines };
}

/** The direction of a stream: its own a=sendrecv/sendonly/recvonly/inactive, else the session's, else sendrecv. */
export function direction(sdp: SdpBody, m: SdpMedia): string {
  const dir = (lines: readonly SdpLine[]): string | null => {
    for (const l of lines) {
      const d = /^a=(sendrecv|sendonly|recvonly|inactive)\s*$/i.exec(l.text);
      if (d !== null) return (d[1] ?? '').toLowerCase();
    }
    return null;
  };
  return dir(m.lines) ?? dir(sdp.session) ?? 'sendrecv';
}

/** The connection address of a stream: its own c=, else the session's. */
export function connection(sdp: SdpBody, m: SdpMedia): string | null {
  const c = (lines: readonly SdpLine[]): string | null => {
    for (const l of lines) if (l.text.startsWith('c=')) return l.text.slice(2).trim();
    return null;
  };
  return c(m.lines) ?? c(sdp.session);
}

/** Split "PCMU,PCMA" into items, spaces trimmed, empties left out. */
export function listItems(list: string): string[] {
  return list.split(',').map((s) => s.trim()).filter((s) => s !== '');
}
