import { parseVia } from '../host/sip/via.js';
import { parseNameAddr } from '../host/sip/name-addr.js';
import { parseUri } from '../host/sip/uri.js';
import { splitElements, firstElementEnd } from '../host/sip/split.js';
import { canonicalHeaderName } from '../host/sip/header-names.js';
import { isAscii } from 'node:buffer';
let x = 0;
function bench(name: string, f: () => number) {
  for (let i = 0; i < 100000; i++) x += f();
  const res: number[] = [];
  for (let r = 0; r < 5; r++) { const N = 200000; const t = process.hrtime.bigint(); for (let i = 0; i < N; i++) x += f(); res.push(Number(process.hrtime.bigint() - t) / N); }
  res.sort((a, b) => a - b);
  console.log(name.padEnd(20), res[2]!.toFixed(0), 'ns  min', res[0]!.toFixed(0));
}
const via = 'SIP/2.0/UDP pc33.atlanta.example.com:5060;branch=z9hG4bKhjhs8ass877;rport';
const from = 'Alice <sip:alice@atlanta.example.com>;tag=1928301774';
const b = Buffer.alloc(400, 65);
bench('noop', () => 1);
bench('parseVia', () => parseVia(via)!.port);
bench('parseNameAddr', () => parseNameAddr(from)!.tag.length);
bench('parseUri', () => parseUri('sip:carol@chicago.example.com')!.port + 1);
bench('splitElements', () => splitElements('<sip:alice@pc33.atlanta.example.com>').length);
bench('firstElementEnd', () => firstElementEnd(via));
bench('canonical Via', () => canonicalHeaderName('Via').length);
bench('canonical slice', () => canonicalHeaderName(via.slice(0, 3)).length);
bench('isAscii', () => isAscii(b) ? 1 : 0);
bench('toString latin1', () => b.toString('latin1', 0, 400).length);
bench('map new', () => { const m = new Map<string,string>(); m.set('tag', 'x'); return m.size; });
