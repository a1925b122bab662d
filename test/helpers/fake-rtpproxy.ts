/**
 * A stand-in rtpproxy that records the commands a server sends it and answers as rtpproxy
 * does: V with the protocol version, VF yes for 20040107/20050322 and no for the optional
 * capabilities (as rtpengine's listener), U and L with a port and an address ("<port>
 * 203.0.113.7 4"; the port 30000 + 2 x the commands seen so far), D with 0, anything else with
 * E1. The test compares, command for command, what Kamailio's rtpproxy module and kemihost send
 * for the same messages, and gets the same answers for both.
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
let n = 0;
s.on('message', (m, r) => {
  const text = m.toString('latin1');
  const sp = text.indexOf(' ');
  if (sp < 0) return;
  const cookie = text.slice(0, sp);
  const cmd = text.slice(sp + 1);
  let answer;
  if (cmd === 'V') answer = '20040107';
  else if (cmd.startsWith('VF ')) answer = cmd === 'VF 20040107' || cmd === 'VF 20050322' ? '1' : '0';
  else {
    parentPort.postMessage(cmd);
    const c = cmd[0].toUpperCase();
    if (c === 'U' || c === 'L') answer = String(30000 + 2 * (n++)) + ' 203.0.113.7 4';
    else if (c === 'D') answer = '0';
    else answer = 'E1';
  }
  s.send(cookie + ' ' + answer + '\\n', r.port, r.address);
});
s.bind(0, '127.0.0.1', () => parentPort.postMessage(s.address().port));
parentPort.on('message', (m) => {
  if (m === 'reset') { n = 0; return; }
  s.close();
  parentPort.close();
});
`;

export class FakeRtpproxy {
  /** the commands received (without the cookie), oldest first */
  readonly received: string[] = [];

  private constructor(private readonly worker: Worker, readonly port: number) {
    worker.on('message', (m: string) => { this.received.push(m); });
  }

  static async open(): Promise<FakeRtpproxy> {
    const worker = new Worker(CODE, { eval: true });
    const [port] = (await once(worker, 'message')) as [number];
    return new FakeRtpproxy(worker, port);
  }

  /** start the answer ports from 30000 again (each server's run gets the same answers) */
  reset(): void {
    this.worker.postMessage('reset');
    this.received.length = 0;
  }

  async close(): Promise<void> {
    this.worker.postMessage('close');
    await this.worker.terminate();
  }
}
