import { readFileSync } from 'node:fs';
import { parseSipMessage } from '../host/sip/message.ts';
const load = (f: string) => Buffer.from(readFileSync(`/work/main/bench/fixtures/${f}`, 'latin1').replace(/\n/g, '\r\n'), 'latin1');
const inv = load('invite.txt'), opt = load('options.txt');
function run(name: string, buf: Buffer, full: boolean) {
  let x = 0;
  const f = () => { const m = parseSipMessage(buf); if (full) { x += m.topVia.branch.length + m.from.tag.length + m.callId.length + m.cseq.seq; } else x += m.headers.length; };
  for (let i = 0; i < 200000; i++) f();
  const res: number[] = [];
  for (let r = 0; r < 7; r++) { const N = 200000; const t = process.hrtime.bigint(); for (let i = 0; i < N; i++) f(); res.push(Number(process.hrtime.bigint() - t) / N / 1000); }
  res.sort((a, b) => a - b);
  console.log(name, res[3]!.toFixed(3), 'us', x > 0 ? '' : '!');
}
run('opt', opt, true); run('inv', inv, true); run('opt', opt, true); run('inv', inv, true);
