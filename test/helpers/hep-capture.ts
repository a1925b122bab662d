/**
 * A capture server for the compat suite: a UDP socket that decodes every HEPv3 packet it gets
 * and turns it into a SIP message whose headers are the chunks (X-Hep-*) and whose body is the
 * payload, so the compat views compare HEP packets the way they compare SIP: line by line, with
 * masks. The timestamp is compared as "now" or not (its value differs per run by nature).
 */
import dgram from 'node:dgram';
import { once } from 'node:events';
import { parseSipMessage, type SipMessage } from '../../host/sip/message.js';
import { decodeHep3, isHep3 } from './hep.js';

/** a timestamp within this many seconds of the capture's clock reads "now" */
const NOW_WINDOW_S = 60;

export function hepAsSip(b: Buffer, receivedAt: number): SipMessage {
  if (!isHep3(b)) return parseSipMessage(b);
  const h = decodeHep3(b);
  const lines = [
    'HEP3 sip:capture@hep SIP/2.0',
    'Via: SIP/2.0/UDP 127.0.0.1:9;branch=z9hG4bK-peer-hep',
    'From: <sip:hep@capture>;tag=peer-hep',
    'To: <sip:hep@capture>',
    'Call-ID: peer-hep',
    'CSeq: 1 HEP3',
    `X-Hep-Chunks: ${h.order.map((t) => `0x${t.toString(16)}`).join(',')}`,
    `X-Hep-Family: ${String(h.family)}`,
    `X-Hep-Proto: ${String(h.ipProto)}`,
    `X-Hep-Src: ${h.srcIp}:${String(h.srcPort)}`,
    `X-Hep-Dst: ${h.dstIp}:${String(h.dstPort)}`,
    `X-Hep-Time: ${Math.abs(h.sec - receivedAt / 1000) < NOW_WINDOW_S && h.usec < 1_000_000 ? 'now' : `${String(h.sec)}.${String(h.usec)}`}`,
    `X-Hep-Type: ${String(h.protoType)}`,
    `X-Hep-Capture-Id: ${String(h.captureId)}`,
    ...(h.correlationId === undefined ? [] : [`X-Hep-Cid: ${h.correlationId}`]),
    ...(h.authKey === undefined ? [] : [`X-Hep-Auth: ${h.authKey}`]),
    `Content-Length: ${String(h.payload.length)}`,
    '',
    '',
  ];
  return parseSipMessage(Buffer.concat([Buffer.from(lines.join('\r\n'), 'latin1'), h.payload]));
}

export class HepCapture {
  readonly received: SipMessage[] = [];
  /** what came since begin(): a live list, so that what arrives while a compat run settles counts too */
  run: SipMessage[] = [];
  private constructor(private readonly sock: dgram.Socket, readonly port: number) {
    sock.on('message', (b) => {
      try {
        const m = hepAsSip(b, Date.now());
        this.received.push(m);
        this.run.push(m);
      } catch (e) {
        // a packet that does not decode is a failure the case must see
        const bad = parseSipMessage(Buffer.from(`BAD sip:capture@hep SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:9;branch=z9hG4bK-peer-bad\r\nFrom: <sip:a@b>;tag=peer\r\nTo: <sip:a@b>\r\nCall-ID: peer-bad\r\nCSeq: 1 BAD\r\nX-Error: ${String(e).replace(/[\r\n]/g, ' ')}\r\nContent-Length: 0\r\n\r\n`));
        this.received.push(bad);
        this.run.push(bad);
      }
    });
  }

  begin(): SipMessage[] {
    this.run = [];
    return this.run;
  }

  static async open(): Promise<HepCapture> {
    const sock = dgram.createSocket('udp4');
    sock.bind(0, '127.0.0.1');
    await once(sock, 'listening');
    sock.unref();
    return new HepCapture(sock, sock.address().port);
  }

  close(): void {
    this.sock.close();
  }
}
