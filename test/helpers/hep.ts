/**
 * A small HEPv3 decoder for the tests: what a capture server (Homer's heplify-server) reads
 * from a siptrace packet. Strict: a wrong length or a chunk running past the end is an error.
 */
export interface HepChunk {
  readonly vendor: number;
  readonly type: number;
  readonly data: Buffer;
}

export interface HepFields {
  readonly family: number;
  readonly ipProto: number;
  readonly srcIp: string;
  readonly dstIp: string;
  readonly srcPort: number;
  readonly dstPort: number;
  readonly sec: number;
  readonly usec: number;
  readonly protoType: number;
  readonly captureId: number;
  readonly correlationId: string | undefined;
  readonly authKey: string | undefined;
  readonly payload: Buffer;
  /** chunk types in the order they came */
  readonly order: readonly number[];
}

export function isHep3(b: Buffer): boolean {
  return b.length >= 6 && b.toString('latin1', 0, 4) === 'HEP3';
}

export function decodeChunks(b: Buffer): HepChunk[] {
  if (!isHep3(b)) throw new Error('not a HEP3 packet');
  const total = b.readUInt16BE(4);
  if (total !== b.length) throw new Error(`HEP3 length ${String(total)} but ${String(b.length)} bytes`);
  const out: HepChunk[] = [];
  let at = 6;
  while (at < total) {
    if (at + 6 > total) throw new Error('truncated chunk header');
    const len = b.readUInt16BE(at + 4);
    if (len < 6 || at + len > total) throw new Error(`bad chunk length ${String(len)} at ${String(at)}`);
    out.push({ vendor: b.readUInt16BE(at), type: b.readUInt16BE(at + 2), data: b.subarray(at + 6, at + len) });
    at += len;
  }
  return out;
}

function ip6(d: Buffer): string {
  const g: string[] = [];
  for (let i = 0; i < 16; i += 2) g.push(d.readUInt16BE(i).toString(16));
  return g.join(':').replace(/(^|:)0(:0)+(:|$)/, '::').replace(/:{3,}/, '::');
}

export function decodeHep3(b: Buffer): HepFields {
  const chunks = decodeChunks(b);
  for (const c of chunks) if (c.vendor !== 0) throw new Error(`vendor ${String(c.vendor)} on chunk ${String(c.type)}`);
  const by = new Map(chunks.map((c) => [c.type, c.data]));
  const need = (t: number): Buffer => {
    const d = by.get(t);
    if (d === undefined) throw new Error(`no chunk 0x${t.toString(16)}`);
    return d;
  };
  const v4 = by.has(3);
  return {
    family: need(1).readUInt8(0),
    ipProto: need(2).readUInt8(0),
    srcIp: v4 ? [...need(3)].join('.') : ip6(need(5)),
    dstIp: v4 ? [...need(4)].join('.') : ip6(need(6)),
    srcPort: need(7).readUInt16BE(0),
    dstPort: need(8).readUInt16BE(0),
    sec: need(9).readUInt32BE(0),
    usec: need(0x0a).readUInt32BE(0),
    protoType: need(0x0b).readUInt8(0),
    captureId: need(0x0c).readUInt32BE(0),
    correlationId: by.get(0x11)?.toString(),
    authKey: by.get(0x0e)?.toString(),
    payload: need(0x0f),
    order: chunks.map((c) => c.type),
  };
}
