/**
 * fix_nated_sdp's rewrite of an SDP (Kamailio nathelper 5.6): a=direction:active per media
 * description (0x01), the media address in c= and a=rtcp (0x02), a=nortpproxy (0x04), the
 * origin address in o= (0x08), each replaced address kept in an a=oldmediaip line.
 */
export const FIX_SDP = { ADIRECTION: 0x01, MEDIP: 0x02, NORTPPROXY: 0x04, ORGIP: 0x08 } as const;

export interface SdpFixOptions {
  readonly level: number;
  /** the address to write (the source address, or the one the script gave) */
  readonly ip: string;
  /** the complete marker line without CRLF ('' none) */
  readonly nortpproxy: string;
  readonly oldMediaIp: boolean;
}

export interface SdpFixResult {
  readonly sdp: string;
  /** addresses replaced */
  readonly count: number;
}

function isNull(addr: string, family: string): boolean {
  return family === 'IP6' ? /^[0:]+$/.test(addr) : addr === '0.0.0.0';
}

/** The rewritten SDP, or why it cannot be (mixed address families in one kind of line). */
export function fixSdp(sdp: string, o: SdpFixOptions): SdpFixResult | string {
  const eol = sdp.includes('\r\n') ? '\r\n' : '\n';
  const endsWithEol = sdp.endsWith(eol);
  const lines = (endsWithEol ? sdp.slice(0, -eol.length) : sdp).split(eol);
  const newFamily = o.ip.includes(':') ? 'IP6' : 'IP4';
  const old: string[] = [];
  let count = 0;
  const seen = new Map<string, string>();
  const rewrite = (kind: string, re: RegExp): string | null => {
    for (let i = 0; i < lines.length; i++) {
      const line = lines[i] ?? '';
      const m = re.exec(line);
      if (m === null) continue;
      const [whole, head = '', family = '', addr = ''] = m;
      const fam = family.toUpperCase();
      const first = seen.get(kind);
      if (first === undefined) seen.set(kind, fam);
      else if (first !== fam) return `mismatching address families in '${kind}' SDP`;
      if ((fam === newFamily && isNull(addr, fam)) || addr === o.ip) continue;
      if (o.oldMediaIp) old.push(`${fam === 'IP6' ? 'a=oldmediaip6:' : 'a=oldmediaip:'}${addr}`);
      lines[i] = `${head}${newFamily} ${o.ip}${line.slice(whole.length)}`;
      count++;
    }
    return null;
  };
  if ((o.level & (FIX_SDP.MEDIP | FIX_SDP.ORGIP)) !== 0) {
    const e = rewrite('a=rtcp', /^(a=rtcp:\S+[ \t]+IN[ \t]+)(IP[46])[ \t]+([^ \t/]+)/i)
      ?? ((o.level & FIX_SDP.MEDIP) !== 0 ? rewrite('c=', /^(c=IN[ \t]+)(IP[46])[ \t]+([^ \t/]+)/i) : null)
      ?? ((o.level & FIX_SDP.ORGIP) !== 0 ? rewrite('o=', /^(o=\S+[ \t]+\S+[ \t]+\S+[ \t]+IN[ \t]+)(IP[46])[ \t]+(\S+)/i) : null);
    if (e !== null) return e;
  }
  const out: string[] = [];
  const direction = (o.level & FIX_SDP.ADIRECTION) !== 0;
  let inMedia = false;
  for (const line of lines) {
    if (line.startsWith('m=')) {
      if (direction && inMedia) out.push('a=direction:active');
      inMedia = true;
    }
    out.push(line);
  }
  if (direction && inMedia) out.push('a=direction:active');
  if ((o.level & FIX_SDP.NORTPPROXY) !== 0 && o.nortpproxy !== '') out.push(o.nortpproxy);
  out.push(...old);
  return { sdp: out.join(eol) + (endsWithEol ? eol : ''), count };
}
