/**
 * A stand-in NG peer that records what a server sends it: it answers "ping" with "pong" and
 * every other command with "ok" (an offer or answer gets its own SDP back), and hands each
 * request to the test as received. It lets a test compare, byte for byte after decoding, the NG
 * requests Kamailio's rtpengine module and kemihost build for the same SIP message.
 *
 * It runs in a worker thread: kemihost waits in place for the answer, which blocks the thread
 * the test runs on.
 */
import { once } from 'node:events';
import { Worker } from 'node:worker_threads';

const CODE = `
const { parentPort } = require('node:worker_threads');
const dgram = require('node:dgram');
const s = dgram.createSocket('udp4');
s.on('message', (m, r) => {
  const sp = m.indexOf(0x20);
  if (sp < 0) return;
  const cookie = m.subarray(0, sp);
  const body = m.subarray(sp + 1);
  const text = body.toString('latin1');
  let answer;
  if (text.includes('7:command4:ping')) {
    answer = Buffer.from('d6:result4:ponge');
  } else {
    parentPort.postMessage(Buffer.from(body));
    const sdp = /3:sdp(\\d+):/.exec(text);
    if (sdp === null) answer = Buffer.from('d6:result2:oke');
    else {
      const start = sdp.index + sdp[0].length;
      const len = Number(sdp[1]);
      answer = Buffer.concat([Buffer.from('d6:result2:ok3:sdp' + len + ':'), body.subarray(start, start + len), Buffer.from('e')]);
    }
  }
  s.send(Buffer.concat([cookie, Buffer.from(' '), answer]), r.port, r.address);
});
s.bind(0, '127.0.0.1', () => parentPort.postMessage(s.address().port));
parentPort.on('message', () => { s.close(); parentPort.close(); });
`;

export class FakeNgPeer {
  /** the requests received (the bencoded dictionary after the cookie), oldest first */
  readonly received: Buffer[] = [];

  private constructor(private readonly worker: Worker, readonly port: number) {
    worker.on('message', (m: Uint8Array) => { this.received.push(Buffer.from(m)); });
  }

  static async open(): Promise<FakeNgPeer> {
    const worker = new Worker(CODE, { eval: true });
    const [port] = (await once(worker, 'message')) as [number];
    return new FakeNgPeer(worker, port);
  }

  async close(): Promise<void> {
    this.worker.postMessage('close');
    await this.worker.terminate();
  }
}
