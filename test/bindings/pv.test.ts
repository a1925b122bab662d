import { runBindingCases, type BindingCase } from '../helpers/binding-cases.js';

const show = (lang: 'lua' | 'js', pvs: string[]): string =>
  pvs
    .map((pv, i) =>
      lang === 'lua'
        ? `KSR.hdr.append_to_reply("X-${String(i)}: " .. tostring(KSR.pv.get("${pv}")) .. "\\r\\n")`
        : `KSR.hdr.append_to_reply("X-${String(i)}: " + String(KSR.pv.get("${pv}")) + "\\r\\n");`,
    )
    .join('\n') + (lang === 'lua' ? '\nKSR.sl.sl_send_reply(200, "OK")' : '\nKSR.sl.sl_send_reply(200, "OK");');

const MSG_PVS = ['$ru', '$rU', '$rd', '$rp', '$fu', '$fU', '$fd', '$fn', '$ft', '$tu', '$tU', '$tt', '$ci', '$cs', '$rm', '$ua', '$hdr(X-Custom)', '$hdrc(Via)', '$rb', '$bs', '$pr', '$si'];

const cases: BindingCase[] = [
  {
    name: 'message pseudo-variables read the request as received',
    lua: show('lua', MSG_PVS),
    js: show('js', MSG_PVS),
    request: {
      ruri: 'sip:+4930123@gw.example.com:5070;transport=udp',
      callId: 'call-1@test',
      fromTag: 'ftag1',
      cseq: 7,
      headers: ['X-Custom: hello world'],
      body: 'hello',
    },
    expect: {
      status: 200,
      headers: {
        'X-0': 'sip:+4930123@gw.example.com:5070;transport=udp',
        'X-1': '+4930123',
        'X-2': 'gw.example.com',
        'X-3': '5070',
        'X-4': 'sip:alice@example.com',
        'X-5': 'alice',
        'X-6': 'example.com',
        'X-7': '"Alice"',
        'X-8': 'ftag1',
        'X-9': 'sip:bob@example.com',
        'X-10': 'bob',
        'X-11': /^(nil|null)$/,
        'X-12': 'call-1@test',
        'X-13': '7',
        'X-14': 'OPTIONS',
        'X-15': 'kemihost-test',
        'X-16': 'hello world',
        'X-17': '1',
        'X-18': 'hello',
        'X-19': '5',
        'X-20': 'udp',
        'X-21': '127.0.0.1',
      },
    },
  },
  {
    name: 'writing $ru and $rU rewrites the R-URI; $ou keeps the original',
    lua: `KSR.pv.sets("$ru", "sip:carol@192.0.2.1:5080;user=phone")
      KSR.pv.sets("$rU", "dave")
      ${show('lua', ['$ru', '$rU', '$rd', '$ou'])}`,
    js: `KSR.pv.sets("$ru", "sip:carol@192.0.2.1:5080;user=phone");
      KSR.pv.sets("$rU", "dave");
      ${show('js', ['$ru', '$rU', '$rd', '$ou'])}`,
    request: { ruri: 'sip:bob@example.com' },
    expect: { status: 200, headers: { 'X-0': 'sip:dave@192.0.2.1:5080;user=phone', 'X-1': 'dave', 'X-2': '192.0.2.1', 'X-3': 'sip:bob@example.com' } },
  },
  {
    name: '$var, $avp and $shv: set, read back, types kept, unset to null',
    lua: `KSR.pv.sets("$var(s)", "text"); KSR.pv.seti("$var(i)", 42)
      KSR.pv.seti("$avp(a)", 1); KSR.pv.seti("$avp(a)", 2)
      KSR.pv.sets("$shv(k)", "shared"); KSR.pv.sets("$var(gone)", "x"); KSR.pv.unset("$var(gone)")
      KSR.hdr.append_to_reply("X-Type: " .. type(KSR.pv.get("$var(i)")) .. "\\r\\n")
      ${show('lua', ['$var(s)', '$var(i)', '$avp(a)', '$shv(k)', '$var(gone)', '$var(never)'])}`,
    js: `KSR.pv.sets("$var(s)", "text"); KSR.pv.seti("$var(i)", 42);
      KSR.pv.seti("$avp(a)", 1); KSR.pv.seti("$avp(a)", 2);
      KSR.pv.sets("$shv(k)", "shared"); KSR.pv.sets("$var(gone)", "x"); KSR.pv.unset("$var(gone)");
      KSR.hdr.append_to_reply("X-Type: " + typeof KSR.pv.get("$var(i)") + "\\r\\n");
      ${show('js', ['$var(s)', '$var(i)', '$avp(a)', '$shv(k)', '$var(gone)', '$var(never)'])}`,
    expect: { status: 200, headers: { 'X-Type': 'number', 'X-0': 'text', 'X-1': '42', 'X-2': '2', 'X-3': 'shared', 'X-4': /^(nil|null)$/, 'X-5': /^(nil|null)$/ } },
  },
  {
    name: 'gete, getvn, getvs, getw and is_null on a $null variable',
    lua: `KSR.hdr.append_to_reply("X-E: [" .. KSR.pv.gete("$var(none)") .. "]\\r\\n")
      KSR.hdr.append_to_reply("X-N: " .. KSR.pv.getvn("$var(none)", 5) .. "\\r\\n")
      KSR.hdr.append_to_reply("X-S: " .. KSR.pv.getvs("$var(none)", "dflt") .. "\\r\\n")
      KSR.hdr.append_to_reply("X-W: " .. KSR.pv.getw("$var(none)") .. "\\r\\n")
      KSR.hdr.append_to_reply("X-Null: " .. tostring(KSR.pv.is_null("$var(none)")) .. "\\r\\n")
      KSR.sl.sl_send_reply(200, "OK")`,
    js: `KSR.hdr.append_to_reply("X-E: [" + KSR.pv.gete("$var(none)") + "]\\r\\n");
      KSR.hdr.append_to_reply("X-N: " + KSR.pv.getvn("$var(none)", 5) + "\\r\\n");
      KSR.hdr.append_to_reply("X-S: " + KSR.pv.getvs("$var(none)", "dflt") + "\\r\\n");
      KSR.hdr.append_to_reply("X-W: " + KSR.pv.getw("$var(none)") + "\\r\\n");
      KSR.hdr.append_to_reply("X-Null: " + String(KSR.pv.is_null("$var(none)")) + "\\r\\n");
      KSR.sl.sl_send_reply(200, "OK");`,
    expect: { status: 200, headers: { 'X-E': '[]', 'X-N': '5', 'X-S': 'dflt', 'X-W': '<null>', 'X-Null': 'true' } },
  },
  {
    name: 'an unknown or read-only pseudo-variable is null / not written, never an error',
    lua: `KSR.pv.sets("$ci", "x")
      ${show('lua', ['$nosuchpv', '$ci'])}`,
    js: `KSR.pv.sets("$ci", "x");
      ${show('js', ['$nosuchpv', '$ci'])}`,
    request: { callId: 'keep@test' },
    expect: { status: 200, headers: { 'X-0': /^(nil|null)$/, 'X-1': 'keep@test' }, stats: { 'script:errors': 0 } },
  },
];

runBindingCases('KSR.pv', cases);
