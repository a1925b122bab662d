// The floor for any Node SIP server on this machine: a bare node:dgram responder that copies
// Via/From/To/Call-ID/CSeq into a 200. bench/sip-options.ts runs it beside kemihost.
// usage: node bench/bare-responder.mjs <port>
import dgram from 'node:dgram';
const s = dgram.createSocket('udp4');
s.on('message', (m, r) => {
  const t = m.toString('latin1'); const h = t.slice(0, t.indexOf('\r\n\r\n')).split('\r\n');
  const pick = (n) => h.filter(l => l.toLowerCase().startsWith(n)).join('\r\n');
  const out = `SIP/2.0 200 OK\r\n${pick('via')}\r\n${pick('from')}\r\n${pick('to')};tag=x\r\n${pick('call-id')}\r\n${pick('cseq')}\r\nContent-Length: 0\r\n\r\n`;
  s.send(Buffer.from(out), r.port, r.address);
});
s.bind(Number(process.argv[2]), '127.0.0.1', () => console.log('kemihost ready (bare responder)'));
