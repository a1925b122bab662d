/**
 * KSR.nathelper on a real server, both engines: a UAC on 127.0.0.1 sends requests as a UA
 * behind a NAT would (a private Contact, a Via naming another address or port, a private SDP);
 * the cases assert nat_uac_test's answer for each flag bit both ways, and what the next hop
 * receives after each rewriting function (Contact, R-URI and $du, SDP).
 */
import assert from 'node:assert/strict';
import { runNatCases, type NatCase } from '../helpers/nat-cases.js';
import type { RequestSpec } from '../helpers/sip-client.js';

/** The value of each Lua expression in an X-Rc header of a 200 sent back (JS: the same expressions). */
function rc(...exprs: string[]): { lua: string; js: string } {
  return {
    lua: `KSR.hdr.append_to_reply("X-Rc: " .. ${exprs.map((e) => `tostring(${e})`).join(' .. "," .. ')} .. "\\r\\n")\nKSR.sl.sl_send_reply(200, "OK")`,
    js: `KSR.hdr.append_to_reply("X-Rc: " + [${exprs.join(', ')}].join(",") + "\\r\\n");\nKSR.sl.sl_send_reply(200, "OK");`,
  };
}

/** The same values in an X-Rc header of the request, forwarded statelessly. */
function rcForward(...exprs: string[]): { lua: string; js: string } {
  return {
    lua: `KSR.hdr.append("X-Rc: " .. ${exprs.map((e) => `tostring(${e})`).join(' .. "," .. ')} .. "\\r\\n")\nKSR.forward()`,
    js: `KSR.hdr.append("X-Rc: " + [${exprs.join(', ')}].join(",") + "\\r\\n");\nKSR.forward();`,
  };
}

/** Statements before the X-Rc (Lua, JS), then rc/rcForward's. */
function pre(before: [string, string], after: { lua: string; js: string }): { lua: string; js: string } {
  return { lua: `${before[0]}\n${after.lua}`, js: `${before[1]}\n${after.js}` };
}

const NH = 'KSR.nathelper';
const test = (flags: number): string => `${NH}.nat_uac_test(${String(flags)})`;
const INVITE: RequestSpec = { method: 'INVITE', ruri: 'sip:bob@127.0.0.1:{next}' };
const withContact = (contact: string, spec: RequestSpec = {}): RequestSpec => ({ ...spec, headers: [`Contact: ${contact}`, ...(spec.headers ?? [])] });
const sdp = (ip: string, extra = ''): RequestSpec => ({
  method: 'INVITE',
  ruri: 'sip:bob@127.0.0.1:{next}',
  headers: ['Content-Type: application/sdp'],
  body: `v=0\r\no=- 1 1 IN IP4 ${ip}\r\ns=-\r\nc=IN IP4 ${ip}\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n${extra}`,
});
const PUBLIC_CONTACT = '<sip:alice@127.0.0.1:{peer}>';
const NATED_CONTACT = '<sip:alice@10.0.0.5:5070>';

const bitCases: NatCase[] = [
  { name: 'nat_uac_test 1: a private Contact address is NAT', ...rc(test(1)), request: withContact(NATED_CONTACT), expect: { status: 200, headers: { 'X-Rc': '1' } } },
  { name: 'nat_uac_test 1: a public Contact address is not', ...rc(test(1)), request: withContact(PUBLIC_CONTACT), expect: { status: 200, headers: { 'X-Rc': '-1' } } },
  { name: 'nat_uac_test 1: 100.64/10 (RFC 6598) counts as private', ...rc(test(1)), request: withContact('<sip:alice@100.100.1.1:5060>'), expect: { status: 200, headers: { 'X-Rc': '1' } } },
  { name: 'nat_uac_test 2: a Via host other than the source is NAT', ...rc(test(2)), via: '203.0.113.5:{peer}', request: { rport: true }, expect: { status: 200, headers: { 'X-Rc': '1' } } },
  { name: 'nat_uac_test 2: the Via naming the source is not', ...rc(test(2)), expect: { status: 200, headers: { 'X-Rc': '-1' } } },
  { name: 'nat_uac_test 4: a private top Via is NAT', ...rc(test(4)), via: '10.0.0.5:{peer}', request: { rport: true }, expect: { status: 200, headers: { 'X-Rc': '1' } } },
  { name: 'nat_uac_test 4: a public top Via (other than the source) is not', ...rc(test(4)), via: '203.0.113.5:{peer}', request: { rport: true }, expect: { status: 200, headers: { 'X-Rc': '-1' } } },
  { name: 'nat_uac_test 8: a private SDP c= is NAT', ...rc(test(8)), request: sdp('192.168.1.20'), expect: { status: 200, headers: { 'X-Rc': '1' } } },
  { name: 'nat_uac_test 8: a public SDP c= is not (and no SDP is not)', ...rc(test(8), test(8)), request: sdp('203.0.113.7'), expect: { status: 200, headers: { 'X-Rc': '-1,-1' } } },
  { name: 'nat_uac_test 16: a Via port other than the source port is NAT', ...rc(test(16)), via: '127.0.0.1:5070', request: { rport: true }, expect: { status: 200, headers: { 'X-Rc': '1' } } },
  { name: 'nat_uac_test 16: the Via port of the source is not', ...rc(test(16)), expect: { status: 200, headers: { 'X-Rc': '-1' } } },
  { name: 'nat_uac_test 32: a public (loopback) source address is not NAT', ...rc(test(32)), request: withContact(NATED_CONTACT), expect: { status: 200, headers: { 'X-Rc': '-1' } } },
  { name: 'nat_uac_test 64: a request over UDP is not a WebSocket', ...rc(test(64)), expect: { status: 200, headers: { 'X-Rc': '-1' } } },
  { name: 'nat_uac_test 128: a Contact port other than the source port is NAT', ...rc(test(128)), request: withContact('<sip:alice@127.0.0.1:5070>'), expect: { status: 200, headers: { 'X-Rc': '1' } } },
  { name: 'nat_uac_test 128: a Contact without port is 5060 (not the source port): NAT', ...rc(test(128)), request: withContact('<sip:alice@127.0.0.1>'), expect: { status: 200, headers: { 'X-Rc': '1' } } },
  { name: 'nat_uac_test 128: the source port in the Contact is not', ...rc(test(128)), request: withContact(PUBLIC_CONTACT), expect: { status: 200, headers: { 'X-Rc': '-1' } } },
  { name: 'nat_uac_test 256: an SDP c= other than the source is NAT', ...rc(test(256)), request: sdp('203.0.113.7'), expect: { status: 200, headers: { 'X-Rc': '1' } } },
  { name: 'nat_uac_test 256: the source address in c= is not', ...rc(test(256)), request: sdp('127.0.0.1'), expect: { status: 200, headers: { 'X-Rc': '-1' } } },
  {
    name: 'nat_uac_test 512: $du to another port than the R-URI is NAT; without $du it is not',
    ...rc(test(512), '(function() KSR.pv.sets("$du", "sip:127.0.0.1:5999") return 0 end)()', test(512)),
    js: 'const a = KSR.nathelper.nat_uac_test(512); KSR.pv.sets("$du", "sip:127.0.0.1:5999"); const b = KSR.nathelper.nat_uac_test(512);\nKSR.hdr.append_to_reply("X-Rc: " + [a, 0, b].join(",") + "\\r\\n");\nKSR.sl.sl_send_reply(200, "OK");',
    lua: 'local a = KSR.nathelper.nat_uac_test(512); KSR.pv.sets("$du", "sip:127.0.0.1:5999"); local b = KSR.nathelper.nat_uac_test(512)\nKSR.hdr.append_to_reply("X-Rc: " .. a .. ",0," .. b .. "\\r\\n")\nKSR.sl.sl_send_reply(200, "OK")',
    request: { ruri: 'sip:bob@127.0.0.1:5080' },
    expect: { status: 200, headers: { 'X-Rc': '-1,0,1' } },
  },
  { name: 'nat_uac_test 19 (the example scripts\' test): Via port differs → NAT', ...rc(test(19)), via: '10.0.0.5:5070', request: { rport: true }, expect: { status: 200, headers: { 'X-Rc': '1' } } },
  { name: 'nat_uac_test 19 on a request from a public UA: -1', ...rc(test(19)), request: withContact(PUBLIC_CONTACT), expect: { status: 200, headers: { 'X-Rc': '-1' } } },
];

const fixCases: NatCase[] = [
  {
    name: 'fix_nated_contact: the next hop sees the source ip:port in the Contact, maddr dropped; a second call fails',
    ...rcForward(`${NH}.fix_nated_contact()`, `${NH}.fix_nated_contact()`),
    request: withContact('"A" <sip:alice@10.0.0.5:5070;transport=udp;maddr=10.0.0.1;lr>;expires=60', INVITE),
    next: {},
    expect: { status: 200, forwarded: { headers: { Contact: '"A" <sip:alice@127.0.0.1:{peer};transport=udp;lr>;expires=60', 'X-Rc': '1,-1' } } },
  },
  {
    name: 'fix_nated_contact: no Contact is -1 and nothing changes',
    ...rc(`${NH}.fix_nated_contact()`),
    expect: { status: 200, headers: { 'X-Rc': '-1' } },
  },
  {
    name: 'set_contact_alias: the next hop sees ;alias=ip~port~1 at the end of the Contact URI',
    ...rcForward(`${NH}.set_contact_alias()`),
    request: withContact('<sip:alice@10.0.0.5:5070;transport=udp>;expires=60', INVITE),
    next: {},
    expect: { status: 200, forwarded: { headers: { Contact: '<sip:alice@10.0.0.5:5070;transport=udp;alias=127.0.0.1~{peer}~1>;expires=60', 'X-Rc': '1' } } },
  },
  {
    // the Contact rewrite names a received line by index; textops' text edits make the message
    // parsed again, so both must land (host/sip/rebuild.ts turns the rewrite into a text edit)
    name: 'set_contact_alias beside a textops edit of another header: the next hop sees both',
    ...pre(['KSR.textops.subst(\'/^Subject: old/Subject: new/\')', 'KSR.textops.subst(\'/^Subject: old/Subject: new/\');'], rcForward(`${NH}.set_contact_alias()`)),
    request: withContact('<sip:alice@10.0.0.5:5070>', { ...INVITE, headers: ['Subject: old times'] }),
    next: {},
    expect: { status: 200, forwarded: { headers: { Contact: '<sip:alice@10.0.0.5:5070;alias=127.0.0.1~{peer}~1>', Subject: 'new times', 'X-Rc': '1' } } },
  },
  {
    name: 'set_contact_alias with two contacts in the header: the last one changes (Kamailio\'s parser lists it first)',
    ...rcForward(`${NH}.set_contact_alias()`),
    request: withContact('<sip:alice@10.0.0.5:5070>;expires=60, <sip:alice2@10.0.0.5>', INVITE),
    next: {},
    expect: { status: 200, forwarded: { headers: { Contact: '<sip:alice@10.0.0.5:5070>;expires=60, <sip:alice2@10.0.0.5;alias=127.0.0.1~{peer}~1>', 'X-Rc': '1' } } },
  },
  {
    name: 'set_contact_alias on a bare Contact: put in <>, header parameters stay outside',
    ...rcForward(`${NH}.set_contact_alias()`),
    request: withContact('sip:alice@10.0.0.5:5070;expires=60', INVITE),
    next: {},
    expect: { status: 200, forwarded: { headers: { Contact: '<sip:alice@10.0.0.5:5070;alias=127.0.0.1~{peer}~1>;expires=60', 'X-Rc': '1' } } },
  },
  {
    name: 'set_contact_alias twice, or after fix_nated_contact: -1 (Kamailio: you can\'t update contact twice)',
    ...rcForward(`${NH}.set_contact_alias()`, `${NH}.set_contact_alias()`),
    request: withContact(NATED_CONTACT, INVITE),
    next: {},
    expect: { status: 200, forwarded: { headers: { Contact: '<sip:alice@10.0.0.5:5070;alias=127.0.0.1~{peer}~1>', 'X-Rc': '1,-1' } } },
  },
  {
    name: 'set_contact_alias_trim replaces an alias the Contact already carries; set_contact_alias keeps it',
    ...rcForward(`${NH}.set_contact_alias_trim()`),
    request: withContact('<sip:alice@10.0.0.5:5070;alias=192.0.2.9~5099~1;ob>', INVITE),
    next: {},
    expect: { status: 200, forwarded: { headers: { Contact: '<sip:alice@10.0.0.5:5070;ob;alias=127.0.0.1~{peer}~1>', 'X-Rc': '1' } } },
  },
  {
    name: 'add_contact_alias: after host:port, before the URI parameters',
    ...rcForward(`${NH}.add_contact_alias()`),
    request: withContact('<sip:alice@10.0.0.5:5070;transport=udp>', INVITE),
    next: {},
    expect: { status: 200, forwarded: { headers: { Contact: '<sip:alice@10.0.0.5:5070;alias=127.0.0.1~{peer}~1;transport=udp>', 'X-Rc': '1' } } },
  },
  {
    name: 'add_contact_alias: a Contact naming the source with ;transport=udp needs none (2); no Contact is 2',
    ...rc(`${NH}.add_contact_alias()`),
    request: withContact('<sip:alice@127.0.0.1:{peer};transport=udp>'),
    expect: { status: 200, headers: { 'X-Rc': '2' } },
  },
  { name: 'add_contact_alias without a Contact: 2', ...rc(`${NH}.add_contact_alias()`), expect: { status: 200, headers: { 'X-Rc': '2' } } },
  {
    name: 'add_contact_alias_addr: the given address, protocol as its number; a bare Contact gets <>',
    ...rcForward(`${NH}.add_contact_alias_addr("192.0.2.7", "5080", "tcp")`),
    request: withContact('sip:alice@10.0.0.5:5070', INVITE),
    next: {},
    expect: { status: 200, forwarded: { headers: { Contact: '<sip:alice@10.0.0.5:5070;alias=192.0.2.7~5080~2>', 'X-Rc': '1' } } },
  },
  {
    name: 'add_contact_alias_addr with a bad ip, port or protocol: -1',
    ...rc(`${NH}.add_contact_alias_addr("nohost", "5080", "udp")`, `${NH}.add_contact_alias_addr("192.0.2.7", "70000", "udp")`, `${NH}.add_contact_alias_addr("192.0.2.7", "5080", "foo")`),
    request: withContact(NATED_CONTACT),
    expect: { status: 200, headers: { 'X-Rc': '-1,-1,-1' } },
  },
  {
    name: 'handle_ruri_alias: $du from the alias (the request reaches it), alias removed from the R-URI',
    ...rcForward(`${NH}.handle_ruri_alias()`),
    request: { method: 'INVITE', ruri: 'sip:bob@10.0.0.9:5070;alias=127.0.0.1~{next}~1;ob' },
    next: {},
    expect: { status: 200, forwarded: { ruri: 'sip:bob@10.0.0.9:5070;ob', headers: { 'X-Rc': '1' } } },
  },
  {
    name: 'handle_ruri_alias_mode(1) takes the last alias, (0) the first',
    ...rcForward(`${NH}.handle_ruri_alias_mode(1)`),
    request: { method: 'INVITE', ruri: 'sip:bob@10.0.0.9;alias=192.0.2.1~5060~1;alias=127.0.0.1~{next}~1' },
    next: {},
    expect: { status: 200, forwarded: { ruri: 'sip:bob@10.0.0.9;alias=192.0.2.1~5060~1', headers: { 'X-Rc': '1' } } },
  },
  {
    name: 'handle_ruri_alias: no alias is 2 ($du unset); a malformed one is -1; a TCP alias gives ;transport=tcp',
    ...rc(`${NH}.handle_ruri_alias()`, 'KSR.pv.get("$du")'),
    js: `const a = ${NH}.handle_ruri_alias(); KSR.pv.sets("$ru", "sip:b@h;alias=1.2.3.4"); const b = ${NH}.handle_ruri_alias(); KSR.pv.sets("$ru", "sip:b@h;alias=192.0.2.3~5070~2"); const c = ${NH}.handle_ruri_alias();\nKSR.hdr.append_to_reply("X-Rc: " + [a, b, c, KSR.pv.get("$du"), KSR.pv.get("$ru")].join(",") + "\\r\\n");\nKSR.sl.sl_send_reply(200, "OK");`,
    lua: `local a = ${NH}.handle_ruri_alias(); KSR.pv.sets("$ru", "sip:b@h;alias=1.2.3.4"); local b = ${NH}.handle_ruri_alias(); KSR.pv.sets("$ru", "sip:b@h;alias=192.0.2.3~5070~2"); local c = ${NH}.handle_ruri_alias()\nKSR.hdr.append_to_reply("X-Rc: " .. a .. "," .. b .. "," .. c .. "," .. KSR.pv.get("$du") .. "," .. KSR.pv.get("$ru") .. "\\r\\n")\nKSR.sl.sl_send_reply(200, "OK")`,
    request: { ruri: 'sip:bob@10.0.0.9' },
    expect: { status: 200, headers: { 'X-Rc': '2,-1,1,sip:192.0.2.3:5070;transport=tcp,sip:b@h' } },
  },
  {
    name: 'fix_nated_register: the source URI in received_avp',
    ...rc(`${NH}.fix_nated_register()`, 'KSR.pv.get("$avp(RECEIVED)")'),
    config: { modules: { nathelper: { received_avp: '$avp(RECEIVED)' } } },
    request: { method: 'REGISTER', ruri: 'sip:127.0.0.1', headers: ['Contact: <sip:alice@10.0.0.5:5070>'] },
    expect: { status: 200, headers: { 'X-Rc': '1,sip:127.0.0.1:{peer}' } },
  },
  {
    name: 'fix_nated_register without received_avp: 1, nothing stored',
    lua: `KSR.hdr.append_to_reply("X-Rc: " .. ${NH}.fix_nated_register() .. "," .. tostring(KSR.pv.get("$avp(RECEIVED)")) .. "\\r\\n")\nKSR.sl.sl_send_reply(200, "OK")`,
    js: `KSR.hdr.append_to_reply("X-Rc: " + ${NH}.fix_nated_register() + "," + KSR.pv.get("$avp(RECEIVED)") + "\\r\\n");\nKSR.sl.sl_send_reply(200, "OK");`,
    request: { method: 'REGISTER', ruri: 'sip:127.0.0.1' },
    expect: { status: 200, headers: { 'X-Rc': /^1,(nil|null)$/ } },
  },
  {
    name: 'is_rfc1918: private, shared and RFC 7335 ranges; public, IPv6 and names are not',
    ...rc(...['10.1.2.3', '172.31.0.1', '172.32.0.1', '192.168.0.1', '100.64.0.1', '100.128.0.1', '192.0.0.5', '192.0.0.200', '8.8.8.8', '::1', 'host'].map((a) => `${NH}.is_rfc1918("${a}")`)),
    expect: { status: 200, headers: { 'X-Rc': '1,1,-1,1,1,-1,1,1,-1,-1,-1' } },
  },
  {
    name: 'is_rfc1918 with nat_addr_mode 0: 192.0.0.200 is not private',
    ...rc(`${NH}.is_rfc1918("192.0.0.200")`, `${NH}.is_rfc1918("192.0.0.5")`),
    config: { modules: { nathelper: { nat_addr_mode: 0 } } },
    expect: { status: 200, headers: { 'X-Rc': '-1,1' } },
  },
  {
    name: 'add_rcv_param(0): received="sip:ip:port" after every contact',
    ...rcForward(`${NH}.add_rcv_param(0)`),
    request: withContact('<sip:alice@10.0.0.5:5070>;expires=60, <sip:b@10.0.0.6>', INVITE),
    next: {},
    expect: { status: 200, forwarded: { headers: { Contact: '<sip:alice@10.0.0.5:5070>;expires=60;received="sip:127.0.0.1:{peer}", <sip:b@10.0.0.6>;received="sip:127.0.0.1:{peer}"', 'X-Rc': '1' } } },
  },
  {
    name: 'add_rcv_param(1): ;received=sip:ip:port inside the Contact URI',
    ...rcForward(`${NH}.add_rcv_param(1)`),
    request: withContact('<sip:alice@10.0.0.5:5070>', INVITE),
    next: {},
    expect: { status: 200, forwarded: { headers: { Contact: '<sip:alice@10.0.0.5:5070;received=sip:127.0.0.1:{peer}>', 'X-Rc': '1' } } },
  },
  {
    name: 'set_alias_to_pv: the Contact\'s alias as a SIP URI in a PV; none: -1',
    ...rc(`${NH}.set_alias_to_pv("$var(a)")`, 'KSR.pv.get("$var(a)")'),
    request: withContact('<sip:alice@10.0.0.5:5070;alias=192.0.2.8~5099~2>'),
    expect: { status: 200, headers: { 'X-Rc': '1,sip:192.0.2.8:5099;transport=tcp' } },
  },
  { name: 'set_alias_to_pv without alias: -1', ...rc(`${NH}.set_alias_to_pv("$var(a)")`), request: withContact(NATED_CONTACT), expect: { status: 200, headers: { 'X-Rc': '-1' } } },
  {
    name: 'fix_nated_sdp(3): c= becomes the source address (a=oldmediaip keeps the old one), a=direction:active added',
    ...rcForward(`${NH}.fix_nated_sdp(3)`),
    request: sdp('192.168.1.20', 'a=rtcp:4001 IN IP4 192.168.1.20\r\n'),
    next: {},
    expect: {
      status: 200,
      forwarded: {
        headers: { 'X-Rc': '1' },
        check: (req) => {
          assert.equal(req.bodyText, 'v=0\r\no=- 1 1 IN IP4 192.168.1.20\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\na=rtcp:4001 IN IP4 127.0.0.1\r\na=direction:active\r\na=oldmediaip:192.168.1.20\r\na=oldmediaip:192.168.1.20\r\n');
        },
      },
    },
  },
  {
    name: 'fix_nated_sdp_ip(12, ip): o= gets the given address, a=nortpproxy:yes added; nothing else',
    ...rcForward(`${NH}.fix_nated_sdp_ip(12, "192.0.2.50")`),
    request: sdp('192.168.1.20'),
    config: { modules: { nathelper: { append_sdp_oldmediaip: 0 } } },
    next: {},
    expect: {
      status: 200,
      forwarded: {
        headers: { 'X-Rc': '1' },
        check: (req) => {
          assert.equal(req.bodyText, 'v=0\r\no=- 1 1 IN IP4 192.0.2.50\r\ns=-\r\nc=IN IP4 192.168.1.20\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\na=nortpproxy:yes\r\n');
        },
      },
    },
  },
  {
    name: 'fix_nated_sdp(2) when c= is already the source: 2; without SDP: -1',
    ...rc(`${NH}.fix_nated_sdp(2)`),
    request: sdp('127.0.0.1'),
    expect: { status: 200, headers: { 'X-Rc': '2' } },
  },
  { name: 'fix_nated_sdp without a body: -1', ...rc(`${NH}.fix_nated_sdp(2)`), expect: { status: 200, headers: { 'X-Rc': '-1' } } },
  {
    name: '$rr_count counts every Record-Route entry; $rr_top_count is 2 for the half of a double one (r2), 1 for a single, 0 without',
    ...rc('KSR.pv.get("$rr_count")', 'KSR.pv.get("$rr_top_count")'),
    request: { headers: ['Record-Route: <sip:p1.example.com;lr;r2=on>, <sip:p2.example.com;lr;r2=on>', 'Record-Route: <sip:p3.example.com;lr>'] },
    expect: { status: 200, headers: { 'X-Rc': '3,2' } },
  },
  {
    name: '$rr_count and $rr_top_count without Record-Route: 0, 0',
    ...rc('KSR.pv.get("$rr_count")', 'KSR.pv.get("$rr_top_count")'),
    expect: { status: 200, headers: { 'X-Rc': '0,0' } },
  },
  {
    name: '$rr_top_count of a single Record-Route: 1',
    ...rc('KSR.pv.get("$rr_count")', 'KSR.pv.get("$rr_top_count")'),
    request: { headers: ['Record-Route: <sip:p1.example.com;lr>'] },
    expect: { status: 200, headers: { 'X-Rc': '1,1' } },
  },
  {
    name: 'bad input: a read-only PV for set_alias_to_pv, flags 0, an empty address, mixed SDP address families: -1 each, the server answers on',
    ...rc(`${NH}.set_alias_to_pv("$si")`, `${NH}.nat_uac_test(0)`, `${NH}.is_rfc1918("")`, `${NH}.fix_nated_sdp(2)`),
    request: withContact('<sip:a@10.0.0.5;alias=192.0.2.8~5099~1>', sdp('192.168.1.20', 'm=video 4002 RTP/AVP 31\r\nc=IN IP6 fd00::1\r\n')),
    expect: { status: 200, headers: { 'X-Rc': '-1,-1,-1,-1' } },
  },
  {
    name: 'the example scripts\' NATDETECT: nat_uac_test(19) then set_contact_alias on an INVITE from a NATed UA',
    ...pre([
      `if ${NH}.nat_uac_test(19) > 0 then ${NH}.set_contact_alias() end`,
      `if (${NH}.nat_uac_test(19) > 0) { ${NH}.set_contact_alias(); }`,
    ], rcForward('1')),
    via: '10.0.0.5:5070',
    request: withContact(NATED_CONTACT, { ...INVITE, rport: true }),
    next: {},
    expect: { status: 200, forwarded: { headers: { Contact: '<sip:alice@10.0.0.5:5070;alias=127.0.0.1~{peer}~1>' } } },
  },
];

runNatCases('KSR.nathelper.nat_uac_test', bitCases);
runNatCases('KSR.nathelper functions', fixCases);
