/**
 * More core KSR functions (bindings/core-more.ts) and hdr's placing and matching functions
 * (bindings/hdr-position.ts), pv.geti: both engines, a real UAC and next hop; what they receive.
 */
import assert from 'node:assert/strict';
import { runBindingCases, type BindingCase } from '../helpers/binding-cases.js';

/** a route that puts `exprs` (Lua / JS expressions) in an X-R reply header, comma-joined */
function report(lua: string[], js: string[], pre: { lua?: string; js?: string } = {}): { lua: string; js: string } {
  return {
    lua: `${pre.lua ?? ''}\nKSR.hdr.append_to_reply("X-R: " .. ${lua.map((e) => `tostring(${e})`).join(' .. "," .. ')} .. "\\r\\n")\nKSR.sl.sl_send_reply(200, "OK")`,
    js: `${pre.js ?? ''}\nKSR.hdr.append_to_reply("X-R: " + [${js.join(', ')}].join(",") + "\\r\\n");\nKSR.sl.sl_send_reply(200, "OK");`,
  };
}

/** the same expressions in both languages (calls only, no operators) */
function same(exprs: string[], pre?: string): { lua: string; js: string } {
  return report(exprs, exprs, pre === undefined ? {} : { lua: pre, js: pre.split('\n').map((l) => (l === '' ? l : `${l};`)).join('\n') });
}

const FORWARD = { method: 'INVITE', ruri: 'sip:bob@127.0.0.1:{next}' };

const cases: BindingCase[] = [
  {
    name: 'script flags: set, test, reset; every callback starts with none (two requests, the same answer)',
    ...same(['KSR.issflagset(5)', 'KSR.setsflag(5)', 'KSR.issflagset(5)', 'KSR.resetsflag(5)', 'KSR.issflagset(5)', 'KSR.setsflag(32)', 'KSR.setsflag(7)']),
    repeat: 2,
    expect: { status: 200, headers: { 'X-R': 'false,true,true,true,false,false,true' } },
  },
  {
    name: 'branch flags by index: 0 is the R-URI\'s (isbflagset), 1 the first appended; none past the last',
    ...same([
      'KSR.setbiflag(4, 0)', 'KSR.isbflagset(4)', 'KSR.corex.append_branch_uri("sip:carol@127.0.0.1")', 'KSR.setbiflag(2, 1)',
      'KSR.isbiflagset(2, 1)', 'KSR.isbiflagset(2, 0)', 'KSR.resetbiflag(2, 1)', 'KSR.isbiflagset(2, 1)',
      'KSR.setbiflag(3, 5)', 'KSR.isbiflagset(3, 5)', 'KSR.setbiflag(32, 0)',
    ]),
    expect: { status: 200, headers: { 'X-R': 'true,true,1,true,true,false,true,false,true,false,false' } },
  },
  {
    name: 'setuser and sethost rewrite the R-URI the next hop receives (port and parameters kept)',
    lua: 'KSR.setuser("carol")\nKSR.sethost("127.0.0.1")\nKSR.forward()',
    js: 'KSR.setuser("carol");\nKSR.sethost("127.0.0.1");\nKSR.forward();',
    request: { ...FORWARD, ruri: 'sip:bob@localhost:{next};x=1' }, next: { transport: 'udp' },
    expect: { status: 200, forwarded: { ruri: 'sip:carol@127.0.0.1:{next};x=1' } },
  },
  {
    name: 'setuser("") removes the user part; sethost("") is refused',
    ...same(['KSR.setuser("")', 'KSR.sethost("")', 'KSR.pv.get("$ru")']),
    request: { method: 'OPTIONS', ruri: 'sip:bob@127.0.0.1:5999' },
    expect: { status: 200, headers: { 'X-R': 'true,false,sip:127.0.0.1:5999' } },
  },
  {
    name: 'is_myself_duri / nhuri / suri: $du unset, the R-URI ours, the source a peer\'s',
    ...same(['KSR.is_myself_duri()', 'KSR.is_myself_nhuri()', 'KSR.is_myself_suri()', 'KSR.setdsturi("sip:192.0.2.1:5060")', 'KSR.is_myself_duri()', 'KSR.is_myself_nhuri()']),
    request: { method: 'OPTIONS', ruri: 'sip:127.0.0.1:{udp}' },
    expect: { status: 200, headers: { 'X-R': 'false,true,false,true,false,false' } },
  },
  {
    name: 'is_proto by letters and is_src_port over UDP',
    ...same(['KSR.is_proto("u")', 'KSR.is_proto("t")', 'KSR.is_proto("eTU")', 'KSR.is_proto("")', 'KSR.is_src_port(KSR.pv.get("$sp"))', 'KSR.is_src_port(1)']),
    expect: { status: 200, headers: { 'X-R': 'true,false,true,false,true,false' } },
  },
  {
    name: 'is_proto over TCP',
    ...same(['KSR.is_proto("u")', 'KSR.is_proto("t")']),
    transport: 'tcp',
    expect: { status: 200, headers: { 'X-R': 'false,true' } },
  },
  {
    name: 'to_*: the next hop\'s transport parameter and address family ($du over the R-URI)',
    ...same([
      'KSR.to_UDP()', 'KSR.to_IPv4()', 'KSR.to_IPv6()', 'KSR.setdsturi("sip:[::1]:5060;transport=TCP")',
      'KSR.to_TCP()', 'KSR.to_UDP()', 'KSR.to_IPv4()', 'KSR.to_IPv6()', 'KSR.setdsturi("sip:h.example;transport=wss")', 'KSR.to_WS()', 'KSR.to_WSS()', 'KSR.to_WSX()', 'KSR.to_IPv4()',
    ]),
    request: { method: 'OPTIONS', ruri: 'sip:bob@127.0.0.1:5999' },
    expect: { status: 200, headers: { 'X-R': 'false,true,false,true,true,false,false,true,true,true,false,true,false' } },
  },
  {
    name: 'get_debug: Kamailio\'s number for the log level (the tests log nothing: -5)',
    ...same(['KSR.get_debug()']),
    expect: { status: 200, headers: { 'X-R': '-5' } },
  },
  {
    name: 'hdr.append_after / insert_before: next to the named header, else at the end / the start',
    lua: 'KSR.hdr.append_after("X-After-Via: 1\\r\\n", "v")\nKSR.hdr.insert_before("X-Before-CallID: 2", "Call-ID")\nKSR.hdr.append_after("X-Last: 3\\r\\n", "X-None")\nKSR.hdr.insert_before("X-First: 4\\r\\n", "X-None")\nKSR.forward()',
    js: 'KSR.hdr.append_after("X-After-Via: 1\\r\\n", "v");\nKSR.hdr.insert_before("X-Before-CallID: 2", "Call-ID");\nKSR.hdr.append_after("X-Last: 3\\r\\n", "X-None");\nKSR.hdr.insert_before("X-First: 4\\r\\n", "X-None");\nKSR.forward();',
    request: FORWARD, next: { transport: 'udp' },
    expect: {
      status: 200,
      forwarded: {
        check: (req) => {
          const names = req.raw.toString('latin1').split('\r\n\r\n')[0]?.split('\r\n').slice(1).map((l) => l.slice(0, l.indexOf(':'))) ?? [];
          const at = (n: string): number => names.indexOf(n);
          // our own Via goes on top, and Content-Length is written last whatever edits there were
          assert.equal(at('X-First'), names.lastIndexOf('Via') - 1, names.join(' '));
          assert.equal(at('X-After-Via'), names.lastIndexOf('Via') + 1, names.join(' '));
          assert.equal(at('X-Before-CallID'), at('Call-ID') - 1, names.join(' '));
          assert.equal(at('X-Last'), at('User-Agent') + 1, names.join(' '));
        },
      },
    },
  },
  {
    name: 'hdr.append_after / insert_before refuse a bad name or text (-1)',
    ...same(['KSR.hdr.append_after("X-A: 1", "")', 'KSR.hdr.insert_before("no colon", "Via")', 'KSR.hdr.append_after("X-A: 1", "Bad Name")']),
    expect: { status: 200, headers: { 'X-R': '-1,-1,-1' } },
  },
  {
    name: 'hdr.match_content: eq ne sw in over the first, last, all or one header; "re" and bad arguments false',
    ...same([
      'KSR.hdr.match_content("X-T", "eq", "alpha", "f")', 'KSR.hdr.match_content("X-T", "eq", "beta", "first")', 'KSR.hdr.match_content("X-T", "EQ", "BETA", "l")',
      'KSR.hdr.match_content("X-T", "sw", "al", "a")', 'KSR.hdr.match_content("X-T", "in", "et", "o")', 'KSR.hdr.match_content("X-T", "ne", "gamma", "a")',
      'KSR.hdr.match_content("X-T", "re", "a.*", "o")', 'KSR.hdr.match_content("X-T", "eq", "alpha", "z")', 'KSR.hdr.match_content("X-None", "ne", "x", "a")',
      'KSR.hdr.match_content("X-T", "in", "a", "a")',
    ]),
    request: { method: 'OPTIONS', ruri: 'sip:127.0.0.1:{udp}', headers: ['X-T:  Alpha ', 'X-T: beta'] },
    expect: { status: 200, headers: { 'X-R': 'true,false,true,false,true,true,false,false,false,true' } },
  },
  {
    name: 'pv.geti: integers as they are, a string\'s leading integer, 0 for $null and names that do not resolve',
    ...same(
      ['KSR.pv.geti("$var(i)")', 'KSR.pv.geti("$var(s)")', 'KSR.pv.geti("$var(n)")', 'KSR.pv.geti("$var(x)")', 'KSR.pv.geti("$var(nothing)")', 'KSR.pv.geti("$notapv")', 'KSR.pv.geti("$cs")'],
      'KSR.pv.seti("$var(i)", 42)\nKSR.pv.sets("$var(s)", "12ab")\nKSR.pv.sets("$var(n)", "-7")\nKSR.pv.sets("$var(x)", "ab")',
    ),
    request: { method: 'OPTIONS', ruri: 'sip:127.0.0.1:{udp}', cseq: 314 },
    expect: { status: 200, headers: { 'X-R': '42,12,-7,0,0,0,314' } },
  },
];

runBindingCases('core: script and branch flags, R-URI parts, myself, transports; hdr placing and matching; pv.geti', cases);
