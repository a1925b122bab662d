import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { parseSipMessage } from '../host/sip/message.js';
const require = createRequire(import.meta.url);
const sip = require('sip') as { parse(b: Buffer): unknown };
const dr = require('drachtio-sip') as { parser: { parseSipMessage(s: string, lazy: boolean): unknown } };
const load = (f: string) => Buffer.from(readFileSync(`bench/fixtures/${f}`, 'latin1').replace(/\n/g, '\r\n'), 'latin1');
const inv = load('invite.txt'), opt = load('options.txt');
let x = 0;
const cands: [string, (b: Buffer) => void][] = [
  ['ours', (b) => { const m = parseSipMessage(b); x += m.topVia.branch.length + m.from.tag.length + m.callId.length + m.cseq.seq; }],
  ['sip', (b) => { x += sip.parse(b) ? 1 : 0; }],
  ['drachtio', (b) => { x += dr.parser.parseSipMessage(b.toString('utf8'), false) ? 1 : 0; }],
];
for (let round = 0; round < 3; round++) for (const [n, f] of cands) for (const [mn, b] of [['inv', inv], ['opt', opt]] as const) {
  for (let i = 0; i < 50000; i++) f(b);
  const res: number[] = [];
  for (let r = 0; r < 5; r++) { const N = 50000; const t = process.hrtime.bigint(); for (let i = 0; i < N; i++) f(b); res.push(Number(process.hrtime.bigint() - t) / N / 1000); }
  res.sort((a, b) => a - b);
  console.log(round, n, mn, res[2]!.toFixed(2), 'min', res[0]!.toFixed(2));
}
