/** kx, siputils, maxfwd, corex, sanity and htable through both engines over real SIP. */
import assert from 'node:assert/strict';
import { runBindingCases, type BindingCase } from '../helpers/binding-cases.js';

/** "X-Name=expr;…" → append_to_reply lines + 200, in each language */
const show = (lang: 'lua' | 'js', pairs: [string, string][], pre = ''): string =>
  `${pre}\n${pairs
    .map(([h, e]) => (lang === 'lua' ? `KSR.hdr.append_to_reply("${h}: " .. tostring(${e}) .. "\\r\\n")` : `KSR.hdr.append_to_reply("${h}: " + String(${e}) + "\\r\\n");`))
    .join('\n')}\n${lang === 'lua' ? 'KSR.sl.sl_send_reply(200, "OK")' : 'KSR.sl.sl_send_reply(200, "OK");'}`;

const both = (pairs: [string, string][], pre: { lua?: string; js?: string } = {}): { lua: string; js: string } => ({
  lua: show('lua', pairs, pre.lua ?? ''),
  js: show('js', pairs, pre.js ?? ''),
});

const cases: BindingCase[] = [
  {
    name: 'kx getters read the message and the sockets',
    ...both([
      ['X-M', 'KSR.kx.get_method()'], ['X-Fu', 'KSR.kx.get_fuser()'], ['X-Tu', 'KSR.kx.get_tuser()'], ['X-Fh', 'KSR.kx.get_fhost()'],
      ['X-Ci', 'KSR.kx.get_callid()'], ['X-Ua', 'KSR.kx.get_ua()'], ['X-Sp', 'KSR.kx.get_srcport() > 0'], ['X-Pr', 'KSR.kx.get_proto()'],
      ['X-Bl', 'KSR.kx.get_bodylen()'], ['X-Ru', 'KSR.kx.get_ruri()'],
    ]),
    request: { callId: 'kx@test', body: 'abc', ruri: 'sip:carol@example.net' },
    expect: { status: 200, headers: { 'X-M': 'OPTIONS', 'X-Fu': 'alice', 'X-Tu': 'bob', 'X-Fh': 'example.com', 'X-Ci': 'kx@test', 'X-Ua': 'kemihost-test', 'X-Sp': 'true', 'X-Pr': 'udp', 'X-Bl': '3', 'X-Ru': 'sip:carol@example.net' } },
  },
  {
    name: 'siputils: has_totag, is_request, is_reply',
    ...both([['X-T', 'KSR.siputils.has_totag()'], ['X-Req', 'KSR.siputils.is_request()'], ['X-Rep', 'KSR.siputils.is_reply()']]),
    request: { method: 'BYE', toTag: 'abc' },
    expect: { status: 200, headers: { 'X-T': '1', 'X-Req': '1', 'X-Rep': '-1' } },
  },
  {
    name: 'maxfwd.process_maxfwd: -1 when Max-Forwards is 0, so the script answers 483',
    lua: 'if KSR.maxfwd.process_maxfwd(10) < 0 then KSR.sl.sl_send_reply(483, "Too Many Hops") return end\nKSR.sl.sl_send_reply(200, "OK")',
    js: 'if (KSR.maxfwd.process_maxfwd(10) < 0) { KSR.sl.sl_send_reply(483, "Too Many Hops"); return; }\nKSR.sl.sl_send_reply(200, "OK");',
    request: { maxForwards: 0 },
    expect: { status: 483 },
  },
  {
    name: 'maxfwd.process_maxfwd: 2 when absent, 1 when decremented',
    ...both([['X-Rc', 'KSR.maxfwd.process_maxfwd(10)']]),
    request: { maxForwards: null },
    expect: { status: 200, headers: { 'X-Rc': '2' } },
  },
  {
    name: 'corex.has_ruri_user',
    ...both([['X-U', 'KSR.corex.has_ruri_user()']]),
    request: { ruri: 'sip:127.0.0.1' },
    expect: { status: 200, headers: { 'X-U': '-1' } },
  },
  {
    name: 'sanity_check fails a CSeq method mismatch and answers 400 itself',
    lua: 'if KSR.sanity.sanity_check(32, 0) < 0 then KSR.x.exit() end\nKSR.sl.sl_send_reply(200, "sane")',
    js: 'if (KSR.sanity.sanity_check(32, 0) < 0) KSR.x.exit();\nKSR.sl.sl_send_reply(200, "sane");',
    request: { method: 'OPTIONS', cseqMethod: 'INVITE' },
    expect: { status: 400, check: (r) => { assert.notEqual(r.reason, 'sane'); } },
  },
  {
    name: 'htable: tables from the config, set/get/inc, $sht, shared by later messages',
    lua: `KSR.htable.sht_inc("calls", "n")
      KSR.pv.sets("$sht(calls=>last)", KSR.pv.get("$ci"))
      ${show('lua', [['X-N', 'KSR.htable.sht_get("calls", "n")'], ['X-Last', 'KSR.pv.get("$sht(calls=>last)")'], ['X-None', 'KSR.htable.sht_get("calls", "nope")'], ['X-Bad', 'KSR.htable.sht_sets("notable", "k", "v")']])}`,
    js: `KSR.htable.sht_inc("calls", "n");
      KSR.pv.sets("$sht(calls=>last)", KSR.pv.get("$ci"));
      ${show('js', [['X-N', 'KSR.htable.sht_get("calls", "n")'], ['X-Last', 'KSR.pv.get("$sht(calls=>last)")'], ['X-None', 'KSR.htable.sht_get("calls", "nope")'], ['X-Bad', 'KSR.htable.sht_sets("notable", "k", "v")']])}`,
    config: { modules: { htable: { tables: { calls: { size: 8, autoexpire: 300, initval: 0 } } } } },
    repeat: 2,
    expect: {
      status: 200,
      headers: { 'X-Last': /@test$/, 'X-Bad': '-1' },
      check: (r) => {
        assert.match(r.getHeader('X-N') ?? '', /^[12]$/);
        assert.match(r.getHeader('X-None') ?? '', /^(0|nil|null)$/);
      },
    },
  },
];

runBindingCases('kx, siputils, maxfwd, corex, sanity, htable', cases);
