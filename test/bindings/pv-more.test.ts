/**
 * The pseudo-variables of bindings/pv-more.ts on both engines: a real UAC's request, values
 * sent back in the reply's X-Pv header (one per case), over UDP and TCP.
 */
import assert from 'node:assert/strict';
import { runBindingCases, type BindingCase } from '../helpers/binding-cases.js';

const luaJoin = (pvs: string[]): string => pvs.map((p) => `tostring(KSR.pv.get("${p}"))`).join(' .. "|" .. ');
const jsJoin = (pvs: string[]): string => pvs.map((p) => `String(KSR.pv.get("${p}"))`).join(' + "|" + ');
const reply = (pvs: string[], pre: { lua: string; js: string } = { lua: '', js: '' }): Pick<BindingCase, 'lua' | 'js'> => ({
  lua: `${pre.lua}\nKSR.hdr.append_to_reply("X-Pv: " .. ${luaJoin(pvs)} .. "\\r\\n")\nKSR.sl.sl_send_reply(200, "OK")`,
  js: `${pre.js}\nKSR.hdr.append_to_reply("X-Pv: " + ${jsJoin(pvs)} + "\\r\\n");\nKSR.sl.sl_send_reply(200, "OK");`,
});

const ADDR = ['$su', '$sut', '$Ru', '$Rut', '$RAu'];
const MSG = ['$ct', '$ctu', '$cT', '$cl', '$csb', '$mt', '$rv', '$od', '$op', '$oU', '$oP', '$true'];
const NH = ['$nh(u)', '$nh(U)', '$nh(d)', '$nh(p)', '$nh(P)', '$fs'];

const cases: BindingCase[] = [
  {
    name: '$su $sut $Ru $Rut $RAu over UDP: no ;transport=udp unless the t form',
    ...reply(ADDR),
    expect: { status: 200, headers: { 'X-Pv': /^sip:127\.0\.0\.1:\d+\|sip:127\.0\.0\.1:\d+;transport=udp\|sip:127\.0\.0\.1:\d+\|sip:127\.0\.0\.1:\d+;transport=udp\|sip:127\.0\.0\.1:\d+$/ } },
  },
  {
    name: 'the same over TCP: ;transport=tcp in every form',
    ...reply(ADDR),
    transport: 'tcp',
    expect: { status: 200, headers: { 'X-Pv': /^sip:127\.0\.0\.1:\d+;transport=tcp(\|sip:127\.0\.0\.1:\d+;transport=tcp){4}$/ } },
  },
  {
    name: '$ct $ctu $cT $cl $csb $mt $rv and the original R-URI parts $od $op $oU $oP',
    ...reply(MSG, { lua: 'KSR.pv.sets("$ru", "sip:other@example.net:5099")', js: 'KSR.pv.sets("$ru", "sip:other@example.net:5099");' }),
    request: {
      method: 'MESSAGE',
      ruri: 'sip:carol@example.org;transport=tcp',
      headers: ['Contact: "C" <sip:carol@192.0.2.5:5070;ob>;expires=60, <sip:second@192.0.2.6>', 'Content-Type: text/plain'],
      body: 'hello',
      cseq: 7,
    },
    expect: { status: 200, headers: { 'X-Pv': '"C" <sip:carol@192.0.2.5:5070;ob>;expires=60|sip:carol@192.0.2.5:5070;ob|text/plain|5|7 MESSAGE|1|SIP/2.0|example.org|5060|carol|tcp|1' } },
  },
  {
    name: '$nh(...) reads $du when set, else the R-URI; $fs shows the forced send socket',
    ...reply(NH, {
      lua: 'KSR.pv.sets("$du", "sip:proxy.example.com:5080;transport=tcp")\nKSR.corex.set_send_socket("udp:127.0.0.1:" .. KSR.pv.get("$Rp"))',
      js: 'KSR.pv.sets("$du", "sip:proxy.example.com:5080;transport=tcp");\nKSR.corex.set_send_socket("udp:127.0.0.1:" + KSR.pv.get("$Rp"));',
    }),
    request: { method: 'OPTIONS', ruri: 'sip:dave@example.org' },
    expect: { status: 200, headers: { 'X-Pv': /^sip:proxy\.example\.com:5080;transport=tcp\|(nil|null)\|proxy\.example\.com\|5080\|tcp\|udp:127\.0\.0\.1:\d+$/ } },
  },
  {
    name: 'without $du: the R-URI\'s parts, port 5060 and udp when absent; $fs null',
    ...reply(NH),
    request: { method: 'OPTIONS', ruri: 'sip:dave@example.org' },
    expect: { status: 200, headers: { 'X-Pv': /^sip:dave@example\.org\|dave\|example\.org\|5060\|udp\|(nil|null)$/ } },
  },
  {
    name: 'clocks: $TS now, $Tb at start, $Tf and $TF as ctime() prints',
    ...reply(['$TS', '$Tb', '$Tf', '$TF']),
    expect: {
      status: 200,
      check: (r) => {
        const [ts, tb, tf, tF] = (r.getHeader('X-Pv') ?? '').split('|');
        const now = Math.floor(Date.now() / 1000);
        assert.ok(Math.abs(Number(ts) - now) <= 2, `$TS ${String(ts)}`);
        assert.ok(Number(tb) <= Number(ts) && Number(tb) > now - 120, `$Tb ${String(tb)}`);
        for (const t of [tf, tF]) assert.match(t ?? '', /^(Sun|Mon|Tue|Wed|Thu|Fri|Sat) (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) [ \d]\d \d\d:\d\d:\d\d \d{4}$/);
      },
    },
  },
];

runBindingCases('pseudo-variables (pv-more)', cases);
