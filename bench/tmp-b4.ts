import { parseParams, skipWs, isToken } from '../host/sip/split.js';
let x = 0;
function bench(name: string, f: () => number) {
  for (let i = 0; i < 100000; i++) x += f();
  const res: number[] = [];
  for (let r = 0; r < 5; r++) { const N = 200000; const t = process.hrtime.bigint(); for (let i = 0; i < N; i++) x += f(); res.push(Number(process.hrtime.bigint() - t) / N); }
  res.sort((a, b) => a - b);
  console.log(name.padEnd(20), res[2]!.toFixed(0), 'ns  min', res[0]!.toFixed(0));
}
const p = ';branch=z9hG4bKhjhs8ass877;rport';
const via = 'SIP/2.0/UDP pc33.atlanta.example.com:5060;branch=z9hG4bKhjhs8ass877;rport';
bench('parseParams', () => { const m = new Map<string, string>(); parseParams(p, 0, p.length, m); return m.size; });
bench('startsWith x6', () => { let n = 0; for (const q of ['SIP/2.0/UDP', 'SIP/2.0/TCP', 'SIP/2.0/TLS', 'SIP/2.0/WSS', 'SIP/2.0/WS', 'SIP/2.0/SCTP']) if (via.startsWith(q, 0)) n++; return n; });
bench('isToken 30', () => isToken(via, 42, 72) ? 1 : 0);
bench('skipWs', () => skipWs(via, 11));
bench('charloop 75', () => { let n = 0; for (let i = 0; i < via.length; i++) n += via.charCodeAt(i); return n; });
